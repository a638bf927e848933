package worker_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/worker"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// batchSink is a sink that records the size of every Put and the values
// it received, per connector name (test.BatchSink).
type batchSink struct{ name string }

type batches struct {
	mu     sync.Mutex
	sizes  []int
	values []string
}

var sinkBatches sync.Map // connector name -> *batches

func batchesOf(name string) *batches {
	b, _ := sinkBatches.LoadOrStore(name, &batches{})
	return b.(*batches)
}

func (b *batches) snapshot() ([]int, []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.sizes), slices.Clone(b.values)
}

func init() {
	connect.RegisterSink(connect.PluginInfo{Class: "test.BatchSink"}, func() connect.SinkConnector { return &batchSink{} })
}

func (c *batchSink) Config() *connect.ConfigDef       { return connect.NewConfigDef() }
func (c *batchSink) Validate(map[string]string) error { return nil }
func (c *batchSink) Start(_ connect.ConnectorContext, cfg map[string]string) error {
	c.name = cfg["name"]
	return nil
}
func (c *batchSink) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{{"name": c.name}}, nil
}
func (c *batchSink) Stop() error               { return nil }
func (c *batchSink) NewTask() connect.SinkTask { return &batchSinkTask{} }

type batchSinkTask struct{ b *batches }

func (t *batchSinkTask) Start(_ connect.SinkTaskContext, cfg map[string]string) error {
	t.b = batchesOf(cfg["name"])
	return nil
}
func (t *batchSinkTask) Open([]connect.TopicPartition) error { return nil }
func (t *batchSinkTask) Put(_ context.Context, records []connect.SinkRecord) error {
	if len(records) == 0 {
		return nil
	}
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	t.b.sizes = append(t.b.sizes, len(records))
	for _, r := range records {
		t.b.values = append(t.b.values, fmt.Sprint(r.Value))
	}
	return nil
}
func (t *batchSinkTask) Flush(_ context.Context, offs map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	return offs, nil
}
func (t *batchSinkTask) Close([]connect.TopicPartition) error { return nil }
func (t *batchSinkTask) Stop() error                          { return nil }

// compressionOf returns the compression codecs of a topic's stored batches
// (franz-go reports each record's batch attributes): 0 none, 1 gzip, 2
// snappy, 3 lz4, 4 zstd.
func compressionOf(t *testing.T, addr, topic string, n int) []uint8 {
	t.Helper()
	var codecs []uint8
	for _, r := range testkit.Consume(t, addr, topic, n) {
		if c := r.Attrs.CompressionType(); !slices.Contains(codecs, c) {
			codecs = append(codecs, c)
		}
	}
	return codecs
}

