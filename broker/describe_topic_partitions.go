package broker

// DescribeTopicPartitions v0 (KIP-966): topics in name order with their
// partitions, paged by ResponsePartitionLimit (default 2000, as in Kafka)
// and the cursor. An empty topic list describes every topic. A cursor with a
// negative partition or naming a topic that is not requested is
// INVALID_REQUEST for every requested topic.

import (
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDescribeTopicPartitions(c *clientConn, req *kmsg.DescribeTopicPartitionsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeTopicPartitionsResponse)
	limit := int(req.ResponsePartitionLimit)
	if limit <= 0 || limit > 2000 {
		limit = 2000
	}
	var names []string
	if len(req.Topics) == 0 {
		for _, t := range b.topics.list() {
			names = append(names, t.name)
		}
	} else {
		for _, rt := range req.Topics {
			names = append(names, rt.Topic)
		}
		sort.Strings(names)
	}
	startPartition := int32(0)
	if req.Cursor != nil {
		if req.Cursor.Partition < 0 || (len(req.Topics) > 0 && !slices.Contains(names, req.Cursor.Topic)) {
			// Kafka fails the whole request: each requested topic carries
			// INVALID_REQUEST.
			for _, rt := range req.Topics {
				n := rt.Topic
				resp.Topics = append(resp.Topics, kmsg.DescribeTopicPartitionsResponseTopic{Topic: &n,
					ErrorCode: kerr.InvalidRequest.Code, AuthorizedOperations: -2147483648})
			}
			return resp
		}
		i := sort.SearchStrings(names, req.Cursor.Topic)
		names = names[i:]
		startPartition = req.Cursor.Partition
	}
	replicas := []int32{b.cfg.NodeID}
	count := 0
	for ni, name := range names {
		if count == limit {
			// A full page names the next topic in the cursor rather than
			// listing it empty, as Kafka does.
			resp.NextCursor = &kmsg.DescribeTopicPartitionsResponseNextCursor{Topic: name, Partition: 0}
			return resp
		}
		n := name
		st := kmsg.DescribeTopicPartitionsResponseTopic{Topic: &n, AuthorizedOperations: -2147483648}
		t := b.topics.get(name)
		if t == nil {
			st.ErrorCode = kerr.UnknownTopicOrPartition.Code
			resp.Topics = append(resp.Topics, st)
			continue
		}
		st.TopicID, st.IsInternal = t.id, t.internal
		first := int32(0)
		if ni == 0 {
			first = startPartition
		}
		for i := first; i < t.numPartitions(); i++ {
			if count == limit {
				resp.Topics = append(resp.Topics, st)
				resp.NextCursor = &kmsg.DescribeTopicPartitionsResponseNextCursor{Topic: name, Partition: i}
				return resp
			}
			st.Partitions = append(st.Partitions, kmsg.DescribeTopicPartitionsResponseTopicPartition{
				Partition: i, LeaderID: b.cfg.NodeID, Replicas: replicas, ISR: replicas,
				EligibleLeaderReplicas: []int32{}, LastKnownELR: []int32{}, OfflineReplicas: []int32{},
			})
			count++
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
