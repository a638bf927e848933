package group

// JoinGroup, API key 11, versions 0-9.
//
// v4+ answers a join without a member id with MEMBER_ID_REQUIRED and a
// generated id (KIP-394); v5+ supports static membership (KIP-345); v9 sets
// SkipAssignment for a returning static leader (KIP-814). Member ids are
// "<client id>-<uuid>" as in Kafka. A join for a KIP-848 group that has
// members is rejected with INCONSISTENT_GROUP_PROTOCOL; an empty KIP-848
// group is converted to a classic one.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// JoinGroup joins a member to a classic group. It blocks until the
// rebalance completes, ctx is done or the coordinator closes.
func (c *Coordinator) JoinGroup(ctx context.Context, req *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	fill := func(r joinResult) *kmsg.JoinGroupResponse {
		resp.ErrorCode = r.err
		resp.MemberID = r.memberID
		resp.Generation = r.generation
		if r.err == 0 {
			resp.ProtocolType = kmsg.StringPtr(r.protocolType)
			resp.Protocol = kmsg.StringPtr(r.protocol)
			resp.LeaderID = r.leader
			resp.SkipAssignment = r.skipAssignment && req.Version >= 9
			resp.Members = r.members
		}
		return resp
	}
	if c.isClosed() {
		return fill(errJoin(kerr.CoordinatorNotAvailable.Code, req.MemberID))
	}
	if req.Group == "" {
		return fill(errJoin(kerr.InvalidGroupID.Code, req.MemberID))
	}
	if req.SessionTimeoutMillis < c.cfg.MinSessionTimeoutMs || req.SessionTimeoutMillis > c.cfg.MaxSessionTimeoutMs {
		return fill(errJoin(kerr.InvalidSessionTimeout.Code, req.MemberID))
	}
	clientID, host := clientFrom(ctx)
	p := joinParams{
		memberID:           req.MemberID,
		clientID:           clientID,
		clientHost:         host,
		protocolType:       req.ProtocolType,
		sessionTimeoutMs:   req.SessionTimeoutMillis,
		rebalanceTimeoutMs: req.RebalanceTimeoutMillis,
		requireKnownID:     req.Version >= 4,
	}
	if req.Version == 0 || p.rebalanceTimeoutMs <= 0 {
		p.rebalanceTimeoutMs = p.sessionTimeoutMs // v0 has no rebalance timeout
	}
	if req.Version >= 5 && req.InstanceID != nil && *req.InstanceID != "" {
		id := *req.InstanceID
		p.instanceID = &id
	}
	for _, pr := range req.Protocols {
		p.protocols = append(p.protocols, protocol{name: pr.Name, metadata: append([]byte{}, pr.Metadata...)})
	}

	g := c.lockGroup(req.Group, req.MemberID == "")
	if g == nil {
		return fill(errJoin(kerr.UnknownMemberID.Code, req.MemberID))
	}
	res, wait := g.join(p)
	if wait == nil {
		g.removeIfFresh()
	}
	g.mu.Unlock()
	if wait != nil {
		select {
		case res = <-wait:
		case <-ctx.Done():
			// The client is gone; it stays a member until the join
			// completes and its session expires, as in Kafka.
			res = errJoin(kerr.RebalanceInProgress.Code, req.MemberID)
		case <-c.closed:
			res = errJoin(kerr.CoordinatorNotAvailable.Code, req.MemberID)
		}
	}
	return fill(res)
}