// Worker keys producer.* and consumer.* set every connector's clients, and
// a connector's producer.override.* and consumer.override.* set its own:
// the broker stores the batches of a source with
// producer.override.compression.type=gzip gzip-compressed while another
// source gets the worker's lz4, and a sink with
// consumer.override.max.poll.records=3 never receives more than 3 records
// at once, from a consumer with its consumer.override.client.id.
func TestClientOverridesTakeEffect(t *testing.T) {
	addr := testkit.Bootstrap(t)
	cfg := testConfig(t, addr)
	for k, v := range map[string]string{"producer.compression.type": "lz4", "consumer.max.poll.records": "100"} {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	in := filepath.Join(t.TempDir(), "in.txt")
	var lines []string
	for i := range 40 {
		lines = append(lines, fmt.Sprintf("line-%02d", i))
	}
	appendLines(t, in, lines...)
	src := func(topic string, extra ...string) map[string]string {
		c := map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": topic, "value.converter": "StringConverter"}
		for i := 0; i < len(extra); i += 2 {
			c[extra[i]] = extra[i+1]
		}
		return c
	}
	startStandalone(t, cfg,
		withName("gz", src("ov-gz", "producer.override.compression.type", "gzip")),
		withName("lz", src("ov-lz4")),
		withName("rec", map[string]string{"connector.class": "test.BatchSink", "topics": "ov-gz", "value.converter": "StringConverter",
			"consumer.override.max.poll.records": "3", "consumer.override.client.id": "rec-consumer"}),
		withName("plain", map[string]string{"connector.class": "test.BatchSink", "topics": "ov-lz4", "value.converter": "StringConverter"}))
	if got := compressionOf(t, addr, "ov-gz", len(lines)); !slices.Equal(got, []uint8{1}) {
		t.Errorf("batches of the source with producer.override.compression.type=gzip: codecs %v, want [1] (gzip)", got)
	}
	if got := compressionOf(t, addr, "ov-lz4", len(lines)); !slices.Equal(got, []uint8{3}) {
		t.Errorf("batches of the source with the worker's producer.compression.type=lz4: codecs %v, want [3] (lz4)", got)
	}
	var sizes []int
	testkit.Eventually(t, 30*time.Second, func() error {
		var values []string
		sizes, values = batchesOf("rec").snapshot()
		slices.Sort(values)
		if !slices.Equal(slices.Compact(values), lines) {
			return fmt.Errorf("the sink received %d of %d lines", len(values), len(lines))
		}
		return nil
	})
	if slices.Max(sizes) > 3 {
		t.Errorf("Put batch sizes %v: consumer.override.max.poll.records=3 was not applied", sizes)
	}
	// The sink's consumer has the override's client id; another has
	// Kafka Connect's connector-consumer-<connector>-<task>.
	adm := kadm.NewClient(testkit.Client(t, addr))
	for group, want := range map[string]string{"connect-rec": "rec-consumer", "connect-plain": "connector-consumer-plain-0"} {
		testkit.Eventually(t, 30*time.Second, func() error {
			groups, err := adm.DescribeGroups(context.Background(), group)
			if err != nil {
				return err
			}
			g := groups[group]
			if len(g.Members) != 1 || g.Members[0].ClientID != want {
				return fmt.Errorf("group %s members %+v, want one with client id %s", group, g.Members, want)
			}
			return nil
		})
	}
}

func withName(name string, c map[string]string) map[string]string {
	c["name"] = name
	return c
}

// connector.client.config.override.policy decides which overrides a
// connector may set; a forbidden or bad one is a validation error on its
// key, in the REST API as in the Go API.
func TestClientOverridePolicy(t *testing.T) {
	addr := testkit.Bootstrap(t)
	sink := map[string]string{"name": "s", "connector.class": "FileStreamSink", "topics": "x", "file": "/tmp/x",
		"consumer.override.max.poll.records": "10", "consumer.override.security.protocol": "PLAINTEXT"}
	cases := []struct {
		policy string
		config map[string]string
		errs   map[string]string // key -> part of its message
	}{
		{"All", sink, nil},
		{"org.apache.kafka.connect.connector.policy.AllConnectorClientConfigOverridePolicy", sink, nil},
		{"None", sink, map[string]string{
			"consumer.override.max.poll.records":  "The 'None' policy does not allow 'max.poll.records' to be overridden",
			"consumer.override.security.protocol": "The 'None' policy does not allow 'security.protocol'"}},
		{"Principal", sink, map[string]string{
			"consumer.override.max.poll.records": "The 'Principal' policy does not allow 'max.poll.records'"}},
		// A source uses only a producer: its consumer overrides are not
		// checked, as in Kafka.
		{"None", map[string]string{"name": "f", "connector.class": "FileStreamSource", "topic": "x", "file": "/tmp/x",
			"consumer.override.max.poll.records": "10"}, nil},
		{"All", map[string]string{"name": "f", "connector.class": "FileStreamSource", "topic": "x", "file": "/tmp/x",
			"producer.override.compression.type": "brotli", "producer.override.max.poll.records": "10",
			"producer.override.sasl.mechanism": "GSSAPI"}, map[string]string{
			"producer.override.compression.type": `compression.type="brotli": want none, gzip, snappy, lz4, zstd`,
			"producer.override.max.poll.records": "not a property of producer clients",
			"producer.override.sasl.mechanism":   "sasl.mechanism"}},
	}
	for _, c := range cases {
		cfg := testConfig(t, addr)
		if err := cfg.Set("connector.client.config.override.policy", c.policy); err != nil {
			t.Fatal(err)
		}
		err := worker.ValidateConnector(cfg, c.config)
		var ce *connect.ConfigError
		if len(c.errs) == 0 {
			if err != nil {
				t.Errorf("policy %s, %v: %v", c.policy, c.config, err)
			}
			continue
		}
		if !errors.As(err, &ce) {
			t.Fatalf("policy %s: %v, want a *connect.ConfigError", c.policy, err)
		}
		got := map[string]string{}
		for _, f := range ce.Errors {
			got[f.Key] += f.Message
		}
		for k, want := range c.errs {
			if !strings.Contains(got[k], want) {
				t.Errorf("policy %s: error on %s is %q, want it to say %q (all: %v)", c.policy, k, got[k], want, got)
			}
		}
		if len(got) != len(c.errs) {
			t.Errorf("policy %s: errors on %v, want exactly %v", c.policy, got, c.errs)
		}
	}

	// The REST API refuses the connector with the per-key message, and
	// /config/validate reports it on the key.
	cfg := testConfig(t, addr)
	cfg.Set("connector.client.config.override.policy", "Principal")
	w := startStandalone(t, cfg)
	var e restError
	if code := call(t, "PUT", w.URL()+"/connectors/s/config", sink, &e); code != 400 ||
		!strings.Contains(e.Message, "Invalid value for configuration consumer.override.max.poll.records: The 'Principal' policy does not allow") {
		t.Fatalf("create with a forbidden override: %d %+v", code, e)
	}
	var v struct {
		ErrorCount int `json:"error_count"`
		Configs    []struct {
			Value struct {
				Name   string   `json:"name"`
				Errors []string `json:"errors"`
			} `json:"value"`
		} `json:"configs"`
	}
	call(t, "PUT", w.URL()+"/connector-plugins/FileStreamSink/config/validate", sink, &v)
	found := false
	for _, c := range v.Configs {
		found = found || c.Value.Name == "consumer.override.max.poll.records" && len(c.Value.Errors) == 1
	}
	if v.ErrorCount != 1 || !found {
		t.Errorf("validate: %+v", v)
	}

	// Worker keys are checked when set.
	bad := worker.Defaults()
	for k, want := range map[string]string{
		"connector.client.config.override.policy": "accepted None, Principal, All or Allowlist",
		"consumer.session.timeout.ms":             "want a positive number of milliseconds",
		"producer.acks":                           "want all, -1, 1 or 0",
	} {
		if err := bad.Set(k, "nonsense"); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), k) {
			t.Errorf("worker config %s=nonsense: %v", k, err)
		}
	}
}

// With the Allowlist policy only the listed keys may be overridden.
func TestClientOverrideAllowlist(t *testing.T) {
	cfg := worker.Defaults()
	cfg.BootstrapServers = []string{"127.0.0.1:9092"}
	cfg.Set("connector.client.config.override.policy", "Allowlist")
	cfg.Set("connector.client.config.override.allowlist", "client.id, linger.ms")
	ok := map[string]string{"name": "f", "connector.class": "FileStreamSource", "topic": "x", "file": "/tmp/x",
		"producer.override.client.id": "mine", "producer.override.linger.ms": "5"}
	if err := worker.ValidateConnector(cfg, ok); err != nil {
		t.Errorf("allowed keys: %v", err)
	}
	ok["producer.override.batch.size"] = "1000"
	if err := worker.ValidateConnector(cfg, ok); err == nil || !strings.Contains(err.Error(), "The 'Allowlist' policy does not allow 'batch.size'") {
		t.Errorf("a key not in the allowlist: %v", err)
	}
}
