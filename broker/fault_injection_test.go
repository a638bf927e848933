package broker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestFaultInjection(t *testing.T) {
	faults := &broker.Faults{}
	b := testkit.StartBroker(t, testkit.WithFaults(faults))
	testkit.CreateTopic(t, b.Addr, "faulty", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("produce answered NOT_LEADER_FOR_PARTITION is retried, written once", func(t *testing.T) {
		faults.Next(kmsg.Produce, 2, broker.Fault{ErrorCode: kerr.NotLeaderForPartition.Code})
		cl := testkit.Client(t, b.Addr, kgo.MetadataMinAge(10*time.Millisecond),
			kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }))
		r := &kgo.Record{Topic: "faulty", Partition: 0, Value: []byte("once")}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if n := faults.Injected(kmsg.Produce); n != 2 {
			t.Fatalf("%d produce requests faulted, want 2", n)
		}
		got := testkit.Consume(t, b.Addr, "faulty", 1)
		if len(got) != 1 || string(got[0].Value) != "once" {
			t.Fatalf("after two refused attempts the topic holds %d records, want the one record once", len(got))
		}
	})

	t.Run("COORDINATOR_LOAD_IN_PROGRESS and a slow JoinGroup delay a group, which still forms", func(t *testing.T) {
		faults.Next(kmsg.FindCoordinator, 3, broker.Fault{ErrorCode: kerr.CoordinatorLoadInProgress.Code})
		const delay = 300 * time.Millisecond
		faults.Next(kmsg.JoinGroup, 1, broker.Fault{Delay: delay})
		start := time.Now()
		cl := testkit.Client(t, b.Addr, kgo.ConsumerGroup("faulty-group"), kgo.ConsumeTopics("faulty"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }))
		for {
			fs := cl.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				t.Fatal("no records through the group:", err)
			}
			if fs.NumRecords() > 0 {
				break
			}
		}
		if err := cl.CommitUncommittedOffsets(ctx); err != nil {
			t.Fatal(err)
		}
		if n := faults.Injected(kmsg.FindCoordinator); n != 3 {
			t.Fatalf("%d FindCoordinator requests faulted, want 3", n)
		}
		if n := faults.Injected(kmsg.JoinGroup); n != 1 {
			t.Fatalf("%d JoinGroup requests delayed, want 1", n)
		}
		if took := time.Since(start); took < delay {
			t.Fatalf("the group formed in %s, before the JoinGroup delay of %s ran out", took, delay)
		}
	})

	t.Run("a dropped connection is reconnected", func(t *testing.T) {
		cl := testkit.Client(t, b.Addr)
		req := kmsg.NewPtrMetadataRequest()
		if _, err := req.RequestWith(ctx, cl); err != nil { // connects
			t.Fatal(err)
		}
		faults.Next(kmsg.Metadata, 1, broker.Fault{DropConnection: true})
		before := faults.Injected(kmsg.Metadata)
		if _, err := req.RequestWith(ctx, cl); err == nil {
			t.Fatal("a request on a dropped connection succeeded")
		}
		if _, err := req.RequestWith(ctx, cl); err != nil {
			t.Fatalf("no new connection after the drop: %v", err)
		}
		if n := faults.Injected(kmsg.Metadata) - before; n != 1 {
			t.Fatalf("%d metadata requests dropped, want 1", n)
		}
	})

	t.Run("When matches requests until Clear", func(t *testing.T) {
		faults.When(kmsg.ListOffsets, func(r kmsg.Request) bool {
			return len(r.(*kmsg.ListOffsetsRequest).Topics) > 0
		}, broker.Fault{ErrorCode: kerr.UnknownServerError.Code})
		cl := testkit.Client(t, b.Addr, kgo.RequestRetries(0))
		req := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "faulty"
		for p := range int32(2) {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition, rp.Timestamp = p, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		for range 2 {
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 2 ||
				!errors.Is(kerr.ErrorForCode(resp.Topics[0].Partitions[1].ErrorCode), kerr.UnknownServerError) {
				t.Fatalf("faulted ListOffsets answered %+v", resp.Topics)
			}
		}
		faults.Clear()
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, p := range resp.Topics[0].Partitions {
			if p.ErrorCode != 0 {
				t.Fatalf("after Clear: partition %d answered error %d", p.Partition, p.ErrorCode)
			}
			total += p.Offset
		}
		if total != 1 {
			t.Fatalf("after Clear: end offsets add up to %d, want the 1 record produced", total)
		}
	})
}
