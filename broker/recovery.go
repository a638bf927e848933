package broker

// Opening every partition at startup, and closing them all at a stop.
// Partitions are opened in parallel (each log's recovery is independent),
// and /healthz reports the progress while they are. A partition closed
// cleanly opens without a scan or a write (broker/internal/log); one left
// by kill -9 is rescanned from its recovery point. At a stop, producer
// state snapshots are written and every log closed with one file system
// sync for all of them (log.CloseAll).

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/tributary-streams/tributary/broker/internal/log"
)

// recoveryProgress counts partitions opened at startup.
type recoveryProgress struct {
	total, done atomic.Int64
}

// openPartitions opens the partitions of every loaded topic, live naming
// the partition directories there are. On an error, or ctx ending, it
// closes what it opened and returns the first error.
func (b *Broker) openPartitions(ctx context.Context, live map[string]bool) error {
	type job struct {
		t     *topic
		i     int32
		fresh bool
	}
	var jobs []job
	opened := map[*topic][]*partition{}
	missing := map[*topic]int{}
	for _, t := range b.topics.byName {
		opened[t] = make([]*partition, t.recorded)
		for i := int32(0); i < t.recorded; i++ {
			// A directory missing for a recorded partition was not made
			// yet when a crash interrupted CreateTopics or
			// CreatePartitions (or was lost): it starts empty.
			fresh := !live[filepath.Base(partitionDir(b.cfg.DataDir, t.name, i))]
			if fresh {
				missing[t]++
			}
			jobs = append(jobs, job{t, i, fresh})
		}
	}
	b.recovery.total.Store(int64(len(jobs)))

	ch := make(chan job)
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
	)
	workers := min(len(jobs), max(4, 2*runtime.GOMAXPROCS(0)))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				p, err := b.openPartition(j.t, j.i, j.fresh)
				errMu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("open partition %s-%d: %w", j.t.name, j.i, err)
				}
				errMu.Unlock()
				// Each job writes its own slot: no two share one.
				opened[j.t][j.i] = p
				b.recovery.done.Add(1)
			}
		}()
	}
	// Stopping the broker (ctx ending) while partitions are still to open
	// ends startup promptly; what was opened is closed cleanly.
	interrupted := false
feed:
	for _, j := range jobs {
		errMu.Lock()
		failed := firstErr != nil
		errMu.Unlock()
		if failed {
			break
		}
		select {
		case ch <- j:
		case <-ctx.Done():
			interrupted = true
			break feed
		}
	}
	close(ch)
	wg.Wait()
	if firstErr == nil && interrupted {
		firstErr = fmt.Errorf("startup interrupted with %d of %d partitions opened: %w", b.recovery.done.Load(), len(jobs), ctx.Err())
	}
	if firstErr != nil {
		for _, ps := range opened {
			for _, p := range ps {
				if p != nil {
					p.log.Close()
				}
			}
		}
		return firstErr
	}
	for t, ps := range opened {
		t.partitions.Store(&ps)
		if missing[t] > 0 {
			b.logger.Warn("created partition directories missing at startup (left unmade by a crash during CreateTopics or CreatePartitions, or lost)",
				"topic", t.name, "directories", missing[t])
		}
	}
	return nil
}

// closePartitions saves every partition's producer state and closes every
// log.
func (b *Broker) closePartitions() error {
	var ps []*partition
	for _, t := range b.topics.list() {
		ps = append(ps, *t.partitions.Load()...)
	}
	work := make(chan *partition)
	var wg sync.WaitGroup
	for range min(len(ps), 2*runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				if err := p.saveProducerState(false); err != nil && !b.noteWriteError("save producer state", err) {
					b.logger.Warn("save producer state", "topic", p.topic.name, "partition", p.index, "err", err)
				}
			}
		}()
	}
	for _, p := range ps {
		work <- p
	}
	close(work)
	wg.Wait()
	logs := make([]*log.Log, len(ps))
	for i, p := range ps {
		logs[i] = p.log
	}
	return log.CloseAll(logs)
}
