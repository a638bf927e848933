// Package testkit starts the real parts tests need: an in-process broker on
// an ephemeral port in a temp dir, a broker or any other program as a child
// process that a test can kill -9, franz-go clients, and polling helpers.
// Every server started here stops on test cleanup.
//
// Set TRIBUTARY_TEST_BOOTSTRAP=host:port to run the client-level tests
// (those that call Bootstrap) against another cluster.
package testkit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
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

// brokerOptions describe a test broker. They are JSON-encoded for a child
// process, so an in-process broker and a child one are configured by the
// same code (brokerConfig).
type brokerOptions struct {
	DataDir   string            `json:"data_dir"`
	Listen    string            `json:"listen"`
	Advertise string            `json:"advertise,omitempty"`
	Sets      map[string]string `json:"sets,omitempty"`
	Fsync     bool              `json:"fsync,omitempty"`
	Metrics   bool              `json:"metrics,omitempty"`
	AddSCRAM  []string          `json:"add_scram,omitempty"`

	logger *slog.Logger
	faults *broker.Faults
}

// BrokerOption adjusts StartBroker and StartBrokerProcess.
type BrokerOption func(*brokerOptions)

// WithConfig sets a Kafka broker config key (as server.properties would).
func WithConfig(key, value string) BrokerOption {
	return func(o *brokerOptions) { o.Sets[key] = value }
}

// WithDataDir uses dir instead of a fresh t.TempDir().
func WithDataDir(dir string) BrokerOption { return func(o *brokerOptions) { o.DataDir = dir } }

// WithListen binds a specific address (default 127.0.0.1:0).
func WithListen(addr string) BrokerOption { return func(o *brokerOptions) { o.Listen = addr } }

// WithAdvertise sets the address clients are told to connect to.
func WithAdvertise(addr string) BrokerOption { return func(o *brokerOptions) { o.Advertise = addr } }

// WithFsyncAlways turns on --fsync=always.
func WithFsyncAlways() BrokerOption { return func(o *brokerOptions) { o.Fsync = true } }

// WithLogger sends broker logs to l (default: discarded unless -v and
// TRIBUTARY_TEST_LOGS are set). In-process brokers only.
func WithLogger(l *slog.Logger) BrokerOption { return func(o *brokerOptions) { o.logger = l } }

// WithFaults lets the test inject errors, delays and dropped connections
// through f (see broker.Faults). In-process brokers only.
func WithFaults(f *broker.Faults) BrokerOption { return func(o *brokerOptions) { o.faults = f } }

// WithSCRAM adds a SCRAM credential at start, in kafka-storage.sh's
// --add-scram form: 'SCRAM-SHA-256=[name=admin,password=admin-secret]'.
func WithSCRAM(entry string) BrokerOption {
	return func(o *brokerOptions) { o.AddSCRAM = append(o.AddSCRAM, entry) }
}

// WithMetrics serves /metrics and /healthz on an ephemeral port.
func WithMetrics() BrokerOption { return func(o *brokerOptions) { o.Metrics = true } }

func newBrokerOptions(t testing.TB, opts []BrokerOption) brokerOptions {
	o := brokerOptions{Listen: "127.0.0.1:0", Sets: map[string]string{}}
	for _, opt := range opts {
		opt(&o)
	}
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	return o
}

// brokerConfig is the broker configuration the options describe. As in
// Kafka's own test harness, group rebalances start without the 3 s initial
// delay, and the internal topics (__consumer_offsets, __transaction_state)
// have 5 partitions rather than 50: each partition costs a directory and
// its files, created on first use and reopened on every restart.
func (o brokerOptions) brokerConfig() (broker.Config, error) {
	cfg := broker.Config{
		Listen:                           o.Listen,
		Advertise:                        o.Advertise,
		DataDir:                          o.DataDir,
		FsyncAlways:                      o.Fsync,
		GroupInitialRebalanceDelayMs:     -1,
		OffsetsTopicNumPartitions:        5,
		TransactionStateLogNumPartitions: 5,
		Logger:                           o.logger,
		Faults:                           o.faults,
	}
	cfg.AddSCRAM = o.AddSCRAM
	if o.Metrics {
		cfg.MetricsListen = "127.0.0.1:0"
	}
	keys := make([]string, 0, len(o.Sets))
	for k := range o.Sets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := cfg.Set(k, o.Sets[k]); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// StartBroker starts an in-process broker and stops it on cleanup.
func StartBroker(t testing.TB, opts ...BrokerOption) *Broker {
	t.Helper()
	o := newBrokerOptions(t, opts)
	if o.logger == nil {
		o.logger = testLogger()
	}
	b := &Broker{t: t, opts: o, DataDir: o.DataDir}
	b.start()
	t.Cleanup(func() { b.Broker.Close() })
	return b
}

func (b *Broker) start() {
	b.t.Helper()
	cfg, err := b.opts.brokerConfig()
	if err != nil {
		b.t.Fatalf("testkit: %v", err)
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
	b.opts.Listen = b.Addr
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

// StartBrokerProcess starts a broker as a child process of the test binary
// (whose TestMain must call RunChildIfRequested), on dataDir, listening on
// addr ("" picks a free port), and kills it on cleanup. It returns once the
// broker accepts connections.
func StartBrokerProcess(t testing.TB, dataDir, addr string, opts ...BrokerOption) *Process {
	t.Helper()
	if addr == "" {
		addr = FreePort(t)
	}
	o := newBrokerOptions(t, append([]BrokerOption{WithDataDir(dataDir), WithListen(addr)}, opts...))
	if _, err := o.brokerConfig(); err != nil {
		t.Fatalf("testkit: %v", err)
	}
	raw, err := json.Marshal(o)
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	p := StartProcess(t, brokerChild, string(raw))
	p.Addr, p.DataDir = addr, dataDir
	deadline := time.Now().Add(30 * time.Second)
	for !portOpen(addr) {
		select {
		case <-p.done:
			t.Fatalf("testkit: broker process exited early: %s", p.Logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("testkit: broker process not listening on %s after 30s: %s", addr, p.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// brokerChild is the child that StartBrokerProcess runs: a broker built
// from JSON-encoded brokerOptions, logging to stderr, stopped by SIGTERM.
const brokerChild = "testkit-broker"

func runBrokerChild(ctx context.Context, args []string) int {
	var o brokerOptions
	if len(args) != 1 || json.Unmarshal([]byte(args[0]), &o) != nil {
		fmt.Fprintf(os.Stderr, "testkit broker child: want one JSON argument, got %q\n", args)
		return 2
	}
	o.logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := o.brokerConfig()
	if err == nil {
		err = broker.Run(ctx, cfg)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "testkit broker child: %v\n", err)
		return 1
	}
	return 0
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
