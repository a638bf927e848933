package streams_test

// Prometheus metrics of an App against a real broker: what the scrape
// says is checked against what the test fed in (records, undecodable
// records, late records), against the App's own Metrics(), and against the
// changelogs a restoration read.

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/streams"
)

// sample is one series of a scrape.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape fetches /metrics and parses the text exposition format.
func scrape(addr string) ([]sample, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		return nil, fmt.Errorf("/metrics: content type %q, want Prometheus text", ct)
	}
	var out []sample
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			return nil, fmt.Errorf("metrics line %q", line)
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %v", line, err)
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
	return out, nil
}

// series are the samples named name whose labels include want (pairs).
func series(samples []sample, name string, want ...string) []sample {
	var out []sample
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
		out = append(out, s)
	}
	return out
}

// sum adds the values of series(samples, name, want...).
func sum(samples []sample, name string, want ...string) float64 {
	var n float64
	for _, s := range series(samples, name, want...) {
		n += s.value
	}
	return n
}

// passThrough forwards records and punctuates on stream time, so the
// punctuation metrics have something to count.
type passThrough struct {
	ctx streams.ProcessorContext[string, string]
}

func (p *passThrough) Init(ctx streams.ProcessorContext[string, string]) error {
	p.ctx = ctx
	_, err := ctx.Schedule(time.Millisecond, streams.StreamTime, func(int64) error { return nil })
	return err
}
func (p *passThrough) Process(r streams.Record[string, string]) error { return p.ctx.Forward(r) }
func (p *passThrough) Close() error                                   { return nil }

