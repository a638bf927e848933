package broker

// A partition: its log, the append path shared by Produce (and later
// transaction markers), and the wake-up channel that long-polling fetches
// wait on.

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/tributary-streams/tributary/broker/internal/log"
	"github.com/tributary-streams/tributary/broker/internal/record"
)

type partition struct {
	b     *Broker
	topic *topic
	index int32
	log   *log.Log

	// appendMu serialises appends to this partition, so that checks that
	// must be atomic with the append (sequence numbers, transactions) see a
	// stable log end. Reads never take it.
	appendMu sync.Mutex
	// producers and snapshotEnd (the log end offset of the last producer
	// state snapshot) are guarded by appendMu.
	producers   *producerState
	snapshotEnd int64
	// lso caches the first offset of the oldest open transaction (-1 when
	// none), published after each append for read_committed fetches.
	lso atomic.Int64

	// waitMu guards waiters: long-polling fetches that found too little
	// data and want to hear about the next append. An append with no
	// waiter costs one uncontended lock.
	waitMu  sync.Mutex
	waiters map[*fetchWaiter]struct{}

	// snapMu orders producer state snapshots with the partition's removal:
	// DeleteTopics sets gone under it before the directory is renamed, and
	// a snapshot is written under it only while !gone, so nothing is ever
	// written under the old directory path, which a new topic of the same
	// name may own by then.
	snapMu sync.Mutex
	gone   bool
}

// openPartition opens the log of partition i of t, or creates it (fresh)
// with the topic id recorded in its directory. For a partition being
// created, a directory already at its path belongs to no live topic (a
// topic this broker does not know, or metadata damage): it is moved aside,
// never deleted.
func (b *Broker) openPartition(t *topic, i int32, fresh bool) (*partition, error) {
	dir := partitionDir(b.cfg.DataDir, t.name, i)
	if fresh {
		if err := b.moveAsideIfExists(dir); err != nil {
			return nil, err
		}
		// The metadata goes in first; creating the log syncs the new
		// directory once for everything in it.
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create partition directory: %w", err)
		}
		if err := writePartitionMetadata(dir, t.id); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	l, err := log.Open(dir, t.settings.Load().log, log.Options{Logger: b.logger.With("topic", t.name, "partition", i), Files: b.files})
	if err != nil {
		if fresh {
			os.RemoveAll(dir)
		}
		return nil, err
	}
	p := &partition{b: b, topic: t, index: i, log: l}
	if err := p.loadProducerState(); err != nil {
		l.Close()
		return nil, fmt.Errorf("rebuild producer state of %s-%d: %w", t.name, i, err)
	}
	return p, nil
}

// detach stops the partition for good without writing to its directory,
// before DeleteTopics renames the directory away.
func (p *partition) detach() {
	p.snapMu.Lock()
	p.gone = true
	p.snapMu.Unlock()
	p.log.Abandon()
	p.wake()
}

// appendBatch appends one validated batch after the idempotence checks,
// all under appendMu. A duplicate of a recent batch returns its original
// base offset without appending. It returns a Kafka error code, or an error
// from the log.
func (p *partition) appendBatch(batch []byte, h record.Header) (base int64, code int16, err error) {
	p.appendMu.Lock()
	dupBase, dup, code := p.producers.check(h)
	if code != 0 || dup {
		p.appendMu.Unlock()
		return dupBase, code, nil
	}
	base, err = p.log.Append(batch)
	if err != nil {
		p.appendMu.Unlock()
		return 0, 0, err
	}
	if h.ProducerID >= 0 {
		p.producers.record(h, base, batch)
		p.lso.Store(p.producers.firstUnstableOffset())
	}
	p.appendMu.Unlock()
	p.wake()
	return base, 0, nil
}

// lastStableOffset is the offset up to which read_committed consumers may
// read.
func (p *partition) lastStableOffset() int64 {
	if lso := p.lso.Load(); lso >= 0 {
		return lso
	}
	return p.highWatermark()
}

// fetchWaiter is woken (without blocking the appender) by an append to
// any partition it is registered with.
type fetchWaiter struct{ ch chan struct{} }

func newFetchWaiter() *fetchWaiter { return &fetchWaiter{ch: make(chan struct{}, 1)} }

func (p *partition) addWaiter(w *fetchWaiter) {
	p.waitMu.Lock()
	if p.waiters == nil {
		p.waiters = map[*fetchWaiter]struct{}{}
	}
	p.waiters[w] = struct{}{}
	p.waitMu.Unlock()
}

func (p *partition) removeWaiter(w *fetchWaiter) {
	p.waitMu.Lock()
	delete(p.waiters, w)
	p.waitMu.Unlock()
}

// wake signals every fetch waiting on this partition.
func (p *partition) wake() {
	p.waitMu.Lock()
	for w := range p.waiters {
		select {
		case w.ch <- struct{}{}:
		default:
		}
	}
	p.waitMu.Unlock()
}

// highWatermark is the log end: on a single node every appended record is
// fully replicated as soon as it is written.
func (p *partition) highWatermark() int64 { return p.log.EndOffset() }
