package streams_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/streams"
)

func testLogger() *slog.Logger {
	if os.Getenv("TRIBUTARY_TEST_LOGS") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// wordCountApp is the wordcount topology with decimal string counts.
func wordCountTopology(t *testing.T, in, out string) *streams.Topology {
	b := streams.NewBuilder()
	lines := streams.Stream(b, in, streams.String(), streams.String())
	words := streams.FlatMapValues(lines, func(line string, emit func(string)) {
		for _, w := range strings.Fields(line) {
			emit(w)
		}
	})
	counts := streams.GroupBy(words, func(_, w string) string { return w }).Count(streams.Materialized("counts"))
	streams.MapValues(counts.ToStream(), func(n int64) string { return strconv.FormatInt(n, 10) }).To(out)
	top, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// runApp runs an App in the background and stops it on cleanup.
type runningApp struct {
	app    *streams.App
	cancel context.CancelFunc
	done   chan error
}

func startApp(t *testing.T, top *streams.Topology, opts ...streams.Option) *runningApp {
	t.Helper()
	app, err := streams.New(top, append([]streams.Option{streams.WithLogger(testLogger())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningApp{app: app, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- app.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	select {
	case <-app.Running():
	case err := <-r.done:
		t.Fatalf("app stopped before running: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("app not running after 30s")
	}
	return r
}

func (r *runningApp) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("app: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Error("app did not stop within 60s")
	}
}

// latestCounts reads topic and keeps the last value per key.
type counter struct {
	mu     sync.Mutex
	latest map[string]int64
}

func readCounts(t *testing.T, addr, topic string, opts ...kgo.Opt) func() map[string]int64 {
	t.Helper()
	cl := testkit.Client(t, addr, append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	c := &counter{latest: map[string]int64{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				n, err := strconv.ParseInt(string(r.Value), 10, 64)
				if err != nil {
					return
				}
				c.mu.Lock()
				c.latest[string(r.Key)] = n
				c.mu.Unlock()
			})
		}
	}()
	return func() map[string]int64 {
		c.mu.Lock()
		defer c.mu.Unlock()
		out := make(map[string]int64, len(c.latest))
		for k, v := range c.latest {
			out[k] = v
		}
		return out
	}
}

func produceLines(t *testing.T, addr, topic string, lines []string) {
	t.Helper()
	recs := make([]*kgo.Record, len(lines))
	for i, l := range lines {
		recs[i] = &kgo.Record{Topic: topic, Value: []byte(l)}
	}
	testkit.Produce(t, addr, recs...)
}

func wantCounts(lines []string) map[string]int64 {
	want := map[string]int64{}
	for _, l := range lines {
		for _, w := range strings.Fields(l) {
			want[w]++
		}
	}
	return want
}

func equalCounts(got, want map[string]int64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d words counted, want %d", len(got), len(want))
	}
	for w, n := range want {
		if got[w] != n {
			return fmt.Errorf("count of %q = %d, want %d", w, got[w], n)
		}
	}
	return nil
}

func TestAppWordCount(t *testing.T) {
	for _, g := range []streams.Guarantee{streams.AtLeastOnce, streams.ExactlyOnce} {
		t.Run(g.String(), func(t *testing.T) {
			addr := testkit.Bootstrap(t)
			testkit.CreateTopic(t, addr, "lines", 3)
			testkit.CreateTopic(t, addr, "counts", 3)
			lines := []string{"a b c", "a b", "a", "the quick brown fox", "jumps over the lazy dog"}
			produceLines(t, addr, "lines", lines)
			app := startApp(t, wordCountTopology(t, "lines", "counts"), streams.WithApplicationID("wc-"+strings.ReplaceAll(g.String(), "_", "-")),
				streams.WithBootstrapServers(addr), streams.WithStateDir(t.TempDir()), streams.WithProcessingGuarantee(g),
				streams.WithCommitInterval(100*time.Millisecond))
			var opts []kgo.Opt
			if g == streams.ExactlyOnce {
				opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
			}
			latest := readCounts(t, addr, "counts", opts...)
			want := wantCounts(lines)
			testkit.Eventually(t, 30*time.Second, func() error { return equalCounts(latest(), want) })
			// More input later updates the counts.
			produceLines(t, addr, "lines", []string{"a z"})
			want["a"]++
			want["z"]++
			testkit.Eventually(t, 30*time.Second, func() error { return equalCounts(latest(), want) })
			n, ok, err := streams.QueryKeyValue[string, int64](app.app, "counts", "a", streams.String())
			var nl *streams.NotLocalError
			switch {
			case err == nil && ok && n == want["a"]:
			case err != nil && errorsAs(err, &nl):
				t.Fatalf("a single instance does not own key a: %v", err)
			default:
				// The query reads committed state; it may lag one commit.
				testkit.Eventually(t, 10*time.Second, func() error {
					n, ok, err := streams.QueryKeyValue[string, int64](app.app, "counts", "a", streams.String())
					if err != nil || !ok || n != want["a"] {
						return fmt.Errorf("query counts[a] = %d %v %v, want %d", n, ok, err, want["a"])
					}
					return nil
				})
			}
			m := app.app.Metrics()
			if m.RecordsProcessed < int64(len(lines)) || m.Commits == 0 {
				t.Fatalf("metrics = %+v", m)
			}
		})
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// A global table is loaded from every partition of its topic before the
// instance processes, and followed after.
func TestAppGlobalTable(t *testing.T) {
	addr := testkit.Bootstrap(t)
	testkit.CreateTopic(t, addr, "pages", 3)
	testkit.CreateTopic(t, addr, "clicks", 2)
	testkit.CreateTopic(t, addr, "titled", 2)
	testkit.Produce(t, addr, &kgo.Record{Topic: "pages", Key: []byte("/"), Value: []byte("Home")},
		&kgo.Record{Topic: "pages", Key: []byte("/about"), Value: []byte("About")})
	b := streams.NewBuilder()
	clicks := streams.Stream(b, "clicks", streams.String(), streams.String())
	pages := streams.GlobalTable(b, "pages", streams.String(), streams.String(), streams.Materialized("pages"))
	streams.LeftJoinGlobal(clicks, pages, func(_, page string) string { return page },
		func(page string, title *string) string {
			if title == nil {
				return page + "=?"
			}
			return page + "=" + *title
		}).To("titled")
	top, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	app := startApp(t, top, streams.WithApplicationID("global"), streams.WithBootstrapServers(addr), streams.WithStateDir(t.TempDir()),
		streams.WithCommitInterval(100*time.Millisecond))
	// Loaded before running: the first clicks find their titles.
	testkit.Produce(t, addr, &kgo.Record{Topic: "clicks", Key: []byte("u1"), Value: []byte("/")},
		&kgo.Record{Topic: "clicks", Key: []byte("u2"), Value: []byte("/about")})
	got := map[string]string{}
	for _, r := range testkit.Consume(t, addr, "titled", 2) {
		got[string(r.Key)] = string(r.Value)
	}
	if got["u1"] != "/=Home" || got["u2"] != "/about=About" {
		t.Fatalf("titled = %v", got)
	}
	// Followed: a new page shows up in joins and in queries.
	testkit.Produce(t, addr, &kgo.Record{Topic: "pages", Key: []byte("/new"), Value: []byte("New")})
	testkit.Eventually(t, 30*time.Second, func() error {
		v, ok, err := streams.QueryKeyValue[string, string](app.app, "pages", "/new", streams.String())
		if err != nil || !ok || v != "New" {
			return fmt.Errorf("pages[/new] = %q %v %v", v, ok, err)
		}
		return nil
	})
	testkit.Produce(t, addr, &kgo.Record{Topic: "clicks", Key: []byte("u3"), Value: []byte("/new")})
	testkit.Eventually(t, 30*time.Second, func() error {
		for _, r := range testkit.Consume(t, addr, "titled", 3) {
			if string(r.Key) == "u3" && string(r.Value) == "/new=New" {
				return nil
			}
		}
		return fmt.Errorf("u3's click is not titled yet")
	})
}

// What can only be checked against the cluster is checked when the App
// starts, before it joins: inputs of a join with different partition
// counts, and input topics that do not exist.
func TestAppChecksTopicsAtStart(t *testing.T) {
	addr := testkit.Bootstrap(t)
	testkit.CreateTopic(t, addr, "left", 3)
	testkit.CreateTopic(t, addr, "right", 4)
	b := streams.NewBuilder()
	l := streams.Stream(b, "left", streams.String(), streams.String())
	r := streams.Table(b, "right", streams.String(), streams.String())
	streams.JoinTable(l, r, func(a, b string) string { return a + b }, streams.Named("enrich")).To("out")
	top, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	run := func(top *streams.Topology) error {
		app, err := streams.New(top, streams.WithApplicationID("checks"), streams.WithBootstrapServers(addr),
			streams.WithStateDir(t.TempDir()), streams.WithLogger(testLogger()))
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return app.Run(ctx)
	}
	err = run(top)
	if err == nil || !strings.Contains(err.Error(), "step enrich") || !strings.Contains(err.Error(), "not co-partitioned") {
		t.Fatalf("err = %v, want the co-partitioning error naming the step", err)
	}
	b = streams.NewBuilder()
	streams.Stream(b, "no-such-topic", streams.String(), streams.String()).To("out")
	top, err = b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := run(top); !errors.Is(err, streams.ErrMissingSourceTopic) || !strings.Contains(err.Error(), "no-such-topic") {
		t.Fatalf("err = %v, want ErrMissingSourceTopic naming the topic", err)
	}
	if _, err := streams.New(top, streams.WithApplicationID("x")); err == nil || !strings.Contains(err.Error(), "bootstrap.servers") {
		t.Fatalf("New without bootstrap servers: %v", err)
	}
}
