package cli

import (
	"crypto/tls"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestClientProperties: every accepted key takes a good value into the
// settings and refuses a bad one naming the key, where it came from and
// what is accepted.
func TestClientProperties(t *testing.T) {
	tests := []struct {
		key, good, bad string
		check          func(s clientSettings) bool
	}{
		{"bootstrap.servers", "a:1,b:2", "a", func(s clientSettings) bool { return reflect.DeepEqual(s.Seeds, []string{"a:1", "b:2"}) }},
		{"client.id", "me", " ", func(s clientSettings) bool { return s.ClientID == "me" }},
		{"request.timeout.ms", "5000", "0", func(s clientSettings) bool { return s.RequestTimeout == 5*time.Second }},
		{"default.api.timeout.ms", "6000", "x", func(s clientSettings) bool { return s.APITimeout == 6*time.Second }},
		{"retry.backoff.ms", "50", "-1", func(s clientSettings) bool { return s.RetryBackoff == 50*time.Millisecond }},
		{"metadata.max.age.ms", "1000", "1e3", func(s clientSettings) bool { return s.MetadataMaxAge == time.Second }},
		{"connections.max.idle.ms", "9000", "", func(s clientSettings) bool { return s.ConnIdle == 9*time.Second }},
		{"socket.connection.setup.timeout.ms", "100", "soon", func(s clientSettings) bool { return s.DialTimeout == 100*time.Millisecond }},
		{"security.protocol", "sasl_ssl", "TLS", func(s clientSettings) bool { return s.Security.Protocol == "SASL_SSL" }},
		{"sasl.mechanism", "SCRAM-SHA-512", "MD5", func(s clientSettings) bool { return s.Security.Mechanism == "SCRAM-SHA-512" }},
		{"sasl.jaas.config", `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`, "user=u", func(s clientSettings) bool { return s.Security.Username == "u" }},
		{"ssl.truststore.type", "PEM", "P12", func(s clientSettings) bool { return s.given["ssl.truststore.type"].value == "PEM" }},
		{"ssl.truststore.location", "/etc/ca.pem", "", func(s clientSettings) bool { return s.Security.TrustStoreFile == "/etc/ca.pem" }},
		{"ssl.enabled.protocols", "TLSv1.3", "SSLv3", func(s clientSettings) bool { return s.Security.MinVersion == tls.VersionTLS13 }},
		{"ssl.endpoint.identification.algorithm", "", "dns", func(s clientSettings) bool { return s.Security.NoHostnameCheck }},
		{"sasl.username", "alice", " ", func(s clientSettings) bool { return s.Security.Username == "alice" }},
		{"sasl.password", "pw", "", func(s clientSettings) bool { return s.Security.Password == "pw" }},
		{"acks", "-1", "2", func(s clientSettings) bool { return s.Acks == "all" }},
		{"enable.idempotence", "false", "no", func(s clientSettings) bool { return s.Idempotence != nil && !*s.Idempotence }},
		{"linger.ms", "0", "-5", func(s clientSettings) bool {
			return s.Linger != nil && *s.Linger == 0 && s.given["linger.ms"].value == "0"
		}},
		{"batch.size", "16384", "0", func(s clientSettings) bool { return s.BatchMaxBytes == 16384 }},
		{"max.request.size", "1048576", "big", func(s clientSettings) bool { return s.MaxRequestBytes == 1048576 }},
		{"compression.type", "ZSTD", "brotli", func(s clientSettings) bool { return s.Compression == "zstd" }},
		{"delivery.timeout.ms", "120000", "0", func(s clientSettings) bool { return s.DeliveryTimeout == 2*time.Minute }},
		{"retries", "3", "-1", func(s clientSettings) bool { return s.Retries != nil && *s.Retries == 3 }},
		{"max.in.flight.requests.per.connection", "5", "0", func(s clientSettings) bool { return s.MaxInFlight == 5 }},
		{"buffer.memory", "33554432", "0", func(s clientSettings) bool { return s.BufferMemory == 33554432 }},
		{"group.id", "g", "", func(s clientSettings) bool { return s.GroupID == "g" }},
		{"group.instance.id", "i-1", " ", func(s clientSettings) bool { return s.GroupInstanceID == "i-1" }},
		{"isolation.level", "READ_COMMITTED", "serializable", func(s clientSettings) bool { return s.IsolationLevel == "read_committed" }},
		{"auto.offset.reset", "earliest", "smallest", func(s clientSettings) bool { return s.AutoOffsetReset == "earliest" }},
		{"enable.auto.commit", "false", "0", func(s clientSettings) bool {
			return s.EnableAutoCommit != nil && !*s.EnableAutoCommit
		}},
		{"auto.commit.interval.ms", "1000", "0", func(s clientSettings) bool { return s.AutoCommitInterval == time.Second }},
		{"session.timeout.ms", "45000", "0", func(s clientSettings) bool { return s.SessionTimeout == 45*time.Second }},
		{"heartbeat.interval.ms", "3000", "0", func(s clientSettings) bool { return s.HeartbeatInterval == 3*time.Second }},
		{"max.poll.interval.ms", "300000", "0", func(s clientSettings) bool { return s.MaxPollInterval == 5*time.Minute }},
		{"max.poll.records", "500", "0", func(s clientSettings) bool { return s.MaxPollRecords == 500 }},
		{"fetch.min.bytes", "1", "0", func(s clientSettings) bool { return s.FetchMinBytes == 1 }},
		{"fetch.max.bytes", "52428800", "-1", func(s clientSettings) bool { return s.FetchMaxBytes == 52428800 }},
		{"fetch.max.wait.ms", "500", "0", func(s clientSettings) bool { return s.FetchMaxWait == 500*time.Millisecond }},
		{"max.partition.fetch.bytes", "1048576", "0", func(s clientSettings) bool { return s.PartitionMaxBytes == 1048576 }},
		{"partition.assignment.strategy", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor,range", "fair", func(s clientSettings) bool { return len(s.Balancers) == 2 }},
		{"group.protocol", "consumer", "next", func(s clientSettings) bool { return s.GroupProtocol == "consumer" }},
		{"group.remote.assignor", "range", "sticky", func(s clientSettings) bool { return s.RemoteAssignor == "range" }},
		{"client.rack", "us-east-1a", "", func(s clientSettings) bool { return s.Rack == "us-east-1a" }},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		seen[tc.key] = true
		s := clientSettings{given: map[string]propertySource{}}
		if err := s.applyProperty(tc.key, tc.good, "f.properties:1", true); err != nil || !tc.check(s) {
			t.Errorf("%s=%q: %v (settings %+v)", tc.key, tc.good, err, s)
		}
		if tc.key == "client.rack" || tc.key == "sasl.password" {
			continue // any rack name is accepted
		}
		err := (&clientSettings{given: map[string]propertySource{}}).applyProperty(tc.key, tc.bad, "f.properties:2", true)
		if err == nil || !strings.Contains(err.Error(), "f.properties:2: "+tc.key+" must be ") {
			t.Errorf("%s=%q: got %v, want an error naming the key and what it accepts", tc.key, tc.bad, err)
		}
	}
	for _, k := range supportedClientProperties() {
		if !seen[k] && !strings.HasPrefix(k, "ssl.") {
			t.Errorf("client property %s has no case in this test", k)
		}
	}
	err := (&clientSettings{given: map[string]propertySource{}}).applyProperty("ssl.keystore.password", "secret!", "f:3", true)
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("a keystore password (PEM keystores have none) must be refused without showing it: %v", err)
	}
	err = (&clientSettings{given: map[string]propertySource{}}).applyProperty("sasl.jaas.config", "password=secret", "f:4", true)
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("a bad sasl.jaas.config must be refused without showing it: %v", err)
	}
}

