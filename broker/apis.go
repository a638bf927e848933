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
	key      int16
	min, max int16
	handle   func(c *clientConn, req *request) kmsg.Response
}

const apiKeyApiVersions = 18

// handler adapts a typed handler method to the table's signature.
func handler[R kmsg.Request](fn func(*Broker, *clientConn, R) kmsg.Response) func(*clientConn, *request) kmsg.Response {
	return func(c *clientConn, r *request) kmsg.Response { return fn(c.b, c, r.kreq.(R)) }
}

func (b *Broker) apiTable() map[int16]api {
	list := []api{
		{0, 3, 13, handler((*Broker).handleProduce)},
		{1, 4, 18, handler((*Broker).handleFetch)},
		{2, 0, 11, handler((*Broker).handleListOffsets)},
		{3, 0, 13, handler((*Broker).handleMetadata)},
		{10, 0, 6, handler((*Broker).handleFindCoordinator)},
		{18, 0, 4, handler((*Broker).handleApiVersions)},
		{19, 0, 7, handler((*Broker).handleCreateTopics)},
		{20, 0, 6, handler((*Broker).handleDeleteTopics)},
		{21, 0, 2, handler((*Broker).handleDeleteRecords)},
		{23, 0, 4, handler((*Broker).handleOffsetForLeaderEpoch)},
		{32, 0, 4, handler((*Broker).handleDescribeConfigs)},
		{33, 0, 2, handler((*Broker).handleAlterConfigs)},
		{35, 0, 4, handler((*Broker).handleDescribeLogDirs)},
		{37, 0, 3, handler((*Broker).handleCreatePartitions)},
		{44, 0, 1, handler((*Broker).handleIncrementalAlterConfigs)},
		{60, 0, 1, handler((*Broker).handleDescribeCluster)},
		{75, 0, 0, handler((*Broker).handleDescribeTopicPartitions)},
	}
	list = append(list, b.groupAPIs()...)
	list = append(list, b.txnAPIs()...)
	m := make(map[int16]api, len(list))
	b.apiMetrics = make(map[int16]*apiMetrics, len(list))
	for _, a := range list {
		if a.max > kmsg.RequestForKey(a.key).MaxVersion() {
			panic("api table: version beyond kmsg for " + kmsg.NameForKey(a.key))
		}
		m[a.key] = a
		b.apiMetrics[a.key] = b.metrics.forAPI(kmsg.NameForKey(a.key))
	}
	return m
}
