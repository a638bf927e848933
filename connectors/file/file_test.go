package file_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect/connecttest"
	_ "github.com/tributary-streams/tributary/connectors/file"
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
