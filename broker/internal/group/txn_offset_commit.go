package group

// TxnOffsetCommit, API key 28, versions 0-6.
//
// Offsets are validated like OffsetCommit (v3+ member and generation when
// given; none for v0-2) and staged per producer id, durably; they become
// visible only when the transaction coordinator calls CompleteTxn with
// commit. v6 names topics by id. The producer epoch is recorded but not
// checked here: fencing is the transaction coordinator's job.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/statefile"
)

// TxnOffsetCommit stages offsets in a transaction.
func (c *Coordinator) TxnOffsetCommit(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) *kmsg.TxnOffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	setAll := func(code int16) *kmsg.TxnOffsetCommitResponse {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				resp.Topics[i].Partitions[j].ErrorCode = code
			}
		}
		return resp
	}
	if code := c.groupRequestCode(req.Group); code != 0 {
		return setAll(code)
	}
	generation, memberID, instanceID := int32(-1), "", (*string)(nil)
	if req.Version >= 3 {
		generation, memberID, instanceID = req.Generation, req.MemberID, req.InstanceID
	}

	g := c.lockGroup(req.Group, true)
	defer g.mu.Unlock()
	if code := g.validateCommit(memberID, instanceID, generation, true, req.Version); code != 0 {
		g.removeIfFresh()
		return setAll(code)
	}
	now := time.Now().UnixMilli()
	var parts []offsetCommitPart
	for i, t := range req.Topics {
		name, code := c.commitTopic(t.Topic, t.TopicID, req.Version >= 6)
		for j, p := range t.Partitions {
			v := offsetValue{Offset: p.Offset, LeaderEpoch: -1, CommitMs: now, ExpireMs: -1}
			if req.Version >= 2 {
				v.LeaderEpoch = p.LeaderEpoch
			}
			parts = append(parts, offsetCommitPart{name, code, p.Partition, p.Metadata, v, &resp.Topics[i].Partitions[j].ErrorCode})
		}
	}
	pending := func(p *offsetCommitPart) pendingValue {
		return pendingValue{ProducerEpoch: req.ProducerEpoch, offsetValue: p.v}
	}
	if c.commitOffsets(parts, func(p *offsetCommitPart) statefile.Record {
		return pendingRecord(pendingKey{g.id, req.ProducerID, p.topic, p.partition}, pending(p))
	}, func(p *offsetCommitPart) {
		g.stage(req.ProducerID, p.topic, p.partition, pending(p))
	}) > 0 {
		c.indexTxn(req.ProducerID, g.id)
	}
	g.removeIfFresh()
	return resp
}
