package broker

// FindCoordinator v0-6, including batched keys (v4+). This node coordinates
// every group (type 0) and every transactional id (type 1). An empty key is
// INVALID_REQUEST, as in Kafka; other coordinator types are INVALID_REQUEST
// too (share groups are not served).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleFindCoordinator(c *clientConn, req *kmsg.FindCoordinatorRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	find := func(key string) (int16, *string) {
		if req.CoordinatorType != 0 && req.CoordinatorType != 1 {
			msg := "coordinator type must be 0 (group) or 1 (transaction)"
			return kerr.InvalidRequest.Code, &msg
		}
		if key == "" {
			msg := "the coordinator key is empty"
			return kerr.InvalidRequest.Code, &msg
		}
		return 0, nil
	}
	if req.Version < 4 {
		resp.ErrorCode, resp.ErrorMessage = find(req.CoordinatorKey)
		resp.NodeID, resp.Host, resp.Port = b.cfg.NodeID, c.listener.advHost, c.listener.advPort
		if resp.ErrorCode != 0 {
			resp.NodeID, resp.Host, resp.Port = -1, "", -1
		}
		return resp
	}
	for _, key := range req.CoordinatorKeys {
		co := kmsg.FindCoordinatorResponseCoordinator{Key: key, NodeID: b.cfg.NodeID, Host: c.listener.advHost, Port: c.listener.advPort}
		co.ErrorCode, co.ErrorMessage = find(key)
		if co.ErrorCode != 0 {
			co.NodeID, co.Host, co.Port = -1, "", -1
		}
		resp.Coordinators = append(resp.Coordinators, co)
	}
	return resp
}
