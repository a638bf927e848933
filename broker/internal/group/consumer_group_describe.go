package group

// ConsumerGroupDescribe, API key 69, versions 0-1 (KIP-848).
//
// A classic group answers GROUP_ID_NOT_FOUND, as Kafka does. Members report
// their subscribed topic names (not the regex matches), current and target
// assignments with topic names, and member type 1 (consumer) on v1.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ConsumerGroupDescribe describes KIP-848 groups.
func (c *Coordinator) ConsumerGroupDescribe(ctx context.Context, req *kmsg.ConsumerGroupDescribeRequest) *kmsg.ConsumerGroupDescribeResponse {
	resp := req.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	for _, id := range req.Groups {
		dg := kmsg.NewConsumerGroupDescribeResponseGroup()
		dg.Group = id
		c.describeConsumerGroup(id, &dg)
		if req.IncludeAuthorizedOperations && dg.ErrorCode == 0 {
			dg.AuthorizedOperations = groupOps
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

func (c *Coordinator) describeConsumerGroup(id string, dg *kmsg.ConsumerGroupDescribeResponseGroup) {
	fail := func(code int16, msg string) {
		dg.ErrorCode = code
		dg.ErrorMessage = kmsg.StringPtr(msg)
	}
	switch {
	case c.isClosed():
		fail(kerr.CoordinatorNotAvailable.Code, "coordinator is closing")
		return
	case id == "":
		fail(kerr.InvalidGroupID.Code, "group id can't be empty")
		return
	}
	g := c.lockGroup(id, false)
	if g == nil {
		fail(kerr.GroupIDNotFound.Code, fmt.Sprintf("group %s not found", id))
		return
	}
	defer g.mu.Unlock()
	if g.kind != kindConsumer {
		fail(kerr.GroupIDNotFound.Code, fmt.Sprintf("group %s is not a consumer group", id))
		return
	}
	cg := g.cg
	dg.State = cg.state()
	dg.Epoch = cg.epoch
	dg.AssignmentEpoch = cg.assignmentEpoch
	dg.AssignorName = cg.assignor
	if dg.AssignorName == "" {
		dg.AssignorName = defaultAssignor
	}
	for _, mid := range sortedKeys(cg.members) {
		m := cg.members[mid]
		dm := kmsg.NewConsumerGroupDescribeResponseGroupMember()
		dm.MemberID = m.id
		dm.InstanceID = m.instanceID
		dm.RackID = m.rackID
		dm.MemberEpoch = m.epoch
		dm.ClientID = m.clientID
		dm.ClientHost = m.clientHost
		dm.SubscribedTopics = append([]string{}, m.names...)
		if m.regex != "" {
			dm.SubscribedTopicRegex = kmsg.StringPtr(m.regex)
		}
		dm.Assignment = c.describeAssignment(m.assigned)
		dm.TargetAssignment = c.describeAssignment(cg.target[m.id])
		dm.MemberType = 1
		dg.Members = append(dg.Members, dm)
	}
}

func (c *Coordinator) describeAssignment(a assignment) kmsg.Assignment {
	out := kmsg.NewAssignment()
	out.TopicPartitions = []kmsg.AssignmentTopicPartition{}
	for _, id := range sortedIDs(a) {
		tp := kmsg.NewAssignmentTopicPartition()
		tp.TopicID = id
		tp.Topic, _ = c.topics.TopicName(id)
		tp.Partitions = append([]int32{}, a[id]...)
		out.TopicPartitions = append(out.TopicPartitions, tp)
	}
	return out
}
