package streams_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/streams"
)

// purgeWords is the word count of the purge test; smaller under the race
// detector.
var purgeWords = 50_000

// The App deletes what it consumed from its repartition topic: the topic's
// log start offset moves up to the group's committed offset (under
// exactly-once, that of finished transactions), the user's input topic is
// never purged, the counts stay exact, and a restarted instance resumes
// from its committed offsets over the purged topic.
func TestRepartitionPurge(t *testing.T) {
	for _, g := range []streams.Guarantee{streams.AtLeastOnce, streams.ExactlyOnce} {
		t.Run(g.String(), func(t *testing.T) { repartitionPurge(t, g) })
	}
}

func repartitionPurge(t *testing.T, g streams.Guarantee) {
	addr := testkit.Bootstrap(t)
	app := "purge-" + strings.ReplaceAll(g.String(), "_", "-")
	testkit.CreateTopic(t, addr, "lines", 3)
	testkit.CreateTopic(t, addr, "counts", 3)
	var readOpts []kgo.Opt
	if g == streams.ExactlyOnce {
		readOpts = append(readOpts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	latest := readCounts(t, addr, "counts", readOpts...)
	producer := testkit.Client(t, addr)
	top := wordCountTopology(t, "lines", "counts")
	dir := t.TempDir()
	start := func() *runningApp {
		return startApp(t, top, streams.WithApplicationID(app), streams.WithBootstrapServers(addr), streams.WithStateDir(dir),
			streams.WithProcessingGuarantee(g), streams.WithCommitInterval(100*time.Millisecond),
			streams.WithRepartitionPurgeInterval(50*time.Millisecond))
	}
	lines := corpus(purgeWords, 300, 3)
	third := len(lines) / 3
	adm := testkit.Admin(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	a := start()
	var repartition string
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range topics.Names() {
		if strings.HasPrefix(name, app+"-") && strings.HasSuffix(name, "-repartition") {
			repartition = name
		}
	}
	if repartition == "" {
		t.Fatalf("no repartition topic of %s among %v", app, topics.Names())
	}
	// purged checks that every partition of the repartition topic starts
	// at the group's committed offset, and returns how many records the
	// topic held and how many it keeps.
	purged := func() (written, kept int64, err error) {
		committed, err := adm.FetchOffsets(ctx, app)
		if err == nil {
			err = committed.Error()
		}
		if err != nil {
			return 0, 0, err
		}
		starts, err := adm.ListStartOffsets(ctx, repartition)
		if err == nil {
			err = starts.Error()
		}
		if err != nil {
			return 0, 0, err
		}
		ends, err := adm.ListEndOffsets(ctx, repartition)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			return 0, 0, err
		}
		var perr error
		ends.Each(func(e kadm.ListedOffset) {
			s, _ := starts.Lookup(repartition, e.Partition)
			c, ok := committed.Lookup(repartition, e.Partition)
			written += e.Offset
			kept += e.Offset - s.Offset
			switch {
			case !ok || c.At <= 0:
				perr = fmt.Errorf("%s/%d: nothing committed yet", repartition, e.Partition)
			case s.Offset != c.At && perr == nil:
				perr = fmt.Errorf("%s/%d starts at %d, committed %d", repartition, e.Partition, s.Offset, c.At)
			}
		})
		return written, kept, perr
	}
	produceChunk(t, producer, "lines", lines[:third])
	testkit.Eventually(t, 2*time.Minute, func() error { return equalCounts(latest(), wantCounts(lines[:third])) })
	testkit.Eventually(t, 30*time.Second, func() error { _, _, err := purged(); return err })
	produceChunk(t, producer, "lines", lines[third:2*third])
	testkit.Eventually(t, 2*time.Minute, func() error { return equalCounts(latest(), wantCounts(lines[:2*third])) })
	// What is left is nothing, or under exactly-once the marker of the
	// last transaction in each partition, which no commit goes past. The
	// counts can be complete before the last commit (and the purge after
	// it) has run, so this waits for both.
	maxKept := map[streams.Guarantee]int64{streams.AtLeastOnce: 0, streams.ExactlyOnce: 3}[g]
	var written, kept int64
	testkit.Eventually(t, 60*time.Second, func() error {
		var err error
		written, kept, err = purged()
		if err == nil && kept > maxKept {
			err = fmt.Errorf("the repartition topic keeps %d of its %d records, want at most %d", kept, written, maxKept)
		}
		return err
	})
	// Every word went through the repartition topic once (under
	// exactly-once, with a transaction marker per commit and partition).
	words := int64(0)
	for _, n := range wantCounts(lines[:2*third]) {
		words += n
	}
	if written < words {
		t.Fatalf("the repartition topic had %d records written, want at least the %d words", written, words)
	}
	t.Logf("%s: %d records written, %d kept after the purge", repartition, written, kept)
	if kept > maxKept {
		t.Fatalf("the repartition topic keeps %d of its %d records after the purge, want at most %d", kept, written, maxKept)
	}
	// The user's input topic is left alone.
	starts, err := adm.ListStartOffsets(ctx, "lines")
	if err != nil {
		t.Fatal(err)
	}
	starts.Each(func(o kadm.ListedOffset) {
		if o.Err != nil || o.Offset != 0 {
			t.Errorf("lines/%d starts at %d (%v): the App purged a topic it does not own", o.Partition, o.Offset, o.Err)
		}
	})

	// A restart resumes from the committed offsets, above the purged
	// records, and counts the rest exactly.
	a.stop(t)
	start()
	produceChunk(t, producer, "lines", lines[2*third:])
	testkit.Eventually(t, 2*time.Minute, func() error { return equalCounts(latest(), wantCounts(lines)) })
	testkit.Eventually(t, 30*time.Second, func() error { _, _, err := purged(); return err })
}

// The operational options are checked in New, each problem named.
func TestOperationsOptionsRejected(t *testing.T) {
	b := streams.NewBuilder()
	streams.Stream(b, "in", streams.String(), streams.String()).To("out")
	top, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		opts []streams.Option
		want string
	}{
		{[]streams.Option{streams.WithMetricsListen("no-port")}, `metrics listen address "no-port": want host:port (WithMetricsListen)`},
		{[]streams.Option{streams.WithMetricsListen("127.0.0.1:9000"), streams.WithQueryListen("127.0.0.1:9000")},
			"is the query listen address too"},
		{[]streams.Option{streams.WithRepartitionPurgeInterval(-time.Second)}, "repartition.purge.interval.ms -1s: want 0 or more"},
	} {
		_, err := streams.New(top, append([]streams.Option{streams.WithApplicationID("m"), streams.WithBootstrapServers("127.0.0.1:9092")}, c.opts...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
}
