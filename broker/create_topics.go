package broker

// CreateTopics v0-7, including validate-only (v1+). -1 partitions or
// replication factor take the broker defaults (v4+ semantics are accepted on
// every version). Replica assignments may only name this node. Duplicate
// names in one request are INVALID_REQUEST for each copy, as in Kafka. v5+
// responses carry the topic's resulting configs. Kafka's internal topics
// (__consumer_offsets, __transaction_state) are TOPIC_AUTHORIZATION_FAILED:
// the broker creates them (internal_topics.go).

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleCreateTopics(c *clientConn, req *kmsg.CreateTopicsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	seen := map[string]int{}
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.CreateTopicsResponseTopic{Topic: rt.Topic, NumPartitions: -1, ReplicationFactor: -1}
		err := b.createTopic(req, rt, &st, seen[rt.Topic] > 1)
		if err != nil {
			st.ErrorCode = errorCode(err)
			st.ErrorMessage = errorMessage(err)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func (b *Broker) createTopic(req *kmsg.CreateTopicsRequest, rt kmsg.CreateTopicsRequestTopic, st *kmsg.CreateTopicsResponseTopic, duplicate bool) error {
	if duplicate {
		return kerrWith(kerr.InvalidRequest, fmt.Sprintf("topic %q appears more than once in the request", rt.Topic))
	}
	partitions, rf := rt.NumPartitions, rt.ReplicationFactor
	if len(rt.ReplicaAssignment) > 0 {
		if partitions != -1 || rf != -1 {
			return kerrWith(kerr.InvalidRequest, "give either a replica assignment or partitions and replication factor, not both")
		}
		seenPartition := map[int32]bool{}
		for _, a := range rt.ReplicaAssignment {
			if a.Partition < 0 || int(a.Partition) >= len(rt.ReplicaAssignment) || seenPartition[a.Partition] {
				return kerrWith(kerr.InvalidReplicaAssignment, fmt.Sprintf("partition %d: assignments must number partitions 0..%d once each", a.Partition, len(rt.ReplicaAssignment)-1))
			}
			seenPartition[a.Partition] = true
			if len(a.Replicas) != 1 || a.Replicas[0] != b.cfg.NodeID {
				return kerrWith(kerr.InvalidReplicaAssignment, fmt.Sprintf("replicas %v: this single-node cluster accepts only [%d]", a.Replicas, b.cfg.NodeID))
			}
		}
		partitions, rf = int32(len(rt.ReplicaAssignment)), 1
	}
	configs := map[string]string{}
	for _, cfg := range rt.Configs {
		if cfg.Value == nil {
			continue
		}
		configs[cfg.Name] = *cfg.Value
	}
	spec, err := b.topics.checkCreate(rt.Topic, partitions, rf, configs)
	if err != nil {
		return err
	}
	st.NumPartitions, st.ReplicationFactor = spec.partitions, 1
	if !req.ValidateOnly {
		t, err := b.topics.create(spec)
		if err != nil {
			return err
		}
		st.TopicID = t.id
	}
	// The values and sources DescribeConfigs would report.
	var describe kmsg.DescribeConfigsRequest
	for _, d := range topicConfigDefs {
		c := b.describeTopicConfig(&describe, d, spec.configs)
		st.Configs = append(st.Configs, kmsg.CreateTopicsResponseTopicConfig{Name: c.Name, Value: c.Value, ReadOnly: c.ReadOnly, Source: int8(c.Source)})
	}
	return nil
}
