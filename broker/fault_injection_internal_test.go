package broker

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// An injected error answers every subject the request named.
func TestErrorResponseMirrorsRequest(t *testing.T) {
	code := kerr.NotLeaderForPartition.Code
	pr := kmsg.NewPtrProduceRequest()
	pr.Version = 9
	for _, topic := range []string{"a", "b"} {
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		for p := range int32(3) {
			rp := kmsg.NewProduceRequestTopicPartition()
			rp.Partition = p
			rp.Records = []byte("batch bytes")
			rt.Partitions = append(rt.Partitions, rp)
		}
		pr.Topics = append(pr.Topics, rt)
	}
	resp := errorResponse(pr, code).(*kmsg.ProduceResponse)
	if resp.Version != 9 || len(resp.Topics) != 2 {
		t.Fatalf("version %d, %d topics", resp.Version, len(resp.Topics))
	}
	for i, rt := range resp.Topics {
		if rt.Topic != pr.Topics[i].Topic || len(rt.Partitions) != 3 {
			t.Fatalf("topic %d: %q with %d partitions", i, rt.Topic, len(rt.Partitions))
		}
		for p, sp := range rt.Partitions {
			if sp.Partition != int32(p) || sp.ErrorCode != code {
				t.Fatalf("topic %s partition %d answered %+v", rt.Topic, p, sp)
			}
		}
	}

	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.Version = 4
	fc.CoordinatorKeys = []string{"g1", "g2"}
	fresp := errorResponse(fc, kerr.CoordinatorLoadInProgress.Code).(*kmsg.FindCoordinatorResponse)
	if len(fresp.Coordinators) != 2 || fresp.Coordinators[1].Key != "g2" ||
		fresp.Coordinators[1].ErrorCode != kerr.CoordinatorLoadInProgress.Code || fresp.Coordinators[1].NodeID != -1 ||
		fresp.ErrorCode != kerr.CoordinatorLoadInProgress.Code || fresp.NodeID != -1 {
		t.Fatalf("FindCoordinator answered %+v", fresp)
	}

	jg := kmsg.NewPtrJoinGroupRequest()
	jg.Group, jg.MemberID = "g", "m-1"
	jresp := errorResponse(jg, kerr.RebalanceInProgress.Code).(*kmsg.JoinGroupResponse)
	if jresp.ErrorCode != kerr.RebalanceInProgress.Code || jresp.MemberID != "m-1" {
		t.Fatalf("JoinGroup answered %+v", jresp)
	}
}
