// Package testkit starts the real parts tests need: an in-process broker on
// an ephemeral port in a temp dir, or a broker child process that a test can
// kill -9; plus polling helpers. Every server started here stops on test
// cleanup.
package testkit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/broker"
)

// BootstrapEnv names an external cluster to run tests against instead of an
// in-process broker.
const BootstrapEnv = "TRIBUTARY_TEST_BOOTSTRAP"

// Broker is a broker started for a test.
type Broker struct {
	*broker.Broker
	// Addr is the host:port clients bootstrap from.
	Addr string
	// DataDir is the broker's data directory.
	DataDir string

	t    testing.TB
	opts brokerOptions
}

type brokerOptions struct {
	dataDir string
	listen  string
	sets    map[string]string
	fsync   bool
	logger  *slog.Logger
	metrics bool
}

// BrokerOption adjusts StartBroker.
type BrokerOption func(*brokerOptions)

// WithConfig sets a Kafka broker config key.
func WithConfig(key, value string) BrokerOption {
	return func(o *brokerOptions) { o.sets[key] = value }
}

// WithDataDir uses dir instead of a fresh t.TempDir().
func WithDataDir(dir string) BrokerOption { return func(o *brokerOptions) { o.dataDir = dir } }

// WithListen binds a specific address (default 127.0.0.1:0).
func WithListen(addr string) BrokerOption { return func(o *brokerOptions) { o.listen = addr } }

// WithFsyncAlways turns on --fsync=always.
func WithFsyncAlways() BrokerOption { return func(o *brokerOptions) { o.fsync = true } }

// WithLogger sends broker logs to l (default: discarded unless -v).
func WithLogger(l *slog.Logger) BrokerOption { return func(o *brokerOptions) { o.logger = l } }

// WithMetrics serves /metrics and /healthz on an ephemeral port.
func WithMetrics() BrokerOption { return func(o *brokerOptions) { o.metrics = true } }

// StartBroker starts an in-process broker and stops it on cleanup. Group
// rebalances start without Kafka's 3 s initial delay, as tests want.
func StartBroker(t testing.TB, opts ...BrokerOption) *Broker {
	t.Helper()
	o := brokerOptions{listen: "127.0.0.1:0", sets: map[string]string{}}
	for _, opt := range opts {
		opt(&o)
	}
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	b := &Broker{t: t, opts: o, DataDir: o.dataDir}
	b.start()
	t.Cleanup(func() { b.Broker.Close() })
	return b
}

func (b *Broker) start() {
	b.t.Helper()
	cfg := broker.Defaults()
	cfg.GroupInitialRebalanceDelayMs = 0
	for k, v := range b.opts.sets {
		if err := cfg.Set(k, v); err != nil {
			b.t.Fatalf("testkit: %v", err)
		}
	}
	cfg.Listen = b.opts.listen
	cfg.DataDir = b.opts.dataDir
	cfg.FsyncAlways = b.opts.fsync
	cfg.MetricsListen = ""
	if b.opts.metrics {
		cfg.MetricsListen = "127.0.0.1:0"
	}
	cfg.Logger = b.opts.logger
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	br, err := broker.Start(context.Background(), cfg)
	if err != nil {
		b.t.Fatalf("testkit: start broker: %v", err)
	}
	b.Broker = br
	b.Addr = br.Addr()
}

// Restart closes the broker cleanly and starts it again on the same data dir
// and port.
func (b *Broker) Restart() {
	b.t.Helper()
	if err := b.Broker.Close(); err != nil {
		b.t.Fatalf("testkit: close broker: %v", err)
	}
	b.opts.listen = b.Addr
	b.start()
}

func testLogger() *slog.Logger {
	if testing.Verbose() && os.Getenv("TRIBUTARY_TEST_LOGS") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Bootstrap returns TRIBUTARY_TEST_BOOTSTRAP when set, otherwise the address
// of a fresh in-process broker.
func Bootstrap(t testing.TB, opts ...BrokerOption) string {
	if addr := os.Getenv(BootstrapEnv); addr != "" {
		return addr
	}
	return StartBroker(t, opts...).Addr
}

// Client returns a franz-go client for addr, closed on cleanup.
func Client(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatalf("testkit: client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Eventually polls fn until it returns nil or timeout passes, then fails
// the test with fn's last error.
func Eventually(t testing.TB, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	delay := 5 * time.Millisecond
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testkit: not true after %s: %v", timeout, err)
		}
		time.Sleep(delay)
		if delay < 200*time.Millisecond {
			delay *= 2
		}
	}
}

// FreePort returns a loopback address with a port that was free a moment
// ago; only for child processes that must be told their port up front.
func FreePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// WaitForPort waits until addr accepts TCP connections.
func WaitForPort(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	Eventually(t, timeout, func() error {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return fmt.Errorf("dial %s: %w", addr, err)
		}
		return c.Close()
	})
}

func portOpen(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
