package worker_test

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
	"github.com/tributary-streams/tributary/connect/worker"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// upper is a test-only transformation: it upper-cases string values and
// fails on the value "poison".
type upper struct{}

func (upper) Config() *connect.ConfigDef        { return connect.NewConfigDef() }
func (upper) Configure(map[string]string) error { return nil }
func (upper) Close() error                      { return nil }
func (upper) Apply(r *connect.Record) (*connect.Record, error) {
	s, ok := r.Value.(string)
	if !ok {
		return r, nil
	}
	if s == "poison" {
		return nil, fmt.Errorf("poisoned value")
	}
	r.Value = strings.ToUpper(s)
	return r, nil
}

func init() {
	connect.RegisterTransformation(connect.PluginInfo{Class: "test.Upper"}, func() connect.Transformation { return upper{} })
}

// Records that fail conversion or transformation go to the dead-letter
// queue with Kafka's context headers; the rest reach the sink.
func TestSinkDeadLetterQueue(t *testing.T) {
	addr := testkit.Bootstrap(t)
	testkit.CreateTopic(t, addr, "dlq-in", 1)
	testkit.Produce(t, addr,
		&kgo.Record{Topic: "dlq-in", Value: []byte(`"good-1"`)},
		&kgo.Record{Topic: "dlq-in", Value: []byte(`not json`), Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("abc")}}},
		&kgo.Record{Topic: "dlq-in", Value: []byte(`"poison"`)},
		&kgo.Record{Topic: "dlq-in", Value: []byte(`"good-2"`)},
	)
	out := filepath.Join(t.TempDir(), "out.txt")
	w := startStandalone(t, testConfig(t, addr), map[string]string{
		"name": "dlq-sink", "connector.class": "FileStreamSink", "file": out, "topics": "dlq-in",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"transforms": "up", "transforms.up.type": "test.Upper",
		"errors.tolerance": "all", "errors.log.enable": "true",
		"errors.deadletterqueue.topic.name": "dlq", "errors.deadletterqueue.context.headers.enable": "true",
	})
	testkit.Eventually(t, 30*time.Second, func() error {
		if got := strings.Join(readLines(out), ","); got != "GOOD-1,GOOD-2" {
			return fmt.Errorf("sink file: %q", got)
		}
		return nil
	})
	dead := testkit.Consume(t, addr, "dlq", 2)
	headers := func(r *kgo.Record) map[string]string {
		m := map[string]string{}
		for _, h := range r.Headers {
			m[h.Key] = string(h.Value)
		}
		return m
	}
	h0, h1 := headers(dead[0]), headers(dead[1])
	if string(dead[0].Value) != "not json" || h0["trace"] != "abc" || h0["__connect.errors.topic"] != "dlq-in" ||
		h0["__connect.errors.partition"] != "0" || h0["__connect.errors.offset"] != "1" ||
		h0["__connect.errors.connector.name"] != "dlq-sink" || h0["__connect.errors.task.id"] != "0" ||
		h0["__connect.errors.stage"] != "VALUE_CONVERTER" ||
		h0["__connect.errors.class.name"] != "org.apache.kafka.connect.json.JsonConverter" ||
		h0["__connect.errors.exception.class.name"] != "org.apache.kafka.connect.errors.DataException" ||
		!strings.Contains(h0["__connect.errors.exception.message"], "not valid JSON") {
		t.Errorf("first dead letter: %q %v", dead[0].Value, h0)
	}
	if string(dead[1].Value) != `"poison"` || h1["__connect.errors.stage"] != "TRANSFORMATION" || h1["__connect.errors.offset"] != "2" ||
		!strings.Contains(h1["__connect.errors.exception.message"], "poisoned value") {
		t.Errorf("second dead letter: %q %v", dead[1].Value, h1)
	}
	waitState(t, w.URL(), "dlq-sink", "RUNNING", 1)
}

// With errors.tolerance=none (the default) a bad record fails the task,
// with the reason in its trace, and nothing after it is delivered.
func TestToleranceNoneFailsTask(t *testing.T) {
	addr := testkit.Bootstrap(t)
	testkit.CreateTopic(t, addr, "strict-in", 1)
	testkit.Produce(t, addr,
		&kgo.Record{Topic: "strict-in", Value: []byte(`{"schema":{"type":"string"},"payload":"ok"}`)},
		&kgo.Record{Topic: "strict-in", Value: []byte(`oops`)},
		&kgo.Record{Topic: "strict-in", Value: []byte(`{"schema":{"type":"string"},"payload":"after"}`)},
	)
	out := filepath.Join(t.TempDir(), "out.txt")
	w := startStandalone(t, testConfig(t, addr), map[string]string{
		"name": "strict", "connector.class": "FileStreamSink", "file": out, "topics": "strict-in"})
	url := w.URL()
	testkit.Eventually(t, 30*time.Second, func() error {
		var st struct {
			Tasks []struct{ State, Trace string } `json:"tasks"`
		}
		call(t, "GET", url+"/connectors/strict/status", nil, &st)
		if len(st.Tasks) != 1 || st.Tasks[0].State != "FAILED" {
			return fmt.Errorf("status %+v", st)
		}
		if !strings.Contains(st.Tasks[0].Trace, "tolerance exceeded") || !strings.Contains(st.Tasks[0].Trace, "VALUE_CONVERTER") {
			return fmt.Errorf("trace %q", st.Tasks[0].Trace)
		}
		return nil
	})
	if got := readLines(out); len(got) > 1 || len(got) == 1 && got[0] != "ok" {
		t.Fatalf("delivered past the bad record: %q", got)
	}
}

