package mirror_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/mirror"
)

// Two mirrors started with the same file split a flow's tasks; when one
// stops, the other takes them all and copying goes on.
func TestMirrorsWithTheSameFileShareTasks(t *testing.T) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	createTopic(t, a.Addr, "orders", 8)
	first := produce(t, a.Addr, sourceRecords("orders", 8, 10)...)
	text := twoClusters(a.Addr, b.Addr) + "A->B.enabled = true\ntasks.max = 4\n"
	m1 := startMirror(t, text)
	m2 := startMirror(t, text)
	testkit.Eventually(t, 30*time.Second, func() error {
		t1, t2 := flowStatus(m1, "A->B").Tasks, flowStatus(m2, "A->B").Tasks
		all := append(slices.Clone(t1), t2...)
		slices.Sort(all)
		if len(t1) == 0 || len(t2) == 0 || !slices.Equal(all, []int{0, 1, 2, 3}) {
			return fmt.Errorf("tasks %v and %v, want 0-3 split between both", t1, t2)
		}
		return nil
	})
	checkCopied(t, first, consumeN(t, b.Addr, "A.orders", len(first), 30*time.Second))

	m1.Close()
	testkit.Eventually(t, 30*time.Second, func() error {
		if got := flowStatus(m2, "A->B").Tasks; !slices.Equal(got, []int{0, 1, 2, 3}) {
			return fmt.Errorf("remaining mirror runs tasks %v", got)
		}
		return nil
	})
	more := produce(t, a.Addr, sourceRange("orders", 8, 10, 20)...)
	checkCopied(t, append(first, more...), consumeN(t, b.Addr, "A.orders", len(first)+len(more), 30*time.Second))
}

// --clusters B runs only the flows into B.
func TestTargetClustersRunsOnlyFlowsIntoThem(t *testing.T) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	createTopic(t, a.Addr, "orders", 1)
	createTopic(t, b.Addr, "returns", 1)
	fromA := produce(t, a.Addr, sourceRecords("orders", 1, 5)...)
	produce(t, b.Addr, sourceRecords("returns", 1, 5)...)
	m := startMirror(t, twoClusters(a.Addr, b.Addr)+"A->B.enabled = true\nB->A.enabled = true\n", mirror.WithTargetClusters("B"))
	checkCopied(t, fromA, consumeN(t, b.Addr, "A.orders", len(fromA), 30*time.Second))
	if st := m.Status(); len(st) != 1 || st[0].Flow != "A->B" {
		t.Fatalf("status %+v, want only A->B", st)
	}
	if topics := userTopics(t, a.Addr); slices.Contains(topics, "B.returns") {
		t.Errorf("B->A ran: %v", topics)
	}
}
