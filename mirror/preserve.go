package mirror

// Offset-preserving mode (replication.mode = preserve-offsets): every
// record lands at its source offset on the target, so consumers keep their
// positions and group offsets are copied unchanged.
//
// What is guaranteed, and what is refused: a target partition's offsets
// are those of the source, or the partition is not copied and its error
// says why. Copying resumes at the target partition's end offset (the
// target is its own position store: nothing is copied twice, nothing
// skipped). The produce API assigns consecutive offsets, so the mirror can
// keep only a contiguous run of source offsets. One gap it can bridge: a
// source whose log starts above 0 (retention, DeleteRecords) while the
// target partition is still empty. The mirror then fills the target up to
// the source's log start with empty placeholder records (header
// PlaceholderHeaderKey) and deletes them with DeleteRecords, so the target
// starts at the same offset before any real record is written; a fill cut
// short by a crash is recognised by its placeholders and finished. It stops
// a partition, before writing anything out of place, at
//   - a gap after the first copied record: offsets missing because
//     compaction removed records, or retention or DeleteRecords removed
//     them before they were copied;
//   - a transactional record: commit and abort markers take offsets of
//     their own that a producer cannot write;
//   - a target partition longer than the source's, or a record that did
//     not land at its source offset (another writer on the target topic).
// Topics with any of these are copied with replication.mode = translate.

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// PlaceholderHeaderKey marks the records preserve-offsets writes to fill
// a target partition up to the source's log start; they are deleted
// (DeleteRecords) before the first real record is copied.
const PlaceholderHeaderKey = "tributary.mirror.placeholder"

// prefixFill is a target partition to fill with placeholders from its end
// to the source's log start before copying.
type prefixFill struct {
	tp       topicPartition
	remote   string
	from, to int64
}

// preserveStarts returns the source offset each added partition resumes
// at (its target partition's end offset, once the source still has the
// records from there on, or after the fills it also returns). Refused
// partitions are left out, their error recorded in the flow status.
func (f *flow) preserveStarts(ctx context.Context, ep *endpoints, added []topicPartition, topics map[topicPartition]copiedTopic) (map[topicPartition]int64, []prefixFill, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.AdminTimeout)
	defer cancel()
	var sources, remotes []string
	for _, tp := range added {
		sources = append(sources, tp.topic)
		remotes = append(remotes, topics[tp].remote)
	}
	list := func(what string, adm *kadm.Client, fn func(*kadm.Client, context.Context, ...string) (kadm.ListedOffsets, error), topics []string) (kadm.ListedOffsets, error) {
		offs, err := fn(adm, ctx, topics...)
		if err == nil {
			err = offs.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("list %s offsets: %w", what, err)
		}
		return offs, nil
	}
	tgtStarts, err := list("target start", ep.tgtAdm, (*kadm.Client).ListStartOffsets, remotes)
	if err != nil {
		return nil, nil, err
	}
	tgtEnds, err := list("target end", ep.tgtAdm, (*kadm.Client).ListEndOffsets, remotes)
	if err != nil {
		return nil, nil, err
	}
	srcStarts, err := list("source start", ep.srcAdm, (*kadm.Client).ListStartOffsets, sources)
	if err != nil {
		return nil, nil, err
	}
	srcEnds, err := list("source end", ep.srcAdm, (*kadm.Client).ListEndOffsets, sources)
	if err != nil {
		return nil, nil, err
	}
	out := map[topicPartition]int64{}
	var fills []prefixFill
	for _, tp := range added {
		remote := topics[tp].remote
		tStart, _ := tgtStarts.Lookup(remote, tp.partition)
		tEnd, _ := tgtEnds.Lookup(remote, tp.partition)
		sStart, _ := srcStarts.Lookup(tp.topic, tp.partition)
		sEnd, _ := srcEnds.Lookup(tp.topic, tp.partition)
		switch {
		case tEnd.Offset > sEnd.Offset:
			f.status.setPartitionErr(tp.topic, tp.partition, fmt.Errorf("target partition %s/%d ends at offset %d, past the source's end %d: "+
				"it holds records the source does not (another writer, or a recreated source topic), so offsets cannot be preserved",
				remote, tp.partition, tEnd.Offset, sEnd.Offset))
		case tEnd.Offset >= sStart.Offset:
			out[tp] = tEnd.Offset
		default:
			// The source starts past the target's end: fillable if the
			// target holds nothing but placeholders so far.
			fillable := tStart.Offset == tEnd.Offset
			if !fillable {
				last, err := f.recordAt(ctx, remote, tp.partition, tEnd.Offset-1)
				if err != nil {
					return nil, nil, err
				}
				fillable = last != nil && hasHeader(last, PlaceholderHeaderKey)
			}
			if !fillable {
				f.status.setPartitionErr(tp.topic, tp.partition, fmt.Errorf("source offsets %d to %d were deleted (retention or DeleteRecords) "+
					"before they were copied, and the target partition %s/%d already holds records up to %d: offsets cannot be preserved",
					tEnd.Offset, sStart.Offset-1, remote, tp.partition, tEnd.Offset))
				continue
			}
			fills = append(fills, prefixFill{tp: tp, remote: remote, from: tEnd.Offset, to: sStart.Offset})
			out[tp] = sStart.Offset
		}
	}
	return out, fills, nil
}

