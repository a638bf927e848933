package mirror

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// readToEnd reads every partition of topic on a cluster from its start to
// the end it has now (with readCommitted, its last stable offset) and
// hands each data record to fn, in offset order per partition.
func (f *flow) readToEnd(ctx context.Context, cl Cluster, adm *kadm.Client, topic string, readCommitted bool, fn func(*kgo.Record)) error {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.AdminTimeout)
	defer cancel()
	starts, err := listOffsets(ctx, adm.ListStartOffsets, topic)
	if err != nil {
		return fmt.Errorf("read %s: %w", topic, err)
	}
	list := adm.ListEndOffsets
	if readCommitted {
		list = adm.ListCommittedOffsets
	}
	ends, err := listOffsets(ctx, list, topic)
	if err != nil {
		return fmt.Errorf("read %s: %w", topic, err)
	}
	last := map[int32]int64{} // partition -> last offset to read
	from := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		s, _ := starts.Lookup(o.Topic, o.Partition)
		if o.Offset > s.Offset {
			last[o.Partition] = o.Offset - 1
			from[o.Partition] = kgo.NewOffset().At(s.Offset)
		}
	})
	if len(last) == 0 {
		return nil
	}
	opts := []kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.KeepControlRecords()} // the end may be a commit marker: it must be seen to know we got there
	if readCommitted {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	c, err := f.newClient(cl, consumerClient, opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	for len(last) > 0 {
		pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
		fetches := c.PollFetches(pctx)
		pcancel()
		if ctx.Err() != nil {
			return fmt.Errorf("read %s: %w", topic, ctx.Err())
		}
		if fetches.NumRecords() == 0 {
			for _, fe := range fetches.Errors() {
				if !errors.Is(fe.Err, context.DeadlineExceeded) {
					return fmt.Errorf("read %s partition %d: %w", topic, fe.Partition, fe.Err)
				}
			}
			return fmt.Errorf("read %s: no progress for 30s with %d partitions left", topic, len(last))
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if l, ok := last[r.Partition]; ok && r.Offset >= l {
				delete(last, r.Partition)
			}
			if !r.Attrs.IsControl() {
				fn(r)
			}
		})
	}
	return nil
}

// listOffsets lists a topic's offsets with list, retrying for a moment
// while the topic, created a moment ago, is not in every broker's
// metadata yet.
func listOffsets(ctx context.Context, list func(context.Context, ...string) (kadm.ListedOffsets, error), topic string) (kadm.ListedOffsets, error) {
	for try := 0; ; try++ {
		offs, err := list(ctx, topic)
		if err == nil {
			err = offs.Error()
		}
		if err == nil || !errors.Is(err, kerr.UnknownTopicOrPartition) || try == 20 {
			return offs, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
