package worker_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect/worker"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// A distributed worker whose every client (group, internal topics, admin,
// source producers, sink consumers) reaches the cluster over SASL_SSL.
func TestDistributedWorkerOverSASLSSL(t *testing.T) {
	certs := testkit.NewCerts(t)
	b := testkit.StartBroker(t,
		testkit.WithConfig("listeners", "SASL_SSL://127.0.0.1:0"),
		testkit.WithConfig("ssl.keystore.location", certs.ServerKeystore),
		testkit.WithSCRAM("SCRAM-SHA-512=[name=connect,password=connect-secret]"),
		testkit.WithSCRAM("SCRAM-SHA-256=[name=tasks,password=tasks-secret]"),
		testkit.WithConfig("sasl.enabled.mechanisms", "SCRAM-SHA-256,SCRAM-SHA-512"))
	cfg := distributedConfig(t, b.Addr, "secure")
	for k, v := range map[string]string{
		"security.protocol":       "SASL_SSL",
		"sasl.mechanism":          "SCRAM-SHA-512",
		"sasl.jaas.config":        `org.apache.kafka.common.security.scram.ScramLoginModule required username="connect" password="connect-secret";`,
		"ssl.truststore.location": certs.CAFile,
		// Tasks' clients as another user, with another mechanism.
		"producer.sasl.mechanism":   "SCRAM-SHA-256",
		"producer.sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="tasks" password="tasks-secret";`,
		"consumer.sasl.mechanism":   "SCRAM-SHA-256",
		"consumer.sasl.username":    "tasks",
		"consumer.sasl.password":    "tasks-secret",
	} {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	w := startDistributed(t, cfg)
	out := filepath.Join(t.TempDir(), "out.txt")
	if code := callRetry(t, "POST", w.URL()+"/connectors", map[string]any{"name": "gen", "config": map[string]string{
		"connector.class": "datagen", "topic": "secure-gen", "tasks.max": "2", "iterations": "50", "max.interval": "1",
		"value.converter": "StringConverter"}}, nil); code != 201 {
		t.Fatalf("create source: %d", code)
	}
	if code := callRetry(t, "PUT", w.URL()+"/connectors/copy/config", map[string]string{
		"connector.class": "FileStreamSink", "topics": "secure-gen", "file": out, "value.converter": "StringConverter"}, nil); code != 201 {
		t.Fatalf("create sink: %d", code)
	}
	testkit.Eventually(t, 60*time.Second, func() error {
		if n := len(readLines(out)); n < 100 {
			return fmt.Errorf("%d of 100 records in the file", n)
		}
		return nil
	})
}

func TestWorkerSecurityConfigErrors(t *testing.T) {
	for _, c := range []struct {
		key, value, want string
	}{
		{"security.protocol", "TLS", `security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got "TLS"`},
		{"producer.sasl.mechanism", "GSSAPI", "producer.sasl.mechanism must be"},
		{"consumer.ssl.truststore.type", "JKS", "consumer.ssl.truststore.type must be PEM"},
		{"sasl.jaas.config", `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="hunter2"`, "sasl.jaas.config must be"},
	} {
		cfg := worker.Defaults()
		err := cfg.Set(c.key, c.value)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s=%q: %v, want %q", c.key, c.value, err, c.want)
		}
	}
	cfg := worker.Defaults()
	cfg.BootstrapServers = []string{"127.0.0.1:9092"}
	cfg.Set("security.protocol", "SASL_SSL")
	cfg.Set("sasl.mechanism", "PLAIN")
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "needs credentials") {
		t.Errorf("SASL without credentials: %v", err)
	}
}
