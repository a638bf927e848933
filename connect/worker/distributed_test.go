package worker_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/connect/worker"
	"github.com/tributary-streams/tributary/connectors/datagen"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func distributedConfig(t testing.TB, bootstrap, group string) worker.Config {
	cfg := testConfig(t, bootstrap)
	cfg.GroupID = group
	cfg.ConfigStorageTopic = group + "-configs"
	cfg.OffsetStorageTopic = group + "-offsets"
	cfg.StatusStorageTopic = group + "-status"
	cfg.OffsetStoragePartitions = 3
	cfg.StatusStoragePartitions = 2
	cfg.HeartbeatInterval = 300 * time.Millisecond
	cfg.SessionTimeout = 6 * time.Second
	cfg.ScheduledRebalanceMaxDelay = time.Second
	return cfg
}

func startDistributed(t testing.TB, cfg worker.Config) *worker.Worker {
	t.Helper()
	w, err := worker.StartDistributed(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// taskWorkers returns the worker id of each task of a connector.
func taskWorkers(t testing.TB, url, name string) []string {
	var st worker.ConnectorStatus
	call(t, "GET", url+"/connectors/"+name+"/status", nil, &st)
	var out []string
	for _, ts := range st.Tasks {
		if ts.State == "RUNNING" {
			out = append(out, ts.WorkerID)
		}
	}
	return out
}

// Two distributed workers share a connector's tasks; when one leaves, only
// its tasks move to the other, and the pipeline goes on from the committed
// offsets.
func TestDistributedWorkersShareAndFailOver(t *testing.T) {
	addr := testkit.Bootstrap(t)
	cfgA := distributedConfig(t, addr, "dist")
	a := startDistributed(t, cfgA)
	b := startDistributed(t, distributedConfig(t, addr, "dist"))
	out := filepath.Join(t.TempDir(), "out.txt")
	if code := callRetry(t, "POST", a.URL()+"/connectors", map[string]any{"name": "gen", "config": map[string]string{
		"connector.class": "datagen", "topic": "dist-gen", "tasks.max": "4", "iterations": "400", "max.interval": "5",
		"value.converter": "StringConverter"}}, nil); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if code := callRetry(t, "PUT", b.URL()+"/connectors/copy/config", map[string]string{
		"connector.class": "FileStreamSink", "topics": "dist-gen", "file": out, "value.converter": "StringConverter"}, nil); code != 201 {
		t.Fatalf("create sink: %d", code)
	}
	// Both workers answer for every connector, and the 4 tasks are split 2/2.
	testkit.Eventually(t, 30*time.Second, func() error {
		ws := taskWorkers(t, b.URL(), "gen")
		n := map[string]int{}
		for _, w := range ws {
			n[w]++
		}
		if len(ws) != 4 || n[a.WorkerID()] != 2 || n[b.WorkerID()] != 2 {
			return fmt.Errorf("tasks run on %v", ws)
		}
		return nil
	})
	before := map[int]string{}
	var st worker.ConnectorStatus
	call(t, "GET", a.URL()+"/connectors/gen/status", nil, &st)
	for _, ts := range st.Tasks {
		before[*ts.ID] = ts.WorkerID
	}
	// b leaves: its tasks (and only those) move to a.
	b.Close()
	testkit.Eventually(t, 30*time.Second, func() error {
		ws := taskWorkers(t, a.URL(), "gen")
		if len(ws) != 4 || strings.Count(strings.Join(ws, ","), a.WorkerID()) != 4 {
			return fmt.Errorf("tasks run on %v", ws)
		}
		return nil
	})
	// Every generated record reaches the file.
	testkit.Eventually(t, 60*time.Second, func() error {
		seen := map[string]bool{}
		for _, l := range readLines(out) {
			task, seq, ok := datagen.Parse(l)
			if ok {
				seen[datagen.Text(task, seq)] = true
			}
		}
		if len(seen) != 1600 {
			return fmt.Errorf("%d of 1600 records in the sink file", len(seen))
		}
		return nil
	})
	_ = before
}

// One distributed worker's REST life cycle: create, pause, resume, update,
// restart, worker restart (configs and offsets survive), delete.
func TestDistributedSingleWorkerLifecycle(t *testing.T) {
	addr := testkit.Bootstrap(t)
	a := startDistributed(t, distributedConfig(t, addr, "solo"))
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	appendLines(t, in, "x", "y")
	callRetry(t, "POST", a.URL()+"/connectors", map[string]any{"name": "src", "config": map[string]string{
		"connector.class": "FileStreamSource", "file": in, "topic": "solo-lines", "value.converter": "StringConverter"}}, nil)
	callRetry(t, "POST", a.URL()+"/connectors", map[string]any{"name": "dst", "config": map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": "solo-lines", "value.converter": "StringConverter"}}, nil)
	testkit.Eventually(t, 30*time.Second, func() error {
		if got := strings.Join(readLines(out), ","); got != "x,y" {
			return fmt.Errorf("sink file %q", got)
		}
		return nil
	})
	waitState(t, a.URL(), "src", "RUNNING", 1)
	callRetry(t, "PUT", a.URL()+"/connectors/src/pause", nil, nil)
	waitState(t, a.URL(), "src", "PAUSED", 1)
	callRetry(t, "PUT", a.URL()+"/connectors/src/resume", nil, nil)
	waitState(t, a.URL(), "src", "RUNNING", 1)
	// Update: the sink gets a transformation; lines after it are changed.
	if code := callRetry(t, "PUT", a.URL()+"/connectors/dst/config", map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": "solo-lines", "value.converter": "StringConverter",
		"transforms": "up", "transforms.up.type": "test.Upper"}, nil); code != 200 {
		t.Fatalf("update: %d", code)
	}
	appendLines(t, in, "w")
	testkit.Eventually(t, 30*time.Second, func() error {
		if got := strings.Join(readLines(out), ","); got != "x,y,W" {
			return fmt.Errorf("sink file %q", got)
		}
		return nil
	})
	var st worker.ConnectorStatus
	if code := callRetry(t, "POST", a.URL()+"/connectors/dst/restart?includeTasks=true", nil, &st); code != 202 || st.Tasks[0].State != "RESTARTING" {
		t.Fatalf("restart: %d %+v", code, st)
	}
	waitState(t, a.URL(), "dst", "RUNNING", 1)
	// A restart of the worker keeps connectors and offsets: no duplicates.
	a.Close()
	appendLines(t, in, "z")
	a2 := startDistributed(t, distributedConfig(t, addr, "solo"))
	testkit.Eventually(t, 30*time.Second, func() error {
		if got := strings.Join(readLines(out), ","); got != "x,y,W,Z" {
			return fmt.Errorf("sink file %q", got)
		}
		return nil
	})
	if code := callRetry(t, "DELETE", a2.URL()+"/connectors/src", nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	var names []string
	call(t, "GET", a2.URL()+"/connectors", nil, &names)
	if strings.Join(names, ",") != "dst" {
		t.Fatalf("connectors after delete: %v", names)
	}
}

// While the workers' group rebalances, REST writes are answered 409 (here
// a member whose metadata is not a worker's holds the rebalance open), and
// the worker recovers once that member leaves.
func TestDistributedConflictDuringRebalance(t *testing.T) {
	addr := testkit.Bootstrap(t)
	a := startDistributed(t, distributedConfig(t, addr, "reb"))
	cl := testkit.Client(t, addr)
	// The intruder keeps rejoining, so every round includes it and the
	// worker, leading, cannot assign it.
	stop := make(chan struct{})
	member := make(chan string, 1)
	go func() {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group, req.ProtocolType = "reb", "connect"
		req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 30000, 30000
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = "tributary-cooperative-v1", []byte("not a worker")
		req.Protocols = append(req.Protocols, p)
		defer func() { member <- req.MemberID }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			resp, err := req.RequestWith(ctx, cl)
			cancel()
			if err == nil && resp.MemberID != "" {
				req.MemberID = resp.MemberID
			}
		}
	}()
	var e restError
	n := 0
	testkit.Eventually(t, 30*time.Second, func() error {
		n++
		body := map[string]any{"name": fmt.Sprintf("early-%d", n), "config": map[string]string{"connector.class": "datagen", "topic": "early"}}
		if code := call(t, "POST", a.URL()+"/connectors", body, &e); code != 409 {
			return fmt.Errorf("got %d, want 409 while rebalancing", code)
		}
		return nil
	})
	if e.Code != 409 || !strings.Contains(e.Message, "stale configuration") {
		t.Fatalf("409 body: %+v", e)
	}
	close(stop)
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Group = "reb"
	m := kmsg.NewLeaveGroupRequestMember()
	m.MemberID = <-member
	leave.Members = append(leave.Members, m)
	if _, err := leave.RequestWith(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"name": "late", "config": map[string]string{"connector.class": "datagen", "topic": "late"}}
	if code := callRetry(t, "POST", a.URL()+"/connectors", body, nil); code != 201 {
		t.Fatalf("after the rebalance: %d", code)
	}
}
