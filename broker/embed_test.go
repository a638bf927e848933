package broker_test

// The embedding API: a Config with nothing but an address and a directory,
// several brokers in one process, Validate naming every bad field, and a
// program learning when and why a broker stopped.

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/broker"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestTwoBrokersFromMinimalConfigs(t *testing.T) {
	var addrs []string
	for range 2 {
		b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		if b.MetricsAddr() != "" {
			t.Fatalf("an embedded broker serves metrics on %s without being asked", b.MetricsAddr())
		}
		addrs = append(addrs, b.Addr())
	}
	if addrs[0] == addrs[1] {
		t.Fatalf("both brokers on %s", addrs[0])
	}
	for i, addr := range addrs {
		// Each broker keeps its own records.
		want := strings.Repeat("x", i+1)
		testkit.CreateTopic(t, addr, "embedded", 1)
		testkit.Produce(t, addr, &kgo.Record{Topic: "embedded", Value: []byte(want)})
		got := testkit.Consume(t, addr, "embedded", 1)
		if len(got) != 1 || string(got[0].Value) != want {
			t.Fatalf("broker %d: read %d records, first %q; want one %q", i, len(got), got[0].Value, want)
		}
	}
}

func TestConfigDefaultsAndValidate(t *testing.T) {
	var c broker.Config
	c.Defaults()
	if c.Listen != "127.0.0.1:9092" || c.NumPartitions != 1 || c.SocketRequestMaxBytes != 104857600 ||
		c.GroupInitialRebalanceDelayMs != 3000 || c.TopicDefaults["retention.ms"] != "604800000" || c.Logger == nil {
		t.Fatalf("defaults not filled: %+v", c)
	}
	if c.MetricsListen != "" || c.DataDir != "" {
		t.Fatalf("defaults chose a metrics address %q or data dir %q", c.MetricsListen, c.DataDir)
	}
	// A set field survives Defaults.
	c = broker.Config{NumPartitions: 6, TopicDefaults: map[string]string{"retention.ms": "1000"}}
	c.Defaults()
	if c.NumPartitions != 6 || c.TopicDefaults["retention.ms"] != "1000" || c.TopicDefaults["segment.bytes"] == "" {
		t.Fatalf("Defaults overwrote set fields or left topic defaults out: %d %v", c.NumPartitions, c.TopicDefaults)
	}

	if err := (broker.Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "DataDir") {
		t.Fatalf("a config without a data dir: got %v, want an error naming DataDir", err)
	}
	bad := broker.Config{
		DataDir:                      "d",
		Listen:                       "nope",
		NumPartitions:                -3,
		SocketRequestMaxBytes:        -1,
		ConnectionsMaxIdleMs:         -5,
		RetentionCheckIntervalMs:     -1,
		LogCleanerBackoffMs:          -1,
		FetchMaxBytes:                10,
		GroupMinSessionTimeoutMs:     -1,
		GroupInitialRebalanceDelayMs: -2,
		OffsetsRetentionMinutes:      -1,
		ConsumerHeartbeatIntervalMs:  5000,
		ConsumerSessionTimeoutMs:     100,
		TransactionMaxTimeoutMs:      -1,
		ProducerIDExpirationMs:       -1,
		TopicDefaults:                map[string]string{"retention.ms": "soon", "no.such.key": "1"},
	}
	err := bad.Validate()
	if err == nil {
		t.Fatal("Validate accepted non-positive intervals and limits")
	}
	for _, key := range []string{"listen address", "num.partitions", "socket.request.max.bytes", "connections.max.idle.ms",
		"log.retention.check.interval.ms", "log.cleaner.backoff.ms", "fetch.max.bytes", "group.min.session.timeout.ms",
		"group.initial.rebalance.delay.ms", "offsets.retention.minutes", "group.consumer.session.timeout.ms",
		"transaction.max.timeout.ms", "producer.id.expiration.ms", "retention.ms", "no.such.key"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("Validate's error does not name %s:\n%v", key, err)
		}
	}
	if _, serr := broker.Start(context.Background(), bad); serr == nil || !strings.Contains(serr.Error(), "num.partitions") {
		t.Fatalf("Start with a bad config: got %v", serr)
	}
}

func TestKafkaZeroValuesThroughSet(t *testing.T) {
	var c broker.Config
	for k, v := range map[string]string{
		"group.initial.rebalance.delay.ms":          "0",
		"max.incremental.fetch.session.cache.slots": "0",
		"auto.create.topics.enable":                 "false",
	} {
		if err := c.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	c.Defaults()
	if c.GroupInitialRebalanceDelayMs != -1 || c.MaxIncrementalFetchSessionCacheSlots != -1 || !c.DisableAutoCreateTopics {
		t.Fatalf("Kafka's 0/false were taken as defaults: %+v", c)
	}
}

func TestDoneAndErr(t *testing.T) {
	t.Run("Close", func(t *testing.T) {
		b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-b.Done():
			t.Fatal("Done closed while running")
		default:
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		<-b.Done()
		if b.Err() != nil {
			t.Fatalf("Err after a clean Close: %v", b.Err())
		}
		if err := b.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		b, err := broker.Start(ctx, broker.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		select {
		case <-b.Done():
			if b.Err() != nil {
				t.Fatalf("Err after cancel: %v", b.Err())
			}
		case <-time.After(30 * time.Second):
			t.Fatal("broker still running after its context was cancelled")
		}
		// Run on a cancelled context starts, stops cleanly and returns nil.
		runErr := make(chan error, 1)
		go func() {
			runErr <- broker.Run(ctx, broker.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Logger: quiet()})
		}()
		select {
		case err := <-runErr:
			if err != nil {
				t.Fatalf("Run after cancel: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return after its context was cancelled")
		}
	})
	t.Run("start failure", func(t *testing.T) {
		first := testkit.StartBroker(t)
		err := broker.Run(context.Background(), broker.Config{Listen: first.Addr, DataDir: t.TempDir(), Logger: quiet()})
		if err == nil || !strings.Contains(err.Error(), "listen on "+first.Addr) {
			t.Fatalf("Run on a taken port: got %v", err)
		}
	})
}
