package broker

// The API table: every protocol API the broker serves, with its handler and
// version range. ApiVersions is generated from this table and nothing else.
//
// Minimum versions are kept low on purpose: librdkafka switches features on
// only when the advertised range overlaps its pinned versions, and
// segmentio/kafka-go hardcodes old versions on its group path. Record format
// v2 is the only one stored, hence Produce v3+ and Fetch v4+.

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

type api struct {
	key      kmsg.Key
	min, max int16
	handle   func(c *clientConn, req *request) kmsg.Response
}

const apiKeyApiVersions = int16(kmsg.ApiVersions)

// handler adapts a typed handler method to the table's signature.
func handler[R kmsg.Request](fn func(*Broker, *clientConn, R) kmsg.Response) func(*clientConn, *request) kmsg.Response {
	return func(c *clientConn, r *request) kmsg.Response { return fn(c.b, c, r.kreq.(R)) }
}

func (b *Broker) apiTable() map[int16]api {
	list := []api{
		{kmsg.Produce, 3, 13, handler((*Broker).handleProduce)},
		{kmsg.Fetch, 4, 18, handler((*Broker).handleFetch)},
		{kmsg.ListOffsets, 0, 11, handler((*Broker).handleListOffsets)},
		{kmsg.Metadata, 0, 13, handler((*Broker).handleMetadata)},
		{kmsg.FindCoordinator, 0, 6, handler((*Broker).handleFindCoordinator)},
		{kmsg.ApiVersions, 0, 4, handler((*Broker).handleApiVersions)},
		{kmsg.CreateTopics, 0, 7, handler((*Broker).handleCreateTopics)},
		{kmsg.DeleteTopics, 0, 6, handler((*Broker).handleDeleteTopics)},
		{kmsg.DeleteRecords, 0, 2, handler((*Broker).handleDeleteRecords)},
		{kmsg.OffsetForLeaderEpoch, 0, 4, handler((*Broker).handleOffsetForLeaderEpoch)},
		{kmsg.DescribeConfigs, 0, 4, handler((*Broker).handleDescribeConfigs)},
		{kmsg.AlterConfigs, 0, 2, handler((*Broker).handleAlterConfigs)},
		{kmsg.DescribeLogDirs, 0, 4, handler((*Broker).handleDescribeLogDirs)},
		{kmsg.CreatePartitions, 0, 3, handler((*Broker).handleCreatePartitions)},
		{kmsg.IncrementalAlterConfigs, 0, 1, handler((*Broker).handleIncrementalAlterConfigs)},
		{kmsg.DescribeCluster, 0, 1, handler((*Broker).handleDescribeCluster)},
		{kmsg.DescribeTopicPartitions, 0, 0, handler((*Broker).handleDescribeTopicPartitions)},
	}
	list = append(list, b.groupAPIs()...)
	list = append(list, b.txnAPIs()...)
	list = append(list, b.securityAPIs()...)
	list = append(list, b.saslAPIs()...)
	m := make(map[int16]api, len(list))
	b.apiMetrics = make(map[int16]*apiMetrics, len(list))
	for _, a := range list {
		if a.max > a.key.Request().MaxVersion() {
			panic("api table: version beyond kmsg for " + a.key.Name())
		}
		m[int16(a.key)] = a
		b.apiMetrics[int16(a.key)] = b.metrics.forAPI(a.key.Name())
	}
	return m
}
