package worker

import (
	"reflect"
	"sync"
	"testing"

	"github.com/tributary-streams/tributary/connect"
)

// positionsByPartition renders committable's answer as partition key ->
// offset for comparison.
func positionsByPartition(t *testing.T, ps []connect.Position) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, p := range ps {
		k, err := encodeOffsetKey("", p.Partition)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := out[string(k)]; dup {
			t.Fatalf("partition %s returned twice", k)
		}
		out[string(k)] = p.Offset["n"]
	}
	return out
}

func key(t *testing.T, partition map[string]any) string {
	t.Helper()
	k, err := encodeOffsetKey("", partition)
	if err != nil {
		t.Fatal(err)
	}
	return string(k)
}

func srcRec(partition map[string]any, offset int) *connect.SourceRecord {
	r := &connect.SourceRecord{SourcePartition: partition}
	if offset >= 0 {
		r.SourceOffset = map[string]any{"n": int64(offset)}
	}
	return r
}

func TestSubmittedOffsetWaitsForEveryEarlierRecord(t *testing.T) {
	s := newSubmittedRecords()
	a := map[string]any{"file": "a"}
	// Batch 1: offsets 1, 2, 3 of a.
	g1 := []*submittedGroup{s.add(srcRec(a, 1)), s.add(srcRec(a, 2)), s.add(srcRec(a, 3))}
	s.seal()
	// Batch 2: offsets 4, 5.
	g2 := []*submittedGroup{s.add(srcRec(a, 4)), s.add(srcRec(a, 5))}
	s.seal()
	if got := s.pending(); got != 5 {
		t.Fatalf("pending = %d, want 5", got)
	}
	// The second batch is acknowledged first: nothing is committable, since
	// the first batch's records are not in Kafka.
	for _, g := range g2 {
		s.ack(g)
	}
	if got := s.committable(); len(got) != 0 {
		t.Fatalf("committable before batch 1 is acknowledged: %v", got)
	}
	s.ack(g1[2])
	s.ack(g1[0])
	if got := s.committable(); len(got) != 0 {
		t.Fatalf("committable with record 2 of batch 1 in flight: %v", got)
	}
	if got := s.pending(); got != 1 {
		t.Fatalf("pending = %d, want 1", got)
	}
	s.ack(g1[1])
	got := positionsByPartition(t, s.committable())
	if want := map[string]any{key(t, a): int64(5)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("committable = %v, want %v", got, want)
	}
	// Taken once: a second call has nothing new.
	if got := s.committable(); len(got) != 0 {
		t.Fatalf("committable again = %v, want nothing", got)
	}
	if got := s.pending(); got != 0 {
		t.Fatalf("pending = %d, want 0", got)
	}
}

func TestSubmittedPartitionsAreIndependent(t *testing.T) {
	s := newSubmittedRecords()
	a, b := map[string]any{"file": "a"}, map[string]any{"file": "b"}
	// One batch interleaving two partitions.
	ga1, gb1, ga2, gb2 := s.add(srcRec(a, 1)), s.add(srcRec(b, 10)), s.add(srcRec(a, 2)), s.add(srcRec(b, 11))
	s.seal()
	if ga1 != ga2 || gb1 != gb2 || ga1 == gb1 {
		t.Fatal("records of one batch and partition should share a group, and partitions should not")
	}
	s.ack(ga1)
	s.ack(ga2)
	s.ack(gb1)
	// b's record 11 is in flight: a commits, b does not.
	got := positionsByPartition(t, s.committable())
	if want := map[string]any{key(t, a): int64(2)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("committable = %v, want %v", got, want)
	}
	s.ack(gb2)
	got = positionsByPartition(t, s.committable())
	if want := map[string]any{key(t, b): int64(11)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("committable = %v, want %v", got, want)
	}
}

func TestSubmittedRecordWithoutOffsetHoldsBackLaterOffsets(t *testing.T) {
	s := newSubmittedRecords()
	a := map[string]any{"file": "a"}
	g1 := s.add(srcRec(a, 1))
	s.seal()
	g2 := s.add(srcRec(a, -1)) // no offset
	s.seal()
	g3 := s.add(srcRec(a, 3))
	s.seal()
	s.ack(g1)
	s.ack(g3)
	got := positionsByPartition(t, s.committable())
	if want := map[string]any{key(t, a): int64(1)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("committable = %v, want %v", got, want)
	}
	s.ack(g2)
	got = positionsByPartition(t, s.committable())
	if want := map[string]any{key(t, a): int64(3)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("committable = %v, want %v", got, want)
	}
	// A complete batch whose records carry no offset commits nothing.
	s.ack(s.add(srcRec(a, -1)))
	s.seal()
	if got := s.committable(); len(got) != 0 {
		t.Fatalf("committable = %v, want nothing", got)
	}
}

// A batch that is still being submitted is never committable, even when
// every record added so far is acknowledged: more may join its group.
func TestSubmittedOpenBatchIsNotCommittable(t *testing.T) {
	s := newSubmittedRecords()
	a := map[string]any{"file": "a"}
	s.ack(s.add(srcRec(a, 1)))
	if got := s.committable(); len(got) != 0 {
		t.Fatalf("committable = %v before the batch is sealed", got)
	}
	g := s.add(srcRec(a, 2))
	s.seal()
	if got := s.committable(); len(got) != 0 {
		t.Fatalf("committable = %v with record 2 in flight", got)
	}
	s.ack(g)
	got := positionsByPartition(t, s.committable())
	if want := map[string]any{key(t, a): int64(2)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("committable = %v, want %v", got, want)
	}
}

