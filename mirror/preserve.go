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
// keep only a contiguous run of source offsets; it stops a partition,
// before writing anything out of place, at
//   - a gap: offsets missing because compaction removed records, or
//     retention or DeleteRecords removed them before they were copied
//     (including at the start: a source partition whose log starts above
//     the target's end);
//   - a transactional record: commit and abort markers take offsets of
//     their own that a producer cannot write;
//   - a target partition longer than the source's, or a record that did
//     not land at its source offset (another writer on the target topic).
// Topics with any of these are copied with replication.mode = translate.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// preserveStarts returns the source offset each added partition resumes
// at: its target partition's end offset, if the source still has the
// records from there on. Refused partitions are left out, their error
// recorded in the flow status.
func (f *flow) preserveStarts(ctx context.Context, ep *endpoints, added []topicPartition, topics map[topicPartition]copiedTopic) (map[topicPartition]int64, error) {
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
	tgtEnds, err := list("target end", ep.tgtAdm, (*kadm.Client).ListEndOffsets, remotes)
	if err != nil {
		return nil, err
	}
	srcStarts, err := list("source start", ep.srcAdm, (*kadm.Client).ListStartOffsets, sources)
	if err != nil {
		return nil, err
	}
	srcEnds, err := list("source end", ep.srcAdm, (*kadm.Client).ListEndOffsets, sources)
	if err != nil {
		return nil, err
	}
	out := map[topicPartition]int64{}
	for _, tp := range added {
		remote := topics[tp].remote
		tEnd, _ := tgtEnds.Lookup(remote, tp.partition)
		sStart, _ := srcStarts.Lookup(tp.topic, tp.partition)
		sEnd, _ := srcEnds.Lookup(tp.topic, tp.partition)
		switch {
		case tEnd.Offset > sEnd.Offset:
			f.status.setPartitionErr(tp.topic, tp.partition, fmt.Errorf("target partition %s/%d ends at offset %d, past the source's end %d: "+
				"it holds records the source does not (another writer, or a recreated source topic), so offsets cannot be preserved",
				remote, tp.partition, tEnd.Offset, sEnd.Offset))
		case tEnd.Offset < sStart.Offset:
			f.status.setPartitionErr(tp.topic, tp.partition, fmt.Errorf("source offsets %d to %d were deleted (retention or DeleteRecords) "+
				"before they were copied, and the target partition %s/%d ends at %d: the produce API cannot start it at %d, so offsets cannot be preserved",
				tEnd.Offset, sStart.Offset-1, remote, tp.partition, tEnd.Offset, sStart.Offset))
		default:
			out[tp] = tEnd.Offset
		}
	}
	return out, nil
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
