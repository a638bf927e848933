package parquet

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect/connecttest"
)

// TestConformance runs connect's conformance suite; a scheduled rotation
// commits files within a fraction of a second.
func TestConformance(t *testing.T) {
	var dir string
	connecttest.RunSink(t, connecttest.Sink{
		Config: func(t *testing.T, topic string) map[string]string {
			dir = t.TempDir()
			return map[string]string{
				"connector.class": "parquet", keyStoreURL: "file://" + dir, keyFlushSize: "1000",
				keyRotateSchedule: "200", "value.converter": "org.apache.kafka.connect.json.JsonConverter",
				"value.converter.schemas.enable": "true",
			}
		},
		Record: func(id string) *kgo.Record {
			return &kgo.Record{Value: fmt.Appendf(nil, `{"schema":{"type":"struct","name":"rec","fields":[{"field":"id","type":"string"}]},"payload":{"id":%q}}`, id)}
		},
		Read: func(t *testing.T) []string {
			var ids []string
			for _, f := range committedFiles(t, dir) {
				for _, row := range readFile(t, filepath.Join(dir, f)) {
					ids = append(ids, row["id"].(string))
				}
			}
			return ids
		},
		BadConfigs: []connecttest.BadConfig{
			{Name: "s3 url", Config: map[string]string{"connector.class": "parquet", "topics": "x", keyStoreURL: "s3://bucket", keyFlushSize: "1"}, Keys: []string{keyStoreURL}},
			{Name: "bad codec", Config: map[string]string{"connector.class": "parquet", "topics": "x", keyStoreURL: "file:///tmp", keyFlushSize: "1", keyCodec: "brotli"}, Keys: []string{keyCodec}},
		},
		Timeout: 60 * time.Second,
	})
}
