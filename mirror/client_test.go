package mirror

import (
	"strings"
	"testing"
	"time"
)

// A cluster's client properties resolve per kind of client through the
// shared table, with the mirror's defaults and rules on top.
func TestClientSettings(t *testing.T) {
	cfg := parse(t, `
clusters = A, B
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
A->B.enabled = true
client.id = mm2
B.producer.linger.ms = 0
B.producer.acks = ALL
B.producer.compression.type = zstd
A.consumer.isolation.level = read_uncommitted
A.consumer.max.poll.records = 50
A.consumer.group.protocol = consumer
`)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if w := strings.Join(cfg.Warnings, "\n"); !strings.Contains(w, "A.consumer.group.protocol: Kafka client property not used by tributary mirror; ignored") {
		t.Errorf("warnings %q lack group.protocol's", w)
	}
	p, err := cfg.Cluster["B"].settings(producerClient)
	if err != nil {
		t.Fatal(err)
	}
	if p.ClientID != "mm2" || p.Linger == nil || *p.Linger != 0 || p.Acks != "all" || p.Compression != "zstd" {
		t.Errorf("producer settings %+v", p.Settings)
	}
	c, err := cfg.Cluster["A"].settings(consumerClient)
	if err != nil {
		t.Fatal(err)
	}
	if c.IsolationLevel != "read_uncommitted" || c.MaxPollRecords != 50 || c.GroupProtocol != "" {
		t.Errorf("consumer settings %+v", c.Settings)
	}
	// Another kind's keys are left out; the defaults stay.
	d, _ := cfg.Cluster["B"].settings(consumerClient)
	if d.Linger != nil || d.IsolationLevel != "read_committed" || d.MaxPollRecords != 10000 || d.FetchMaxWait != 0*time.Second {
		t.Errorf("B's consumer took producer keys or lost the defaults: %+v", d.Settings)
	}

	bad := parse(t, `
clusters = A, B
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
A->B.enabled = true
B.producer.compression.type = uncompressed
B.producer.enable.idempotence = false
B.consumer.fetch.max.wait.ms = 2147483648
`)
	err = bad.Validate()
	for _, want := range []string{
		`cluster B: producer.compression.type="uncompressed": accepted none, gzip, snappy, lz4, zstd`,
		`cluster B: producer.enable.idempotence="false": accepted only true`,
		`cluster B: consumer.fetch.max.wait.ms="2147483648": accepted a positive number of milliseconds`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
