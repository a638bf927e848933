package worker_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// A file source feeds a topic and a file sink copies it to another file;
// both resume from their committed offsets after a restart.
func TestStandaloneFilePipeline(t *testing.T) {
	addr := testkit.Bootstrap(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	appendLines(t, in, "one", "two", "three")
	source := map[string]string{"name": "src", "connector.class": "FileStreamSource", "file": in, "topic": "lines",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"}
	sink := map[string]string{"name": "dst", "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
		"file": out, "topics": "lines", "value.converter": "StringConverter"}
	cfg := testConfig(t, addr)
	w := startStandalone(t, cfg, source, sink)
	waitLines := func(want ...string) {
		t.Helper()
		testkit.Eventually(t, 30*time.Second, func() error {
			got := readLines(out)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				return fmt.Errorf("sink file has %q, want %q", got, want)
			}
			return nil
		})
	}
	waitLines("one", "two", "three")
	waitState(t, w.URL(), "src", "RUNNING", 1)
	waitState(t, w.URL(), "dst", "RUNNING", 1)
	appendLines(t, in, "four")
	waitLines("one", "two", "three", "four")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	appendLines(t, in, "five", "six")
	w2 := startStandalone(t, cfg, source, sink)
	waitLines("one", "two", "three", "four", "five", "six")
	w2.Close()
}
