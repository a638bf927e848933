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
	switch {
	case c.isClosed():
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
	case req.Group == "":
		resp.ErrorCode = kerr.InvalidGroupID.Code
	default:
		g := c.lockGroup(req.Group, false)
		if g == nil {
			resp.ErrorCode = kerr.UnknownMemberID.Code
			break
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
