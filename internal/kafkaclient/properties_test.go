package kafkaclient

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Every property of the table takes a good value into its field and
// refuses a bad one with a *PropertyError naming the key and what it
// accepts.
func TestProperties(t *testing.T) {
	tests := []struct {
		key, good, bad string
		want           func(s Settings) bool
	}{
		{"bootstrap.servers", " a:1, b:2 ", "a", func(s Settings) bool { return reflect.DeepEqual(s.Seeds, []string{"a:1", "b:2"}) }},
		{"client.id", " me ", " ", func(s Settings) bool { return s.ClientID == "me" }},
		{"request.timeout.ms", "5000", "0", func(s Settings) bool { return s.RequestTimeout == 5*time.Second }},
		{"default.api.timeout.ms", "6000", "x", func(s Settings) bool { return s.APITimeout == 6*time.Second }},
		{"retry.backoff.ms", "50", "-1", func(s Settings) bool { return s.RetryBackoff == 50*time.Millisecond }},
		{"metadata.max.age.ms", "1000", "1e3", func(s Settings) bool { return s.MetadataMaxAge == time.Second }},
		{"connections.max.idle.ms", "9000", "", func(s Settings) bool { return s.ConnIdle == 9*time.Second }},
		{"socket.connection.setup.timeout.ms", "100", "soon", func(s Settings) bool { return s.DialTimeout == 100*time.Millisecond }},
		{"acks", "-1", "2", func(s Settings) bool { return s.Acks == "all" }},
		{"enable.idempotence", "FALSE", "1", func(s Settings) bool { return s.Idempotence != nil && !*s.Idempotence }},
		{"linger.ms", "0", "-5", func(s Settings) bool { return s.Linger != nil && *s.Linger == 0 }},
		{"batch.size", "16384", "0", func(s Settings) bool { return s.BatchMaxBytes == 16384 }},
		{"max.request.size", "1048576", "big", func(s Settings) bool { return s.MaxRequestBytes == 1048576 }},
		{"compression.type", "ZSTD", "uncompressed", func(s Settings) bool { return s.Compression == "zstd" }},
		{"delivery.timeout.ms", "120000", "0", func(s Settings) bool { return s.DeliveryTimeout == 2*time.Minute }},
		{"transaction.timeout.ms", "60000", "2147483648", func(s Settings) bool { return s.TxnTimeout == time.Minute }},
		{"retries", "0", "-1", func(s Settings) bool { return s.Retries != nil && *s.Retries == 0 }},
		{"max.in.flight.requests.per.connection", "5", "0", func(s Settings) bool { return s.MaxInFlight == 5 }},
		{"buffer.memory", "4294967296", "0", func(s Settings) bool { return s.BufferMemory == 1<<32 }},
		{"group.id", "g", "", func(s Settings) bool { return s.GroupID == "g" }},
		{"group.instance.id", "i-1", " ", func(s Settings) bool { return s.GroupInstanceID == "i-1" }},
		{"isolation.level", "READ_COMMITTED", "serializable", func(s Settings) bool { return s.IsolationLevel == "read_committed" }},
		{"auto.offset.reset", "Latest", "smallest", func(s Settings) bool { return s.AutoOffsetReset == "latest" }},
		{"enable.auto.commit", "true", "yes", func(s Settings) bool { return s.EnableAutoCommit != nil && *s.EnableAutoCommit }},
		{"auto.commit.interval.ms", "1000", "0", func(s Settings) bool { return s.AutoCommitInterval == time.Second }},
		{"session.timeout.ms", "45000", "0", func(s Settings) bool { return s.SessionTimeout == 45*time.Second }},
		{"heartbeat.interval.ms", "3000", "0", func(s Settings) bool { return s.HeartbeatInterval == 3*time.Second }},
		{"max.poll.interval.ms", "300000", "0", func(s Settings) bool { return s.MaxPollInterval == 5*time.Minute }},
		{"max.poll.records", "500", "2147483648", func(s Settings) bool { return s.MaxPollRecords == 500 }},
		{"fetch.min.bytes", "1", "0", func(s Settings) bool { return s.FetchMinBytes == 1 }},
		{"fetch.max.bytes", "52428800", "2147483648", func(s Settings) bool { return s.FetchMaxBytes == 52428800 }},
		{"fetch.max.wait.ms", "500", "0", func(s Settings) bool { return s.FetchMaxWait == 500*time.Millisecond }},
		{"max.partition.fetch.bytes", "1048576", "0", func(s Settings) bool { return s.PartitionMaxBytes == 1048576 }},
		{"partition.assignment.strategy", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor, range", "fair", func(s Settings) bool { return len(s.Balancers) == 2 }},
		{"group.protocol", "consumer", "next", func(s Settings) bool { return s.GroupProtocol == "consumer" }},
		{"group.remote.assignor", "range", "sticky", func(s Settings) bool { return s.RemoteAssignor == "range" }},
		{"client.rack", " us-east-1a ", "", func(s Settings) bool { return s.Rack == "us-east-1a" }},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		seen[tc.key] = true
		var s Settings
		if err := s.Set(tc.key, tc.good); err != nil || !tc.want(s) {
			t.Errorf("%s=%q: %v (settings %+v)", tc.key, tc.good, err, s)
		}
		if tc.key == "client.rack" {
			continue // any rack name is accepted
		}
		p, _ := Lookup(tc.key)
		err := new(Settings).Set(tc.key, tc.bad)
		var pe *PropertyError
		if !errors.As(err, &pe) || pe.Key != tc.key || pe.Accepted != p.Accepted || p.Accepted == "" ||
			!strings.HasPrefix(err.Error(), tc.key+" must be "+p.Accepted+", got ") {
			t.Errorf("%s=%q: got %v, want a PropertyError naming the key and what it accepts", tc.key, tc.bad, err)
		}
	}
	for _, k := range PropertyKeys() {
		if !seen[k] {
			t.Errorf("property %s has no case in this test", k)
		}
	}
	// Security keys go to Security; unknown keys are refused by name.
	var s Settings
	if err := s.Set("security.protocol", "ssl"); err != nil || s.Security.Protocol != SSL {
		t.Errorf("security.protocol: %v, %+v", err, s.Security)
	}
	if err := s.Set("fetch.max.byte", "1"); err == nil || !strings.Contains(err.Error(), "fetch.max.byte") {
		t.Errorf("unknown key: %v", err)
	}
}

// Kafka's bounds: an INT property up to 2147483647, a LONG one beyond.
func TestPropertyBounds(t *testing.T) {
	for key, ok := range map[string]bool{
		"request.timeout.ms": false, "session.timeout.ms": false, "delivery.timeout.ms": false,
		"retry.backoff.ms": true, "metadata.max.age.ms": true, "linger.ms": true, "connections.max.idle.ms": true,
	} {
		err := new(Settings).Set(key, "2147483648")
		if (err == nil) != ok {
			t.Errorf("%s=2147483648: %v, want accepted %v", key, err, ok)
		}
	}
	if err := new(Settings).Set("retry.backoff.ms", "9223372036855"); err == nil {
		t.Error("retry.backoff.ms past what a time.Duration holds accepted")
	}
}

func TestKinds(t *testing.T) {
	for key, kind := range map[string]Kind{"client.id": AnyClient, "acks": Producer, "max.poll.records": Consumer, "default.api.timeout.ms": Admin | Consumer} {
		if p, ok := Lookup(key); !ok || p.Kinds != kind || p.Key != key {
			t.Errorf("%s: %+v", key, p)
		}
	}
	if p, _ := Lookup("linger.ms"); p.For(Consumer) || !p.For(Producer) {
		t.Errorf("linger.ms is for producers only: %v", p.Kinds)
	}
	if Producer.String() != "producer" || (Admin|Consumer).String() != "admin|consumer" {
		t.Errorf("kind names %q %q", Producer, Admin|Consumer)
	}
	if _, ok := Lookup("security.protocol"); ok {
		t.Error("security keys are not in the table")
	}
}

func TestAcks(t *testing.T) {
	set := func(kv ...string) Settings {
		var s Settings
		for i := 0; i < len(kv); i += 2 {
			if err := s.Set(kv[i], kv[i+1]); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	cases := []struct {
		s                    Settings
		conflict, idempotent bool
	}{
		{set(), false, true},
		{set("acks", "all"), false, true},
		{set("acks", "1"), false, false},
		{set("acks", "0", "enable.idempotence", "false"), false, false},
		{set("acks", "1", "enable.idempotence", "true"), true, false},
		{set("enable.idempotence", "false"), false, false},
	}
	for i, c := range cases {
		if c.s.AcksConflict() != c.conflict || c.s.Idempotent() != c.idempotent {
			t.Errorf("case %d %+v: conflict %v idempotent %v", i, c.s, c.s.AcksConflict(), c.s.Idempotent())
		}
	}
}

// The options of every property are ones franz-go accepts together: a
// client builds from them (acks=1 turning idempotence off, linger.ms=0).
func TestOptionsBuildAClient(t *testing.T) {
	props := map[string]string{
		"bootstrap.servers": "127.0.0.1:1", "client.id": "c", "request.timeout.ms": "5000", "retry.backoff.ms": "50",
		"metadata.max.age.ms": "60000", "connections.max.idle.ms": "60000", "socket.connection.setup.timeout.ms": "1000",
		"acks": "1", "linger.ms": "0", "batch.size": "16384", "max.request.size": "1048576", "compression.type": "lz4",
		"delivery.timeout.ms": "120000", "transaction.timeout.ms": "60000", "retries": "3", "buffer.memory": "33554432",
		"isolation.level": "read_committed", "auto.offset.reset": "none", "fetch.min.bytes": "1", "fetch.max.bytes": "1048576",
		"fetch.max.wait.ms": "100", "max.partition.fetch.bytes": "1048576", "client.rack": "r1",
		"group.instance.id": "i", "session.timeout.ms": "10000", "heartbeat.interval.ms": "1000", "max.poll.interval.ms": "60000",
		"auto.commit.interval.ms": "1000", "partition.assignment.strategy": "range", "max.in.flight.requests.per.connection": "3",
	}
	var s Settings
	for k, v := range props {
		if err := s.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	opts := append(s.CommonOpts(), s.ProducerOpts()...)
	opts = append(opts, s.ConsumerOpts()...)
	opts = append(opts, kgo.ConsumerGroup("g"), kgo.ConsumeTopics("t"))
	opts = append(opts, s.GroupOpts()...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatalf("client from every property: %v", err)
	}
	cl.Close()
	// max.in.flight.requests.per.connection with an idempotent producer
	// (Kafka allows up to 5; franz-go refuses the option then).
	var idem Settings
	for k, v := range map[string]string{"bootstrap.servers": "127.0.0.1:1", "max.in.flight.requests.per.connection": "5", "enable.idempotence": "true"} {
		if err := idem.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	cl, err = kgo.NewClient(append(idem.CommonOpts(), idem.ProducerOpts()...)...)
	if err != nil {
		t.Fatalf("idempotent producer with max.in.flight.requests.per.connection=5: %v", err)
	}
	cl.Close()
}
