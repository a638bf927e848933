package mirror_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// Raising tasks.max between runs splits the flow among more tasks, and
// every partition is still copied.
func TestTasksMaxRaisedBetweenRuns(t *testing.T) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	createTopic(t, a.Addr, "orders", 6)
	first := produce(t, a.Addr, sourceRecords("orders", 6, 5)...)
	m := startMirror(t, twoClusters(a.Addr, b.Addr)+"A->B.enabled = true\ntasks.max = 1\n")
	consumeN(t, b.Addr, "A.orders", len(first), 30*time.Second)
	m.Close()

	createTopic(t, a.Addr, "payments", 6)
	more := produce(t, a.Addr, sourceRecords("payments", 6, 5)...)
	m = startMirror(t, twoClusters(a.Addr, b.Addr)+"A->B.enabled = true\ntasks.max = 3\n")
	checkCopied(t, more, consumeN(t, b.Addr, "A.payments", len(more), 30*time.Second))
	testkit.Eventually(t, 10*time.Second, func() error {
		if got := flowStatus(m, "A->B").Tasks; !slices.Equal(got, []int{0, 1, 2}) {
			return fmt.Errorf("tasks %v, want [0 1 2]", got)
		}
		return nil
	})
}
