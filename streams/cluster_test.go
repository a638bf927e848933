package streams_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/streams"
)

func TestMain(m *testing.M) {
	testkit.RegisterChild("wordcount", wordCountChild)
	testkit.RunChildIfRequested()
	os.Exit(m.Run())
}

// wordCountChild runs the wordcount topology as a child process, so that
// a test can kill it with SIGKILL.
func wordCountChild(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("wordcount", flag.ContinueOnError)
	bootstrap := fs.String("bootstrap", "", "")
	app := fs.String("app", "", "")
	stateDir := fs.String("state", "", "")
	eos := fs.Bool("eos", false, "")
	in := fs.String("in", "lines", "")
	out := fs.String("out", "counts", "")
	query := fs.String("query", "", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	g := streams.AtLeastOnce
	if *eos {
		g = streams.ExactlyOnce
	}
	b := streams.NewBuilder()
	lines := streams.Stream(b, *in, streams.String(), streams.String())
	words := streams.FlatMapValues(lines, func(line string, emit func(string)) {
		for _, w := range strings.Fields(line) {
			emit(w)
		}
	})
	counts := streams.GroupBy(words, func(_, w string) string { return w }).Count(streams.Materialized("counts"))
	streams.MapValues(counts.ToStream(), func(n int64) string { return fmt.Sprint(n) }).To(*out)
	top, err := b.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	opts := []streams.Option{streams.WithApplicationID(*app), streams.WithBootstrapServers(*bootstrap),
		streams.WithStateDir(*stateDir), streams.WithProcessingGuarantee(g), streams.WithSessionTimeout(6 * time.Second),
		streams.WithTransactionTimeout(5 * time.Second), streams.WithCommitInterval(200 * time.Millisecond)}
	if *query != "" {
		opts = append(opts, streams.WithQueryListen(*query))
	}
	a, err := streams.New(top, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// corpus makes lines of 10 words from a vocabulary, deterministically.
func corpus(words, vocabulary int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, seed))
	var lines []string
	var line []string
	for range words {
		line = append(line, fmt.Sprintf("w%04d", r.IntN(vocabulary)))
		if len(line) == 10 {
			lines = append(lines, strings.Join(line, " "))
			line = line[:0]
		}
	}
	if len(line) > 0 {
		lines = append(lines, strings.Join(line, " "))
	}
	return lines
}

func produceChunk(t *testing.T, cl *kgo.Client, topic string, lines []string) {
	t.Helper()
	recs := make([]*kgo.Record, len(lines))
	for i, l := range lines {
		recs[i] = &kgo.Record{Topic: topic, Value: []byte(l)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// millionWords is the word count of the multi-instance test, and
// killWords of the kill test; smaller under the race detector.
var (
	millionWords = 1_000_000
	killWords    = 200_000
)

// TestWordCountInstancesComeAndGo counts a million words while three
// instances are started and stopped mid-run: exact under exactly-once,
// never less than exact under at-least-once.
func TestWordCountInstancesComeAndGo(t *testing.T) {
	for _, g := range []streams.Guarantee{streams.ExactlyOnce, streams.AtLeastOnce} {
		t.Run(g.String(), func(t *testing.T) { wordCountComeAndGo(t, g, millionWords) })
	}
}

func wordCountComeAndGo(t *testing.T, g streams.Guarantee, words int) {
	addr := testkit.Bootstrap(t)
	app := "come-and-go-" + strings.ReplaceAll(g.String(), "_", "-")
	testkit.CreateTopic(t, addr, "lines", 6)
	testkit.CreateTopic(t, addr, "counts", 6)
	lines := corpus(words, 2000, 1)
	want := wantCounts(lines)
	var readOpts []kgo.Opt
	if g == streams.ExactlyOnce {
		readOpts = append(readOpts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	latest := readCounts(t, addr, "counts", readOpts...)
	producer := testkit.Client(t, addr, kgo.ProducerBatchMaxBytes(1<<20))
	top := wordCountTopology(t, "lines", "counts")
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	start := func(i int) *runningApp {
		return startApp(t, top, streams.WithApplicationID(app), streams.WithBootstrapServers(addr), streams.WithStateDir(dirs[i]),
			streams.WithProcessingGuarantee(g), streams.WithCommitInterval(200*time.Millisecond))
	}
	processed := func(apps ...*runningApp) int64 {
		var n int64
		for _, a := range apps {
			if a.cancel != nil {
				n += a.app.Metrics().RecordsProcessed
			}
		}
		return n
	}
	chunks := 5
	per := (len(lines) + chunks - 1) / chunks
	chunk := func(i int) []string { return lines[min(i*per, len(lines)):min((i+1)*per, len(lines))] }
	// waitSome waits until the running instances have processed some of
	// what was produced, so that the next change happens mid-run.
	waitSome := func(base int64, apps ...*runningApp) {
		target := base + int64(per)
		testkit.Eventually(t, 2*time.Minute, func() error {
			if n := processed(apps...); n < target {
				return fmt.Errorf("processed %d records, waiting for %d", n, target)
			}
			return nil
		})
	}
	a := start(0)
	produceChunk(t, producer, "lines", chunk(0))
	waitSome(0, a)
	b := start(1)
	produceChunk(t, producer, "lines", chunk(1))
	waitSome(processed(a, b), a, b)
	c := start(2)
	produceChunk(t, producer, "lines", chunk(2))
	waitSome(processed(a, b, c), a, b, c)
	a.stop(t) // its tasks move to b and c, which restore them from the changelog
	produceChunk(t, producer, "lines", chunk(3))
	waitSome(processed(b, c), b, c)
	b.stop(t)
	a = start(0) // back on its old state directory: restores only what it missed
	produceChunk(t, producer, "lines", chunk(4))
	check := func() error { return equalCounts(latest(), want) }
	if g == streams.AtLeastOnce {
		check = func() error {
			got := latest()
			if len(got) != len(want) {
				return fmt.Errorf("%d words counted, want %d", len(got), len(want))
			}
			for w, n := range want {
				if got[w] < n {
					return fmt.Errorf("count of %q = %d, want at least %d", w, got[w], n)
				}
			}
			return nil
		}
	}
	testkit.Eventually(t, 3*time.Minute, check)
	if g == streams.ExactlyOnce {
		// Exact, and it stays exact: no late duplicate shows up.
		c.stop(t)
		a.stop(t)
		if err := equalCounts(latest(), want); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d words in %d lines counted (%s)", words, len(lines), g)
}

// TestKillInstanceMidAggregation kills (SIGKILL) one of two instances in
// the middle of counting; the other takes its tasks over, restores their
// state from the changelog, and the counts are exact.
func TestKillInstanceMidAggregation(t *testing.T) {
	addr := testkit.Bootstrap(t)
	testkit.CreateTopic(t, addr, "lines", 4)
	testkit.CreateTopic(t, addr, "counts", 4)
	lines := corpus(killWords, 500, 2)
	want := wantCounts(lines)
	latest := readCounts(t, addr, "counts", kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	producer := testkit.Client(t, addr)
	query := testkit.FreePort(t)
	args := func(dir, q string) []string {
		a := []string{"--bootstrap", addr, "--app", "killed", "--state", dir, "--eos"}
		if q != "" {
			a = append(a, "--query", q)
		}
		return a
	}
	victim := testkit.StartProcess(t, "wordcount", args(t.TempDir(), "")...)
	survivor := testkit.StartProcess(t, "wordcount", args(t.TempDir(), query)...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("victim's log:\n%s\nsurvivor's log:\n%s", victim.Logs(), survivor.Logs())
		}
	})
	half := len(lines) / 2
	firstHalf := wantCounts(lines[:half])
	produceChunk(t, producer, "lines", lines[:half])
	// Wait until both instances own tasks and have counted the first half,
	// so that the victim's stores have state in the changelog.
	testkit.Eventually(t, time.Minute, func() error {
		m, err := scrape(query)
		if err != nil {
			return err
		}
		if n := sum(m, "tributary_streams_tasks"); n == 0 || n >= 8 {
			return fmt.Errorf("survivor has %v of 8 tasks; waiting for a split", n)
		}
		return equalCounts(latest(), firstHalf)
	})
	victim.Kill()
	produceChunk(t, producer, "lines", lines[half:])
	testkit.Eventually(t, 2*time.Minute, func() error { return equalCounts(latest(), want) })
	m, err := scrape(query)
	if err != nil {
		t.Fatal(err)
	}
	tasks, restored := sum(m, "tributary_streams_tasks"), sum(m, "tributary_streams_restore_records_total")
	if tasks != 8 || restored == 0 {
		t.Fatalf("survivor: %v tasks, %v records restored; want all 8 tasks, some restored from the changelog\n%s",
			tasks, restored, survivor.Logs())
	}
	survivor.Stop()
	if err := equalCounts(latest(), want); err != nil {
		t.Fatal(err)
	}
}