func TestPartitionReport(t *testing.T) {
	live := map[int32]bool{1: true, 2: true}
	healthy := partitionDescription{Leader: 1, Replicas: []int32{1, 2}, ISR: []int32{1, 2}}
	under := partitionDescription{Leader: 1, Replicas: []int32{1, 2}, ISR: []int32{1}}
	noLeader := partitionDescription{Leader: -1, Replicas: []int32{1, 2}, ISR: []int32{}}
	deadLeader := partitionDescription{Leader: 3, Replicas: []int32{3, 1}, ISR: []int32{3, 1}}
	tests := []struct {
		r    partitionReport
		p    partitionDescription
		want bool
	}{
		{partitionReport{}, healthy, true},
		{partitionReport{underReplicated: true}, healthy, false},
		{partitionReport{underReplicated: true}, under, true},
		{partitionReport{unavailable: true}, healthy, false},
		{partitionReport{unavailable: true}, noLeader, true},
		{partitionReport{unavailable: true}, deadLeader, true},
		{partitionReport{underMinISR: true}, under, true}, // min.insync.replicas 2
		{partitionReport{atMinISR: true}, healthy, true},  // ISR 2 == 2
		{partitionReport{atMinISR: true}, under, false},   // ISR 1 != 2
		{partitionReport{underReplicated: true, unavailable: true}, noLeader, true},
	}
	for i, tc := range tests {
		if got := tc.r.shows(tc.p, 2, live); got != tc.want {
			t.Errorf("case %d: %+v on %+v: got %v", i, tc.r, tc.p, got)
		}
	}
}

func TestRewriteKafkaActions(t *testing.T) {
	tests := []struct {
		in, want string
		err      string
	}{
		{"topics --bootstrap-server b --create --topic t", "topics create --bootstrap-server b --topic t", ""},
		{"topics create --topic t", "topics create --topic t", ""},
		{"groups --describe --group g --members", "groups describe --group g --members", ""},
		{"configs --alter --topic t --delete-config a", "configs alter --topic t --delete-config a", ""},
		{"topics --create --help", "topics --create --help", ""}, // help is cobra's
		{"produce --topic t", "produce --topic t", ""},
		{"topics --topic t", "", "exactly one action"},
		{"groups --list --delete", "", "got --list and --delete"},
	}
	for _, tc := range tests {
		got, _, err := rewriteKafkaActions(strings.Fields(tc.in))
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) || !isUsageError(err) {
				t.Errorf("%q: got %v, want a usage error with %q", tc.in, err, tc.err)
			}
		case err != nil || strings.Join(got, " ") != tc.want:
			t.Errorf("%q: got %q, %v; want %q", tc.in, strings.Join(got, " "), err, tc.want)
		}
	}
	if got := joinOptionalValues(strings.Fields("groups list --state stable,empty --type consumer")); strings.Join(got, " ") != "groups list --state=stable,empty --type=consumer" {
		t.Errorf("joinOptionalValues: %q", got)
	}
	if got := joinOptionalValues(strings.Fields("groups list --state --output json")); strings.Join(got, " ") != "groups list --state --output json" {
		t.Errorf("joinOptionalValues without a value: %q", got)
	}
}
