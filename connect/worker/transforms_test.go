package worker_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// Kafka's transforms, by their class names and aliases, in a standalone
// pipeline: on the source side lines are hoisted into a struct, stamped
// with a static field and routed to another topic; on the sink side the
// line is extracted again and only records of the routed topic are kept.
func TestStandaloneKafkaTransforms(t *testing.T) {
	addr := testkit.Bootstrap(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	appendLines(t, in, "one", "two")
	testkit.CreateTopic(t, addr, "routed-lines", 1)
	source := map[string]string{"name": "src", "connector.class": "FileStreamSource", "file": in, "topic": "lines",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"transforms":                    "hoist,stamp,route",
		"transforms.hoist.type":         "org.apache.kafka.connect.transforms.HoistField$Value",
		"transforms.hoist.field":        "line",
		"transforms.stamp.type":         "InsertField$Value",
		"transforms.stamp.static.field": "origin",
		"transforms.stamp.static.value": "file",
		"transforms.route.type":         "RegexRouter",
		"transforms.route.regex":        "(.*)",
		"transforms.route.replacement":  "routed-$1"}
	sink := map[string]string{"name": "dst", "connector.class": "FileStreamSink", "file": out, "topics": "routed-lines",
		"value.converter": "JsonConverter", "value.converter.schemas.enable": "false",
		"transforms":                "keep,extract",
		"transforms.keep.type":      "Filter",
		"transforms.keep.predicate": "routed",
		"transforms.keep.negate":    "true",
		"transforms.extract.type":   "org.apache.kafka.connect.transforms.ExtractField$Value",
		"transforms.extract.field":  "line",
		"predicates":                "routed",
		"predicates.routed.type":    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"predicates.routed.pattern": "routed-.*"}
	startStandalone(t, testConfig(t, addr), source, sink)

	recs := testkit.Consume(t, addr, "routed-lines", 2)
	for i, want := range []string{`{"line":"one","origin":"file"}`, `{"line":"two","origin":"file"}`} {
		if got := string(recs[i].Value); got != want {
			t.Errorf("record %d on routed-lines: %s, want %s", i, got, want)
		}
	}
	testkit.Eventually(t, 30*time.Second, func() error {
		if got := readLines(out); strings.Join(got, ",") != "one,two" {
			return fmt.Errorf("sink file has %q, want one, two", got)
		}
		return nil
	})
}
