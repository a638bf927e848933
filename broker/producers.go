package broker

// Per-partition producer state: idempotent sequence checks and the
// transactions open on the partition.
//
// For each producer id the partition remembers the epoch and the last five
// appended batches (first/last sequence and offsets), like Kafka. A batch
// that repeats one of them is a retry: it is acknowledged with the original
// offset and not appended again. Any other gap is OUT_OF_ORDER_SEQUENCE_NUMBER,
// and an older epoch is INVALID_PRODUCER_EPOCH (PRODUCER_FENCED for
// transactional producers on Produce v9+ is not used: Kafka answers
// INVALID_PRODUCER_EPOCH on produce too).
//
// Transactions: the first transactional batch of a producer opens a
// transaction at its base offset; a control batch (commit or abort marker)
// closes it. The last stable offset is the smallest open first offset, and
// aborted ranges are kept for read_committed fetches.
//
// The state is rebuilt on open from a snapshot plus the log after it (see
// producer_snapshot.go), so it survives kill -9 exactly as far as the log
// does.

import (
	"encoding/binary"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-streams/tributary/broker/internal/record"
)

const producerBatchCache = 5

type cachedBatch struct {
	firstSeq, lastSeq int32
	baseOffset        int64
}

type producerEntry struct {
	epoch   int16
	batches []cachedBatch // newest last, at most producerBatchCache
	// txnFirstOffset is the first offset of the producer's open transaction
	// on this partition, or -1.
	txnFirstOffset int64
	lastTimestamp  int64
}

// abortedTxn is a range of offsets written by an aborted transaction.
type abortedTxn struct {
	producerID  int64
	firstOffset int64
	lastOffset  int64 // the abort marker's offset
}

type producerState struct {
	producers map[int64]*producerEntry
	aborted   []abortedTxn // ordered by lastOffset
}

func newProducerState() *producerState {
	return &producerState{producers: map[int64]*producerEntry{}}
}

// check decides what to do with an idempotent batch. It returns
// (baseOffset, true, nil) for a duplicate, (0, false, nil) to append, or an
// error code.
func (s *producerState) check(h record.Header) (dupBase int64, dup bool, errCode int16) {
	if h.ProducerID < 0 {
		return 0, false, 0
	}
	e := s.producers[h.ProducerID]
	if e == nil {
		// No state (new producer, or state lost to retention): the batch
		// must start a sequence, as Kafka requires since KIP-360.
		if h.BaseSequence != 0 && h.BaseSequence != -1 {
			return 0, false, kerr.OutOfOrderSequenceNumber.Code
		}
		return 0, false, 0
	}
	if h.ProducerEpoch < e.epoch {
		return 0, false, kerr.InvalidProducerEpoch.Code
	}
	if h.ProducerEpoch > e.epoch {
		if h.BaseSequence != 0 && h.BaseSequence != -1 {
			return 0, false, kerr.OutOfOrderSequenceNumber.Code
		}
		return 0, false, 0
	}
	if h.BaseSequence == -1 {
		return 0, false, 0
	}
	last := lastSeq(h)
	for _, c := range e.batches {
		if c.firstSeq == h.BaseSequence && c.lastSeq == last {
			return c.baseOffset, true, 0
		}
	}
	if len(e.batches) > 0 {
		prev := e.batches[len(e.batches)-1].lastSeq
		if h.BaseSequence != nextSeq(prev) {
			return 0, false, kerr.OutOfOrderSequenceNumber.Code
		}
	}
	return 0, false, 0
}

func lastSeq(h record.Header) int32 {
	if h.BaseSequence < 0 {
		return -1
	}
	// Sequences wrap at MaxInt32 back to 0.
	return int32((int64(h.BaseSequence) + int64(h.LastOffsetDelta)) % (1 << 31))
}

func nextSeq(s int32) int32 {
	if s == 1<<31-1 {
		return 0
	}
	return s + 1
}

// record notes an appended batch (data or control) at baseOffset.
func (s *producerState) record(h record.Header, baseOffset int64, batch []byte) {
	if h.ProducerID < 0 {
		return
	}
	e := s.producers[h.ProducerID]
	if e == nil {
		e = &producerEntry{epoch: h.ProducerEpoch, txnFirstOffset: -1}
		s.producers[h.ProducerID] = e
	}
	if h.ProducerEpoch > e.epoch {
		e.epoch = h.ProducerEpoch
		e.batches = e.batches[:0]
	}
	e.lastTimestamp = h.MaxTimestamp
	if h.IsControl() {
		if e.txnFirstOffset >= 0 && isAbortMarker(batch) {
			s.aborted = append(s.aborted, abortedTxn{producerID: h.ProducerID, firstOffset: e.txnFirstOffset, lastOffset: baseOffset})
		}
		e.txnFirstOffset = -1
		return
	}
	if h.IsTransactional() && e.txnFirstOffset < 0 {
		e.txnFirstOffset = baseOffset
	}
	if h.BaseSequence >= 0 {
		if len(e.batches) == producerBatchCache {
			copy(e.batches, e.batches[1:])
			e.batches = e.batches[:producerBatchCache-1]
		}
		e.batches = append(e.batches, cachedBatch{firstSeq: h.BaseSequence, lastSeq: lastSeq(h), baseOffset: baseOffset})
	}
}

// isAbortMarker reads a control batch's first record key: version int16,
// type int16 (0 abort, 1 commit).
func isAbortMarker(batch []byte) bool {
	recs, err := record.Records(batch)
	if err != nil || len(recs) == 0 || len(recs[0].Key) < 4 {
		return false
	}
	return binary.BigEndian.Uint16(recs[0].Key[2:4]) == 0
}

// firstUnstableOffset is the smallest first offset of an open transaction,
// or -1 when none is open.
func (s *producerState) firstUnstableOffset() int64 {
	first := int64(-1)
	for _, e := range s.producers {
		if e.txnFirstOffset >= 0 && (first < 0 || e.txnFirstOffset < first) {
			first = e.txnFirstOffset
		}
	}
	return first
}

// abortedIn returns the aborted transactions overlapping [from, to).
func (s *producerState) abortedIn(from, to int64) []abortedTxn {
	i := sort.Search(len(s.aborted), func(i int) bool { return s.aborted[i].lastOffset >= from })
	var out []abortedTxn
	for ; i < len(s.aborted); i++ {
		a := s.aborted[i]
		if a.firstOffset >= to {
			continue
		}
		out = append(out, a)
	}
	return out
}

// truncateBefore forgets aborted ranges wholly below the log start.
func (s *producerState) truncateBefore(start int64) {
	i := sort.Search(len(s.aborted), func(i int) bool { return s.aborted[i].lastOffset >= start })
	s.aborted = s.aborted[i:]
}

// hasOpenTxn reports whether producerID has an open transaction here.
func (s *producerState) hasOpenTxn(producerID int64) bool {
	e := s.producers[producerID]
	return e != nil && e.txnFirstOffset >= 0
}

// epochOf returns the producer's epoch on this partition, if known.
func (s *producerState) epochOf(producerID int64) (int16, bool) {
	e := s.producers[producerID]
	if e == nil {
		return 0, false
	}
	return e.epoch, true
}
