package mirror_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/cli"
	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/mirror"
)

func TestMain(m *testing.M) {
	// `tributary mirror run ARGS...` as a child process, for kill tests.
	testkit.RegisterChild("mirror", func(ctx context.Context, args []string) int {
		return cli.Execute(ctx, append([]string{"mirror", "run"}, args...), os.Stdin, os.Stdout, os.Stderr)
	})
	testkit.RunChildIfRequested()
	os.Exit(m.Run())
}

// testLogger logs to stderr when TRIBUTARY_TEST_LOGS is set.
func testLogger() *slog.Logger {
	if os.Getenv("TRIBUTARY_TEST_LOGS") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// fastSettings make a test flow react in well under a second.
const fastSettings = `
refresh.topics.interval.seconds = 1
refresh.groups.interval.seconds = 1
emit.checkpoints.interval.seconds = 1
sync.group.offsets.interval.seconds = 1
offset.flush.interval.ms = 100
session.timeout.ms = 6000
heartbeat.interval.ms = 500
`

// twoClusters is the header of an mm2.properties for brokers a and b.
func twoClusters(a, b string) string {
	return fmt.Sprintf("clusters = A, B\nA.bootstrap.servers = %s\nB.bootstrap.servers = %s\n", a, b) + fastSettings
}

// startMirror parses text as mm2.properties and starts it, closed on
// cleanup.
func startMirror(t *testing.T, text string, opts ...mirror.Option) *mirror.Mirror {
	t.Helper()
	cfg, err := mirror.ParseConfig(strings.NewReader(text), "mm2.properties")
	if err != nil {
		t.Fatalf("parse config: %v", err)
	}
	logger := testLogger()
	if os.Getenv("TRIBUTARY_TEST_LOGS") == "" {
		// Keep the mirror's log, to show it if the test fails.
		buf := &syncLog{}
		logger = slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("mirror log:\n%s", filterLog(buf.String()))
			}
		})
	}
	m, err := mirror.Start(context.Background(), cfg, append([]mirror.Option{mirror.WithLogger(logger)}, opts...)...)
	if err != nil {
		t.Fatalf("start mirror: %v", err)
	}
	t.Cleanup(m.Close)
	return m
}

func admin(t *testing.T, addr string) *kadm.Client {
	return kadm.NewClient(testkit.Client(t, addr))
}

func createTopic(t *testing.T, addr, topic string, partitions int32, configs ...string) {
	t.Helper()
	cfg := map[string]*string{}
	for _, kv := range configs {
		k, v, _ := strings.Cut(kv, "=")
		cfg[k] = &v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := admin(t, addr).CreateTopic(ctx, partitions, -1, cfg, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// produce writes recs to the partitions they name and returns them with
// their offsets.
func produce(t *testing.T, addr string, recs ...*kgo.Record) []*kgo.Record {
	t.Helper()
	cl := testkit.Client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	return recs
}

// consumeN reads topic from the start until it has n records (failing
// after timeout), and then briefly more, to catch extra ones.
func consumeN(t *testing.T, addr, topic string, n int, timeout time.Duration, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl := testkit.Client(t, addr, append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	var out []*kgo.Record
	deadline := time.Now().Add(timeout)
	extra := time.Time{}
	for {
		now := time.Now()
		if len(out) >= n && extra.IsZero() {
			extra = now.Add(300 * time.Millisecond)
		}
		if !extra.IsZero() && now.After(extra) {
			return out
		}
		if now.After(deadline) {
			t.Fatalf("consume %s: %d of %d records after %s", topic, len(out), n, timeout)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		fetches := cl.PollFetches(ctx)
		cancel()
		fetches.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
}

// byPartition groups records by partition, in offset order.
func byPartition(recs []*kgo.Record) map[int32][]*kgo.Record {
	out := map[int32][]*kgo.Record{}
	for _, r := range recs {
		out[r.Partition] = append(out[r.Partition], r)
	}
	for _, rs := range out {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Offset < rs[j].Offset })
	}
	return out
}

func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// flowStatus returns the status of one flow.
func flowStatus(m *mirror.Mirror, flow string) mirror.FlowStatus {
	for _, s := range m.Status() {
		if s.Flow == flow {
			return s
		}
	}
	return mirror.FlowStatus{Flow: flow, Err: fmt.Errorf("no such flow in status")}
}

// syncLog is a slog handler that keeps lines for assertions.
type syncLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(p))
	return len(p), nil
}

// filterLog drops franz-go's debug lines.
func filterLog(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.Contains(line, "franz-go") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "")
}
