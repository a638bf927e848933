// Package standalone runs a standalone connect worker as a child process
// of a test binary, so connector tests can kill it with SIGKILL mid-stream
// and start it again on the same offsets file.
package standalone

import (
	"context"
	"flag"
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

// child is the registered name of the worker child.
const child = "connect-standalone"

// Register makes the worker child available; call it from TestMain before
// testkit.RunChildIfRequested.
func Register() { testkit.RegisterChild(child, run) }

// run is the child: a standalone worker (`tributary connect standalone`)
// running the connector files until SIGTERM.
func run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet(child, flag.ContinueOnError)
	bootstrap := fs.String("bootstrap-server", "", "brokers")
	offsets := fs.String("offsets", "", "offsets file")
	flush := fs.Duration("offset-flush", 200*time.Millisecond, "offset.flush.interval.ms")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := config(*bootstrap, *offsets)
	cfg.OffsetFlushInterval = *flush
	var connectors []map[string]string
	for _, f := range fs.Args() {
		c, err := worker.LoadConnectorFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		connectors = append(connectors, c)
	}
	w, err := worker.StartStandalone(ctx, cfg, connectors...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("worker started")
	<-ctx.Done()
	if err := w.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// Start runs a worker child on the connector files, killed on cleanup.
func Start(t testing.TB, bootstrap, offsets string, files ...string) *testkit.Process {
	t.Helper()
	args := append([]string{"-bootstrap-server", bootstrap, "-offsets", offsets}, files...)
	return testkit.StartProcess(t, child, args...)
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
