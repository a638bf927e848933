package datagen_test

import (
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect/connecttest"
	"github.com/tributary-streams/tributary/connectors/datagen"
)

func TestConformance(t *testing.T) {
	connecttest.RunSource(t, connecttest.Source{
		Config: func(t *testing.T, topic string) map[string]string {
			return map[string]string{"connector.class": "datagen", "topic": topic, "tasks.max": "2",
				"iterations": "300", "max.interval": "3", "value.size": "64",
				"value.converter": "org.apache.kafka.connect.storage.StringConverter"}
		},
		Expected: func(config map[string]string) []string {
			n, _ := strconv.Atoi(config["iterations"])
			var ids []string
			for task := range 2 {
				for seq := range n {
					ids = append(ids, datagen.Text(task, int64(seq)))
				}
			}
			return ids
		},
		ID: func(r *kgo.Record) (string, bool) {
			task, seq, ok := datagen.Parse(string(r.Value))
			return datagen.Text(task, seq), ok
		},
		BadConfigs: []connecttest.BadConfig{
			{Name: "tiny values", Config: map[string]string{"connector.class": "datagen", "topic": "t", "value.size": "3"}, Keys: []string{"value.size"}},
			{Name: "bad schema", Config: map[string]string{"connector.class": "datagen", "topic": "t", "value.schema": "avro"}, Keys: []string{"value.schema"}},
		},
	})
}
