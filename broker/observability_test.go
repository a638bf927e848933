package broker_test

// Observability: /healthz, and the Prometheus series on /metrics after real
// produce, consume and bad requests: per-topic traffic, per-API requests,
// errors and latency, per-partition log offsets, open connections.

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// sample is one series of a scrape.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape fetches /metrics and parses the text exposition format.
func scrape(t *testing.T, addr string) []sample {
	t.Helper()
	body, code := httpGet(t, "http://"+addr+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: status %d", code)
	}
	var out []sample
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			t.Fatalf("metrics line %q", line)
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		s := sample{name: line[:sp], labels: map[string]string{}, value: v}
		if i := strings.IndexByte(s.name, '{'); i >= 0 {
			for _, kv := range strings.Split(strings.TrimSuffix(s.name[i+1:], "}"), ",") {
				k, v, _ := strings.Cut(kv, "=")
				s.labels[k] = strings.Trim(v, `"`)
			}
			s.name = s.name[:i]
		}
		out = append(out, s)
	}
	return out
}

// value returns the series with this name whose labels include want, and
// whether there is one.
func value(samples []sample, name string, want ...string) (float64, bool) {
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for i := 0; i+1 < len(want); i += 2 {
			if s.labels[want[i]] != want[i+1] {
				continue next
			}
		}
		return s.value, true
	}
	return 0, false
}

func mustValue(t *testing.T, samples []sample, name string, want ...string) float64 {
	t.Helper()
	v, ok := value(samples, name, want...)
	if !ok {
		t.Fatalf("no series %s%v", name, want)
	}
	return v
}

func httpGet(t *testing.T, url string) (string, int) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body), resp.StatusCode
}

func newClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func TestHealthzAndMetrics(t *testing.T) {
	b := testkit.StartBroker(t, testkit.WithMetrics())
	maddr := b.MetricsAddr()
	if maddr == "" {
		t.Fatal("WithMetrics gave no metrics address")
	}
	if body, code := httpGet(t, "http://"+maddr+"/healthz"); code != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	if _, code := httpGet(t, "http://"+maddr+"/nope"); code != http.StatusNotFound {
		t.Fatalf("unknown path: status %d", code)
	}

	admCl := newClient(t, b.Addr)
	if resp, err := kadm.NewClient(admCl).CreateTopic(ctxT(t), 1, 1, nil, "obs"); err != nil || resp.Err != nil {
		t.Fatalf("create: %v %v", err, resp.Err)
	}
	prod := newClient(t, b.Addr, kgo.DefaultProduceTopic("obs"))
	var recs []*kgo.Record
	for i := 0; i < 10; i++ {
		recs = append(recs, &kgo.Record{Value: []byte(fmt.Sprintf("value-%d", i))})
	}
	if err := prod.ProduceSync(ctxT(t), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cons := newClient(t, b.Addr, kgo.ConsumeTopics("obs"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	for ctx := ctxT(t); got < 10; {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of 10", got)
		}
		got += len(fs.Records())
	}
	if end := listEnds(t, prod, "obs", 1)[0]; end != 10 {
		t.Fatalf("end offset %d", end)
	}

	// A request the broker answers with an error code, and one it cannot
	// decode.
	if r := produceRaw(t, b.Addr, "missing", -1, testBatch(t, 1, 10)); r.ErrorCode == 0 {
		t.Fatal("produce to a missing topic succeeded")
	}
	expectClosed(t, b.Addr, frame(0, 7, false, []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}))

	m := scrape(t, maddr)
	if v := mustValue(t, m, "tributary_topic_bytes_in_total", "topic", "obs"); v <= 0 {
		t.Fatalf("bytes in %v", v)
	}
	if v := mustValue(t, m, "tributary_topic_records_in_total", "topic", "obs"); v != 10 {
		t.Fatalf("records in %v, want 10", v)
	}
	if v := mustValue(t, m, "tributary_topic_records_out_total", "topic", "obs"); v < 10 {
		t.Fatalf("records out %v, want at least 10", v)
	}
	if v := mustValue(t, m, "tributary_topic_bytes_out_total", "topic", "obs"); v <= 0 {
		t.Fatalf("bytes out %v", v)
	}
	for _, api := range []string{"Produce", "Fetch", "Metadata", "ListOffsets", "CreateTopics"} {
		if v := mustValue(t, m, "tributary_requests_total", "api", api); v < 1 {
			t.Fatalf("%s requests %v", api, v)
		}
	}
	if v := mustValue(t, m, "tributary_requests_total", "api", "Produce"); v < 2 {
		t.Fatalf("Produce requests %v, want at least 2", v)
	}
	if v := mustValue(t, m, "tributary_request_errors_total", "api", "Produce", "error", "UNKNOWN_TOPIC_OR_PARTITION"); v < 1 {
		t.Fatalf("Produce UNKNOWN_TOPIC_OR_PARTITION errors %v", v)
	}
	if v := mustValue(t, m, "tributary_request_errors_total", "api", "Produce", "error", "DECODE"); v != 1 {
		t.Fatalf("Produce DECODE errors %v, want 1", v)
	}
	count := mustValue(t, m, "tributary_request_duration_seconds_count", "api", "Produce")
	inf := mustValue(t, m, "tributary_request_duration_seconds_bucket", "api", "Produce", "le", "+Inf")
	if count < 2 || inf != count {
		t.Fatalf("Produce latency: count %v, +Inf bucket %v", count, inf)
	}
	if v := mustValue(t, m, "tributary_request_duration_seconds_sum", "api", "Produce"); v <= 0 {
		t.Fatalf("Produce latency sum %v", v)
	}
	if v := mustValue(t, m, "tributary_partition_log_end_offset", "topic", "obs", "partition", "0"); v != 10 {
		t.Fatalf("log end offset gauge %v, want 10", v)
	}
	if v := mustValue(t, m, "tributary_partition_log_start_offset", "topic", "obs", "partition", "0"); v != 0 {
		t.Fatalf("log start offset gauge %v", v)
	}
	if v := mustValue(t, m, "tributary_partition_log_size_bytes", "topic", "obs", "partition", "0"); v <= 0 {
		t.Fatalf("log size gauge %v", v)
	}
	if v := mustValue(t, m, "tributary_open_connections"); v < 2 {
		t.Fatalf("open connections %v with a producer and a consumer connected", v)
	}

	// Connections are counted as they open and close.
	admCl.Close()
	prod.Close()
	cons.Close()
	openConns := func(want float64) {
		t.Helper()
		testkit.Eventually(t, 10*time.Second, func() error {
			if v := mustValue(t, scrape(t, maddr), "tributary_open_connections"); v != want {
				return fmt.Errorf("open connections %v, want %v", v, want)
			}
			return nil
		})
	}
	openConns(0)
	c, err := net.Dial("tcp", b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	openConns(1)
	c.Close()
	openConns(0)

	// A deleted topic's series go with it.
	adm := kadm.NewClient(testkit.Client(t, b.Addr))
	if resp, err := adm.DeleteTopics(ctxT(t), "obs"); err != nil || resp["obs"].Err != nil {
		t.Fatalf("delete: %v %+v", err, resp)
	}
	m = scrape(t, maddr)
	for _, name := range []string{"tributary_topic_bytes_in_total", "tributary_topic_records_out_total", "tributary_partition_log_end_offset"} {
		if _, ok := value(m, name, "topic", "obs"); ok {
			t.Fatalf("%s{topic=obs} still reported after the topic was deleted", name)
		}
	}
}

// Error codes are counted for every API, group and transaction APIs
// included, from the responses themselves (error_counts.go).
func TestErrorCountsForGroupAndTransactionAPIs(t *testing.T) {
	b := testkit.StartBroker(t, testkit.WithMetrics())
	cl := testkit.Client(t, b.Addr)
	ctx := ctxT(t)

	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = "no-such-group", "nobody", 1
	if _, err := hb.RequestWith(ctx, cl); err != nil {
		t.Fatal(err)
	}
	end := kmsg.NewPtrEndTxnRequest()
	end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = "no-such-txn", 12345, 0, true
	endResp, err := end.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if endResp.ErrorCode == 0 {
		t.Fatal("EndTxn for an unknown transactional id succeeded")
	}
	oc := kmsg.NewPtrOffsetCommitRequest()
	oc.Group, oc.MemberID, oc.Generation = "no-such-group", "nobody", 7
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = "t"
	rt.Partitions = append(rt.Partitions, kmsg.NewOffsetCommitRequestTopicPartition())
	oc.Topics = append(oc.Topics, rt)
	ocResp, err := oc.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}

	m := scrape(t, b.MetricsAddr())
	if v := mustValue(t, m, "tributary_request_errors_total", "api", "Heartbeat"); v != 1 {
		t.Fatalf("Heartbeat errors %v, want 1", v)
	}
	endName := kerr.ErrorForCode(endResp.ErrorCode).(*kerr.Error).Message
	if v := mustValue(t, m, "tributary_request_errors_total", "api", "EndTxn", "error", endName); v != 1 {
		t.Fatalf("EndTxn %s errors %v, want 1", endName, v)
	}
	ocCode := ocResp.Topics[0].Partitions[0].ErrorCode
	if ocCode == 0 {
		t.Fatal("OffsetCommit from an unknown member succeeded")
	}
	ocName := kerr.ErrorForCode(ocCode).(*kerr.Error).Message
	if v := mustValue(t, m, "tributary_request_errors_total", "api", "OffsetCommit", "error", ocName); v != 1 {
		t.Fatalf("OffsetCommit %s errors %v, want 1 (the per-partition code)", ocName, v)
	}
}
