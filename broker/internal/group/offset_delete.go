package group

// OffsetDelete, API key 47, version 0.
//
// Deletes committed offsets of topics the group does not consume: a topic
// subscribed by a live member answers GROUP_SUBSCRIBED_TO_TOPIC. A classic
// group's subscriptions come from its members' consumer-protocol metadata
// (a member whose metadata does not parse subscribes to nothing, as in
// Kafka); a classic group with members and another protocol type answers
// NON_EMPTY_GROUP.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/statefile"
)

// OffsetDelete deletes committed offsets.
func (c *Coordinator) OffsetDelete(ctx context.Context, req *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition = p.Partition
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if resp.ErrorCode = c.groupRequestCode(req.Group); resp.ErrorCode != 0 {
		return resp
	}
	g := c.lockGroup(req.Group, false)
	if g == nil {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return resp
	}
	defer g.mu.Unlock()

	subscribed := func(string) bool { return false }
	if g.kind == kindConsumer {
		subscribed = g.consumerSubscribesTo
	} else if len(g.members) > 0 {
		if g.protocolType != "consumer" {
			resp.ErrorCode = kerr.NonEmptyGroup.Code
			return resp
		}
		topics, _ := g.subscribedTopics()
		subscribed = func(t string) bool { return topics[t] }
	}

	var recs []statefile.Record
	var gone []tp
	for i, t := range req.Topics {
		for j, p := range t.Partitions {
			rp := &resp.Topics[i].Partitions[j]
			n, ok := c.topics.Partitions(t.Topic)
			switch {
			case !ok || p.Partition < 0 || p.Partition >= n:
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case subscribed(t.Topic):
				rp.ErrorCode = kerr.GroupSubscribedToTopic.Code
			default:
				if _, ok := g.offsets[t.Topic][p.Partition]; ok {
					recs = append(recs, offsetTombstone(offsetKey{g.id, t.Topic, p.Partition}))
					gone = append(gone, tp{t.Topic, p.Partition})
				}
			}
		}
	}
	if err := c.append(recs...); err != nil {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	for _, k := range gone {
		g.deleteOffset(k.topic, k.partition)
	}
	return resp
}
