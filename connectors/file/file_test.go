package file_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect/connecttest"
	"github.com/tributary-streams/tributary/connect/worker"
	_ "github.com/tributary-streams/tributary/connectors/file"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestSourceConformance(t *testing.T) {
	var path string
	var next atomic.Int64
	connecttest.RunSource(t, connecttest.Source{
		Config: func(t *testing.T, topic string) map[string]string {
			path = filepath.Join(t.TempDir(), "in.txt")
			return map[string]string{"connector.class": "FileStreamSource", "file": path, "topic": topic,
				"value.converter": "org.apache.kafka.connect.storage.StringConverter", "batch.size": "7"}
		},
		Produce: func(t *testing.T, n int) []string {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ids := make([]string, n)
			for i := range ids {
				ids[i] = fmt.Sprintf("line-%d", next.Add(1))
				fmt.Fprintln(f, ids[i])
			}
			return ids
		},
		ID: func(r *kgo.Record) (string, bool) { return string(r.Value), true },
		BadConfigs: []connecttest.BadConfig{
			{Name: "two topics", Config: map[string]string{"connector.class": "FileStreamSource", "file": "/tmp/x", "topic": "a,b"}, Keys: []string{"topic"}},
			{Name: "batch.size 0", Config: map[string]string{"connector.class": "FileStreamSource", "file": "/tmp/x", "topic": "a", "batch.size": "0"}, Keys: []string{"batch.size"}},
		},
	})
}

func TestSinkConformance(t *testing.T) {
	var path string
	connecttest.RunSink(t, connecttest.Sink{
		Config: func(t *testing.T, topic string) map[string]string {
			path = filepath.Join(t.TempDir(), "out.txt")
			return map[string]string{"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "file": path,
				"value.converter": "org.apache.kafka.connect.storage.StringConverter"}
		},
		Record: func(id string) *kgo.Record { return &kgo.Record{Value: []byte(id)} },
		Read: func(t *testing.T) []string {
			b, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			return strings.Fields(string(b))
		},
		BadConfigs: []connecttest.BadConfig{
			{Name: "no topics", Config: map[string]string{"connector.class": "FileStreamSink", "file": "/tmp/x", "topics": ""}, Keys: []string{"topics"}},
		},
	})
}

// stdinChildEnv makes TestSourceReadsStandardInput the child that runs the
// worker, with the parent's pipe as its standard input.
const stdinChildEnv = "TRIBUTARY_FILE_STDIN_CHILD"

// Without file, the source reads standard input, as Kafka's does: lines
// written to the worker process's stdin reach the topic, in order, also
// when written after the connector started.
func TestSourceReadsStandardInput(t *testing.T) {
	if raw := os.Getenv(stdinChildEnv); raw != "" {
		runStdinWorker(raw)
		return
	}
	addr := testkit.Bootstrap(t)
	const topic = "file-stdin"
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSourceReadsStandardInput$")
	cmd.Env = append(os.Environ(), stdinChildEnv+"="+addr+","+topic+","+t.TempDir())
	cmd.Stdin = r
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	t.Cleanup(func() {
		w.Close()
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("worker output:\n%s", logs.String())
		}
	})
	fmt.Fprintln(w, "first")
	fmt.Fprintln(w, "second")
	if got := values(testkit.Consume(t, addr, topic, 2)); got != "first,second" {
		t.Fatalf("records %s", got)
	}
	fmt.Fprint(w, "third\nfour")
	fmt.Fprintln(w, "th")
	if got := values(testkit.Consume(t, addr, topic, 4)); got != "first,second,third,fourth" {
		t.Fatalf("records %s", got)
	}
}

func values(recs []*kgo.Record) string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Value))
	}
	return strings.Join(out, ",")
}

// runStdinWorker runs a standalone worker with a FileStreamSource without
// file until the parent kills it.
func runStdinWorker(raw string) {
	parts := strings.SplitN(raw, ",", 3)
	cfg := worker.Defaults()
	cfg.BootstrapServers = []string{parts[0]}
	cfg.RestListen = ""
	cfg.OffsetStorageFile = filepath.Join(parts[2], "offsets")
	cfg.OffsetFlushInterval = 200 * time.Millisecond
	w, err := worker.StartStandalone(context.Background(), cfg, map[string]string{"name": "stdin", "connector.class": "FileStreamSource",
		"topic": parts[1], "value.converter": "org.apache.kafka.connect.storage.StringConverter"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start worker:", err)
		os.Exit(1)
	}
	defer w.Close()
	// The parent kills the worker; should the parent die first, stop.
	parent := os.Getppid()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline) && os.Getppid() == parent; {
		time.Sleep(200 * time.Millisecond)
	}
	os.Exit(1)
}
