package worker_test

import (
	"bufio"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// metric reads one sample from the worker's /metrics: the series name with
// every given label (k="v").
func metric(t testing.TB, url, name string, labels ...string) (float64, bool) {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		return v, true
	}
	return 0, false
}

func waitMetric(t testing.TB, url, name string, want float64, labels ...string) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, func() error {
		v, ok := metric(t, url, name, labels...)
		if !ok || v != want {
			return fmt.Errorf("%s%v = %v (present %v), want %v", name, labels, v, ok, want)
		}
		return nil
	})
}

// Per connector and task: records polled and written, read and sent,
// batch sizes, commit latency, errors, DLQ writes and status.
func TestMetrics(t *testing.T) {
	addr := testkit.Bootstrap(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	appendLines(t, in, "1", "2", "3")
	testkit.CreateTopic(t, addr, "metrics-bad", 1)
	testkit.Produce(t, addr, &kgo.Record{Topic: "metrics-bad", Value: []byte("{")}, &kgo.Record{Topic: "metrics-bad", Value: []byte("1")})
	w := startStandalone(t, testConfig(t, addr),
		map[string]string{"name": "src", "connector.class": "FileStreamSource", "file": in, "topic": "metrics-lines", "value.converter": "StringConverter"},
		map[string]string{"name": "dst", "connector.class": "FileStreamSink", "file": out, "topics": "metrics-lines", "value.converter": "StringConverter"},
		map[string]string{"name": "bad", "connector.class": "FileStreamSink", "file": filepath.Join(dir, "bad.txt"), "topics": "metrics-bad",
			"value.converter": "JsonConverter", "value.converter.schemas.enable": "false",
			"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "metrics-dlq"},
	)
	url := w.URL()
	src, dst, bad := []string{`connector="src"`, `task="0"`}, []string{`connector="dst"`, `task="0"`}, []string{`connector="bad"`, `task="0"`}
	waitMetric(t, url, "tributary_connect_source_records_polled_total", 3, src...)
	waitMetric(t, url, "tributary_connect_source_records_written_total", 3, src...)
	waitMetric(t, url, "tributary_connect_sink_records_read_total", 3, dst...)
	waitMetric(t, url, "tributary_connect_sink_records_sent_total", 3, dst...)
	waitMetric(t, url, "tributary_connect_batch_size_records_count", 1, src...)
	testkit.Eventually(t, 30*time.Second, func() error {
		if v, _ := metric(t, url, "tributary_connect_offset_commit_seconds_count", dst...); v < 1 {
			return fmt.Errorf("no sink commit timed yet")
		}
		if v, _ := metric(t, url, "tributary_connect_offset_commit_seconds_count", src...); v < 1 {
			return fmt.Errorf("no source commit timed yet")
		}
		return nil
	})
	waitMetric(t, url, "tributary_connect_record_errors_total", 1, append(bad, `stage="VALUE_CONVERTER"`)...)
	waitMetric(t, url, "tributary_connect_records_skipped_total", 1, bad...)
	waitMetric(t, url, "tributary_connect_deadletterqueue_records_total", 1, bad...)
	waitMetric(t, url, "tributary_connect_sink_records_sent_total", 1, bad...)
	waitMetric(t, url, "tributary_connect_connector_status", 1, `connector="src"`, `state="RUNNING"`)
	waitMetric(t, url, "tributary_connect_task_status", 1, append(dst, `state="RUNNING"`)...)
	call(t, "PUT", url+"/connectors/src/pause", nil, nil)
	waitMetric(t, url, "tributary_connect_task_status", 1, append(src, `state="PAUSED"`)...)
	waitMetric(t, url, "tributary_connect_task_status", 0, append(src, `state="RUNNING"`)...)
}
