package broker

// DescribeCluster v0-1: this node is the whole cluster and its controller.
// Endpoint type 2 (controllers) is answered with this node too, since it
// also holds the metadata.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDescribeCluster(c *clientConn, req *kmsg.DescribeClusterRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.EndpointType = req.EndpointType
	if req.Version >= 1 && req.EndpointType != 1 && req.EndpointType != 2 {
		resp.ErrorCode = kerr.UnsupportedEndpointType.Code
		return resp
	}
	resp.ClusterID = b.clusterID
	resp.ControllerID = b.cfg.NodeID
	resp.ClusterAuthorizedOperations = -2147483648
	resp.Brokers = []kmsg.DescribeClusterResponseBroker{{NodeID: b.cfg.NodeID, Host: c.listener.advHost, Port: c.listener.advPort}}
	return resp
}
