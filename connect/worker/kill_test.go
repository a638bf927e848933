package worker_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect/worker"
	"github.com/tributary-streams/tributary/connectors/datagen"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// workerProcess starts `tributary connect distributed` as a child process
// and waits until its REST API is healthy.
func workerProcess(t *testing.T, addr, group string, extra ...string) (*testkit.Process, string) {
	t.Helper()
	rest := testkit.FreePort(t)
	args := append([]string{"connect", "distributed", "--bootstrap-server", addr, "--group-id", group,
		"--rest-listen", rest, "--log-level", "warn",
		"--set", "config.storage.topic=" + group + "-configs", "--set", "offset.storage.topic=" + group + "-offsets",
		"--set", "status.storage.topic=" + group + "-status", "--set", "offset.storage.partitions=3",
		"--set", "offset.flush.interval.ms=200", "--set", "heartbeat.interval.ms=300", "--set", "session.timeout.ms=6000",
		"--set", "scheduled.rebalance.max.delay.ms=1000"}, extra...)
	p := testkit.StartProcess(t, "tributary", args...)
	url := "http://" + rest
	testkit.Eventually(t, 60*time.Second, func() error {
		select {
		case <-p.Done():
			t.Fatalf("worker exited: %s", p.Logs())
		default:
		}
		resp, err := http.Get(url + "/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("health %d", resp.StatusCode)
		}
		return nil
	})
	return p, url
}

// Two distributed workers in child processes share a generator's tasks;
// one is killed with SIGKILL; its tasks resume on the other from the
// offsets it committed, and every record is in the topic.
func TestKillDistributedWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test")
	}
	addr := testkit.StartBroker(t).Addr
	procA, urlA := workerProcess(t, addr, "kill")
	procB, urlB := workerProcess(t, addr, "kill")
	const tasks, iterations = 4, 4000
	if code := callRetry(t, "POST", urlA+"/connectors", map[string]any{"name": "gen", "config": map[string]string{
		"connector.class": "datagen", "topic": "kill-gen", "tasks.max": fmt.Sprint(tasks), "iterations": fmt.Sprint(iterations),
		"max.interval": "1", "value.converter": "org.apache.kafka.connect.storage.StringConverter"}}, nil); code != 201 {
		t.Fatalf("create: %d", code)
	}
	var idA, idB string
	onB := map[int]bool{}
	testkit.Eventually(t, 60*time.Second, func() error {
		var st worker.ConnectorStatus
		call(t, "GET", urlA+"/connectors/gen/status", nil, &st)
		byWorker := map[string][]int{}
		for _, ts := range st.Tasks {
			if ts.State == "RUNNING" {
				byWorker[ts.WorkerID] = append(byWorker[ts.WorkerID], *ts.ID)
			}
		}
		if len(st.Tasks) != tasks || len(byWorker) != 2 {
			return fmt.Errorf("tasks by worker: %v", byWorker)
		}
		for w, ids := range byWorker {
			if "http://"+w == urlB {
				idB = w
				for _, id := range ids {
					onB[id] = true
				}
			} else {
				idA = w
			}
		}
		return nil
	})
	// Let B's tasks make progress, then kill it mid-stream.
	seen := func() (map[string]int, map[int]int64) {
		counts, top := map[string]int{}, map[int]int64{}
		for _, r := range readAll(t, addr, "kill-gen") {
			task, seq, ok := datagen.Parse(string(r.Value))
			if !ok {
				t.Fatalf("not a generated record: %q", r.Value)
			}
			counts[datagen.Text(task, seq)]++
			top[task] = max(top[task], seq+1)
		}
		return counts, top
	}
	testkit.Eventually(t, 60*time.Second, func() error {
		_, top := seen()
		for id := range onB {
			if top[id] < 500 {
				return fmt.Errorf("task %d of B at %d", id, top[id])
			}
		}
		return nil
	})
	procB.Kill()
	_, atKill := seen()
	t.Logf("killed worker %s running tasks %v; progress %v", idB, onB, atKill)

	// B's tasks move to A (after the session timeout and the rebalance
	// delay), A keeps its own, and every record gets written.
	testkit.Eventually(t, 90*time.Second, func() error {
		var st worker.ConnectorStatus
		call(t, "GET", urlA+"/connectors/gen/status", nil, &st)
		for _, ts := range st.Tasks {
			if ts.State != "RUNNING" || ts.WorkerID != idA {
				return fmt.Errorf("task %d: %s on %s", *ts.ID, ts.State, ts.WorkerID)
			}
		}
		return nil
	})
	var counts map[string]int
	testkit.Eventually(t, 120*time.Second, func() error {
		counts, _ = seen()
		if len(counts) != tasks*iterations {
			return fmt.Errorf("%d of %d records", len(counts), tasks*iterations)
		}
		return nil
	})
	dups := map[int]int{}
	for id, n := range counts {
		task, _, _ := datagen.Parse(id)
		dups[task] += n - 1
	}
	for id := range onB {
		// Resumed from B's committed offsets, not from the start: only what
		// B wrote after its last commit is repeated.
		if int64(dups[id]) >= atKill[id] {
			t.Errorf("task %d repeated %d records of the %d it had written: it did not resume from committed offsets", id, dups[id], atKill[id])
		}
	}
	t.Logf("all %d records present; duplicates per task %v", tasks*iterations, dups)
	procA.Stop()
}