// Partitions are recognised by content, not by map identity, and a
// partition whose records are all committed is forgotten and made again.
func TestSubmittedPartitionByContent(t *testing.T) {
	s := newSubmittedRecords()
	g1 := s.add(srcRec(map[string]any{"file": "a"}, 1))
	g2 := s.add(srcRec(map[string]any{"file": "a"}, 2)) // another map, same partition
	g3 := s.add(srcRec(nil, 7))                         // no partition
	g4 := s.add(srcRec(nil, 8))
	s.seal()
	if g1 != g2 || g3 != g4 || g1 == g3 {
		t.Fatal("equal partitions should share a group, different ones not")
	}
	s.ack(g1)
	s.ack(g2)
	s.ack(g3)
	s.ack(g4)
	got := positionsByPartition(t, s.committable())
	want := map[string]any{key(t, map[string]any{"file": "a"}): int64(2), key(t, nil): int64(8)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("committable = %v, want %v", got, want)
	}
	if len(s.partitions) != 0 || s.lastPart != nil {
		t.Fatalf("%d partitions kept after everything was committed", len(s.partitions))
	}
	a := map[string]any{"file": "a"}
	g := s.add(srcRec(a, 3))
	s.seal()
	s.ack(g)
	got = positionsByPartition(t, s.committable())
	if want := map[string]any{key(t, a): int64(3)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("committable = %v, want %v", got, want)
	}
}

// Acknowledgements arrive from other goroutines while the task submits
// and commits (run with -race): every committed offset is one whose
// records, and all before them, were acknowledged, and in the end the last
// offset of every partition is committed.
func TestSubmittedConcurrentAcks(t *testing.T) {
	s := newSubmittedRecords()
	parts := []map[string]any{{"p": int64(0)}, {"p": int64(1)}, {"p": int64(2)}}
	const batches, perBatch = 200, 50
	type ackReq struct {
		g      *submittedGroup
		part   int
		offset int
	}
	// acked[p] records, under mu, which offsets of partition p are acked.
	var mu sync.Mutex
	acked := make([]map[int]bool, len(parts))
	for i := range acked {
		acked[i] = map[int]bool{}
	}
	ch := make(chan ackReq, 1024)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range ch {
				mu.Lock()
				acked[a.part][a.offset] = true
				mu.Unlock()
				s.ack(a.g)
			}
		}()
	}
	next := make([]int, len(parts))
	committed := make([]int64, len(parts))
	for i := range committed {
		committed[i] = -1
	}
	check := func(ps []connect.Position) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range ps {
			part := int(p.Partition["p"].(int64))
			off := p.Offset["n"].(int64)
			if off <= committed[part] {
				t.Errorf("partition %d: offset went from %d to %d", part, committed[part], off)
			}
			for o := 0; o <= int(off); o++ {
				if !acked[part][o] {
					t.Errorf("partition %d: offset %d committed before record %d was acknowledged", part, off, o)
					break
				}
			}
			committed[part] = off
		}
	}
	for b := 0; b < batches; b++ {
		for i := 0; i < perBatch; i++ {
			part := (b + i*i) % len(parts)
			off := next[part]
			next[part]++
			ch <- ackReq{g: s.add(srcRec(parts[part], off)), part: part, offset: off}
		}
		s.seal()
		check(s.committable())
	}
	close(ch)
	wg.Wait()
	check(s.committable())
	if s.pending() != 0 {
		t.Fatalf("pending = %d after every ack", s.pending())
	}
	for part := range parts {
		if committed[part] != int64(next[part]-1) {
			t.Errorf("partition %d: committed %d, want %d", part, committed[part], next[part]-1)
		}
	}
	if len(s.partitions) != 0 {
		t.Errorf("%d partitions kept after everything was committed", len(s.partitions))
	}
}

// BenchmarkSubmitted is the bookkeeping's cost per record: add and ack of
// batches of 5000 records of one source partition, one commit per batch.
func BenchmarkSubmitted(b *testing.B) {
	s := newSubmittedRecords()
	part := map[string]any{"task": int64(0)}
	recs := make([]connect.SourceRecord, 5000)
	for i := range recs {
		recs[i].SourcePartition = part
	}
	recs[len(recs)-1].SourceOffset = map[string]any{"seq": int64(1)}
	gs := make([]*submittedGroup, len(recs))
	b.ReportAllocs()
	for b.Loop() {
		for i := range recs {
			gs[i] = s.add(&recs[i])
		}
		s.seal()
		for _, g := range gs {
			s.ack(g)
		}
		if len(s.committable()) != 1 {
			b.Fatal("nothing committable")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

func TestMapPointer(t *testing.T) {
	a, b := map[string]any{"x": 1}, map[string]any{"x": 1}
	if mapPointer(a) != reflect.ValueOf(a).UnsafePointer() || mapPointer(a) == mapPointer(b) || mapPointer(nil) != nil {
		t.Fatal("mapPointer does not tell maps apart as reflect does")
	}
}
