package worker

// submittedRecords tracks source records between Poll and the broker's
// acknowledgement, so that a source partition's offset is committed only
// when every record of that partition up to it is in Kafka (Kafka
// Connect's SubmittedRecords). Records dropped by a transformation or
// skipped by errors.tolerance count as done at once.
//
// Per source partition, records are numbered in submission order; a slice
// of done flags starting at the first record not yet committed, and the
// offsets of the records that carry one, are all that is kept, so tracking
// costs no allocation per record.

import (
	"reflect"
	"sync"
	"unsafe"

	"github.com/tributary-streams/tributary/connect"
)

type submittedPartition struct {
	key       string // the encoded source partition
	partition map[string]any
	base      int64  // the number of done[0]
	done      []bool // from base on
	offsets   map[int64]map[string]any
	next      int64 // the number of the next record
}

// submittedRecord is a handle for ack.
type submittedRecord struct {
	part *submittedPartition
	seq  int64
}

type submittedRecords struct {
	// mu guards everything below but lastMap/lastKey: records are added by
	// the task goroutine and acknowledged from the producer's callback
	// goroutine.
	mu         sync.Mutex
	partitions map[string]*submittedPartition
	inFlight   int

	// The last source partition map seen and its key: tasks usually reuse
	// one map per partition, which saves encoding it per record. Used by
	// the task goroutine only.
	lastMap  unsafe.Pointer
	lastKey  string
	lastPart *submittedPartition
}

func newSubmittedRecords() *submittedRecords {
	return &submittedRecords{partitions: map[string]*submittedPartition{}}
}

// add registers a record in submission order and returns its handle. A
// record without a source offset is tracked too, so that it holds back
// later offsets of its partition until it is in Kafka.
func (s *submittedRecords) add(r *connect.SourceRecord) submittedRecord {
	ptr := reflect.ValueOf(r.SourcePartition).UnsafePointer()
	s.mu.Lock()
	defer s.mu.Unlock()
	var p *submittedPartition
	if ptr != nil && ptr == s.lastMap && s.lastPart != nil && s.partitions[s.lastKey] == s.lastPart {
		p = s.lastPart
	} else {
		b, _ := encodeOffsetKey("", r.SourcePartition)
		key := string(b)
		p = s.partitions[key]
		if p == nil {
			p = &submittedPartition{key: key, partition: r.SourcePartition, offsets: map[int64]map[string]any{}}
			s.partitions[key] = p
		}
		s.lastMap, s.lastKey, s.lastPart = ptr, key, p
	}
	h := submittedRecord{part: p, seq: p.next}
	p.next++
	p.done = append(p.done, false)
	if r.SourceOffset != nil {
		p.offsets[h.seq] = r.SourceOffset
	}
	s.inFlight++
	return h
}

// ack marks a record as in Kafka (or dropped).
func (s *submittedRecords) ack(h submittedRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := h.seq - h.part.base
	if i >= 0 && i < int64(len(h.part.done)) && !h.part.done[i] {
		h.part.done[i] = true
		s.inFlight--
	}
}

// committable removes the done prefix of every partition and returns, per
// partition, the offset of the last record of that prefix that has one.
func (s *submittedRecords) committable() []connect.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []connect.Position
	for key, p := range s.partitions {
		n := 0
		for n < len(p.done) && p.done[n] {
			n++
		}
		if n == 0 {
			continue
		}
		end := p.base + int64(n)
		var last map[string]any
		lastSeq := int64(-1)
		for seq, off := range p.offsets {
			if seq < end {
				if seq > lastSeq {
					last, lastSeq = off, seq
				}
				delete(p.offsets, seq)
			}
		}
		p.done = p.done[n:]
		p.base = end
		if len(p.done) == 0 && s.lastPart != p {
			delete(s.partitions, key)
		}
		if last != nil {
			out = append(out, connect.Position{Partition: p.partition, Offset: last})
		}
	}
	return out
}

// pending returns how many records are not yet acknowledged.
func (s *submittedRecords) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}
