package streams_test

import (
	"strings"
	"testing"

	"github.com/tributary-streams/tributary/streams"
	"github.com/tributary-streams/tributary/streams/streamstest"
)

func wordCount(b *streams.Builder, opts ...streams.StepOption) streams.KTable[string, int64] {
	lines := streams.Stream(b, "lines", streams.String(), streams.String())
	words := streams.FlatMapValues(lines, func(line string, emit func(string)) {
		for _, w := range strings.Fields(strings.ToLower(line)) {
			emit(w)
		}
	})
	return streams.GroupBy(words, func(_, w string) string { return w }).Count(opts...)
}

func TestCountRepartitionsAfterKeyChange(t *testing.T) {
	b := streams.NewBuilder()
	wordCount(b, streams.Materialized("counts")).ToStream().To("counts", streams.WithValueSerde(streams.Int64()))
	d := testDriver(t, b, streams.WithApplicationID("wc"))
	in := streamstest.InputTopic(d, "lines", streams.String(), streams.String())
	must(t, in.PipeAt("", "the cat", 1))
	must(t, in.PipeAt("", "The dog", 2))
	out := streamstest.OutputTopic(d, "counts", streams.String(), streams.Int64())
	expect(t, kvs(t, out), "the=1@1", "cat=1@1", "the=2@2", "dog=1@2")
	// The words went through the repartition topic, keyed by word.
	rep := d.Output("wc-counts-repartition")
	if len(rep) != 4 || string(rep[0].Key) != "the" || string(rep[3].Key) != "dog" {
		t.Fatalf("repartition topic = %+v, want the four words as keys", rep)
	}
	store := streamstest.KeyValueStore(d, "counts", streams.String(), streams.Int64())
	if n, ok, err := store.Get("the"); err != nil || !ok || n != 2 {
		t.Fatalf("store counts[the] = %d %v %v, want 2", n, ok, err)
	}
}

func TestGroupByKeyDoesNotRepartition(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.Stream(b, "in", streams.String(), streams.Int64())
	s.GroupByKey().Reduce(func(a, v int64) int64 { return a + v }, streams.Materialized("sums")).ToStream().To("sums")
	// A value-only change keeps the partitioning too.
	streams.MapValues(s, func(v int64) int64 { return v * 10 }).GroupByKey().
		Reduce(func(a, v int64) int64 { return max(a, v) }).ToStream().To("maxes")
	d := testDriver(t, b, streams.WithApplicationID("g"))
	in := streamstest.InputTopic(d, "in", streams.String(), streams.Int64())
	must(t, in.PipeAt("a", 3, 10))
	must(t, in.PipeAt("a", 4, 5)) // out of order: the aggregate keeps the later timestamp
	must(t, in.PipeAt("b", 1, 20))
	expect(t, kvs(t, streamstest.OutputTopic(d, "sums", streams.String(), streams.Int64())), "a=3@10", "a=7@10", "b=1@20")
	expect(t, kvs(t, streamstest.OutputTopic(d, "maxes", streams.String(), streams.Int64())), "a=30@10", "a=40@10", "b=10@20")
	for topic := range map[string]bool{"g-sums-repartition": true} {
		if len(d.Output(topic)) != 0 {
			t.Fatalf("GroupByKey repartitioned through %s", topic)
		}
	}
}

type stats struct {
	Count int64 `json:"count"`
	Sum   int64 `json:"sum"`
}

func TestAggregateWithJSON(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.Stream(b, "in", streams.String(), streams.Int64())
	streams.Aggregate(s.GroupByKey(), func() stats { return stats{} },
		func(_ string, v int64, a stats) stats { return stats{Count: a.Count + 1, Sum: a.Sum + v} },
		streams.WithValueSerde(streams.JSON[stats]()), streams.Materialized("stats")).ToStream().To("out")
	d := testDriver(t, b)
	in := streamstest.InputTopic(d, "in", streams.String(), streams.Int64())
	must(t, in.PipeAt("k", 5, 1))
	must(t, in.PipeAt("k", 7, 2))
	recs, err := streamstest.OutputTopic(d, "out", streams.String(), streams.JSON[stats]()).ReadRecords()
	must(t, err)
	if len(recs) != 2 || recs[1].Value != (stats{Count: 2, Sum: 12}) {
		t.Fatalf("out = %+v", recs)
	}
}

