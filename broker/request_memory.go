package broker

// Memory for requests in flight. A request's frame is read as it arrives,
// growing with the data, so a size header claiming 50 MB costs what the
// client actually sent. The bytes held by all frames read but not yet
// answered are bounded by queued.max.request.bytes, as in Kafka: while the
// bound is reached, connections stop reading their sockets (TCP pushes back
// on the clients) until answered requests give memory back.
//
// Like Kafka's memory pool the bound is not strict: memory is granted while
// the total is below the bound, so the chunk that crosses it is granted
// whole. So that frames half read when the bound is reached cannot wait on
// each other forever, one frame at a time may hold the overdraft: it reads
// to its end past the bound, and its memory (and the overdraft) comes back
// when its response is written. Memory in use therefore stays below
// queued.max.request.bytes + 1.5 x socket.request.max.bytes.

import (
	"context"
	"sync"
)

// requestMemory is the shared budget. limit <= 0 means unbounded.
type requestMemory struct {
	limit int64

	mu        sync.Mutex
	used      int64
	overdraft bool // a frame holds the overdraft
	// wake is closed and replaced whenever memory comes back, waking every
	// waiting reader to try again.
	wake chan struct{}
}

// frameCharge is what one frame holds of the budget.
type frameCharge struct {
	n         int64
	overdraft bool
}

func newRequestMemory(limit int64) *requestMemory {
	return &requestMemory{limit: limit, wake: make(chan struct{})}
}

// reserve adds n bytes to fc, waiting while the budget is spent. It fails
// only when ctx ends (the connection or the broker closing).
func (m *requestMemory) reserve(ctx context.Context, fc *frameCharge, n int64) error {
	m.mu.Lock()
	for {
		switch {
		case m.limit <= 0 || m.used < m.limit || fc.overdraft:
		case !m.overdraft:
			m.overdraft, fc.overdraft = true, true
		default:
			wake := m.wake
			m.mu.Unlock()
			select {
			case <-wake:
			case <-ctx.Done():
				return ctx.Err()
			}
			m.mu.Lock()
			continue
		}
		m.used += n
		fc.n += n
		m.mu.Unlock()
		return nil
	}
}

// release gives back everything fc holds. It is safe to call more than
// once and on a nil charge.
func (m *requestMemory) release(fc *frameCharge) {
	if fc == nil || (fc.n == 0 && !fc.overdraft) {
		return
	}
	m.mu.Lock()
	m.used -= fc.n
	if fc.overdraft {
		m.overdraft = false
	}
	fc.n, fc.overdraft = 0, false
	close(m.wake)
	m.wake = make(chan struct{})
	m.mu.Unlock()
}

// inFlight is the bytes held now.
func (m *requestMemory) inFlight() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.used
}
