package broker

// ListOffsets v0-11. Special timestamps: -1 latest (the high watermark, or
// the last stable offset for read_committed), -2 earliest (log start), -3 the
// record with the largest timestamp (v7+), -4 earliest local (v8+; the log
// start, as there is no tiered storage), -5 earliest pending upload (v9+;
// -1, as nothing is tiered). A timestamp >= 0 finds the first record at or
// after it through the time index; none found gives offset -1. v0 answers in
// the old form, a list with one offset.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleListOffsets(c *clientConn, req *kmsg.ListOffsetsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		st := kmsg.ListOffsetsResponseTopic{Topic: rt.Topic}
		t := b.topics.get(rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.ListOffsetsResponseTopicPartition{Partition: rp.Partition, Timestamp: -1, Offset: -1, LeaderEpoch: -1}
			p := t.partition(rp.Partition)
			switch {
			case p == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case rp.CurrentLeaderEpoch > 0:
				// Leader epochs here are always 0; a client that knows a
				// newer one has metadata from a different cluster.
				sp.ErrorCode = kerr.UnknownLeaderEpoch.Code
			default:
				sp.LeaderEpoch = 0
				switch ts := rp.Timestamp; {
				case ts == -1:
					sp.Offset = p.highWatermark()
					if req.IsolationLevel == 1 {
						sp.Offset = p.lastStableOffset()
					}
				case ts == -2 || (ts == -4 && req.Version >= 8):
					sp.Offset = p.log.StartOffset()
				case ts == -3 && req.Version >= 7:
					sp.Offset, sp.Timestamp = p.log.MaxTimestamp()
				case ts == -5 && req.Version >= 9:
				case ts >= 0:
					if off, ts, ok := p.log.OffsetForTimestamp(ts); ok {
						sp.Offset, sp.Timestamp = off, ts
						if req.IsolationLevel == 1 && off >= p.lastStableOffset() {
							sp.Offset, sp.Timestamp = -1, -1
						}
					}
				default:
					sp.ErrorCode = kerr.InvalidRequest.Code
				}
			}
			if req.Version == 0 && sp.ErrorCode == 0 {
				if rp.MaxNumOffsets > 0 {
					sp.OldStyleOffsets = []int64{sp.Offset}
				} else {
					sp.OldStyleOffsets = []int64{}
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