func TestTableSourceFilterMapValuesAndTombstones(t *testing.T) {
	b := streams.NewBuilder()
	users := streams.Table(b, "users", streams.String(), streams.String(), streams.Materialized("users"))
	adults := users.Filter(func(_, v string) bool { return !strings.HasPrefix(v, "minor") })
	streams.MapValuesTable(adults, func(_, v string) string { return strings.ToUpper(v) }).To("adults")
	users.ToStream().To("updates")
	d := testDriver(t, b)
	in := streamstest.InputTopic(d, "users", streams.String(), streams.String())
	must(t, in.PipeAt("u1", "alice", 1))
	must(t, in.PipeAt("u2", "minor bob", 2))
	must(t, in.PipeAt("u1", "minor alice", 3)) // stops matching: deleted downstream
	must(t, in.PipeAt("u2", "bob", 4))         // starts matching
	must(t, in.PipeTombstone("u2", 5))         // deleted at the source
	expect(t, kvs(t, streamstest.OutputTopic(d, "adults", streams.String(), streams.String())),
		"u1=ALICE@1", "u1=<deleted>@3", "u2=BOB@4", "u2=<deleted>@5")
	// ToStream forwards updates, not deletions.
	expect(t, kvs(t, streamstest.OutputTopic(d, "updates", streams.String(), streams.String())),
		"u1=alice@1", "u2=minor bob@2", "u1=minor alice@3", "u2=bob@4")
	all, err := streamstest.KeyValueStore(d, "users", streams.String(), streams.String()).All()
	must(t, err)
	if len(all) != 1 || all[0].Key != "u1" || all[0].Value != "minor alice" {
		t.Fatalf("store users = %+v", all)
	}
}

func TestGroupByTableAddsAndSubtracts(t *testing.T) {
	b := streams.NewBuilder()
	// user -> city; count users per city, moving a user moves the count.
	users := streams.Table(b, "user-city", streams.String(), streams.String())
	byCity := streams.GroupByTable(users, func(user, city string) (string, string) { return city, user })
	byCity.Count(streams.Materialized("per-city")).ToStream().To("per-city")
	streams.AggregateTable(byCity, func() string { return "" },
		func(_ string, user, agg string) string { return agg + "+" + user },
		func(_ string, user, agg string) string { return agg + "-" + user }).ToStream().To("history")
	d := testDriver(t, b)
	in := streamstest.InputTopic(d, "user-city", streams.String(), streams.String())
	must(t, in.PipeAt("ann", "paris", 1))
	must(t, in.PipeAt("bob", "paris", 2))
	must(t, in.PipeAt("ann", "rome", 3))
	must(t, in.PipeTombstone("bob", 4))
	expect(t, kvs(t, streamstest.OutputTopic(d, "per-city", streams.String(), streams.Int64())),
		"paris=1@1", "paris=2@2", "paris=1@3", "rome=1@3", "paris=0@4")
	expect(t, kvs(t, streamstest.OutputTopic(d, "history", streams.String(), streams.String())),
		"paris=+ann@1", "paris=+ann+bob@2", "paris=+ann+bob-ann@3", "rome=+ann@3", "paris=+ann+bob-ann-bob@4")
}

func TestCogroup(t *testing.T) {
	b := streams.NewBuilder()
	clicks := streams.Stream(b, "clicks", streams.String(), streams.Int64()).GroupByKey()
	views := streams.Stream(b, "views", streams.String(), streams.String()).GroupByKey()
	c := streams.Cogroup(clicks, func(_ string, n int64, a stats) stats { a.Count += n; return a })
	c = streams.CogroupWith(c, views, func(_ string, _ string, a stats) stats { a.Sum++; return a })
	c.Aggregate(func() stats { return stats{} }, streams.WithValueSerde(streams.JSON[stats]()), streams.Materialized("activity")).
		ToStream().To("activity")
	d := testDriver(t, b)
	must(t, streamstest.InputTopic(d, "clicks", streams.String(), streams.Int64()).PipeAt("u", 3, 1))
	must(t, streamstest.InputTopic(d, "views", streams.String(), streams.String()).PipeAt("u", "home", 2))
	must(t, streamstest.InputTopic(d, "clicks", streams.String(), streams.Int64()).PipeAt("u", 2, 3))
	recs, err := streamstest.OutputTopic(d, "activity", streams.String(), streams.JSON[stats]()).ReadRecords()
	must(t, err)
	want := []stats{{Count: 3}, {Count: 3, Sum: 1}, {Count: 5, Sum: 1}}
	if len(recs) != len(want) {
		t.Fatalf("activity = %+v, want %+v", recs, want)
	}
	for i := range want {
		if recs[i].Value != want[i] {
			t.Fatalf("activity[%d] = %+v, want %+v", i, recs[i].Value, want[i])
		}
	}
}

// With caching on and commits only at the driver's steps, a key updated
// twice within one piped record's processing reaches downstream once.
func TestCachingDedupesWithinACommit(t *testing.T) {
	b := streams.NewBuilder()
	wordCount(b).ToStream().To("counts")
	d := testDriver(t, b)
	must(t, streamstest.InputTopic(d, "lines", streams.String(), streams.String()).PipeAt("", "a a a b", 1))
	expect(t, kvs(t, streamstest.OutputTopic(d, "counts", streams.String(), streams.Int64())), "a=3@1", "b=1@1")

	b = streams.NewBuilder()
	wordCount(b, streams.WithCaching(false)).ToStream().To("counts")
	d = testDriver(t, b)
	must(t, streamstest.InputTopic(d, "lines", streams.String(), streams.String()).PipeAt("", "a a a b", 1))
	expect(t, kvs(t, streamstest.OutputTopic(d, "counts", streams.String(), streams.Int64())), "a=1@1", "a=2@1", "a=3@1", "b=1@1")
}
