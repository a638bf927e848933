package streams_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/streams"
	"github.com/tributary-streams/tributary/streams/streamstest"
)

// windowedOut formats windowed records: key@start/end=value.
func windowedOut[V any](t *testing.T, d *streamstest.Driver, topic string, keys streams.Serde[streams.Windowed[string]], values streams.Serde[V]) []string {
	t.Helper()
	recs, err := streamstest.OutputTopic(d, topic, keys, values).ReadRecords()
	must(t, err)
	var s []string
	for _, r := range recs {
		if r.Tombstone {
			s = append(s, fmt.Sprintf("%s@%d/%d=<deleted>", r.Key.Key, r.Key.Window.Start, r.Key.Window.End))
			continue
		}
		s = append(s, fmt.Sprintf("%s@%d/%d=%v", r.Key.Key, r.Key.Window.Start, r.Key.Window.End, r.Value))
	}
	return s
}

func TestTumblingWindowsGraceAndLateRecords(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.Stream(b, "in", streams.String(), streams.String())
	counts := streams.WindowedBy(s.GroupByKey(), streams.TumblingWindows(10*time.Millisecond).WithGrace(5*time.Millisecond)).
		Count(streams.Materialized("win"))
	counts.ToStream().To("out")
	d := testDriver(t, b)
	in := streamstest.InputTopic(d, "in", streams.String(), streams.String())
	must(t, in.PipeAt("a", "", 1))
	must(t, in.PipeAt("a", "", 12)) // window [10,20)
	must(t, in.PipeAt("a", "", 8))  // out of order, within grace of [0,10): stream time 12 < 10+5
	must(t, in.PipeAt("b", "", 16)) // stream time 16: [0,10) closes at 15
	must(t, in.PipeAt("a", "", 9))  // late: dropped and counted
	must(t, in.PipeAt("a", "", 19))
	keys := streams.TimeWindowedSerde(streams.String(), 10*time.Millisecond)
	expect(t, windowedOut(t, d, "out", keys, streams.Int64()),
		"a@0/10=1", "a@10/20=1", "a@0/10=2", "b@10/20=1", "a@10/20=2")
	if _, late, _ := d.Stats(); late != 1 {
		t.Fatalf("late = %d, want 1", late)
	}
	ws, err := streamstest.FetchWindows(d, "win", streams.String(), streams.Int64(), "a", 0, 100)
	must(t, err)
	if len(ws) != 2 || ws[0] != (streamstest.WindowValue[int64]{Start: 0, Value: 2}) || ws[1].Value != 2 {
		t.Fatalf("window store = %+v", ws)
	}
}

func TestHoppingWindows(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.Stream(b, "in", streams.String(), streams.Int64())
	streams.WindowedBy(s.GroupByKey(), streams.HoppingWindows(10*time.Millisecond, 5*time.Millisecond)).
		Reduce(func(a, v int64) int64 { return a + v }).ToStream().To("out")
	d := testDriver(t, b)
	in := streamstest.InputTopic(d, "in", streams.String(), streams.Int64())
	must(t, in.PipeAt("k", 1, 7)) // windows [0,10) and [5,15)
	must(t, in.PipeAt("k", 2, 12))
	expect(t, windowedOut(t, d, "out", streams.TimeWindowedSerde(streams.String(), 10*time.Millisecond), streams.Int64()),
		"k@0/10=1", "k@5/15=1", "k@5/15=3", "k@10/20=2")
}

func TestSuppressUntilWindowCloses(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.Stream(b, "in", streams.String(), streams.String())
	counts := streams.WindowedBy(s.GroupByKey(), streams.TumblingWindows(10*time.Millisecond).WithGrace(2*time.Millisecond)).Count()
	streams.Suppress(counts, streams.UntilWindowCloses()).ToStream().To("final")
	d := testDriver(t, b)
	in := streamstest.InputTopic(d, "in", streams.String(), streams.String())
	out := streamstest.OutputTopic(d, "final", streams.TimeWindowedSerde(streams.String(), 10*time.Millisecond), streams.Int64())
	must(t, in.PipeAt("a", "", 1))
	must(t, in.PipeAt("a", "", 5))
	must(t, in.PipeAt("b", "", 9))
	must(t, in.PipeAt("a", "", 11)) // [0,10) is not closed yet: it closes at 12
	if !out.IsEmpty() {
		t.Fatalf("suppress emitted before the window closed: %v", kvs(t, out))
	}
	must(t, in.PipeAt("a", "", 8)) // in grace: counts, still held back
	must(t, in.PipeAt("c", "", 12))
	expect(t, windowedOut(t, d, "final", streams.TimeWindowedSerde(streams.String(), 10*time.Millisecond), streams.Int64()),
		"a@0/10=3", "b@0/10=1")
	must(t, in.PipeAt("a", "", 30))
	expect(t, windowedOut(t, d, "final", streams.TimeWindowedSerde(streams.String(), 10*time.Millisecond), streams.Int64()),
		"a@10/20=1", "c@10/20=1")
}

