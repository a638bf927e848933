package streams_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-streams/tributary/streams"
	"github.com/tributary-streams/tributary/streams/streamstest"
)

// testDriver builds b's topology and starts a driver on it.
func testDriver(t *testing.T, b *streams.Builder, opts ...streams.Option) *streamstest.Driver {
	t.Helper()
	top, err := b.Build()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	d, err := streamstest.NewDriver(top, opts...)
	if err != nil {
		t.Fatalf("driver: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// kvs formats key/value pairs for comparison.
func kvs[K, V any](t *testing.T, out *streamstest.TestOutputTopic[K, V]) []string {
	t.Helper()
	recs, err := out.ReadRecords()
	must(t, err)
	var s []string
	for _, r := range recs {
		if r.Tombstone {
			s = append(s, fmt.Sprintf("%v=<deleted>@%d", r.Key, r.Timestamp))
			continue
		}
		s = append(s, fmt.Sprintf("%v=%v@%d", r.Key, r.Value, r.Timestamp))
	}
	return s
}

func expect(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestStatelessOperators(t *testing.T) {
	b := streams.NewBuilder()
	in := streams.Stream(b, "in", streams.String(), streams.String())
	// Filter, FilterNot, Peek, MapValues, Map, SelectKey, FlatMap,
	// FlatMapValues, Merge, Split and Foreach, each to its own topic.
	var peeked, each []string
	in.Filter(func(_, v string) bool { return len(v) > 2 }).To("filtered")
	in.FilterNot(func(_, v string) bool { return len(v) > 2 }).To("short")
	streams.MapValues(in.Peek(func(k, v string) { peeked = append(peeked, k) }), func(v string) int64 { return int64(len(v)) }).To("lengths")
	streams.Map(in, func(k, v string) (string, string) { return v, k }).To("swapped")
	streams.SelectKey(in, func(_, v string) string { return strings.ToUpper(v) }).To("rekeyed")
	streams.FlatMap(in, func(k, v string, emit func(string, int64)) {
		for i := range 2 {
			emit(fmt.Sprintf("%s%d", k, i), int64(len(v)))
		}
	}).To("flat")
	streams.FlatMapValues(in, func(v string, emit func(string)) {
		for _, w := range strings.Fields(v) {
			emit(w)
		}
	}).To("words")
	other := streams.Stream(b, "in2", streams.String(), streams.String())
	in.Merge(other).To("merged")
	br := in.Split([]func(k, v string) bool{
		func(k, _ string) bool { return strings.HasPrefix(k, "a") },
		func(k, _ string) bool { return strings.HasPrefix(k, "b") },
	})
	br[0].To("branch-a")
	br[1].To("branch-b")
	br[2].To("branch-rest")
	streams.MapValuesWithKey(in, func(k, v string) string { return k + ":" + v }).Foreach(func(_, v string) { each = append(each, v) })

	d := testDriver(t, b)
	input := streamstest.InputTopic(d, "in", streams.String(), streams.String())
	must(t, input.PipeAt("a1", "hello world", 10))
	must(t, input.PipeAt("b1", "hi", 20))
	must(t, input.PipeAt("c1", "hey you", 5)) // out of order: stateless steps pass it on as is
	must(t, streamstest.InputTopic(d, "in2", streams.String(), streams.String()).PipeAt("z", "other", 30))

	out := func(topic string) []string {
		return kvs(t, streamstest.OutputTopic(d, topic, streams.String(), streams.String()))
	}
	expect(t, out("filtered"), "a1=hello world@10", "c1=hey you@5")
	expect(t, out("short"), "b1=hi@20")
	expect(t, kvs(t, streamstest.OutputTopic(d, "lengths", streams.String(), streams.Int64())), "a1=11@10", "b1=2@20", "c1=7@5")
	expect(t, out("swapped"), "hello world=a1@10", "hi=b1@20", "hey you=c1@5")
	expect(t, out("rekeyed"), "HELLO WORLD=hello world@10", "HI=hi@20", "HEY YOU=hey you@5")
	expect(t, kvs(t, streamstest.OutputTopic(d, "flat", streams.String(), streams.Int64())),
		"a10=11@10", "a11=11@10", "b10=2@20", "b11=2@20", "c10=7@5", "c11=7@5")
	expect(t, out("words"), "a1=hello@10", "a1=world@10", "b1=hi@20", "c1=hey@5", "c1=you@5")
	expect(t, out("merged"), "a1=hello world@10", "b1=hi@20", "c1=hey you@5", "z=other@30")
	expect(t, out("branch-a"), "a1=hello world@10")
	expect(t, out("branch-b"), "b1=hi@20")
	expect(t, out("branch-rest"), "c1=hey you@5")
	expect(t, peeked, "a1", "b1", "c1")
	expect(t, each, "a1:hello world", "b1:hi", "c1:hey you")
}

func TestToDynamicAndHeaders(t *testing.T) {
	b := streams.NewBuilder()
	in := streams.Stream(b, "in", streams.String(), streams.String())
	in.ToDynamic(func(k, _ string) string { return "topic-" + k })
	d := testDriver(t, b)
	input := streamstest.InputTopic(d, "in", streams.String(), streams.String())
	must(t, input.PipeRecord(streams.Record[string, string]{Key: "x", Value: "1", Timestamp: 7,
		Headers: []streams.Header{{Key: "trace", Value: []byte("abc")}}}))
	must(t, input.PipeAt("y", "2", 8))
	recs, err := streamstest.OutputTopic(d, "topic-x", streams.String(), streams.String()).ReadRecords()
	must(t, err)
	if len(recs) != 1 || recs[0].Value != "1" || len(recs[0].Headers) != 1 || string(recs[0].Headers[0].Value) != "abc" {
		t.Fatalf("topic-x = %+v, want the record with its header", recs)
	}
	expect(t, kvs(t, streamstest.OutputTopic(d, "topic-y", streams.String(), streams.String())), "y=2@8")
}

func TestTimestampExtractor(t *testing.T) {
	b := streams.NewBuilder()
	// The value carries the event time; a negative one is skipped.
	streams.Stream(b, "in", streams.String(), streams.Int64(),
		streams.WithTimestampExtractor(func(r streams.Record[string, int64], _ int64) int64 { return r.Value })).To("out")
	d := testDriver(t, b)
	input := streamstest.InputTopic(d, "in", streams.String(), streams.Int64())
	must(t, input.PipeAt("a", 1000, 1))
	must(t, input.PipeAt("b", -5, 2))
	expect(t, kvs(t, streamstest.OutputTopic(d, "out", streams.String(), streams.Int64())), "a=1000@1000")
	if _, _, skipped := d.Stats(); skipped != 1 {
		t.Fatalf("skipped = %d, want the record with a negative timestamp", skipped)
	}
}

func TestDescribe(t *testing.T) {
	b := streams.NewBuilder()
	words := streams.FlatMapValues(streams.Stream(b, "lines", streams.String(), streams.String()),
		func(v string, emit func(string)) {
			for _, w := range strings.Fields(v) {
				emit(w)
			}
		})
	counts := streams.GroupBy(words, func(_, w string) string { return w }).Count(streams.Materialized("counts"))
	streams.MapValues(counts.ToStream(), func(n int64) string { return fmt.Sprint(n) }).To("counts-out")
	top, err := b.Build()
	must(t, err)
	want := `Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [lines])
      --> KSTREAM-FLATMAPVALUES-0000000001
    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])
      --> KSTREAM-KEY-SELECT-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])
      --> counts-repartition-sink
      <-- KSTREAM-FLATMAPVALUES-0000000001
    Sink: counts-repartition-sink (topic: counts-repartition)
      <-- KSTREAM-KEY-SELECT-0000000002
   Sub-topology: 1
    Source: counts-repartition-source (topics: [counts-repartition])
      --> KSTREAM-AGGREGATE-0000000003
    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [counts])
      --> KTABLE-TOSTREAM-0000000005
      <-- counts-repartition-source
    Processor: KTABLE-TOSTREAM-0000000005 (stores: [])
      --> KSTREAM-MAPVALUES-0000000006
      <-- KSTREAM-AGGREGATE-0000000003
    Processor: KSTREAM-MAPVALUES-0000000006 (stores: [])
      --> KSTREAM-SINK-0000000007
      <-- KTABLE-TOSTREAM-0000000005
    Sink: KSTREAM-SINK-0000000007 (topic: counts-out)
      <-- KSTREAM-MAPVALUES-0000000006
`
	if got := top.Describe(); got != want {
		t.Fatalf("Describe:\n%s\nwant:\n%s", got, want)
	}
}
