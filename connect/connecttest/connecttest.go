// Package connecttest is the conformance suite every connector must pass
// (Benthos' StreamTest* habit): at-least-once delivery across a worker
// restart with nothing lost, a clean stop after which nothing more is
// written, and bad configs rejected with messages naming the bad keys.
//
// A connector package describes how to drive it (Source or Sink) and calls
// RunSource or RunSink from a test. The suite runs real parts: the
// in-process broker (or TRIBUTARY_TEST_BOOTSTRAP), a standalone worker
// with its offsets file, and the connector's own external system as the
// test provides it.
package connecttest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/worker"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// BadConfig is a config the connector must reject, with the keys the
// rejection must name.
type BadConfig struct {
	Name   string
	Config map[string]string
	Keys   []string
}

// Source drives a source connector.
type Source struct {
	// Config returns a valid connector config (connector.class and the
	// connector's keys; the suite sets name) writing to topic.
	Config func(t *testing.T, topic string) map[string]string
	// Produce adds n records to the external system and returns their ids.
	// Nil for a connector that generates records itself (then set
	// Expected).
	Produce func(t *testing.T, n int) []string
	// Expected returns every id a self-generating connector produces with
	// config (used when Produce is nil).
	Expected func(config map[string]string) []string
	// ID returns the id of a record the connector wrote to Kafka.
	ID func(r *kgo.Record) (string, bool)
	// BadConfigs are rejected configs beyond the suite's own (each of the
	// connector's required keys left out).
	BadConfigs []BadConfig
	// Timeout bounds each wait. Default 60 s.
	Timeout time.Duration
}

// Sink drives a sink connector.
type Sink struct {
	// Config returns a valid connector config (connector.class, converters
	// and the connector's keys; the suite sets name and topics) reading
	// topic.
	Config func(t *testing.T, topic string) map[string]string
	// Record returns the Kafka record carrying id, as the config's
	// converters expect it.
	Record func(id string) *kgo.Record
	// Read returns the ids of every record in the external system,
	// duplicates included.
	Read func(t *testing.T) []string
	// BadConfigs are rejected configs beyond the suite's own.
	BadConfigs []BadConfig
	// Timeout bounds each wait. Default 60 s.
	Timeout time.Duration
}

var runs atomic.Int64

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), runs.Add(1))
}

func workerConfig(t *testing.T, bootstrap, offsets string) worker.Config {
	cfg := worker.Defaults()
	cfg.BootstrapServers = []string{bootstrap}
	cfg.RestListen = "127.0.0.1:0"
	cfg.OffsetStorageFile = offsets
	cfg.OffsetFlushInterval = 200 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("TRIBUTARY_TEST_LOGS") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return cfg
}

func startWorker(t *testing.T, cfg worker.Config, connector map[string]string) *worker.Worker {
	t.Helper()
	w, err := worker.StartStandalone(context.Background(), cfg, connector)
	if err != nil {
		t.Fatalf("connecttest: start worker: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// stopWorker stops the worker and checks it stops within a bound.
func stopWorker(t *testing.T, w *worker.Worker) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- w.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("connecttest: stop worker: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("connecttest: the worker did not stop within 30 s")
	}
}

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return 60 * time.Second
	}
	return d
}

// RunSource runs the suite against a source connector.
func RunSource(t *testing.T, s Source) {
	t.Run("DeliveryAcrossRestart", func(t *testing.T) { sourceDelivery(t, s) })
	t.Run("CleanStop", func(t *testing.T) { sourceCleanStop(t, s) })
	t.Run("BadConfig", func(t *testing.T) { badConfigs(t, s.Config(t, "bad-config-topic"), s.BadConfigs) })
}

// RunSink runs the suite against a sink connector.
func RunSink(t *testing.T, s Sink) {
	t.Run("DeliveryAcrossRestart", func(t *testing.T) { sinkDelivery(t, s) })
	t.Run("CleanStop", func(t *testing.T) { sinkCleanStop(t, s) })
	t.Run("BadConfig", func(t *testing.T) {
		cfg := s.Config(t, "bad-config-topic")
		cfg["topics"] = "bad-config-topic"
		badConfigs(t, cfg, s.BadConfigs)
	})
}

func sourceConfig(t *testing.T, s Source, topic string) map[string]string {
	cfg := maps.Clone(s.Config(t, topic))
	cfg["name"] = uniqueName("conformance-source")
	return cfg
}

