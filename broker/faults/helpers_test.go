package faults

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
)

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// acked is a record the broker acknowledged: where it went and what it held.
type acked struct {
	topic     string
	partition int32
	offset    int64
	value     string
}

// produce sends n records with acks=all to partition 0 of topic and returns
// the acknowledged ones (all of them, or the test fails).
func produce(t testing.TB, addr, topic string, n int, prefix string, opts ...kgo.Opt) []acked {
	t.Helper()
	return produceTo(t, addr, topic, 0, n, prefix, opts...)
}

// produceTo is produce to a given partition.
func produceTo(t testing.TB, addr, topic string, partition int32, n int, prefix string, opts ...kgo.Opt) []acked {
	t.Helper()
	cl := testkit.Client(t, addr, append([]kgo.Opt{kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0)}, opts...)...)
	var mu sync.Mutex
	var out []acked
	var firstErr error
	ctx := ctxT(t, 60*time.Second)
	for i := 0; i < n; i++ {
		r := &kgo.Record{Topic: topic, Partition: partition, Value: []byte(fmt.Sprintf("%s-%d", prefix, i))}
		cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			out = append(out, acked{r.Topic, r.Partition, r.Offset, string(r.Value)})
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if firstErr != nil {
		t.Fatalf("produce to %s: %v", topic, firstErr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].offset < out[j].offset })
	return out
}

// readPartition consumes partition p of topic from the start until it has
// seen offset upTo-1 (or the deadline passes) and returns value by offset.
func readPartition(t testing.TB, addr, topic string, p int32, upTo int64) map[int64]string {
	t.Helper()
	got := map[int64]string{}
	if upTo <= 0 {
		return got
	}
	cl := testkit.Client(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {p: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(200*time.Millisecond))
	ctx := ctxT(t, 30*time.Second)
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return got
		}
		for _, e := range fs.Errors() {
			t.Logf("fetch %s[%d]: %v", e.Topic, e.Partition, e.Err)
		}
		last := int64(-1)
		fs.EachRecord(func(r *kgo.Record) {
			got[r.Offset] = string(r.Value)
			last = r.Offset
		})
		if last >= upTo-1 {
			return got
		}
	}
}

// verifyAcked checks every acknowledged record is readable at its offset.
func verifyAcked(t testing.TB, addr string, acks []acked) {
	t.Helper()
	type tp struct {
		topic string
		p     int32
	}
	by := map[tp][]acked{}
	for _, a := range acks {
		by[tp{a.topic, a.partition}] = append(by[tp{a.topic, a.partition}], a)
	}
	for k, as := range by {
		var maxOff int64
		for _, a := range as {
			maxOff = max(maxOff, a.offset)
		}
		got := readPartition(t, addr, k.topic, k.p, maxOff+1)
		missing := 0
		for _, a := range as {
			if got[a.offset] != a.value {
				if missing < 5 {
					t.Errorf("%s[%d] offset %d: got %q, acknowledged %q", a.topic, a.partition, a.offset, got[a.offset], a.value)
				}
				missing++
			}
		}
		if missing > 0 {
			t.Fatalf("%s[%d]: %d of %d acknowledged records not readable at their offsets", k.topic, k.p, missing, len(as))
		}
	}
}