// Source records go through the chain and the converters; a record the
// chain fails is skipped with errors.tolerance=all.
func TestSourceChainAndTolerance(t *testing.T) {
	addr := testkit.Bootstrap(t)
	in := filepath.Join(t.TempDir(), "in.txt")
	appendLines(t, in, "a", "poison", "b")
	startStandalone(t, testConfig(t, addr), map[string]string{
		"name": "src", "connector.class": "FileStreamSource", "file": in, "topic": "chain-out",
		"transforms": "up", "transforms.up.type": "test.Upper", "errors.tolerance": "all"})
	recs := testkit.Consume(t, addr, "chain-out", 2)
	want := []string{
		`{"schema":{"type":"string","optional":false},"payload":"A"}`,
		`{"schema":{"type":"string","optional":false},"payload":"B"}`,
	}
	for i, r := range recs {
		if string(r.Value) != want[i] {
			t.Errorf("record %d: %s, want %s", i, r.Value, want[i])
		}
	}
	_ = data.StringSchema
}

// Kafka's own transformations, by their Kafka class names, run in a
// pipeline: HoistField wraps each line in a struct, InsertField adds a
// static field, and a predicate limits a third to one topic.
func TestKafkaTransformsInPipeline(t *testing.T) {
	addr := testkit.Bootstrap(t)
	in := filepath.Join(t.TempDir(), "in.txt")
	appendLines(t, in, "hello")
	startStandalone(t, testConfig(t, addr), map[string]string{
		"name": "src", "connector.class": "FileStreamSource", "file": in, "topic": "smt-out",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"transforms":                     "hoist,insert,route",
		"transforms.hoist.type":          "org.apache.kafka.connect.transforms.HoistField$Value",
		"transforms.hoist.field":         "line",
		"transforms.insert.type":         "org.apache.kafka.connect.transforms.InsertField$Value",
		"transforms.insert.static.field": "source",
		"transforms.insert.static.value": "readme",
		"transforms.route.type":          "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex":         "smt-(.*)",
		"transforms.route.replacement":   "routed-$1",
		"transforms.route.predicate":     "isSmt",
		"predicates":                     "isSmt",
		"predicates.isSmt.type":          "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"predicates.isSmt.pattern":       "smt-.*",
	})
	recs := testkit.Consume(t, addr, "routed-out", 1)
	if got, want := string(recs[0].Value), `{"line":"hello","source":"readme"}`; got != want {
		t.Fatalf("value %s, want %s", got, want)
	}
}

// A record the producer refuses (larger than its 1 MiB batches) is skipped under errors.tolerance=all, logged with its source partition
// and offset, and counts as done: the records around it arrive and the
// offset after the last line is committed.
func TestSourceProduceFailureTolerated(t *testing.T) {
	addr := testkit.Bootstrap(t)
	in := filepath.Join(t.TempDir(), "in.txt")
	big := strings.Repeat("x", 1100<<10)
	appendLines(t, in, "a", big, "b")
	logs := &testkit.SyncBuffer{}
	cfg := testConfig(t, addr)
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	w := startStandalone(t, cfg, map[string]string{
		"name": "src", "connector.class": "FileStreamSource", "file": in, "topic": "too-big",
		"value.converter":  "org.apache.kafka.connect.storage.StringConverter",
		"errors.tolerance": "all", "errors.log.enable": "true"})
	recs := testkit.Consume(t, addr, "too-big", 2)
	if got := string(recs[0].Value) + "," + string(recs[1].Value); got != "a,b" {
		t.Fatalf("records %q", got)
	}
	end := float64(len("a\n") + len(big) + 1 + len("b\n"))
	testkit.Eventually(t, 30*time.Second, func() error {
		var offs struct {
			Offsets []worker.ConnectorOffset `json:"offsets"`
		}
		call(t, "GET", w.URL()+"/connectors/src/offsets", nil, &offs)
		if len(offs.Offsets) != 1 || offs.Offsets[0].Offset["position"] != end {
			return fmt.Errorf("offsets %+v, want position %v", offs.Offsets, end)
		}
		return nil
	})
	l := logs.String()
	if !strings.Contains(l, "stage=KAFKA_PRODUCE") || !strings.Contains(l, "source_partition") ||
		!strings.Contains(l, fmt.Sprintf("source_offset=map[position:%d]", len("a\n")+len(big)+1)) {
		t.Fatalf("the failed record is not logged with its source position:\n%s", l)
	}
}
