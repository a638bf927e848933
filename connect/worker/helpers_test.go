package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect/worker"
	"github.com/tributary-streams/tributary/internal/cli"
	"github.com/tributary-streams/tributary/internal/testkit"

	_ "github.com/tributary-streams/tributary/connectors/datagen"
	_ "github.com/tributary-streams/tributary/connectors/file"
)

func TestMain(m *testing.M) {
	// A child process running the tributary command line, for kill -9.
	testkit.RegisterChild("tributary", func(ctx context.Context, args []string) int {
		return cli.Execute(ctx, args, os.Stdin, os.Stdout, os.Stderr)
	})
	testkit.RunChildIfRequested()
	os.Exit(m.Run())
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("TRIBUTARY_TEST_LOGS") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testConfig is a worker config for tests: the given cluster, REST on an
// ephemeral port, offsets in a temp dir, fast commits.
func testConfig(t testing.TB, bootstrap string) worker.Config {
	cfg := worker.Defaults()
	cfg.BootstrapServers = []string{bootstrap}
	cfg.RestListen = "127.0.0.1:0"
	cfg.OffsetStorageFile = t.TempDir() + "/connect.offsets"
	cfg.OffsetFlushInterval = 200 * time.Millisecond
	cfg.Logger = testLogger(t)
	return cfg
}

func startStandalone(t testing.TB, cfg worker.Config, connectors ...map[string]string) *worker.Worker {
	t.Helper()
	w, err := worker.StartStandalone(context.Background(), cfg, connectors...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// callRetry makes a REST call, again while it is answered 409 for a
// momentary reason (a rebalance, the leader not known yet), as Kafka
// Connect clients do. A lasting 409 (a connector that already exists) is
// answered at once.
func callRetry(t testing.TB, method, url string, body any, out any) int {
	t.Helper()
	var code int
	testkit.Eventually(t, 30*time.Second, func() error {
		var raw []byte
		if code, raw = callRaw(t, method, url, body); code == 409 && !strings.Contains(string(raw), "already exists") {
			return fmt.Errorf("%s %s: 409 %s", method, url, raw)
		}
		if out != nil && len(raw) > 0 {
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatalf("%s %s: answer %s: %v", method, url, raw, err)
			}
		}
		return nil
	})
	return code
}

// call makes a REST call and decodes the JSON answer into out (when not nil).
func call(t testing.TB, method, url string, body any, out any) int {
	t.Helper()
	code, raw := callRaw(t, method, url, body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: answer %s: %v", method, url, raw, err)
		}
	}
	return code
}

// callRaw makes a REST call and returns the status and the body.
func callRaw(t testing.TB, method, url string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func appendLines(t testing.TB, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		fmt.Fprintln(f, l)
	}
}

// waitState polls the status of a connector until it and all its tasks
// (at least minTasks) are in state.
func waitState(t testing.TB, url, name, state string, minTasks int) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, func() error {
		var st worker.ConnectorStatus
		if code := call(t, "GET", url+"/connectors/"+name+"/status", nil, &st); code != 200 {
			return fmt.Errorf("status %d", code)
		}
		if st.Connector.State != state {
			return fmt.Errorf("connector is %s (%s), want %s", st.Connector.State, st.Connector.Trace, state)
		}
		if len(st.Tasks) < minTasks {
			return fmt.Errorf("%d tasks, want %d", len(st.Tasks), minTasks)
		}
		for _, ts := range st.Tasks {
			if ts.State != state {
				return fmt.Errorf("task %d is %s (%s), want %s", *ts.ID, ts.State, ts.Trace, state)
			}
		}
		return nil
	})
}

// readAll returns every record of a topic now.
func readAll(t testing.TB, addr, topic string) []*kgo.Record {
	return readAllIsolated(t, addr, topic, kgo.ReadUncommitted())
}

// readAllIsolated reads a topic to its end (the last stable offset for
// read_committed).
func readAllIsolated(t testing.TB, addr, topic string, iso kgo.IsolationLevel) []*kgo.Record {
	t.Helper()
	cl := testkit.Client(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(iso), kgo.KeepControlRecords())
	defer cl.Close()
	adm := kadm.NewClient(cl)
	list := adm.ListEndOffsets
	if iso == kgo.ReadCommitted() {
		list = adm.ListCommittedOffsets
	}
	ends, err := list(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { want[o.Partition] = o.Offset })
	next := map[int32]int64{}
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		done := true
		for p, end := range want {
			if next[p] < end {
				done = false
			}
		}
		if done || ctx.Err() != nil {
			return out
		}
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
			next[r.Partition] = r.Offset + 1
		})
	}
}
