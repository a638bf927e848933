package group

// OffsetCommit, API key 8, versions 0-10.
//
// Generation/member checks as Kafka: a commit with generation -1 and no
// member id is accepted only for a group without members ("simple" commits,
// which create the group if needed); otherwise the member must be known and
// the generation current (ILLEGAL_GENERATION), and a classic group completing
// a rebalance answers REBALANCE_IN_PROGRESS. For KIP-848 groups the
// generation is the member epoch (STALE_MEMBER_EPOCH) and v9+ is required.
// A missing group with generation >= 0 gets GROUP_ID_NOT_FOUND (v9+) or
// ILLEGAL_GENERATION. v1's per-partition timestamp and v2-4's retention time
// set an explicit expiry; otherwise offsets expire only once the group is
// empty (KIP-211), or for a Stable group once no member subscribes to
// their topic (KIP-496; see expireOffsets). v10 names topics by id
// (UNKNOWN_TOPIC_ID).
//
// A topic or partition the broker does not have is UNKNOWN_TOPIC_OR_PARTITION,
// as Kafka 3.x and 4.x answer it: their KafkaApis checks every committed
// topic and partition against the metadata cache before the group
// coordinator sees the commit (the new coordinator does not check topics
// itself, but it never receives such a commit). TxnOffsetCommit does the
// same.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/statefile"
)

// OffsetCommit stores committed offsets durably before answering.
func (c *Coordinator) OffsetCommit(ctx context.Context, req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	setAll := func(code int16) *kmsg.OffsetCommitResponse {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				resp.Topics[i].Partitions[j].ErrorCode = code
			}
		}
		return resp
	}
	if c.isClosed() {
		return setAll(kerr.CoordinatorNotAvailable.Code)
	}
	generation, memberID := req.Generation, req.MemberID
	if req.Version == 0 {
		generation, memberID = -1, ""
	}
	var instanceID *string
	if req.Version >= 7 {
		instanceID = req.InstanceID
	}

	g := c.lockGroup(req.Group, true)
	defer g.mu.Unlock()
	if code := g.validateCommit(memberID, instanceID, generation, false, req.Version); code != 0 {
		g.removeIfFresh()
		return setAll(code)
	}

	now := time.Now().UnixMilli()
	expire := int64(-1)
	if req.Version >= 2 && req.Version <= 4 && req.RetentionTimeMillis >= 0 {
		expire = now + req.RetentionTimeMillis
	}
	var parts []offsetCommitPart
	for i, t := range req.Topics {
		name, code := c.commitTopic(t.Topic, t.TopicID, req.Version >= 10)
		for j, p := range t.Partitions {
			v := offsetValue{Offset: p.Offset, LeaderEpoch: -1, CommitMs: now, ExpireMs: expire}
			if req.Version >= 6 {
				v.LeaderEpoch = p.LeaderEpoch
			}
			if req.Version == 1 && p.Timestamp >= 0 {
				v.ExpireMs = p.Timestamp + c.cfg.OffsetsRetentionMs
			}
			parts = append(parts, offsetCommitPart{name, code, p.Partition, p.Metadata, v, &resp.Topics[i].Partitions[j].ErrorCode})
		}
	}
	c.commitOffsets(parts, func(p *offsetCommitPart) statefile.Record {
		return offsetRecord(offsetKey{g.id, p.topic, p.partition}, p.v)
	}, func(p *offsetCommitPart) {
		g.setOffset(p.topic, p.partition, p.v)
	})
	g.removeIfFresh()
	return resp
}

// offsetCommitPart is one partition of an OffsetCommit or TxnOffsetCommit.
type offsetCommitPart struct {
	topic     string // resolved by commitTopic
	topicCode int16  // commitTopic's error, if any
	partition int32
	metadata  *string
	v         offsetValue // without Metadata: commitOffsets sets it
	code      *int16      // the partition's error code in the response
}

// commitOffsets validates each part, durably appends record(p) for every
// valid one and only then applies them in memory. Invalid parts get their
// error code; if the append fails, every valid part gets
// COORDINATOR_NOT_AVAILABLE and nothing is applied. It returns how many parts
// were applied.
func (c *Coordinator) commitOffsets(parts []offsetCommitPart, record func(*offsetCommitPart) statefile.Record, apply func(*offsetCommitPart)) int {
	var recs []statefile.Record
	var ok []*offsetCommitPart
	for i := range parts {
		p := &parts[i]
		if *p.code = c.commitPartitionCode(p.topic, p.topicCode, p.partition, p.metadata); *p.code != 0 {
			continue
		}
		if p.metadata != nil {
			p.v.Metadata = *p.metadata
		}
		recs = append(recs, record(p))
		ok = append(ok, p)
	}
	if err := c.append(recs...); err != nil {
		for _, p := range ok {
			*p.code = kerr.CoordinatorNotAvailable.Code
		}
		return 0
	}
	for _, p := range ok {
		apply(p)
	}
	return len(ok)
}

// commitTopic resolves a committed topic: by name, or by id when byID.
func (c *Coordinator) commitTopic(name string, id [16]byte, byID bool) (string, int16) {
	if !byID {
		return name, 0
	}
	n, ok := c.topics.TopicName(id)
	if !ok {
		return "", kerr.UnknownTopicID.Code
	}
	return n, 0
}

func (c *Coordinator) commitPartitionCode(topic string, topicCode int16, partition int32, metadata *string) int16 {
	if topicCode != 0 {
		return topicCode
	}
	n, ok := c.topics.Partitions(topic)
	if !ok || partition < 0 || partition >= n {
		return kerr.UnknownTopicOrPartition.Code
	}
	if metadata != nil && len(*metadata) > int(c.cfg.OffsetMetadataMaxBytes) {
		return kerr.OffsetMetadataTooLarge.Code
	}
	return 0
}

// validateCommit applies Kafka's OffsetCommit / TxnOffsetCommit membership
// checks for whichever protocol the group speaks.
func (g *group) validateCommit(memberID string, instanceID *string, generation int32, txn bool, version int16) int16 {
	fresh := !g.persisted && g.unused() && g.generation == 0 && g.kind == kindClassic
	if fresh && generation >= 0 {
		// The group does not exist.
		if !txn && version >= 9 {
			return kerr.GroupIDNotFound.Code
		}
		return kerr.IllegalGeneration.Code
	}
	if g.kind == kindConsumer {
		cg := g.cg
		if generation < 0 && len(cg.members) == 0 {
			return 0
		}
		if txn && generation < 0 && memberID == "" {
			return 0
		}
		m := cg.members[memberID]
		if m == nil {
			return kerr.UnknownMemberID.Code
		}
		if !txn && version < 9 {
			return kerr.UnsupportedVersion.Code
		}
		if generation != m.epoch {
			if txn {
				return kerr.IllegalGeneration.Code
			}
			return kerr.StaleMemberEpoch.Code
		}
		return 0
	}
	if generation < 0 && g.state == stateEmpty {
		return 0
	}
	if generation >= 0 || memberID != "" || instanceID != nil {
		if code := g.validateMember(memberID, instanceID); code != 0 {
			return code
		}
		if generation != g.generation {
			return kerr.IllegalGeneration.Code
		}
	} else if !txn && g.state != stateEmpty {
		return kerr.UnknownMemberID.Code
	}
	if !txn && g.state == stateCompleting {
		return kerr.RebalanceInProgress.Code
	}
	return 0
}
