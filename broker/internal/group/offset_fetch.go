package group

// OffsetFetch, API key 9, versions 0-10.
//
// v2+ accepts null topics (all committed offsets of the group); v7+
// RequireStable answers UNSTABLE_OFFSET_COMMIT for partitions with staged
// transactional offsets; v8+ fetches several groups at once; v9+ checks the
// KIP-848 member id and epoch (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH); v10
// names topics by id. Staged transactional offsets are never returned.
// Partitions without a committed offset answer offset -1, as Kafka.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type fetchTopic struct {
	name       string
	id         [16]byte
	partitions []int32
}

type fetchedPartition struct {
	partition   int32
	offset      int64
	leaderEpoch int32
	metadata    string
	err         int16
}

type fetchedTopic struct {
	name       string
	id         [16]byte
	partitions []fetchedPartition
}

// OffsetFetch returns committed offsets.
func (c *Coordinator) OffsetFetch(ctx context.Context, req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	stable := req.Version >= 7 && req.RequireStable
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			var topics []fetchTopic
			if rg.Topics != nil {
				topics = make([]fetchTopic, 0, len(rg.Topics))
				for _, t := range rg.Topics {
					topics = append(topics, fetchTopic{name: t.Topic, id: t.TopicID, partitions: t.Partitions})
				}
			}
			memberID, epoch := (*string)(nil), int32(-1)
			if req.Version >= 9 {
				memberID, epoch = rg.MemberID, rg.MemberEpoch
			}
			code, fts := c.fetchOffsets(rg.Group, topics, stable, memberID, epoch, req.Version >= 10)
			out := kmsg.NewOffsetFetchResponseGroup()
			out.Group = rg.Group
			out.ErrorCode = code
			for _, ft := range fts {
				ot := kmsg.NewOffsetFetchResponseGroupTopic()
				ot.Topic, ot.TopicID = ft.name, ft.id
				for _, fp := range ft.partitions {
					op := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					op.Partition, op.Offset, op.LeaderEpoch, op.ErrorCode = fp.partition, fp.offset, fp.leaderEpoch, fp.err
					op.Metadata = kmsg.StringPtr(fp.metadata)
					ot.Partitions = append(ot.Partitions, op)
				}
				out.Topics = append(out.Topics, ot)
			}
			resp.Groups = append(resp.Groups, out)
		}
		return resp
	}

	var topics []fetchTopic
	if req.Topics != nil || req.Version < 2 {
		topics = make([]fetchTopic, 0, len(req.Topics))
		for _, t := range req.Topics {
			topics = append(topics, fetchTopic{name: t.Topic, partitions: t.Partitions})
		}
	}
	code, fts := c.fetchOffsets(req.Group, topics, stable, nil, -1, false)
	if req.Version >= 2 {
		resp.ErrorCode = code
	}
	for _, ft := range fts {
		ot := kmsg.NewOffsetFetchResponseTopic()
		ot.Topic = ft.name
		for _, fp := range ft.partitions {
			op := kmsg.NewOffsetFetchResponseTopicPartition()
			op.Partition, op.Offset, op.LeaderEpoch, op.ErrorCode = fp.partition, fp.offset, fp.leaderEpoch, fp.err
			op.Metadata = kmsg.StringPtr(fp.metadata)
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}

// fetchOffsets answers one group. topics nil means every topic with a
// committed offset. A group-level error is also set on every partition
// (clients before v2 only look there).
func (c *Coordinator) fetchOffsets(groupID string, topics []fetchTopic, stable bool, memberID *string, memberEpoch int32, byID bool) (int16, []fetchedTopic) {
	var out []fetchedTopic
	for _, t := range topics {
		ft := fetchedTopic{name: t.name, id: t.id}
		if byID {
			if n, ok := c.topics.TopicName(t.id); ok {
				ft.name = n
			}
		}
		for _, p := range t.partitions {
			ft.partitions = append(ft.partitions, fetchedPartition{partition: p, offset: -1, leaderEpoch: -1})
		}
		out = append(out, ft)
	}
	setAll := func(code int16) (int16, []fetchedTopic) {
		for i := range out {
			for j := range out[i].partitions {
				out[i].partitions[j].err = code
			}
		}
		return code, out
	}
	if c.isClosed() {
		return setAll(kerr.CoordinatorNotAvailable.Code)
	}
	g := c.lockGroup(groupID, false)
	if g == nil {
		return 0, out
	}
	defer g.mu.Unlock()
	if g.kind == kindConsumer && (memberID != nil || memberEpoch >= 0) {
		id := ""
		if memberID != nil {
			id = *memberID
		}
		m := g.cg.members[id]
		if m == nil {
			return setAll(kerr.UnknownMemberID.Code)
		}
		if m.epoch != memberEpoch {
			return setAll(kerr.StaleMemberEpoch.Code)
		}
	}

	fill := func(topic string, fp *fetchedPartition) {
		if stable && g.hasPending(topic, fp.partition) {
			fp.err = kerr.UnstableOffsetCommit.Code
			return
		}
		if o, ok := g.offsets[topic][fp.partition]; ok {
			fp.offset, fp.leaderEpoch, fp.metadata = o.Offset, o.LeaderEpoch, o.Metadata
		}
	}
	if topics != nil {
		for i := range out {
			ft := &out[i]
			if byID && ft.name == "" {
				for j := range ft.partitions {
					ft.partitions[j].err = kerr.UnknownTopicID.Code
				}
				continue
			}
			for j := range ft.partitions {
				fill(ft.name, &ft.partitions[j])
			}
		}
		return 0, out
	}

	// All topics: every committed offset, plus partitions that only have
	// staged offsets when the client asked for stability (so it knows to
	// retry).
	parts := make(map[string]map[int32]bool)
	for topic, ps := range g.offsets {
		for p := range ps {
			if parts[topic] == nil {
				parts[topic] = make(map[int32]bool)
			}
			parts[topic][p] = true
		}
	}
	if stable {
		for _, ps := range g.pending {
			for k := range ps {
				if parts[k.topic] == nil {
					parts[k.topic] = make(map[int32]bool)
				}
				parts[k.topic][k.partition] = true
			}
		}
	}
	for _, topic := range sortedKeys(parts) {
		ft := fetchedTopic{name: topic}
		if byID {
			id, ok := c.topics.TopicID(topic)
			if !ok {
				continue // deleted topic: a client fetching by id cannot name it
			}
			ft.id = id
		}
		for _, p := range sortedKeys(parts[topic]) {
			fp := fetchedPartition{partition: p, offset: -1, leaderEpoch: -1}
			fill(topic, &fp)
			ft.partitions = append(ft.partitions, fp)
		}
		out = append(out, ft)
	}
	return 0, out
}
