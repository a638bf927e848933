package group

// SyncGroup, API key 14, versions 0-5.
//
// Followers wait for the leader's assignment; v5 checks ProtocolType and
// Protocol against the group's (INCONSISTENT_GROUP_PROTOCOL).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup delivers the leader's assignment. Followers block until the
// leader syncs, ctx is done or the coordinator closes.
func (c *Coordinator) SyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	fill := func(r syncResult) *kmsg.SyncGroupResponse {
		resp.ErrorCode = r.err
		resp.MemberAssignment = []byte{}
		if r.err == 0 {
			resp.ProtocolType = kmsg.StringPtr(r.protocolType)
			resp.Protocol = kmsg.StringPtr(r.protocol)
			if r.assignment != nil {
				resp.MemberAssignment = r.assignment
			}
		}
		return resp
	}
	if c.isClosed() {
		return fill(syncResult{err: kerr.CoordinatorNotAvailable.Code})
	}
	if req.Group == "" {
		return fill(syncResult{err: kerr.InvalidGroupID.Code})
	}
	p := syncParams{
		memberID:    req.MemberID,
		generation:  req.Generation,
		assignments: req.GroupAssignment,
	}
	if req.Version >= 3 {
		p.instanceID = req.InstanceID
	}
	if req.Version >= 5 {
		p.protocolType, p.protocol = req.ProtocolType, req.Protocol
	}
	g := c.lockGroup(req.Group, false)
	if g == nil {
		return fill(syncResult{err: kerr.UnknownMemberID.Code})
	}
	res, wait := g.sync(p)
	g.mu.Unlock()
	if wait != nil {
		select {
		case res = <-wait:
		case <-ctx.Done():
			res = syncResult{err: kerr.RebalanceInProgress.Code}
		case <-c.closed:
			res = syncResult{err: kerr.CoordinatorNotAvailable.Code}
		}
	}
	return fill(res)
}
