package streams_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/streams"
	"github.com/tributary-streams/tributary/streams/streamstest"
)

func countInt64s(b *streams.Builder) {
	streams.Stream(b, "in", streams.String(), streams.Int64()).GroupByKey().Count().ToStream().To("out")
}

func TestDeserializationHandlers(t *testing.T) {
	bad := []byte("not 8 bytes")
	good := []byte{0, 0, 0, 0, 0, 0, 0, 1}

	t.Run("LogAndFail", func(t *testing.T) {
		b := streams.NewBuilder()
		countInt64s(b)
		d := testDriver(t, b) // the default
		err := d.PipeRaw("in", []byte("k"), bad, 1)
		if err == nil || !strings.Contains(err.Error(), "decode value") || !strings.Contains(err.Error(), "want 8") {
			t.Fatalf("err = %v, want the decode error", err)
		}
		// The task goes on with the next record when asked to.
		must(t, d.PipeRaw("in", []byte("k"), good, 2))
		expect(t, kvs(t, streamstest.OutputTopic(d, "out", streams.String(), streams.Int64())), "k=1@2")
	})

	t.Run("LogAndContinue", func(t *testing.T) {
		b := streams.NewBuilder()
		countInt64s(b)
		d := testDriver(t, b, streams.WithDeserializationHandler(streams.LogAndContinue()))
		must(t, d.PipeRaw("in", []byte("k"), bad, 1))
		must(t, d.PipeRaw("in", []byte("k"), good, 2))
		expect(t, kvs(t, streamstest.OutputTopic(d, "out", streams.String(), streams.Int64())), "k=1@2")
		if _, _, skipped := d.Stats(); skipped != 1 {
			t.Fatalf("skipped = %d, want 1", skipped)
		}
	})

	t.Run("DeadLetterTopic", func(t *testing.T) {
		b := streams.NewBuilder()
		countInt64s(b)
		d := testDriver(t, b, streams.WithDeserializationHandler(streams.SendToDeadLetterTopic("dlq")))
		must(t, d.PipeRaw("in", []byte("k"), bad, 1))
		must(t, d.PipeRaw("in", []byte("k"), good, 2))
		dlq := d.Output("dlq")
		if len(dlq) != 1 || string(dlq[0].Value) != string(bad) || string(dlq[0].Key) != "k" {
			t.Fatalf("dlq = %+v, want the bad record as it came", dlq)
		}
		headers := map[string]string{}
		for _, h := range dlq[0].Headers {
			headers[h.Key] = string(h.Value)
		}
		if headers[streams.HeaderErrorTopic] != "in" || headers[streams.HeaderErrorOffset] != "0" ||
			!strings.Contains(headers[streams.HeaderErrorMessage], "want 8") {
			t.Fatalf("dlq headers = %v", headers)
		}
		expect(t, kvs(t, streamstest.OutputTopic(d, "out", streams.String(), streams.Int64())), "k=1@2")
	})

	t.Run("Func", func(t *testing.T) {
		b := streams.NewBuilder()
		countInt64s(b)
		var seen []streams.DeserializationError
		stop := errors.New("stop")
		d := testDriver(t, b, streams.WithDeserializationHandler(streams.DeserializationHandlerFunc(func(e streams.DeserializationError) error {
			seen = append(seen, e)
			if len(seen) > 1 {
				return stop
			}
			return nil
		})))
		must(t, d.PipeRaw("in", []byte("k"), bad, 1))
		if err := d.PipeRaw("in", []byte("k"), bad, 2); !errors.Is(err, stop) {
			t.Fatalf("err = %v, want the handler's", err)
		}
		if len(seen) != 2 || seen[1].Offset != 1 || seen[1].Topic != "in" {
			t.Fatalf("seen = %+v", seen)
		}
	})
}

func buildErr(t *testing.T, b *streams.Builder, wants ...string) {
	t.Helper()
	_, err := b.Build()
	if err == nil {
		t.Fatalf("Build succeeded; want an error with %q", wants)
	}
	if !errors.Is(err, streams.ErrInvalidTopology) {
		t.Fatalf("err = %v, not ErrInvalidTopology", err)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("err = %v\nwant it to contain %q", err, w)
		}
	}
}

type point struct{ X, Y int }

