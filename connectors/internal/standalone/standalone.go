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
	cfg := worker.Defaults()
	cfg.BootstrapServers = []string{*bootstrap}
	cfg.OffsetStorageFile = *offsets
	cfg.OffsetFlushInterval = *flush
	cfg.RestListen = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("TRIBUTARY_TEST_LOGS") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
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
