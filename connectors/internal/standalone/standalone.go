// Package standalone runs standalone connect workers for connector tests:
// `tributary connect standalone` as a child process that a test can kill
// with SIGKILL mid-stream and start again on the same offsets file, or a
// worker in the test process.
package standalone

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect/worker"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// Child is the name the `tributary` command line is registered under as
// a child process (by package child).
const Child = "tributary"

// Start runs `tributary connect standalone` on the connector files as a
// child process (the test binary's TestMain must call child.Register),
// offsets in offsets, committed every 200 ms; killed on cleanup.
func Start(t testing.TB, bootstrap, offsets string, files ...string) *testkit.Process {
	t.Helper()
	args := append([]string{"connect", "standalone", "--bootstrap-server", bootstrap, "--offsets", offsets,
		"--rest-listen", "127.0.0.1:0", "--set", "offset.flush.interval.ms=200", "--log-level", logLevel()}, files...)
	return testkit.StartProcess(t, Child, args...)
}

func logLevel() string {
	if os.Getenv("TRIBUTARY_TEST_LOGS") != "" {
		return "debug"
	}
	return "error"
}

// config is a standalone worker's config for tests: REST on an ephemeral
// port, offsets flushed every 200 ms, logs only with TRIBUTARY_TEST_LOGS.
func config(bootstrap, offsets string) worker.Config {
	cfg := worker.Defaults()
	cfg.BootstrapServers = []string{bootstrap}
	cfg.OffsetStorageFile = offsets
	cfg.OffsetFlushInterval = 200 * time.Millisecond
	cfg.RestListen = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("TRIBUTARY_TEST_LOGS") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return cfg
}

// InProcess starts a standalone worker in the test process running the
// connectors, closed on cleanup.
func InProcess(t testing.TB, bootstrap string, connectors ...map[string]string) *worker.Worker {
	t.Helper()
	w, err := worker.StartStandalone(context.Background(), config(bootstrap, filepath.Join(t.TempDir(), "connect.offsets")), connectors...)
	if err != nil {
		t.Fatalf("standalone: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// WaitFailed waits until the connector (task < 0) or its task is FAILED
// with a trace naming want, and returns the trace.
func WaitFailed(t testing.TB, w *worker.Worker, name string, task int, want string) string {
	t.Helper()
	var trace string
	testkit.Eventually(t, 30*time.Second, func() error {
		st, err := w.Status(name)
		if err != nil {
			return err
		}
		state, tr := st.Connector.State, st.Connector.Trace
		if task >= 0 {
			if len(st.Tasks) <= task {
				return fmt.Errorf("no task %d yet (connector %s: %s)", task, st.Connector.State, st.Connector.Trace)
			}
			state, tr = st.Tasks[task].State, st.Tasks[task].Trace
		}
		if state != "FAILED" || !strings.Contains(tr, want) {
			return fmt.Errorf("state %s, trace %q; want FAILED naming %q", state, tr, want)
		}
		trace = tr
		return nil
	})
	return trace
}