func sourceDelivery(t *testing.T, s Source) {
	addr := testkit.Bootstrap(t)
	topic := uniqueName("conformance-src")
	cfg := sourceConfig(t, s, topic)
	wcfg := workerConfig(t, addr, t.TempDir()+"/connect.offsets")
	timeout := orDefault(s.Timeout)

	var want []string
	if s.Produce != nil {
		want = append(want, s.Produce(t, 20)...)
	} else {
		want = s.Expected(cfg)
	}
	w := startWorker(t, wcfg, cfg)
	// Run until records arrive (all of the first batch when the test
	// produces them; some when the connector generates its own).
	waitIDs(t, addr, topic, s.ID, timeout, func(got map[string]int) error {
		if s.Produce == nil {
			if len(got) == 0 {
				return errors.New("no records yet")
			}
			return nil
		}
		return missing(want, got)
	})
	stopWorker(t, w)
	if s.Produce != nil {
		want = append(want, s.Produce(t, 20)...)
	}
	w2 := startWorker(t, wcfg, cfg)
	got := waitIDs(t, addr, topic, s.ID, timeout, func(got map[string]int) error { return missing(want, got) })
	stopWorker(t, w2)
	dups := 0
	for _, n := range got {
		dups += n - 1
	}
	t.Logf("all %d records delivered across the restart (%d duplicates, allowed by at-least-once)", len(want), dups)
}

func sourceCleanStop(t *testing.T, s Source) {
	addr := testkit.Bootstrap(t)
	topic := uniqueName("conformance-stop")
	cfg := sourceConfig(t, s, topic)
	wcfg := workerConfig(t, addr, t.TempDir()+"/connect.offsets")
	if s.Produce != nil {
		s.Produce(t, 5)
	}
	w := startWorker(t, wcfg, cfg)
	waitIDs(t, addr, topic, s.ID, orDefault(s.Timeout), func(got map[string]int) error {
		if len(got) == 0 {
			return errors.New("no records yet")
		}
		return nil
	})
	stopWorker(t, w)
	before := countRecords(t, addr, topic)
	if s.Produce != nil {
		s.Produce(t, 5)
	}
	// Nothing may be written once Close returned: watch for a while.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if n := countRecords(t, addr, topic); n != before {
			t.Fatalf("%d records were written after the worker stopped", n-before)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func sinkConfig(t *testing.T, s Sink, topic string) map[string]string {
	cfg := maps.Clone(s.Config(t, topic))
	cfg["name"] = uniqueName("conformance-sink")
	cfg["topics"] = topic
	return cfg
}

func produceIDs(t *testing.T, addr, topic string, s Sink, from, n int) []string {
	ids := make([]string, n)
	recs := make([]*kgo.Record, n)
	for i := range n {
		ids[i] = fmt.Sprintf("id-%06d", from+i)
		recs[i] = s.Record(ids[i])
		recs[i].Topic = topic
	}
	testkit.Produce(t, addr, recs...)
	return ids
}

func sinkDelivery(t *testing.T, s Sink) {
	addr := testkit.Bootstrap(t)
	topic := uniqueName("conformance-sink")
	testkit.CreateTopic(t, addr, topic, 3)
	cfg := sinkConfig(t, s, topic)
	wcfg := workerConfig(t, addr, t.TempDir()+"/connect.offsets")
	timeout := orDefault(s.Timeout)
	want := produceIDs(t, addr, topic, s, 0, 30)
	w := startWorker(t, wcfg, cfg)
	waitRead(t, s, timeout, want)
	stopWorker(t, w)
	want = append(want, produceIDs(t, addr, topic, s, 30, 30)...)
	w2 := startWorker(t, wcfg, cfg)
	got := waitRead(t, s, timeout, want)
	stopWorker(t, w2)
	t.Logf("all %d records delivered across the restart (%d read, duplicates allowed by at-least-once)", len(want), len(got))
}

func sinkCleanStop(t *testing.T, s Sink) {
	addr := testkit.Bootstrap(t)
	topic := uniqueName("conformance-sink-stop")
	testkit.CreateTopic(t, addr, topic, 1)
	cfg := sinkConfig(t, s, topic)
	wcfg := workerConfig(t, addr, t.TempDir()+"/connect.offsets")
	want := produceIDs(t, addr, topic, s, 0, 5)
	w := startWorker(t, wcfg, cfg)
	waitRead(t, s, orDefault(s.Timeout), want)
	stopWorker(t, w)
	before := len(s.Read(t))
	produceIDs(t, addr, topic, s, 5, 5)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if n := len(s.Read(t)); n != before {
			t.Fatalf("%d records were written after the worker stopped", n-before)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func waitRead(t *testing.T, s Sink, timeout time.Duration, want []string) []string {
	var got []string
	testkit.Eventually(t, timeout, func() error {
		got = s.Read(t)
		counts := map[string]int{}
		for _, id := range got {
			counts[id]++
		}
		return missing(want, counts)
	})
	return got
}

// missing names the wanted ids not in got.
func missing(want []string, got map[string]int) error {
	var miss []string
	for _, id := range want {
		if got[id] == 0 {
			miss = append(miss, id)
		}
	}
	if len(miss) == 0 {
		return nil
	}
	sort.Strings(miss)
	if len(miss) > 5 {
		return fmt.Errorf("%d of %d records missing, e.g. %s", len(miss), len(want), strings.Join(miss[:5], ", "))
	}
	return fmt.Errorf("records missing: %s", strings.Join(miss, ", "))
}

// waitIDs reads the topic until done accepts the ids seen (with counts).
func waitIDs(t *testing.T, addr, topic string, id func(*kgo.Record) (string, bool), timeout time.Duration, done func(map[string]int) error) map[string]int {
	var got map[string]int
	testkit.Eventually(t, timeout, func() error {
		got = map[string]int{}
		for _, r := range readTopic(t, addr, topic) {
			if k, ok := id(r); ok {
				got[k]++
			}
		}
		return done(got)
	})
	return got
}

// readTopic returns every record of a topic now.
func readTopic(t *testing.T, addr, topic string) []*kgo.Record {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatalf("connecttest: %v", err)
	}
	defer cl.Close()
	ends := endOffsets(t, cl, topic)
	var out []*kgo.Record
	next := map[int32]int64{}
	done := func() bool {
		for p, end := range ends {
			if next[p] < end {
				return false
			}
		}
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !done() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, r)
			next[r.Partition] = r.Offset + 1
		})
	}
	return out
}