func TestBuildErrors(t *testing.T) {
	t.Run("co-partitioning", func(t *testing.T) {
		b := streams.NewBuilder()
		l := streams.Stream(b, "l", streams.String(), streams.String()).Repartition(streams.WithPartitions(3), streams.Named("l3"))
		r := streams.Stream(b, "r", streams.String(), streams.String()).Repartition(streams.WithPartitions(4), streams.Named("r4"))
		streams.Join(l, r, streams.JoinWindowsOf(time.Second), func(a, b string) string { return a + b }, streams.Named("my-join")).To("out")
		buildErr(t, b, "step my-join", "not co-partitioned", "l3-repartition has 3 partitions", "r4-repartition has 4")
	})
	t.Run("missing serde for a repartition", func(t *testing.T) {
		b := streams.NewBuilder()
		pts := streams.Map(streams.Stream(b, "in", streams.String(), streams.String()),
			func(k, v string) (point, string) { return point{}, v })
		pts.GroupByKey(streams.Named("by-point")).Count()
		buildErr(t, b, "step by-point", "no key serde for streams_test.point", "WithKeySerde")
	})
	t.Run("missing serde for an aggregate", func(t *testing.T) {
		b := streams.NewBuilder()
		s := streams.Stream(b, "in", streams.String(), streams.String())
		streams.Aggregate(s.GroupByKey(), func() point { return point{} }, func(_ string, _ string, p point) point { return p },
			streams.Named("points"))
		buildErr(t, b, "step points", "no value serde for streams_test.point", "the store", "WithValueSerde")
	})
	t.Run("missing serde for a sink", func(t *testing.T) {
		b := streams.NewBuilder()
		streams.MapValues(streams.Stream(b, "in", streams.String(), streams.String()), func(string) point { return point{} }).
			To("out", streams.Named("to-out"))
		buildErr(t, b, "step to-out", "no value serde for streams_test.point")
	})
	t.Run("serde of the wrong type", func(t *testing.T) {
		b := streams.NewBuilder()
		streams.Stream(b, "in", streams.String(), streams.String()).To("out", streams.WithValueSerde(streams.Int64()), streams.Named("to-out"))
		buildErr(t, b, "step to-out", "value serde given is a", "value type is string")
	})
	t.Run("option that does not apply", func(t *testing.T) {
		b := streams.NewBuilder()
		streams.Stream(b, "in", streams.String(), streams.String()).Filter(func(string, string) bool { return true },
			streams.Materialized("x"), streams.Named("f")).To("out")
		buildErr(t, b, "step f: option Materialized does not apply", "it takes only Named")
	})
	t.Run("bad windows", func(t *testing.T) {
		b := streams.NewBuilder()
		s := streams.Stream(b, "in", streams.String(), streams.String())
		streams.WindowedBy(s.GroupByKey(), streams.HoppingWindows(time.Second, 2*time.Second)).Count(streams.Named("w"))
		buildErr(t, b, "step w", "advance 2s: want at least 1ms and at most the size 1s")
	})
	t.Run("store not declared", func(t *testing.T) {
		b := streams.NewBuilder()
		streams.Process(streams.Stream(b, "in", streams.String(), streams.String()),
			func() streams.Processor[string, string, string, string] { return nil }, streams.WithStores("nope"), streams.Named("proc"))
		buildErr(t, b, "step proc: uses store nope, which no step defines")
	})
	t.Run("duplicate store", func(t *testing.T) {
		b := streams.NewBuilder()
		s := streams.Stream(b, "in", streams.String(), streams.String())
		s.GroupByKey().Count(streams.Materialized("c"))
		s.GroupByKey().Count(streams.Materialized("c"), streams.Named("second"))
		buildErr(t, b, "step second: store c is already defined")
	})
	t.Run("suppress needs windows", func(t *testing.T) {
		b := streams.NewBuilder()
		s := streams.Stream(b, "in", streams.String(), streams.String())
		w := streams.WindowedBy(s.GroupByKey(), streams.TumblingWindows(time.Second)).Count()
		streams.Suppress(w, streams.Suppression{}, streams.Named("sup"))
		buildErr(t, b, "step sup: a Suppression must come from streams.UntilWindowCloses()")
	})
	t.Run("every error at once", func(t *testing.T) {
		b := streams.NewBuilder()
		s := streams.Stream[string](b, "", nil, streams.String())
		s.To("", streams.Named("a b"))
		buildErr(t, b, "the source topic is empty", "has no key serde", "Named(\"a b\")")
	})
}

func TestDriverRejectsBadInput(t *testing.T) {
	b := streams.NewBuilder()
	countInt64s(b)
	top, err := b.Build()
	must(t, err)
	if _, err := streamstest.NewDriver(top, streams.WithApplicationID("bad id!")); err == nil || !strings.Contains(err.Error(), "application.id") {
		t.Fatalf("err = %v, want the application.id named", err)
	}
	d, err := streamstest.NewDriver(top)
	must(t, err)
	if err := d.PipeRaw("nobody-reads-this", nil, nil, 0); err == nil || !strings.Contains(err.Error(), "nobody-reads-this") {
		t.Fatalf("err = %v", err)
	}
	if _, err := b.Build(); err == nil {
		t.Fatal("a builder built twice")
	}
}
