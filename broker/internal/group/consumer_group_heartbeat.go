package group

// ConsumerGroupHeartbeat, API key 68, versions 0-1 (KIP-848).
//
// Server-side assignors "uniform" (default) and "range". v0 lets the
// coordinator generate the member id; v1 requires the client to send one
// (KIP-1082) and adds SubscribedTopicRegex (Go regexp syntax, matched against
// the whole topic name; INVALID_REGULAR_EXPRESSION if it does not compile).
// A heartbeat for a classic group with members answers GROUP_ID_NOT_FOUND; an
// empty classic group (e.g. one holding only offsets) is converted.
//
// Differences from Kafka: no rack-aware assignment; no online migration of
// classic members into a consumer group; regexes are re-resolved at most once
// a second, on heartbeats.

import (
	"context"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ConsumerGroupHeartbeat joins, heartbeats, reconciles and leaves a KIP-848
// consumer group member.
func (c *Coordinator) ConsumerGroupHeartbeat(ctx context.Context, req *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	fail := func(code int16, msg string) *kmsg.ConsumerGroupHeartbeatResponse {
		resp.ErrorCode = code
		resp.ErrorMessage = kmsg.StringPtr(msg)
		return resp
	}
	invalid := func(msg string) *kmsg.ConsumerGroupHeartbeatResponse {
		return fail(kerr.InvalidRequest.Code, msg)
	}
	if c.isClosed() {
		return fail(kerr.CoordinatorNotAvailable.Code, "coordinator is closing")
	}
	switch {
	case req.Group == "":
		return invalid("GroupId can't be empty.")
	case req.InstanceID != nil && *req.InstanceID == "":
		return invalid("InstanceId can't be empty.")
	case req.RackID != nil && *req.RackID == "":
		return invalid("RackId can't be empty.")
	case req.Version >= 1 && req.MemberID == "":
		return invalid("MemberId can't be empty.")
	}
	switch e := req.MemberEpoch; {
	case e > 0 || e == -1:
		if req.MemberID == "" {
			return invalid("MemberId can't be empty.")
		}
	case e == 0:
		if req.RebalanceTimeoutMillis < 0 {
			return invalid("RebalanceTimeoutMs must be provided in first request.")
		}
		if req.Topics == nil || len(req.Topics) != 0 {
			return invalid("TopicPartitions must be empty when (re-)joining.")
		}
		if req.SubscribedTopicNames == nil && req.SubscribedTopicRegex == nil {
			return invalid("Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.")
		}
	case e == staticLeftEpoch:
		if req.InstanceID == nil {
			return invalid("InstanceId can't be null.")
		}
		if req.MemberID == "" {
			return invalid("MemberId can't be empty.")
		}
	default:
		return invalid("MemberEpoch is invalid.")
	}
	if req.ServerAssignor != nil {
		if _, ok := assignors[*req.ServerAssignor]; !ok {
			return fail(kerr.UnsupportedAssignor.Code, fmt.Sprintf("assignor %q is not supported; supported: uniform, range", *req.ServerAssignor))
		}
	}
	clientID, host := clientFrom(ctx)
	p := cgHeartbeat{
		version:            req.Version,
		memberID:           req.MemberID,
		epoch:              req.MemberEpoch,
		instanceID:         req.InstanceID,
		rackID:             req.RackID,
		rebalanceTimeoutMs: req.RebalanceTimeoutMillis,
		names:              req.SubscribedTopicNames,
		regex:              req.SubscribedTopicRegex,
		assignor:           req.ServerAssignor,
		owned:              assignmentFromRequest(req.Topics),
		full:               req.RebalanceTimeoutMillis != -1 && (req.SubscribedTopicNames != nil || req.SubscribedTopicRegex != nil) && req.Topics != nil,
		clientID:           clientID,
		clientHost:         host,
	}
	if p.names != nil {
		p.names = slices.Clone(p.names)
	}
	if p.regex != nil && *p.regex != "" {
		re, err := compileSubscriptionRegex(*p.regex)
		if err != nil {
			return fail(kerr.InvalidRegularExpression.Code, fmt.Sprintf("SubscribedTopicRegex %q: %v", *p.regex, err))
		}
		p.re = re
	}

	g := c.lockGroup(req.Group, req.MemberEpoch == 0)
	if g == nil {
		return fail(kerr.GroupIDNotFound.Code, fmt.Sprintf("consumer group %s not found", req.Group))
	}
	res := g.consumerHeartbeat(p)
	if res.err != 0 {
		g.removeIfFresh()
	}
	g.mu.Unlock()
	if res.err != 0 {
		return fail(res.err, res.msg)
	}
	resp.MemberID = kmsg.StringPtr(res.memberID)
	resp.MemberEpoch = res.epoch
	resp.HeartbeatIntervalMillis = c.cfg.ConsumerHeartbeatIntervalMs
	if res.assignment != nil {
		a := kmsg.NewConsumerGroupHeartbeatResponseAssignment()
		a.Topics = []kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic{}
		for _, id := range sortedIDs(res.assignment) {
			t := kmsg.NewConsumerGroupHeartbeatResponseAssignmentTopic()
			t.TopicID = id
			t.Partitions = slices.Clone(res.assignment[id])
			a.Topics = append(a.Topics, t)
		}
		resp.Assignment = &a
	}
	return resp
}

func sortedIDs(a assignment) [][16]byte {
	ids := make([][16]byte, 0, len(a))
	for id, ps := range a {
		if len(ps) > 0 {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(x, y [16]byte) int { return slices.Compare(x[:], y[:]) })
	return ids
}
