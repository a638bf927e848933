package runtime

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// globalFeed keeps the global stores up to date from all partitions of
// their topics. It reads to the topics' ends before the instance joins its
// group (so that joins see the tables), then follows them in the
// background. Tasks read the stores through views of what it committed.
//
// Order of events: the feed goroutine alone writes the global shard; it
// commits after each poll; readers see only committed data.
type globalFeed struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

func (g *globalFeed) stop() error {
	g.cancel()
	<-g.done
	return g.err
}

// globalCheckpoint names a global partition's offset in the shard.
func globalCheckpoint(topic string, p int32) string { return topic + "/" + strconv.Itoa(int(p)) }

func (in *Instance) startGlobal(ctx context.Context) (*globalFeed, error) {
	shard, err := in.engine.Shard("global")
	if err != nil {
		return nil, fmt.Errorf("streams: global state: %w", err)
	}
	task, err := topology.NewGlobalTask(in.g, &topology.Env{App: in.cfg.App, Shard: shard, Logger: in.log.With("task", "global"), Now: in.cfg.Now})
	if err != nil {
		shard.Close()
		return nil, fmt.Errorf("streams: global task: %w", err)
	}
	topics := in.g.GlobalTopics()
	ends, err := in.endOffsets(ctx, topics...)
	if err != nil {
		shard.Close()
		return nil, fmt.Errorf("streams: global topics' end offsets: %w", err)
	}
	offsets := map[string]map[int32]kgo.Offset{}
	next := map[string]int64{}
	pending := map[string]int64{} // checkpoint name -> end still to reach
	for t, ps := range ends {
		offsets[t] = map[int32]kgo.Offset{}
		for p, o := range ps {
			name := globalCheckpoint(t, p)
			start := kgo.NewOffset().AtStart()
			if cp, ok, _ := shard.Checkpoint(name); ok && cp <= o.Offset {
				start = kgo.NewOffset().At(cp)
				next[name] = cp
			}
			offsets[t][p] = start
			if next[name] < o.Offset {
				pending[name] = o.Offset
			}
		}
	}
	opts := append(in.clientOpts(), kgo.ConsumePartitions(offsets), kgo.KeepControlRecords(), kgo.FetchMaxWait(200*time.Millisecond))
	if in.cfg.ExactlyOnce {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		shard.Close()
		return nil, fmt.Errorf("streams: global client: %w", err)
	}
	gctx, cancel := context.WithCancel(context.Background())
	g := &globalFeed{cancel: cancel, done: make(chan struct{})}
	ready := make(chan error, 1)
	if len(pending) == 0 {
		ready <- nil
	}
	go func() {
		defer close(g.done)
		defer shard.Close()
		defer cl.Close()
		for {
			fs := cl.PollFetches(gctx)
			if gctx.Err() != nil {
				return
			}
			var err error
			fs.EachError(func(t string, p int32, e error) {
				if err == nil {
					err = fmt.Errorf("streams: global feed %s/%d: %w", t, p, e)
				}
			})
			fs.EachRecord(func(r *kgo.Record) {
				name := globalCheckpoint(r.Topic, r.Partition)
				next[name] = r.Offset + 1
				if err != nil || r.Attrs.IsControl() {
					return
				}
				in0 := &topology.Input{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp.UnixMilli()}
				err = task.Process(in0)
			})
			if err == nil {
				cps := make(map[string]int64, len(next))
				for k, v := range next {
					cps[k] = v
				}
				err = shard.Commit(cps)
			}
			if err != nil {
				g.err = err
				in.log.Error("global feed stopped", "error", err)
				select {
				case ready <- err:
				default:
				}
				return
			}
			if len(pending) > 0 {
				for name, end := range pending {
					if next[name] >= end {
						delete(pending, name)
					}
				}
				if len(pending) == 0 {
					ready <- nil
				}
			}
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			g.stop()
			return nil, err
		}
	case <-ctx.Done():
		g.stop()
		return nil, ctx.Err()
	}
	in.log.Info("global stores loaded", "topics", strings.Join(topics, ","))
	return g, nil
}