func countRecords(t *testing.T, addr, topic string) int64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatalf("connecttest: %v", err)
	}
	defer cl.Close()
	var n int64
	for _, end := range endOffsets(t, cl, topic) {
		n += end
	}
	return n
}

func endOffsets(t *testing.T, cl *kgo.Client, topic string) map[int32]int64 {
	ends, err := listEnds(cl, topic)
	if err != nil {
		t.Fatalf("connecttest: end offsets of %s: %v", topic, err)
	}
	return ends
}

// badConfigs checks that leaving out each required key of the connector,
// and each given bad config, is rejected with an error naming the keys.
func badConfigs(t *testing.T, valid map[string]string, extra []BadConfig) {
	cfg := worker.Defaults()
	cfg.BootstrapServers = []string{"127.0.0.1:9"}
	valid = maps.Clone(valid)
	valid["name"] = "bad-config"
	if err := worker.ValidateConnector(cfg, valid); err != nil {
		t.Fatalf("the connector's valid config is rejected: %v", err)
	}
	p, err := connect.FindPlugin(valid["connector.class"], connect.PluginSource, connect.PluginSink)
	if err != nil {
		t.Fatal(err)
	}
	cases := slices.Clone(extra)
	for _, k := range p.Config().Keys() {
		if k.Required {
			c := maps.Clone(valid)
			delete(c, k.Name)
			cases = append(cases, BadConfig{Name: "without " + k.Name, Config: c, Keys: []string{k.Name}})
		}
	}
	cases = append(cases, BadConfig{Name: "unknown class", Config: merge(valid, map[string]string{"connector.class": "NoSuchConnector"}), Keys: []string{"connector.class"}})
	for _, c := range cases {
		err := worker.ValidateConnector(cfg, merge(map[string]string{"name": "bad-config"}, c.Config))
		var ce *connect.ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: accepted (err %v)", c.Name, err)
			continue
		}
		byKey := ce.ByKey()
		for _, k := range c.Keys {
			if len(byKey[k]) == 0 {
				t.Errorf("%s: no error names %s: %v", c.Name, k, err)
			}
			for _, msg := range byKey[k] {
				if strings.TrimSpace(msg) == "" {
					t.Errorf("%s: empty message for %s", c.Name, k)
				}
			}
		}
	}
}

func merge(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

func listEnds(cl *kgo.Client, topic string) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			out[o.Partition] = o.Offset
		}
	})
	return out, nil
}
