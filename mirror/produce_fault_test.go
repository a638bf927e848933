package mirror_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker"
	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/mirror"
)

// The target refuses the copies with an error the producer does not
// retry, while later produce requests (already in flight, or sent before
// the task notices) may succeed: the task must stop, and restart from
// positions that cover only what came before the refused records, so
// once the target takes records again every one arrives.
func TestFlowRefusedCopiesAreCopiedAfterRestart(t *testing.T) {
	faults := &broker.Faults{}
	a, b := testkit.StartBroker(t), testkit.StartBroker(t, testkit.WithFaults(faults))
	createTopic(t, a.Addr, "orders", 2)
	first := sourceRecords("orders", 2, 300)
	produce(t, a.Addr, first...)
	m := startMirror(t, twoClusters(a.Addr, b.Addr)+`
A->B.enabled = true
A->B.topics = orders
`)
	checkCopied(t, first, consumeN(t, b.Addr, "A.orders", len(first), 30*time.Second))

	topics, err := admin(t, b.Addr).ListTopics(t.Context(), "A.orders")
	if err != nil {
		t.Fatal(err)
	}
	id := topics["A.orders"].ID
	faults.When(kmsg.Produce, func(req kmsg.Request) bool {
		for _, pt := range req.(*kmsg.ProduceRequest).Topics {
			if pt.Topic == "A.orders" || pt.TopicID == id {
				return true
			}
		}
		return false
	}, broker.Fault{ErrorCode: kerr.InvalidRecord.Code})
	more := sourceRange("orders", 2, 300, 600)
	produce(t, a.Addr, more...)
	testkit.Eventually(t, 30*time.Second, func() error {
		if err := flowStatus(m, "A->B").Err; err == nil || !strings.Contains(err.Error(), kerr.InvalidRecord.Message) {
			return fmt.Errorf("flow status %v, want the refused copy", err)
		}
		return nil
	})
	faults.Clear()
	if faults.Injected(kmsg.Produce) == 0 {
		t.Fatal("no produce request refused")
	}

	all := append(first, more...)
	log := &sourceLog{offset: map[string]int64{}, part: map[string]int32{}}
	for _, r := range all {
		log.offset[string(r.Value)], log.part[string(r.Value)] = r.Offset, r.Partition
	}
	got, missing := awaitCopies(t, b.Addr, "A.orders", log, 60*time.Second)
	if len(missing) > 0 {
		t.Fatalf("%d records never copied after the target took records again, e.g. %s", len(missing), missing[0])
	}
	seen := map[string]bool{}
	firstSeen := map[int32]int64{0: -1, 1: -1}
	for _, r := range byPartitionFlat(got) {
		h, _ := header(r, mirror.SourceOffsetHeaderKey)
		src, err := strconv.ParseInt(h, 10, 64)
		if v := string(r.Value); err != nil || src != log.offset[v] || r.Partition != log.part[v] {
			t.Fatalf("record %s at %d/%d carries source offset %q; it is at %d/%d", v, r.Partition, r.Offset, h, log.part[v], log.offset[v])
		}
		if !seen[string(r.Value)] {
			seen[string(r.Value)] = true
			if src <= firstSeen[r.Partition] {
				t.Fatalf("partition %d: first copy of offset %d after %d", r.Partition, src, firstSeen[r.Partition])
			}
			firstSeen[r.Partition] = src
		}
	}
	t.Logf("%d produce requests refused; %d records read for %d source records", faults.Injected(kmsg.Produce), len(got), len(all))
}
