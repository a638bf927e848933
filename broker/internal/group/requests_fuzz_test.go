package group

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/prescan"
)

// dispatch calls the handler for req, as the broker's API table does.
func dispatch(ctx context.Context, c *Coordinator, req kmsg.Request) kmsg.Response {
	switch r := req.(type) {
	case *kmsg.JoinGroupRequest:
		return c.JoinGroup(ctx, r)
	case *kmsg.SyncGroupRequest:
		return c.SyncGroup(ctx, r)
	case *kmsg.HeartbeatRequest:
		return c.Heartbeat(ctx, r)
	case *kmsg.LeaveGroupRequest:
		return c.LeaveGroup(ctx, r)
	case *kmsg.OffsetCommitRequest:
		return c.OffsetCommit(ctx, r)
	case *kmsg.OffsetFetchRequest:
		return c.OffsetFetch(ctx, r)
	case *kmsg.ListGroupsRequest:
		return c.ListGroups(ctx, r)
	case *kmsg.DescribeGroupsRequest:
		return c.DescribeGroups(ctx, r)
	case *kmsg.DeleteGroupsRequest:
		return c.DeleteGroups(ctx, r)
	case *kmsg.OffsetDeleteRequest:
		return c.OffsetDelete(ctx, r)
	case *kmsg.ConsumerGroupHeartbeatRequest:
		return c.ConsumerGroupHeartbeat(ctx, r)
	case *kmsg.ConsumerGroupDescribeRequest:
		return c.ConsumerGroupDescribe(ctx, r)
	case *kmsg.TxnOffsetCommitRequest:
		return c.TxnOffsetCommit(ctx, r)
	}
	return nil
}

// seedRequests returns one plausible request per API.
func seedRequests() []kmsg.Request {
	join := joinReq("g", "")
	sync := syncReq("g", "m", 1, map[string][]byte{"m": {1, 2}})
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID = "g", "m"
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Group = "g"
	leave.Members = []kmsg.LeaveGroupRequestMember{{MemberID: "m", InstanceID: kmsg.StringPtr("i")}}
	commit := commitReq("g", "", -1, commitPart{"t1", 0, 1, "x"})
	fetch := kmsg.NewPtrOffsetFetchRequest()
	fetch.Group = "g"
	list := kmsg.NewPtrListGroupsRequest()
	list.StatesFilter = []string{"Stable"}
	desc := kmsg.NewPtrDescribeGroupsRequest()
	desc.Groups = []string{"g", ""}
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Groups = []string{"g"}
	odel := kmsg.NewPtrOffsetDeleteRequest()
	odel.Group = "g"
	odel.Topics = []kmsg.OffsetDeleteRequestTopic{{Topic: "t1", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}}}
	cgh := consumerJoin("g", "m", "uniform", "a")
	cgh.SubscribedTopicRegex = kmsg.StringPtr("t.*")
	cgd := kmsg.NewPtrConsumerGroupDescribeRequest()
	cgd.Groups = []string{"g"}
	txn := kmsg.NewPtrTxnOffsetCommitRequest()
	txn.Group, txn.ProducerID = "g", 1
	txn.Topics = []kmsg.TxnOffsetCommitRequestTopic{{Topic: "t1", Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{{Partition: 0, Offset: 1}}}}
	return []kmsg.Request{join, sync, hb, leave, commit, fetch, list, desc, del, odel, cgh, cgd, txn}
}

// FuzzRequests decodes arbitrary bytes as any group API request of any
// version and hands it to the coordinator: nothing may panic or hang.
func FuzzRequests(f *testing.F) {
	c, err := New(testConfig(f.TempDir()), newTopics(defaultTestTopics), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	for _, req := range seedRequests() {
		for v := int16(0); v <= req.MaxVersion(); v++ {
			req.SetVersion(v)
			f.Add(req.Key(), v, req.AppendTo(nil))
		}
	}
	f.Fuzz(func(t *testing.T, key, version int16, body []byte) {
		req := kmsg.RequestForKey(key)
		if req == nil || version < 0 || version > req.MaxVersion() {
			return
		}
		req.SetVersion(version)
		// The broker checks every body before kmsg decodes it.
		if prescan.Check(key, version, req.IsFlexible(), body) != nil || req.ReadFrom(body) != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		resp := dispatch(ctx, c, req)
		if resp == nil {
			return
		}
		if resp.GetVersion() != version {
			t.Fatalf("key %d: response version %d for request version %d", key, resp.GetVersion(), version)
		}
		resp.AppendTo(nil) // the response must encode
	})
}

// TestHostileRequests sends requests with nil and negative fields, huge
// numbers and garbage metadata.
func TestHostileRequests(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(ctxT(t), 50*time.Millisecond)
	defer cancel()
	j := joinReq("h", "", withVersion(3))
	j.SessionTimeoutMillis = 1 << 30
	j.RebalanceTimeoutMillis = -5
	j.Protocols[0].Metadata = nil
	e.c.JoinGroup(ctx, j)
	for _, r := range []kmsg.Request{
		&kmsg.OffsetCommitRequest{Version: 9, Group: "h", Generation: -7, Topics: []kmsg.OffsetCommitRequestTopic{{Topic: "t1", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: -1 << 31, Offset: -1 << 63}}}}},
		&kmsg.OffsetFetchRequest{Version: 8, Groups: []kmsg.OffsetFetchRequestGroup{{Group: "h", Topics: []kmsg.OffsetFetchRequestGroupTopic{{Topic: "t1", Partitions: []int32{-1, 1 << 30}}}}}},
		&kmsg.OffsetFetchRequest{Version: 1},
		&kmsg.LeaveGroupRequest{Version: 5, Group: "h"},
		&kmsg.SyncGroupRequest{Version: 5, Group: "h", Generation: 1 << 30},
		&kmsg.ConsumerGroupHeartbeatRequest{Version: 1, Group: "h2", MemberID: "m", MemberEpoch: 1 << 30},
		&kmsg.ConsumerGroupHeartbeatRequest{Version: 1, Group: "h2", MemberID: "m", RebalanceTimeoutMillis: 0, SubscribedTopicNames: []string{"a", "a", ""}, Topics: []kmsg.ConsumerGroupHeartbeatRequestTopic{}},
		&kmsg.ConsumerGroupHeartbeatRequest{Version: 1, Group: "h2", MemberID: "m", MemberEpoch: 1, Topics: []kmsg.ConsumerGroupHeartbeatRequestTopic{{Partitions: []int32{-1, 1 << 30}}}},
		&kmsg.OffsetDeleteRequest{Group: "h", Topics: []kmsg.OffsetDeleteRequestTopic{{Topic: "t1", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: -4}}}}},
		&kmsg.TxnOffsetCommitRequest{Version: 6, Group: "h", Topics: []kmsg.TxnOffsetCommitRequestTopic{{}}},
		&kmsg.DescribeGroupsRequest{Version: 6},
		&kmsg.DeleteGroupsRequest{Version: 3, Groups: []string{"", "h"}},
	} {
		resp := dispatch(ctx, e.c, r)
		resp.AppendTo(nil)
	}
}
