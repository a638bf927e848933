package broker

// DeleteRecords v0-2: advances a partition's log start offset. Offset -1
// means the high watermark. An offset past the high watermark is
// OFFSET_OUT_OF_RANGE, as in Kafka; an internal topic is
// INVALID_TOPIC_EXCEPTION, as in Kafka.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDeleteRecords(c *clientConn, req *kmsg.DeleteRecordsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, rt := range req.Topics {
		st := kmsg.DeleteRecordsResponseTopic{Topic: rt.Topic}
		t := b.topics.get(rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.DeleteRecordsResponseTopicPartition{Partition: rp.Partition, LowWatermark: -1}
			p := t.partition(rp.Partition)
			switch {
			case p == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case t.internal:
				sp.ErrorCode = kerr.InvalidTopicException.Code // as Kafka: "Cannot delete records of internal topic"
			case rp.Offset < -1 || rp.Offset > p.highWatermark():
				sp.ErrorCode = kerr.OffsetOutOfRange.Code
			default:
				off := rp.Offset
				if off == -1 {
					off = p.highWatermark()
				}
				start, err := p.log.DeleteRecords(off)
				if err != nil {
					sp.ErrorCode = errorCode(err)
				} else {
					sp.LowWatermark = start
					p.appendMu.Lock()
					p.producers.truncateBefore(start)
					p.appendMu.Unlock()
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
