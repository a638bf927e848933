package broker

// CreatePartitions v0-3, including validate-only. Explicit assignments may
// only name this node. Kafka's internal topics are TOPIC_AUTHORIZATION_FAILED
// (internal_topics.go).

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleCreatePartitions(c *clientConn, req *kmsg.CreatePartitionsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	seen := map[string]int{}
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.CreatePartitionsResponseTopic{Topic: rt.Topic}
		var err error
		if seen[rt.Topic] > 1 {
			err = kerrWith(kerr.InvalidRequest, fmt.Sprintf("topic %q appears more than once in the request", rt.Topic))
		}
		for _, a := range rt.Assignment {
			if err == nil && (len(a.Replicas) != 1 || a.Replicas[0] != b.cfg.NodeID) {
				err = kerrWith(kerr.InvalidReplicaAssignment, fmt.Sprintf("replicas %v: this single-node cluster accepts only [%d]", a.Replicas, b.cfg.NodeID))
			}
		}
		if err == nil {
			err = b.topics.addPartitions(rt.Topic, rt.Count, req.ValidateOnly)
		}
		if err != nil {
			st.ErrorCode = errorCode(err)
			st.ErrorMessage = errorMessage(err)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
