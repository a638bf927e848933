package worker_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/worker"
)

// Connector client overrides are read by the table the CLI and the mirror
// share, with Kafka's rules: the producer keys franz-go has (retries,
// max.request.size, max.in.flight.requests.per.connection) are taken, the
// group the runtime runs is not the connector's to set, and
// enable.idempotence=true with acks=1 is refused as Kafka's producer
// refuses it, on the key the connector set.
func TestClientOverridesSharedTable(t *testing.T) {
	cfg := worker.Defaults()
	cfg.BootstrapServers = []string{"127.0.0.1:9092"}
	source := func(kv ...string) map[string]string {
		c := map[string]string{"name": "f", "connector.class": "FileStreamSource", "topic": "x", "file": "/tmp/x"}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i]] = kv[i+1]
		}
		return c
	}
	if err := worker.ValidateConnector(cfg, source("producer.override.retries", "3", "producer.override.max.request.size", "2097152",
		"producer.override.max.in.flight.requests.per.connection", "5", "producer.override.acks", "1")); err != nil {
		t.Errorf("producer keys of the shared table: %v", err)
	}
	cases := []struct {
		config map[string]string
		key    string
		want   string
	}{
		{source("producer.override.acks", "1", "producer.override.enable.idempotence", "true"),
			"producer.override.enable.idempotence", "enable.idempotence=true needs acks=all, got acks=1"},
		{source("producer.override.bootstrap.servers", "nohost"),
			"producer.override.bootstrap.servers", `bootstrap.servers="nohost": want host:port[,host:port...]`},
		{source("producer.override.enable.idempotence", "1"),
			"producer.override.enable.idempotence", `enable.idempotence="1": want true or false`},
		{map[string]string{"name": "s", "connector.class": "FileStreamSink", "topics": "x", "file": "/tmp/x", "consumer.override.group.id": "mine"},
			"consumer.override.group.id", "group.id is not a property of consumer clients here"},
	}
	for _, c := range cases {
		err := worker.ValidateConnector(cfg, c.config)
		var ce *connect.ConfigError
		if !errors.As(err, &ce) {
			t.Fatalf("%v: %v, want a *connect.ConfigError", c.config, err)
		}
		got := map[string]string{}
		for _, f := range ce.Errors {
			got[f.Key] += f.Message
		}
		if len(got) != 1 || !strings.Contains(got[c.key], c.want) {
			t.Errorf("%v: errors %v, want one on %s saying %q", c.config, got, c.key, c.want)
		}
	}

	// The worker's own keys: the same conflict is a worker config error.
	w := worker.Defaults()
	w.BootstrapServers = []string{"127.0.0.1:9092"}
	for k, v := range map[string]string{"producer.acks": "0", "producer.enable.idempotence": "true", "producer.retries": "7"} {
		if err := w.Set(k, v); err != nil {
			t.Fatalf("worker config %s=%s: %v", k, v, err)
		}
	}
	if err := w.Validate(); err == nil || !strings.Contains(err.Error(), "producer.enable.idempotence=true needs producer.acks=all, got acks=0") {
		t.Errorf("worker producer.acks=0 with producer.enable.idempotence=true: %v", err)
	}
}
