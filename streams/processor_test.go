package streams_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/streams"
	"github.com/tributary-streams/tributary/streams/streamstest"
)

// dedupe forwards the first record of each key, remembers the latest
// value per key in a store, and on punctuation forwards a summary.
type dedupe struct {
	seen  streams.KeyValueStoreRef[string, string]
	store streams.KeyValueStore[string, string]
	ctx   streams.ProcessorContext[string, string]
	fired []string
}

func (p *dedupe) Init(ctx streams.ProcessorContext[string, string]) error {
	p.ctx = ctx
	var err error
	if p.store, err = p.seen.Open(ctx); err != nil {
		return err
	}
	if _, err := ctx.Schedule(10*time.Millisecond, streams.StreamTime, func(ts int64) error {
		p.fired = append(p.fired, fmt.Sprintf("stream@%d", ts))
		n := 0
		if err := p.store.All(func(string, string) (bool, error) { n++; return true, nil }); err != nil {
			return err
		}
		return ctx.Forward(streams.Record[string, string]{Key: "summary", Value: fmt.Sprint(n), Timestamp: ts})
	}); err != nil {
		return err
	}
	_, err = ctx.Schedule(time.Second, streams.WallClockTime, func(ts int64) error {
		p.fired = append(p.fired, "wall")
		return nil
	})
	return err
}

func (p *dedupe) Process(r streams.Record[string, string]) error {
	_, seen, err := p.store.Get(r.Key)
	if err != nil {
		return err
	}
	if err := p.store.Put(r.Key, r.Value); err != nil {
		return err
	}
	if seen {
		return nil
	}
	topic, _, offset, ok := p.ctx.RecordMetadata()
	if !ok {
		return errors.New("no record metadata while processing")
	}
	r.Value = fmt.Sprintf("%s (%s#%d)", r.Value, topic, offset)
	return p.ctx.Forward(r)
}

func (p *dedupe) Close() error { return nil }

func TestProcessorAPIStoresPunctuators(t *testing.T) {
	b := streams.NewBuilder()
	seen := streams.AddKeyValueStore(b, "seen", streams.String(), streams.String())
	var procs []*dedupe
	out := streams.Process(streams.Stream(b, "in", streams.String(), streams.String()),
		func() streams.Processor[string, string, string, string] {
			p := &dedupe{seen: seen}
			procs = append(procs, p)
			return p
		}, streams.WithStores(seen.Name()))
	out.To("out")
	// A stateful step after Process repartitions: the processor may have
	// changed keys.
	out.GroupByKey().Count().ToStream().To("counts")

	start := time.UnixMilli(1_000_000)
	d := testDriver(t, b, streams.WithApplicationID("p"), streams.WithWallClock(func() time.Time { return start }))
	in := streamstest.InputTopic(d, "in", streams.String(), streams.String())
	must(t, in.PipeRecord(streams.Record[string, string]{Key: "a", Value: "1", Timestamp: 5,
		Headers: []streams.Header{{Key: "h", Value: []byte("x")}}}))
	must(t, in.PipeAt("a", "2", 7))
	must(t, in.PipeAt("b", "3", 16)) // stream time 16: the punctuator (first at 5) fires at 15 or later
	must(t, d.AdvanceWallClockTime(999*time.Millisecond))
	if len(procs) != 1 || strings.Join(procs[0].fired, ",") != "stream@5,stream@16" {
		t.Fatalf("punctuations = %v, want stream@5 and stream@16 only", procs[0].fired)
	}
	must(t, d.AdvanceWallClockTime(time.Millisecond))
	if got := strings.Join(procs[0].fired, ","); got != "stream@5,stream@16,wall" {
		t.Fatalf("punctuations = %s, want the wall-clock one after 1s", got)
	}
	recs, err := streamstest.OutputTopic(d, "out", streams.String(), streams.String()).ReadRecords()
	must(t, err)
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s=%s@%d", r.Key, r.Value, r.Timestamp))
	}
	// Stream-time punctuation runs after the record that moved stream time.
	expect(t, got, "a=1 (in#0)@5", "summary=1@5", "b=3 (in#2)@16", "summary=2@16")
	if len(recs[0].Headers) != 1 || recs[0].Headers[0].Key != "h" {
		t.Fatalf("headers = %+v, want the input's header forwarded", recs[0].Headers)
	}
	counts := streamstest.OutputTopic(d, "counts", streams.String(), streams.Int64())
	expect(t, kvs(t, counts), "a=1@5", "summary=1@5", "b=1@16", "summary=2@16")
	if len(d.Output("p-KSTREAM-AGGREGATE-STATE-STORE-0000000004-repartition")) != 4 {
		t.Fatalf("no repartition after Process: %v", d.Topics())
	}
	v, ok, err := streamstest.KeyValueStore(d, "seen", streams.String(), streams.String()).Get("a")
	if err != nil || !ok || v != "2" {
		t.Fatalf("seen[a] = %q %v %v, want 2", v, ok, err)
	}
}

func TestProcessorWindowStore(t *testing.T) {
	b := streams.NewBuilder()
	buf := streams.AddWindowStore(b, "buf", streams.String(), streams.Int64(), time.Hour, true)
	streams.Process(streams.Stream(b, "in", streams.String(), streams.Int64()),
		func() streams.Processor[string, int64, string, int64] { return &summer{ref: buf} }, streams.WithStores("buf")).To("out")
	d := testDriver(t, b)
	in := streamstest.InputTopic(d, "in", streams.String(), streams.Int64())
	must(t, in.PipeAt("k", 1, 10))
	must(t, in.PipeAt("k", 2, 10)) // a duplicate at the same time is kept
	must(t, in.PipeAt("k", 4, 30))
	expect(t, kvs(t, streamstest.OutputTopic(d, "out", streams.String(), streams.Int64())), "k=1@10", "k=3@10", "k=4@30")
}

// summer forwards the sum of the key's values in the last 10ms.
type summer struct {
	ref   streams.WindowStoreRef[string, int64]
	store streams.WindowStore[string, int64]
	ctx   streams.ProcessorContext[string, int64]
}

func (s *summer) Init(ctx streams.ProcessorContext[string, int64]) (err error) {
	s.ctx = ctx
	s.store, err = s.ref.Open(ctx)
	return err
}

func (s *summer) Process(r streams.Record[string, int64]) error {
	if err := s.store.Put(r.Key, r.Timestamp, r.Value); err != nil {
		return err
	}
	var sum int64
	if err := s.store.Fetch(r.Key, r.Timestamp-10, r.Timestamp, func(_ int64, v int64) (bool, error) { sum += v; return true, nil }); err != nil {
		return err
	}
	r.Value = sum
	return s.ctx.Forward(r)
}

func (s *summer) Close() error { return nil }
