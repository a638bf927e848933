package worker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect/worker"
	"github.com/tributary-streams/tributary/connectors/datagen"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// With exactly.once.source.support=enabled, a source task's records and
// offsets commit in one transaction: after its worker is killed with
// SIGKILL mid-transaction and its tasks resume elsewhere, a read_committed
// consumer sees every record exactly once.
func TestExactlyOnceSourceAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test")
	}
	addr := testkit.StartBroker(t).Addr
	eos := []string{"--set", "exactly.once.source.support=enabled"}
	procA, urlA := workerProcess(t, addr, "eos", eos...)
	procB, urlB := workerProcess(t, addr, "eos", eos...)
	const tasks, iterations = 2, 3000
	if code := callRetry(t, "POST", urlA+"/connectors", map[string]any{"name": "gen", "config": map[string]string{
		"connector.class": "datagen", "topic": "eos-gen", "tasks.max": fmt.Sprint(tasks), "iterations": fmt.Sprint(iterations),
		"max.interval": "1", "exactly.once.support": "required",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"}}, nil); code != 201 {
		t.Fatalf("create: %d", code)
	}
	readCommitted := func() map[string]int {
		counts := map[string]int{}
		for _, r := range readAllIsolated(t, addr, "eos-gen", kgo.ReadCommitted()) {
			task, seq, ok := datagen.Parse(string(r.Value))
			if !ok {
				t.Fatalf("not a generated record: %q", r.Value)
			}
			counts[datagen.Text(task, seq)]++
		}
		return counts
	}
	var idA string
	testkit.Eventually(t, 60*time.Second, func() error {
		var st worker.ConnectorStatus
		call(t, "GET", urlA+"/connectors/gen/status", nil, &st)
		onB := 0
		for _, ts := range st.Tasks {
			if ts.State == "RUNNING" && "http://"+ts.WorkerID == urlB {
				onB++
			} else if ts.State == "RUNNING" {
				idA = ts.WorkerID
			}
		}
		if onB != 1 || idA == "" {
			return fmt.Errorf("status %+v", st)
		}
		if n := len(readCommitted()); n < 500 {
			return fmt.Errorf("only %d committed records yet", n)
		}
		return nil
	})
	procB.Kill()
	testkit.Eventually(t, 120*time.Second, func() error {
		counts := readCommitted()
		if len(counts) != tasks*iterations {
			return fmt.Errorf("%d of %d records committed", len(counts), tasks*iterations)
		}
		for id, n := range counts {
			if n != 1 {
				t.Fatalf("record %s committed %d times", id, n)
			}
		}
		return nil
	})
	var st worker.ConnectorStatus
	call(t, "GET", urlA+"/connectors/gen/status", nil, &st)
	for _, ts := range st.Tasks {
		if ts.WorkerID != idA {
			t.Errorf("task %d on %s after the kill, want %s", *ts.ID, ts.WorkerID, idA)
		}
	}
	procA.Stop()
}
