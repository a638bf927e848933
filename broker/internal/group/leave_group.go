package group

// LeaveGroup, API key 13, versions 0-5.
//
// v0-2 remove one member (MemberID); v3+ remove a batch identified by member
// id and/or group.instance.id, with a per-member error code.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// LeaveGroup removes members from a classic group, triggering a rebalance.
func (c *Coordinator) LeaveGroup(ctx context.Context, req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	members := req.Members
	if req.Version < 3 {
		members = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	for _, m := range members {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID = m.MemberID, m.InstanceID
		resp.Members = append(resp.Members, rm)
	}
	setAll := func(code int16) *kmsg.LeaveGroupResponse {
		resp.ErrorCode = code
		for i := range resp.Members {
			resp.Members[i].ErrorCode = code
		}
		if req.Version < 3 {
			resp.Members = nil
		}
		return resp
	}
	if code := c.groupRequestCode(req.Group); code != 0 {
		return setAll(code)
	}
	g := c.lockGroup(req.Group, false)
	if g == nil {
		return setAll(kerr.UnknownMemberID.Code)
	}
	defer g.mu.Unlock()
	for i, m := range members {
		resp.Members[i].ErrorCode = g.leave(m.MemberID, m.InstanceID)
	}
	if req.Version < 3 {
		resp.ErrorCode = resp.Members[0].ErrorCode
		resp.Members = nil
	}
	return resp
}
