package broker

// Metadata v0-13. This node is the leader, sole replica and sole ISR member
// of every partition; leader epochs are always 0. Missing topics are created
// when auto.create.topics.enable is on and the request allows it (v4+; always
// allowed before v4, as in Kafka). Creation is synchronous, so a new topic is
// returned ready rather than with LEADER_NOT_AVAILABLE. An internal topic
// asked for this way is created as the broker keeps it (internal_topics.go),
// never as an ordinary topic; internal topics are listed with is_internal.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// brokerList is this node, at the address of the listener c came in on.
func (b *Broker) brokerList(c *clientConn) []kmsg.MetadataResponseBroker {
	return []kmsg.MetadataResponseBroker{{NodeID: b.cfg.NodeID, Host: c.listener.advHost, Port: c.listener.advPort}}
}

func (b *Broker) handleMetadata(c *clientConn, req *kmsg.MetadataRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	resp.Brokers = b.brokerList(c)
	resp.ClusterID = &b.clusterID
	resp.ControllerID = b.cfg.NodeID
	resp.AuthorizedOperations = -2147483648

	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	if all {
		for _, t := range b.topics.list() {
			resp.Topics = append(resp.Topics, b.topicMetadata(t))
		}
		return resp
	}
	autoCreate := !b.cfg.DisableAutoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation)
	for _, rt := range req.Topics {
		var t *topic
		var name string
		if rt.Topic != nil {
			name = *rt.Topic
			t = b.topics.get(name)
		} else {
			t = b.topics.getByID(rt.TopicID)
		}
		if t == nil && rt.Topic != nil && autoCreate {
			var err error
			if isInternalTopic(name) {
				t, err = b.internalTopics.ensure(name)
			} else {
				t, err = b.topics.autoCreate(name)
			}
			if err != nil {
				n := name
				code := errorCode(err)
				resp.Topics = append(resp.Topics, kmsg.MetadataResponseTopic{Topic: &n, ErrorCode: code, AuthorizedOperations: -2147483648})
				continue
			}
		}
		if t == nil {
			mt := kmsg.MetadataResponseTopic{ErrorCode: kerr.UnknownTopicOrPartition.Code, TopicID: rt.TopicID, AuthorizedOperations: -2147483648}
			if rt.Topic != nil {
				n := name
				mt.Topic = &n
				if validateTopicName(name) != nil {
					mt.ErrorCode = kerr.InvalidTopicException.Code
				}
			} else {
				mt.ErrorCode = kerr.UnknownTopicID.Code
			}
			resp.Topics = append(resp.Topics, mt)
			continue
		}
		resp.Topics = append(resp.Topics, b.topicMetadata(t))
	}
	return resp
}

func (b *Broker) topicMetadata(t *topic) kmsg.MetadataResponseTopic {
	name := t.name
	mt := kmsg.MetadataResponseTopic{Topic: &name, TopicID: t.id, IsInternal: t.internal, AuthorizedOperations: -2147483648}
	n := t.numPartitions()
	mt.Partitions = make([]kmsg.MetadataResponseTopicPartition, n)
	replicas := []int32{b.cfg.NodeID}
	for i := int32(0); i < n; i++ {
		mt.Partitions[i] = kmsg.MetadataResponseTopicPartition{
			Partition: i, Leader: b.cfg.NodeID, Replicas: replicas, ISR: replicas, OfflineReplicas: []int32{},
		}
	}
	return mt
}