// A worker running a sink task is killed with SIGKILL: the task resumes on
// the other worker from the committed consumer offsets, and every record
// reaches the sink's file. The sink consumer's group holds the dead
// member's partitions until its session times out: the Java consumer's
// 45 s by default, here consumer.session.timeout.ms=6000 on the workers
// (set TRIBUTARY_TEST_SINK_SESSION_DEFAULT=1 to run with the default and
// compare the failover times this test logs).
func TestKillDistributedWorkerRunningSinkTask(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test")
	}
	addr := testkit.StartBroker(t).Addr
	var extra []string
	if os.Getenv("TRIBUTARY_TEST_SINK_SESSION_DEFAULT") == "" {
		extra = []string{"--set", "consumer.session.timeout.ms=6000"}
	}
	procA, urlA := workerProcess(t, addr, "killsink", extra...)
	procB, urlB := workerProcess(t, addr, "killsink", extra...)
	const tasks, iterations = 2, 4000
	out := filepath.Join(t.TempDir(), "out.txt")
	if code := callRetry(t, "POST", urlA+"/connectors", map[string]any{"name": "gen", "config": map[string]string{
		"connector.class": "datagen", "topic": "killsink-gen", "tasks.max": fmt.Sprint(tasks), "iterations": fmt.Sprint(iterations),
		"max.interval": "2", "value.converter": "org.apache.kafka.connect.storage.StringConverter"}}, nil); code != 201 {
		t.Fatalf("create source: %d", code)
	}
	if code := callRetry(t, "POST", urlB+"/connectors", map[string]any{"name": "copy", "config": map[string]string{
		"connector.class": "FileStreamSink", "topics": "killsink-gen", "file": out,
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"}}, nil); code != 201 {
		t.Fatalf("create sink: %d", code)
	}
	inFile := func() int {
		seen := map[string]bool{}
		for _, l := range readLines(out) {
			if task, seq, ok := datagen.Parse(l); ok {
				seen[datagen.Text(task, seq)] = true
			}
		}
		return len(seen)
	}
	// Kill the worker running the sink task once it has copied some.
	var victim, survivor *testkit.Process
	var survivorURL, survivorID string
	testkit.Eventually(t, 60*time.Second, func() error {
		var st worker.ConnectorStatus
		call(t, "GET", urlA+"/connectors/copy/status", nil, &st)
		if len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
			return fmt.Errorf("sink status %+v", st)
		}
		if n := inFile(); n < 500 {
			return fmt.Errorf("%d records in the file", n)
		}
		if "http://"+st.Tasks[0].WorkerID == urlA {
			victim, survivor, survivorURL = procA, procB, urlB
		} else {
			victim, survivor, survivorURL = procB, procA, urlA
		}
		return nil
	})
	victim.Kill()
	killed := time.Now()
	atKill := inFile()
	testkit.Eventually(t, 120*time.Second, func() error {
		var st worker.ConnectorStatus
		call(t, "GET", survivorURL+"/connectors/copy/status", nil, &st)
		if len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" || "http://"+st.Tasks[0].WorkerID != survivorURL {
			return fmt.Errorf("sink status %+v", st)
		}
		survivorID = st.Tasks[0].WorkerID
		return nil
	})
	moved := time.Since(killed)
	// The copy goes on past what was in the file at the kill: the group
	// gave the partitions to the survivor's consumer.
	testkit.Eventually(t, 120*time.Second, func() error {
		if n := inFile(); n <= atKill {
			return fmt.Errorf("%d records in the file, %d at the kill", n, atKill)
		}
		return nil
	})
	resumed := time.Since(killed)
	testkit.Eventually(t, 120*time.Second, func() error {
		if n := inFile(); n != tasks*iterations {
			return fmt.Errorf("%d of %d records in the file", n, tasks*iterations)
		}
		return nil
	})
	t.Logf("sink task on %s after %s, copying again after %s, all %d records after %s (%d in the file at the kill)",
		survivorID, moved.Round(100*time.Millisecond), resumed.Round(100*time.Millisecond), tasks*iterations,
		time.Since(killed).Round(100*time.Millisecond), atKill)
	survivor.Stop()
}
