package worker

// submittedRecords tracks source records between Poll and the broker's
// acknowledgement, so that a source partition's offset is committed only
// when every record of that partition up to it is in Kafka (Kafka
// Connect's SubmittedRecords). Records dropped by a transformation or
// skipped by errors.tolerance count as done at once.

import (
	"reflect"
	"sync"
	"unsafe"

	"github.com/tributary-streams/tributary/connect"
)

type submittedRecord struct {
	part   *submittedPartition
	offset map[string]any
	done   bool
}

type submittedPartition struct {
	key       string // the encoded source partition
	partition map[string]any
	queue     []*submittedRecord
}

type submittedRecords struct {
	// mu guards everything: records are added by the task goroutine and
	// acknowledged from the producer's callback goroutine.
	mu         sync.Mutex
	partitions map[string]*submittedPartition
	inFlight   int

	// The last source partition map seen and its key: tasks usually reuse
	// one map per partition, which saves encoding it per record. Used by
	// the task goroutine only.
	lastMap unsafe.Pointer
	lastKey string
}

func newSubmittedRecords() *submittedRecords {
	return &submittedRecords{partitions: map[string]*submittedPartition{}}
}

// add registers a record in submission order and returns its handle for
// ack. A record without a source offset is tracked too, so that it holds
// back later offsets of its partition until it is in Kafka.
func (s *submittedRecords) add(r *connect.SourceRecord) *submittedRecord {
	var key string
	if ptr := reflect.ValueOf(r.SourcePartition).UnsafePointer(); ptr != nil && ptr == s.lastMap {
		key = s.lastKey
	} else {
		b, _ := encodeOffsetKey("", r.SourcePartition)
		key = string(b)
		s.lastMap, s.lastKey = ptr, key
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.partitions[key]
	if p == nil {
		p = &submittedPartition{key: key, partition: r.SourcePartition}
		s.partitions[key] = p
	}
	h := &submittedRecord{part: p, offset: r.SourceOffset}
	p.queue = append(p.queue, h)
	s.inFlight++
	return h
}

// ack marks a record as in Kafka (or dropped).
func (s *submittedRecords) ack(h *submittedRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !h.done {
		h.done = true
		s.inFlight--
	}
}

// committable removes the done prefix of every partition's queue and
// returns, per partition, the offset of the last record of that prefix
// that has one.
func (s *submittedRecords) committable() []connect.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []connect.Position
	for key, p := range s.partitions {
		n := 0
		var last map[string]any
		for n < len(p.queue) && p.queue[n].done {
			if p.queue[n].offset != nil {
				last = p.queue[n].offset
			}
			n++
		}
		if n == 0 {
			continue
		}
		p.queue = p.queue[n:]
		if len(p.queue) == 0 {
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
