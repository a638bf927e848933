package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/streams/state"
)

// restorable is a store that applies changelog records.
type restorable interface {
	Restore(key, value []byte) error
}

// restoration brings one shard up to the end of its changelogs, off the
// poll loop: the task's input partitions stay paused meanwhile, and the
// poll loop keeps polling, so restoring never trips max.poll.interval.ms.
// A standby restoration does not stop at the end: it follows the
// changelogs until cancelled.
//
// Order of events: the poll loop hands the shard over when it starts the
// restoration and touches it again only after done is closed (cancel
// waits for it), so the shard has one user at a time.
type restoration struct {
	shard     *state.Shard
	partition int32
	stores    map[string]restorable // changelog topic -> store
	standby   bool
	counters  *taskCounters

	cancel   context.CancelFunc
	done     chan struct{}
	err      error
	restored atomic.Int64 // records applied
	// total is how many offsets there were to restore when it started.
	total atomic.Int64
	// began and ended are when it ran (unix nanoseconds).
	began, ended atomic.Int64
	// lag is how many changelog offsets the shard is behind, as of the
	// last fetch.
	lag atomic.Int64
}

// restoreBatchBytes bounds the writes staged between two commits of a
// restoring shard.
const restoreBatchBytes = 16 << 20

func (in *Instance) startRestore(r *restoration) {
	ctx, cancel := context.WithCancel(in.ctx)
	r.cancel, r.done = cancel, make(chan struct{})
	r.began.Store(time.Now().UnixNano())
	go func() {
		defer close(r.done)
		defer func() { r.ended.Store(time.Now().UnixNano()) }()
		r.err = in.restore(ctx, r)
		if errors.Is(r.err, context.Canceled) {
			r.err = nil
		}
		if r.err != nil && r.standby {
			in.log.Warn("standby stopped", "task", r.shard.Name(), "error", r.err)
		}
	}()
}

// stop cancels a restoration and waits until it no longer uses its shard.
func (r *restoration) stop() error {
	r.cancel()
	<-r.done
	return r.err
}

// finished reports whether the restoration is over, and how.
func (r *restoration) finished() (bool, error) {
	select {
	case <-r.done:
		return true, r.err
	default:
		return false, nil
	}
}

// endOffsets are the ends of topics as this instance reads them: the last
// stable offsets under exactly-once (read_committed), else the high
// watermarks.
func (in *Instance) endOffsets(ctx context.Context, topics ...string) (kadm.ListedOffsets, error) {
	list := in.admin.ListEndOffsets
	if in.cfg.ExactlyOnce {
		list = in.admin.ListCommittedOffsets
	}
	ends, err := list(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	return ends, err
}

func (in *Instance) restore(ctx context.Context, r *restoration) error {
	topics := make([]string, 0, len(r.stores))
	for t := range r.stores {
		topics = append(topics, t)
	}
	if len(topics) == 0 {
		return nil
	}
	ends, err := in.endOffsets(ctx, topics...)
	if err != nil {
		return fmt.Errorf("restore %s: list changelog end offsets: %w", r.shard.Name(), err)
	}
	starts, err := in.admin.ListStartOffsets(ctx, topics...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return fmt.Errorf("restore %s: list changelog start offsets: %w", r.shard.Name(), err)
	}
	next := map[string]int64{}
	end := map[string]int64{}
	wipe := false
	for _, t := range topics {
		e, _ := ends.Lookup(t, r.partition)
		s, _ := starts.Lookup(t, r.partition)
		end[t] = e.Offset
		cp, ok, err := r.shard.Checkpoint(t)
		if err != nil {
			return err
		}
		switch {
		case !ok:
			next[t] = s.Offset
		case cp > e.Offset:
			// The changelog is behind what this shard applied: it was
			// recreated or truncated. The local state cannot be trusted.
			in.log.Warn("local state is ahead of its changelog; restoring from scratch", "task", r.shard.Name(),
				"changelog", t, "checkpoint", cp, "changelog_end", e.Offset)
			wipe = true
		default:
			next[t] = max(cp, s.Offset)
		}
	}
	if wipe {
		if err := r.shard.Wipe(); err != nil {
			return err
		}
		if err := r.shard.Commit(nil); err != nil {
			return err
		}
		for _, t := range topics {
			s, _ := starts.Lookup(t, r.partition)
			next[t] = s.Offset
		}
	}
	var total int64
	offsets := map[string]map[int32]kgo.Offset{}
	for _, t := range topics {
		total += max(0, end[t]-next[t])
		if next[t] < end[t] || r.standby {
			offsets[t] = map[int32]kgo.Offset{r.partition: kgo.NewOffset().At(next[t])}
		}
	}
	r.total.Store(total)
	r.lag.Store(total)
	if len(offsets) == 0 {
		return nil
	}
	opts := append(in.clientOpts(), kgo.ConsumePartitions(offsets), kgo.KeepControlRecords(),
		kgo.FetchMaxBytes(64<<20), kgo.FetchMaxPartitionBytes(32<<20), kgo.FetchMaxWait(200*time.Millisecond),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if in.cfg.ExactlyOnce {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("restore %s: %w", r.shard.Name(), err)
	}
	defer cl.Close()
	if err := r.shard.Restoring(true); err != nil {
		return err
	}
	defer r.shard.Restoring(false)
	pending := len(offsets)
	staged := 0
	commit := func() error {
		cps := make(map[string]int64, len(next))
		for t, o := range next {
			cps[t] = o
		}
		staged = 0
		return r.shard.Commit(cps)
	}
	for pending > 0 || r.standby {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if ferr == nil {
				ferr = fmt.Errorf("restore %s: fetch %s/%d: %w", r.shard.Name(), t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		applied := false
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if p.HighWatermark >= 0 {
				end[p.Topic] = max(end[p.Topic], p.HighWatermark)
			}
		})
		var rerr error
		fs.EachRecord(func(rec *kgo.Record) {
			if rerr != nil {
				return
			}
			next[rec.Topic] = rec.Offset + 1
			if rec.Attrs.IsControl() {
				return
			}
			if err := r.stores[rec.Topic].Restore(rec.Key, rec.Value); err != nil {
				rerr = fmt.Errorf("restore %s from %s offset %d: %w", r.shard.Name(), rec.Topic, rec.Offset, err)
				return
			}
			applied = true
			r.restored.Add(1)
			if r.standby {
				r.counters.updated.Add(1)
			} else {
				r.counters.restored.Add(1)
			}
			n := len(rec.Key) + len(rec.Value)
			r.counters.restoredBytes.Add(int64(n))
			staged += n
		})
		if rerr != nil {
			return rerr
		}
		var lag int64
		for t := range r.stores {
			lag += max(0, end[t]-next[t])
		}
		r.lag.Store(lag)
		for t := range offsets {
			if !r.standby && end[t] >= 0 && next[t] >= end[t] {
				delete(offsets, t)
				cl.RemoveConsumePartitions(map[string][]int32{t: {r.partition}})
				pending--
			}
		}
		if staged >= restoreBatchBytes || (r.standby && applied) || pending == 0 {
			if err := commit(); err != nil {
				return err
			}
		}
	}
	return nil
}
