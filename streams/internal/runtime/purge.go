package runtime

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// purger deletes what the application consumed from its own repartition
// topics, as Kafka Streams does (repartition.purge.interval.ms): at most
// once per interval, DeleteRecords up to the group's committed offset of
// each repartition partition of a running task, so that the topics do not
// grow until retention. Under exactly-once the committed offsets are
// those of finished transactions only; under at-least-once those of
// commits that succeeded. Source topics the user owns are never purged:
// only the topology's internal topics are.
//
// Order of events: the poll loop (holding mu) reads the committed offsets
// and starts one DeleteRecords at a time in the background; that
// goroutine records how far each partition was purged, behind the
// purger's mu. Run's end cancels it, and Run waits for it before closing
// the admin client.
type purger struct {
	interval time.Duration
	topics   map[string]bool // physical names of the repartition topics

	last time.Time // poll loop only

	mu      sync.Mutex
	running bool
	purged  map[topicPartition]int64
	wg      sync.WaitGroup
}

func newPurger(in *Instance) *purger {
	p := &purger{interval: in.cfg.RepartitionPurgeInterval, topics: map[string]bool{}, purged: map[topicPartition]int64{}}
	for name := range in.g.Internal {
		p.topics[in.g.TopicName(in.cfg.App, name)] = true
	}
	return p
}

// maybePurge starts a purge when one is due; the caller holds mu.
func (in *Instance) maybePurge() {
	p := in.purge
	if p == nil || len(p.topics) == 0 || time.Since(p.last) < p.interval {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return // the previous one is still under way
	}
	p.last = time.Now()
	committed := in.cl.CommittedOffsets()
	offsets := kadm.Offsets{}
	for _, at := range in.active {
		if at.task == nil {
			continue // restoring: its positions are not its task's commits
		}
		for topic, parts := range at.parts {
			if !p.topics[topic] {
				continue
			}
			for _, part := range parts {
				c, ok := committed[topic][part]
				if !ok || c.Offset <= 0 || c.Offset <= p.purged[topicPartition{topic, part}] {
					continue
				}
				offsets.Add(kadm.Offset{Topic: topic, Partition: part, At: c.Offset, LeaderEpoch: -1})
			}
		}
	}
	if len(offsets) == 0 {
		return
	}
	p.running = true
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		// Shutdown cancels a purge under way: the records are purged by
		// the next one, here or on the instance that takes the tasks.
		ctx, cancel := context.WithTimeout(in.ctx, commitTimeout)
		defer cancel()
		resps, err := in.admin.DeleteRecords(ctx, offsets)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.running = false
		if in.ctx.Err() != nil {
			return
		}
		if err != nil {
			in.log.Warn("purge repartition topics", "error", err)
		}
		resps.Each(func(r kadm.DeleteRecordsResponse) {
			if r.Err != nil {
				in.log.Warn("purge repartition topic", "topic", r.Topic, "partition", r.Partition, "error", r.Err)
				return
			}
			tp := topicPartition{r.Topic, r.Partition}
			p.purged[tp] = max(p.purged[tp], r.LowWatermark)
		})
	}()
}

// wait waits for the purge under way, if any.
func (p *purger) wait() {
	if p != nil {
		p.wg.Wait()
	}
}
