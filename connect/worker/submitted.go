package worker

// submittedRecords tracks source records between Poll and the broker's
// acknowledgement, so that a source partition's offset is committed only
// when every record of that partition up to it is in Kafka (Kafka
// Connect's SubmittedRecords). Records dropped by a transformation or
// skipped by errors.tolerance count as done at once.
//
// Records are tracked in groups: a group is the records of one poll batch
// that share a source partition. It keeps how many records were added, how
// many are acknowledged (an atomic counter, the only thing an
// acknowledgement touches), and the last source offset its records carry.
// Per source partition the groups queue in submission order; committable
// pops the complete groups at the head of each queue and returns the last
// offset among them. An offset is thus committed only when its record,
// every record submitted before it in its partition, and the rest of its
// group are in Kafka. Offsets advance a batch at a time where Kafka Connect
// may stop inside a batch; after a crash that re-reads at most one more
// batch, which at-least-once delivery allows. Per record this costs no
// allocation and no lock: a pointer compare and a counter on the task's
// side, one atomic add on the acknowledging side.
//
// Goroutines: add, seal, committable and pending are called by the task's
// goroutine only; ack may be called from any goroutine (the producer's
// callbacks). The order of events that makes this safe: add counts a
// record before the record is handed to the producer, so a group's acked
// never passes its count; committable reads count only on the task's
// goroutine, and takes a group only once it is sealed (its batch fully
// submitted, so its count no longer changes) and acked has reached count.

import (
	"sync/atomic"
	"unsafe"

	"github.com/tributary-streams/tributary/connect"
)

type submittedPartition struct {
	key        string // the encoded source partition
	partition  map[string]any
	head, tail *submittedGroup // the queue, oldest first
	open       *submittedGroup // the group of the batch being submitted, or nil
}

// submittedGroup is the records of one batch of one source partition.
type submittedGroup struct {
	part   *submittedPartition
	next   *submittedGroup
	offset map[string]any // the last source offset among the records, or nil
	count  int64          // records added (task goroutine)
	sealed bool           // no more records join (task goroutine)

	// acked is written by the producer's goroutine for every record; the
	// padding keeps it off the cache line of the fields the task's
	// goroutine writes per record.
	_     [64]byte
	acked atomic.Int64
	_     [56]byte
}

func (g *submittedGroup) complete() bool { return g.sealed && g.acked.Load() == g.count }

type submittedRecords struct {
	partitions map[string]*submittedPartition
	// open lists the partitions with an open group (the current batch).
	open []*submittedPartition

	// The last source partition map seen and its partition: tasks usually
	// reuse one map per partition, which saves encoding it per record.
	// lastMap keeps the map alive, so its address cannot be reused by
	// another map while it is here.
	lastMap  unsafe.Pointer
	lastPart *submittedPartition
}

func newSubmittedRecords() *submittedRecords {
	return &submittedRecords{partitions: map[string]*submittedPartition{}}
}

// add registers a record in submission order and returns the group to ack
// it with. A record without a source offset is tracked too, so that it
// holds back later offsets of its partition until it is in Kafka.
func (s *submittedRecords) add(r *connect.SourceRecord) *submittedGroup {
	p := s.lastPart
	if ptr := mapPointer(r.SourcePartition); p == nil || ptr != s.lastMap {
		p = s.partition(r.SourcePartition)
		s.lastMap, s.lastPart = ptr, p
	}
	g := p.open
	if g == nil {
		g = &submittedGroup{part: p}
		if p.tail == nil {
			p.head = g
		} else {
			p.tail.next = g
		}
		p.tail, p.open = g, g
		s.open = append(s.open, p)
	}
	g.count++
	if r.SourceOffset != nil {
		g.offset = r.SourceOffset
	}
	return g
}

// mapPointer is the address of a map's header: a map value is that
// pointer (what reflect.Value.UnsafePointer returns, at a fraction of the
// cost on the per-record path).
func mapPointer(m map[string]any) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&m)) }

// partition returns the tracking of a source partition, made on first use.
func (s *submittedRecords) partition(m map[string]any) *submittedPartition {
	b, _ := encodeOffsetKey("", m)
	p := s.partitions[string(b)]
	if p == nil {
		p = &submittedPartition{key: string(b), partition: m}
		s.partitions[p.key] = p
	}
	return p
}

// seal ends a batch: records added from now on go to new groups. Call it
// once the batch's records are all added (or the batch stopped early).
func (s *submittedRecords) seal() {
	for _, p := range s.open {
		p.open.sealed = true
		p.open = nil
	}
	clear(s.open)
	s.open = s.open[:0]
}

// ack marks one record of the group as in Kafka (or dropped); exactly once
// per record added.
func (s *submittedRecords) ack(g *submittedGroup) { g.acked.Add(1) }

// committable removes the complete groups at the head of every
// partition's queue and returns, per partition, the last offset they
// carry.
func (s *submittedRecords) committable() []connect.Position {
	var out []connect.Position
	for key, p := range s.partitions {
		var last map[string]any
		for p.head != nil && p.head.complete() {
			g := p.head
			if g.offset != nil {
				last = g.offset
			}
			p.head, g.next = g.next, nil
		}
		if p.head == nil {
			p.tail = nil
			delete(s.partitions, key)
			if s.lastPart == p {
				s.lastMap, s.lastPart = nil, nil
			}
		}
		if last != nil {
			out = append(out, connect.Position{Partition: p.partition, Offset: last})
		}
	}
	return out
}

// pending returns how many records are not yet acknowledged.
func (s *submittedRecords) pending() int {
	n := int64(0)
	for _, p := range s.partitions {
		for g := p.head; g != nil; g = g.next {
			n += g.count - g.acked.Load()
		}
	}
	return int(n)
}