// observedTopology counts words (through a repartition topic) and counts
// events per key per minute.
func observedTopology(t *testing.T) *streams.Topology {
	b := streams.NewBuilder()
	lines := streams.Process(streams.Stream(b, "obs-lines", streams.String(), streams.String()),
		func() streams.Processor[string, string, string, string] { return &passThrough{} })
	words := streams.FlatMapValues(lines, func(line string, emit func(string)) {
		for _, w := range strings.Fields(line) {
			emit(w)
		}
	})
	counts := streams.GroupBy(words, func(_, w string) string { return w }, streams.Named("by-word")).Count(streams.Materialized("counts"))
	streams.MapValues(counts.ToStream(), func(n int64) string { return strconv.FormatInt(n, 10) }).To("obs-counts")
	events := streams.Stream(b, "obs-events", streams.String(), streams.Int64())
	streams.WindowedBy(events.GroupByKey(), streams.TumblingWindows(time.Minute).WithGrace(0)).Count(streams.Materialized("per-minute"))
	top, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func int64Value(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

func TestPrometheusMetrics(t *testing.T) {
	addr := testkit.Bootstrap(t)
	for _, topic := range []string{"obs-lines", "obs-counts", "obs-events"} {
		testkit.CreateTopic(t, addr, topic, 2)
	}
	var lines []string
	for i := range 40 {
		lines = append(lines, fmt.Sprintf("w%d w%d common x%d y", i%9, i%4, i))
	}
	want := wantCounts(lines)
	words := 0
	for _, n := range want {
		words += int(n)
	}
	recs := make([]*kgo.Record, len(lines))
	for i, l := range lines {
		recs[i] = &kgo.Record{Topic: "obs-lines", Key: []byte(strconv.Itoa(i)), Value: []byte(l)}
	}
	testkit.Produce(t, addr, recs...)
	// Events: good ones on many keys; three that do not decode (an int64
	// is 8 bytes); and on key k, a record five minutes on and then two
	// for the minute before it, closed by then (grace 0): late.
	base := time.UnixMilli(1_700_000_000_000).Truncate(time.Minute)
	var events []*kgo.Record
	for i := range 20 {
		events = append(events, &kgo.Record{Topic: "obs-events", Key: []byte(fmt.Sprintf("e%d", i)), Value: int64Value(int64(i)), Timestamp: base})
	}
	for i := range 3 {
		events = append(events, &kgo.Record{Topic: "obs-events", Key: []byte(fmt.Sprintf("e%d", i)), Value: []byte("bad"), Timestamp: base})
	}
	for _, at := range []time.Duration{5 * time.Minute, 30 * time.Second, 10 * time.Second} {
		events = append(events, &kgo.Record{Topic: "obs-events", Key: []byte("k"), Value: int64Value(1), Timestamp: base.Add(at)})
	}
	testkit.Produce(t, addr, events...)
	const late, undecodable = 2, 3

	query, metrics := testkit.FreePort(t), testkit.FreePort(t)
	top := observedTopology(t)
	app := startApp(t, top, streams.WithApplicationID("obs"), streams.WithBootstrapServers(addr), streams.WithStateDir(t.TempDir()),
		streams.WithCommitInterval(100*time.Millisecond), streams.WithQueryListen(query), streams.WithMetricsListen(metrics),
		streams.WithDeserializationHandler(streams.LogAndContinue()))
	// A second App in the same process has a registry of its own.
	testkit.CreateTopic(t, addr, "obs-other-in", 1)
	testkit.CreateTopic(t, addr, "obs-other-out", 1)
	otherMetrics := testkit.FreePort(t)
	ob := streams.NewBuilder()
	streams.Stream(ob, "obs-other-in", streams.String(), streams.String()).To("obs-other-out")
	otherTop, err := ob.Build()
	if err != nil {
		t.Fatal(err)
	}
	startApp(t, otherTop, streams.WithApplicationID("obs-other"), streams.WithBootstrapServers(addr), streams.WithStateDir(t.TempDir()),
		streams.WithCommitInterval(100*time.Millisecond), streams.WithMetricsListen(otherMetrics))
	testkit.Produce(t, addr, &kgo.Record{Topic: "obs-other-in", Value: []byte("1")}, &kgo.Record{Topic: "obs-other-in", Value: []byte("2")})

	latest := readCounts(t, addr, "obs-counts")
	testkit.Eventually(t, time.Minute, func() error { return equalCounts(latest(), want) })
	processed := len(lines) + words + len(events)
	var got []sample
	testkit.Eventually(t, 30*time.Second, func() error {
		var err error
		if got, err = scrape(metrics); err != nil {
			return err
		}
		if n := sum(got, "tributary_streams_process_total"); n != float64(processed) {
			return fmt.Errorf("process_total = %v, want %d (lines, words through the repartition topic, events)", n, processed)
		}
		lags := series(got, "tributary_streams_records_lag")
		if len(lags) != 6 {
			return fmt.Errorf("%d records_lag series, want one per input partition (2 lines, 2 repartition, 2 events): %v", len(lags), lags)
		}
		for _, l := range lags {
			if l.value != 0 {
				return fmt.Errorf("lag of %s/%s is %v after everything was processed", l.labels["topic"], l.labels["partition"], l.value)
			}
		}
		if n := sum(got, "tributary_streams_commit_latency_seconds_count"); n < 1 {
			return fmt.Errorf("commit_latency_seconds_count = %v", n)
		}
		return nil
	})
	for _, s := range got {
		if strings.HasPrefix(s.name, "tributary_streams_") && s.labels["application_id"] != "obs" {
			t.Fatalf("series %s%v of another App in obs's scrape", s.name, s.labels)
		}
	}
	m := app.app.Metrics()
	checks := []struct {
		name string
		got  float64
		want float64
	}{
		{"process_total (== Metrics().RecordsProcessed)", sum(got, "tributary_streams_process_total"), float64(m.RecordsProcessed)},
		{"process_latency_seconds_count", sum(got, "tributary_streams_process_latency_seconds_count"), float64(processed)},
		{"late_records_dropped_total", sum(got, "tributary_streams_late_records_dropped_total"), late},
		{"deserialization_errors_total", sum(got, "tributary_streams_deserialization_errors_total"), undecodable},
		{"skipped_records_total", sum(got, "tributary_streams_skipped_records_total"), undecodable},
		{"punctuate_latency_seconds_count (== Metrics().Punctuations)", sum(got, "tributary_streams_punctuate_latency_seconds_count"), float64(m.Punctuations)},
		{"records_produced_total (== Metrics().RecordsSent)", sum(got, "tributary_streams_records_produced_total"), float64(m.RecordsSent)},
		{"tasks running", sum(got, "tributary_streams_tasks", "state", "running"), 6},
		{"tasks restoring", sum(got, "tributary_streams_tasks", "state", "restoring"), 0},
		{"restore_records_total (nothing to restore)", sum(got, "tributary_streams_restore_records_total"), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if m.Punctuations == 0 || sum(got, "tributary_streams_process_latency_seconds_sum") <= 0 {
		t.Errorf("punctuations %d, process time %vs: want both above 0", m.Punctuations, sum(got, "tributary_streams_process_latency_seconds_sum"))
	}
	// Every store of every running task has a size (Pebble counts what it
	// flushed, so the value itself may still be 0).
	for _, p := range []string{"0", "1"} {
		var found []string
		for _, s := range series(got, "tributary_streams_store_size_bytes") {
			if strings.HasSuffix(s.labels["task_id"], "_"+p) {
				found = append(found, s.labels["store"])
			}
		}
		if strings.Join(found, ",") != "counts,per-minute" && strings.Join(found, ",") != "per-minute,counts" {
			t.Errorf("partition %s: store_size_bytes for stores %v, want counts and per-minute", p, found)
		}
	}
	// The query listener serves the same registry.
	viaQuery, err := scrape(query)
	if err != nil {
		t.Fatal(err)
	}
	if n := sum(viaQuery, "tributary_streams_late_records_dropped_total"); n != late {
		t.Errorf("query listener: late_records_dropped_total = %v, want %d", n, late)
	}
	// The other App counts its own records only.
	testkit.Eventually(t, 30*time.Second, func() error {
		other, err := scrape(otherMetrics)
		if err != nil {
			return err
		}
		if n := sum(other, "tributary_streams_process_total", "application_id", "obs-other"); n != 2 {
			return fmt.Errorf("obs-other: process_total = %v, want 2", n)
		}
		if n := len(series(other, "tributary_streams_process_total", "application_id", "obs")); n > 0 {
			return fmt.Errorf("obs-other's scrape has %d series of obs", n)
		}
		return nil
	})

	// A new instance with empty state restores both stores from their
	// changelogs: it applies every changelog record (at-least-once: no
	// transaction markers), and processes nothing again.
	app.stop(t)
	adm := testkit.Admin(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	changelogs := []string{"obs-counts-changelog", "obs-per-minute-changelog"}
	ends, err := adm.ListEndOffsets(ctx, changelogs...)
	if err != nil {
		t.Fatal(err)
	}
	starts, err := adm.ListStartOffsets(ctx, changelogs...)
	if err != nil {
		t.Fatal(err)
	}
	var toRestore int64
	ends.Each(func(o kadm.ListedOffset) {
		s, _ := starts.Lookup(o.Topic, o.Partition)
		toRestore += o.Offset - s.Offset
	})
	if toRestore == 0 {
		t.Fatal("the changelogs are empty")
	}
	restarted := testkit.FreePort(t)
	startApp(t, top, streams.WithApplicationID("obs"), streams.WithBootstrapServers(addr), streams.WithStateDir(t.TempDir()),
		streams.WithCommitInterval(100*time.Millisecond), streams.WithMetricsListen(restarted),
		streams.WithDeserializationHandler(streams.LogAndContinue()))
	testkit.Eventually(t, time.Minute, func() error {
		got, err := scrape(restarted)
		if err != nil {
			return err
		}
		if n := sum(got, "tributary_streams_tasks", "state", "running"); n != 6 {
			return fmt.Errorf("%v tasks running, want 6", n)
		}
		if n := sum(got, "tributary_streams_restore_records_total"); n != float64(toRestore) {
			return fmt.Errorf("restore_records_total = %v, want the %d changelog records", n, toRestore)
		}
		if n := len(series(got, "tributary_streams_restore_remaining_records")); n != 0 {
			return fmt.Errorf("%d tasks still have records to restore", n)
		}
		if n := sum(got, "tributary_streams_process_total"); n != 0 {
			return fmt.Errorf("process_total = %v after a restart with everything committed, want 0", n)
		}
		return nil
	})
}