// recordAt reads the record at offset of a target partition (nil if there
// is none any more).
func (f *flow) recordAt(ctx context.Context, topic string, partition int32, offset int64) (*kgo.Record, error) {
	cl, err := f.newClient(f.tgt, consumerClient, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(offset)}}))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for pctx.Err() == nil {
		fetches := cl.PollFetches(pctx)
		var found *kgo.Record
		fetches.EachRecord(func(r *kgo.Record) {
			if found == nil && r.Offset >= offset {
				found = r
			}
		})
		if found != nil {
			if found.Offset != offset {
				return nil, nil
			}
			return found, nil
		}
	}
	return nil, fmt.Errorf("read %s/%d at offset %d: %w", topic, partition, offset, pctx.Err())
}

func hasHeader(r *kgo.Record, key string) bool {
	for _, h := range r.Headers {
		if h.Key == key {
			return true
		}
	}
	return false
}

// fill writes placeholders into a target partition up to fl.to and deletes
// them, so the partition's log starts where the source's does. Each
// placeholder must land at the offset it fills: another writer makes ok
// false, the partition refused before any real record is copied.
func (c *copier) fill(ctx context.Context, ep *endpoints, fl prefixFill) (ok bool, err error) {
	const chunk = 10_000
	header := []kgo.RecordHeader{{Key: PlaceholderHeaderKey, Value: []byte("1")}}
	for off := fl.from; off < fl.to; {
		n := min(int64(chunk), fl.to-off)
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: fl.remote, Partition: fl.tp.partition, Headers: header}
		}
		res := c.producer.ProduceSync(ctx, recs...)
		if err := res.FirstErr(); err != nil {
			return false, fmt.Errorf("fill %s/%d up to offset %d: %w", fl.remote, fl.tp.partition, fl.to, err)
		}
		for i, r := range res {
			if r.Record.Offset != off+int64(i) {
				c.f.status.setPartitionErr(fl.tp.topic, fl.tp.partition, fmt.Errorf("placeholder for offset %d of %s/%d landed at %d: "+
					"something else writes to the target topic, so offsets cannot be preserved", off+int64(i), fl.remote, fl.tp.partition, r.Record.Offset))
				return false, nil
			}
		}
		off += n
	}
	del := kadm.Offsets{}
	del.Add(kadm.Offset{Topic: fl.remote, Partition: fl.tp.partition, At: fl.to})
	resp, err := ep.tgtAdm.DeleteRecords(ctx, del)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return false, fmt.Errorf("delete placeholders of %s/%d below offset %d: %w", fl.remote, fl.tp.partition, fl.to, err)
	}
	c.f.log.Info("target partition starts at the source's log start", "topic", fl.remote, "partition", fl.tp.partition,
		"offset", fl.to, "placeholders", fl.to-fl.from)
	return true, nil
}

// checkPreservable refuses a record that cannot land at its own offset.
func (c *copier) checkPreservable(p *partition, r *kgo.Record) error {
	if r.Attrs.IsControl() || r.Attrs.IsTransactional() {
		return fmt.Errorf("transactional records from source offset %d: their commit markers take offsets a producer cannot write, "+
			"so offsets cannot be preserved from there on; copy the topic with replication.mode=translate", r.Offset)
	}
	if r.Offset != p.next {
		return fmt.Errorf("source offsets %d to %d are missing (compacted away, or deleted before they were copied): "+
			"the produce API cannot leave a gap, so offsets cannot be preserved from offset %d on", p.next, r.Offset-1, p.next)
	}
	return nil
}
