package group

// Heartbeat, API key 12, versions 0-4.
//
// REBALANCE_IN_PROGRESS while the group prepares a rebalance, as Kafka;
// heartbeats during CompletingRebalance succeed (they refresh the session).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat keeps a classic member's session alive.
func (c *Coordinator) Heartbeat(ctx context.Context, req *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	if resp.ErrorCode = c.groupRequestCode(req.Group); resp.ErrorCode == 0 {
		g := c.lockGroup(req.Group, false)
		if g == nil {
			resp.ErrorCode = kerr.UnknownMemberID.Code
			return resp
		}
		var instanceID *string
		if req.Version >= 3 {
			instanceID = req.InstanceID
		}
		resp.ErrorCode = g.heartbeat(req.MemberID, instanceID, req.Generation)
		g.mu.Unlock()
	}
	return resp
}