func TestSlidingWindows(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.Stream(b, "in", streams.String(), streams.Int64())
	sums := streams.WindowedBy(s.GroupByKey(), streams.SlidingWindowsOf(10*time.Millisecond, 5*time.Millisecond)).
		Reduce(func(a, v int64) int64 { return a + v }, streams.Materialized("sliding"))
	streams.Suppress(sums, streams.UntilWindowCloses()).ToStream().To("final")
	d := testDriver(t, b)
	in := streamstest.InputTopic(d, "in", streams.String(), streams.Int64())
	must(t, in.PipeAt("k", 1, 20))
	must(t, in.PipeAt("k", 10, 25))
	must(t, in.PipeAt("k", 100, 22)) // out of order, within grace
	must(t, in.PipeAt("k", 1000, 60))
	must(t, in.PipeAt("k", 5, 12)) // late: stream time 60 is past [12,22]'s close... and every window it is in
	// Each window holds exactly the records within 10ms of each other:
	// [10,20]={20}, [15,25]={20,25,22}, [12,22]={20,22}, [21,31]={25,22}, [23,33]={25},
	// [26,36] none (not a window). The right window of 20 is [21,31]={22,25}, of 22 is
	// [23,33]={25}; 60's windows come later.
	got := windowedOut(t, d, "final", streams.TimeWindowedSerde(streams.String(), 10*time.Millisecond), streams.Int64())
	want := map[string]bool{"k@10/20=1": true, "k@15/25=111": true, "k@12/22=101": true, "k@21/31=110": true, "k@23/33=10": true}
	if len(got) != len(want) {
		t.Fatalf("final = %v, want the windows %v", got, want)
	}
	for _, g := range got {
		if !want[g] {
			t.Fatalf("final = %v: %s is not one of %v", got, g, want)
		}
	}
	if _, late, _ := d.Stats(); late != 1 {
		t.Fatalf("late = %d, want 1", late)
	}
}

func TestSessionWindowsMergeAndLate(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.Stream(b, "in", streams.String(), streams.String())
	streams.WindowedBySession(s.GroupByKey(), streams.SessionWindowsOf(10*time.Millisecond).WithGrace(5*time.Millisecond)).
		Count().ToStream().To("sessions", streams.WithKeySerde(streams.SessionWindowedSerde(streams.String())))
	d := testDriver(t, b)
	in := streamstest.InputTopic(d, "in", streams.String(), streams.String())
	must(t, in.PipeAt("u", "", 0))
	must(t, in.PipeAt("u", "", 18)) // more than the gap later: a new session
	must(t, in.PipeAt("u", "", 9))  // within 10 of both: merges them, out of order within grace
	must(t, in.PipeAt("v", "", 60))
	must(t, in.PipeAt("u", "", 2)) // falls in [0,18], which closed at 18+5: late
	recs, err := streamstest.OutputTopic(d, "sessions", streams.SessionWindowedSerde(streams.String()), streams.Int64()).ReadRecords()
	must(t, err)
	var got []string
	for _, r := range recs {
		v := fmt.Sprint(r.Value)
		if r.Tombstone {
			v = "<deleted>"
		}
		got = append(got, fmt.Sprintf("%s@%d/%d=%s", r.Key.Key, r.Key.Window.Start, r.Key.Window.End, v))
	}
	// ToStream drops deletions; the merged session carries all three.
	expect(t, got, "u@0/0=1", "u@18/18=1", "u@0/18=3", "v@60/60=1")
	if _, late, _ := d.Stats(); late != 1 {
		t.Fatalf("late = %d, want 1", late)
	}
}

func TestSessionMergeDeletesOldSessionsDownstream(t *testing.T) {
	b := streams.NewBuilder()
	s := streams.Stream(b, "in", streams.String(), streams.String())
	counts := streams.WindowedBySession(s.GroupByKey(), streams.SessionWindowsOf(10*time.Millisecond)).Count()
	counts.To("changelog") // a table's To writes deletions as tombstones
	d := testDriver(t, b)
	in := streamstest.InputTopic(d, "in", streams.String(), streams.String())
	must(t, in.PipeAt("u", "", 0))
	must(t, in.PipeAt("u", "", 8))
	expect(t, windowedOut(t, d, "changelog", streams.SessionWindowedSerde(streams.String()), streams.Int64()),
		"u@0/0=1", "u@0/0=<deleted>", "u@0/8=2")
}
