package mirror

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, text string) Config {
	t.Helper()
	cfg, err := ParseConfig(strings.NewReader(text), "mm2.properties")
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return cfg
}

func TestDefaultsAreMM2s(t *testing.T) {
	s := Defaults().Settings
	checks := []struct {
		name      string
		got, want any
	}{
		{"topics", s.Topics, []string{".*"}},
		{"topics.exclude", s.TopicsExclude, []string{`.*[\-\.]internal`, `.*\.replica`, `__.*`}},
		{"groups", s.Groups, []string{".*"}},
		{"groups.exclude", s.GroupsExclude, []string{"console-consumer-.*", "connect-.*", "__.*"}},
		{"replication.policy.class", s.ReplicationPolicyClass, DefaultReplicationPolicyClass},
		{"replication.policy.separator", s.ReplicationPolicySeparator, "."},
		{"emit.checkpoints.interval.seconds", s.EmitCheckpointsInterval, 60 * time.Second},
		{"emit.heartbeats.interval.seconds", s.EmitHeartbeatsInterval, time.Second},
		{"refresh.topics.interval.seconds", s.RefreshTopicsInterval, 600 * time.Second},
		{"sync.group.offsets.enabled", s.SyncGroupOffsetsEnabled, false},
		{"sync.group.offsets.interval.seconds", s.SyncGroupOffsetsInterval, 60 * time.Second},
		{"sync.topic.configs.enabled", s.SyncTopicConfigsEnabled, true},
		{"offset.lag.max", s.OffsetLagMax, int64(100)},
		{"tasks.max", s.TasksMax, 1},
		{"exactly-once", s.ExactlyOnce, false},
		{"replication.mode", s.ReplicationMode, ModeTranslate},
		{"offset-syncs.topic.location", s.OffsetSyncsTopicLocation, "source"},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s default = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !slices.Contains(s.ConfigPropertiesExclude, `min\.insync\.replicas`) ||
		!slices.Contains(s.ConfigPropertiesExclude, `unclean\.leader\.election\.enable`) ||
		!slices.Contains(s.ConfigPropertiesExclude, `leader\.replication\.throttled\.replicas`) {
		t.Errorf("config.properties.exclude default %v lacks MM2's exclusions", s.ConfigPropertiesExclude)
	}
}

func equal(a, b any) bool {
	if as, ok := a.([]string); ok {
		return slices.Equal(as, b.([]string))
	}
	return a == b
}

func TestParseFlowsOverrideTopLevel(t *testing.T) {
	cfg := parse(t, `
clusters = A, B, C
A.bootstrap.servers = a1:9092, a2:9092
B.bootstrap.servers = b:9092
C.bootstrap.servers = c:9092
topics = orders.*
offset.lag.max = 50
B.producer.linger.ms = 5
A.consumer.fetch.max.bytes = 1048576
client.id = mm2
A->B.enabled = true
A->B.topics = payments, orders.*
B->A.enabled = true
A->C.emit.checkpoints.interval.seconds = 5
A->C.enabled = false
`)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if !slices.Equal(cfg.Clusters, []string{"A", "B", "C"}) {
		t.Fatalf("clusters %v", cfg.Clusters)
	}
	if got := cfg.Cluster["A"].BootstrapServers; !slices.Equal(got, []string{"a1:9092", "a2:9092"}) {
		t.Errorf("A.bootstrap.servers = %v", got)
	}
	if cfg.Cluster["B"].Producer["linger.ms"] != "5" || cfg.Cluster["A"].Consumer["fetch.max.bytes"] != "1048576" {
		t.Errorf("per-cluster client overrides lost: %+v %+v", cfg.Cluster["A"], cfg.Cluster["B"])
	}
	if cfg.Cluster["C"].Client["client.id"] != "mm2" {
		t.Errorf("top-level client.id not inherited by C: %v", cfg.Cluster["C"].Client)
	}
	if len(cfg.Flows) != 3 {
		t.Fatalf("flows %+v", cfg.Flows)
	}
	ab, ba, ac := cfg.Flows[0], cfg.Flows[1], cfg.Flows[2]
	if ab.Name() != "A->B" || !ab.Enabled || !slices.Equal(ab.Topics, []string{"payments", "orders.*"}) || ab.OffsetLagMax != 50 {
		t.Errorf("A->B = %+v", ab)
	}
	if ba.Name() != "B->A" || !ba.Enabled || !slices.Equal(ba.Topics, []string{"orders.*"}) {
		t.Errorf("B->A did not inherit the top-level topics: %+v", ba)
	}
	if ac.Enabled || ac.EmitCheckpointsInterval != 5*time.Second {
		t.Errorf("A->C = %+v", ac)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("unexpected warnings %v", cfg.Warnings)
	}
}

func TestParseExactlyOnceAndPolicyNames(t *testing.T) {
	cfg := parse(t, `
clusters = A, B
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
B.exactly.once.source.support = enabled
replication.policy.class = IdentityReplicationPolicy
A->B.enabled = true
B->A.enabled = true
B->A.exactly.once.support = required
B->A.replication.policy.class = org.apache.kafka.connect.mirror.DefaultReplicationPolicy
B->A.replication.policy.separator = _
`)
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "IdentityReplicationPolicy") {
		t.Fatalf("identity cycle not refused: %v", err)
	}
	ab, ba := cfg.Flows[0], cfg.Flows[1]
	if !ab.ExactlyOnce || !ba.ExactlyOnce {
		t.Errorf("exactly-once: A->B %v (B.exactly.once.source.support), B->A %v (exactly.once.support)", ab.ExactlyOnce, ba.ExactlyOnce)
	}
	p, err := ba.policy()
	if err != nil || p.FormatRemoteTopic("B", "t") != "B_t" {
		t.Errorf("B->A policy %v %v", p, err)
	}
	p, _ = ab.policy()
	if p.FormatRemoteTopic("A", "t") != "t" {
		t.Errorf("A->B identity policy renamed t to %q", p.FormatRemoteTopic("A", "t"))
	}
}

func TestIdentityCycleWithDisjointLiteralTopicsIsAllowed(t *testing.T) {
	cfg := parse(t, `
clusters = A, B
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
replication.policy.class = IdentityReplicationPolicy
A->B.enabled = true
A->B.topics = orders
B->A.enabled = true
B->A.topics = payments
`)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestUnknownKeys(t *testing.T) {
	cfg := parse(t, `
clusters = A, B
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
A->B.enabled = true
offset.storage.replication.factor = 1
A.ssl.cipher.suites = TLS_AES_128_GCM_SHA256
B.producer.max.in.flight.requests.per.connection = 1
some.plugin.setting = x
A->B.offset.lag.maxx = 10
sync.group.offset.enabled = true
A.consumer.fetch.max.byte = 1
`)
	err := cfg.Validate()
	if err == nil {
		t.Fatal("typos accepted")
	}
	for _, want := range []string{
		`mm2.properties:10: unknown key "A->B.offset.lag.maxx": did you mean A->B.offset.lag.max?`,
		`mm2.properties:11: unknown key "sync.group.offset.enabled": did you mean sync.group.offsets.enabled?`,
		`mm2.properties:12: unknown client property "A.consumer.fetch.max.byte": did you mean A.consumer.fetch.max.bytes?`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	var fe *FlowError
	if !errors.As(err, &fe) || fe.Flow != "A->B" {
		t.Errorf("flow typo is not a FlowError for A->B: %v", err)
	}
	warnings := strings.Join(cfg.Warnings, "\n")
	for _, want := range []string{
		"mm2.properties:6: offset.storage.replication.factor: MirrorMaker 2 key not used",
		"mm2.properties:7: A.ssl.cipher.suites: Kafka client property not used",
		"mm2.properties:8: B.producer.max.in.flight.requests.per.connection: Kafka client property not used",
		"mm2.properties:9: some.plugin.setting: unknown key; ignored",
	} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings lack %q:\n%s", want, warnings)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := parse(t, `
clusters = A, B
A.bootstrap.servers = a:9092
A.security.protocol = SASL_SSL
B.producer.acks = 1
tasks.max = 0
A->B.enabled = true
A->B.topics = orders, [bad
A->C.enabled = true
B->A.enabled = true
B->A.replication.mode = preserve-offsets
B->A.exactly.once.support = required
emit.checkpoints.interval.seconds = soon
replication.mode = mirror
`)
	err := cfg.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		`tasks.max="0": accepted a whole number from 1 to 65536`,
		`A->B.topics="orders, [bad": invalid regex "[bad"`,
		`flow A->C: unknown cluster alias "C": clusters lists A, B`,
		`emit.checkpoints.interval.seconds="soon": accepted a positive whole number of seconds`,
		`replication.mode="mirror": accepted translate or preserve-offsets`,
		`replication.mode=preserve-offsets with exactly-once`,
		`cluster A: security.protocol=SASL_SSL needs sasl.mechanism`,
		`cluster A: security.protocol=SASL_SSL needs credentials`,
		`cluster B: producer.acks="1"`,
		`B.bootstrap.servers: not set`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	flows := flowErrorFlows(err)
	for _, want := range []string{"A->B", "A->C", "B->A"} {
		if !slices.Contains(flows, want) {
			t.Errorf("no FlowError for %s in %v", want, flows)
		}
	}
}

func flowErrorFlows(err error) []string {
	var out []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *FlowError
		if errors.As(e, &fe) && !slices.Contains(out, fe.Flow) {
			out = append(out, fe.Flow)
		}
	}
	return out
}

func TestParseErrorsForMalformedLines(t *testing.T) {
	if _, err := ParseConfig(strings.NewReader("clusters = A\n=oops\n"), "f"); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("malformed line: %v", err)
	}
	cfg := parse(t, "clusters = A, B\nA->.enabled = true\n")
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "a flow key is SOURCE->TARGET.key") {
		t.Fatalf("malformed flow key: %v", err)
	}
	cfg = parse(t, "")
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "clusters: no cluster aliases") {
		t.Fatalf("empty file: %v", err)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"offset.lag.max", "topics", "groups", "acks"}
	for key, want := range map[string]string{
		"offset.lag.mx": "offset.lag.max", "topic": "topics", "topicz": "topics", "grops": "groups",
		"offset.lag.max": "", "completely.different": "", "ack": "acks", "ac": "",
	} {
		if got := suggest(key, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", key, got, want)
		}
	}
}

// Any file: ParseConfig and Validate answer with errors, never a panic,
// and a file they accept starts from defaults that Validate also accepts.
func FuzzParseConfig(f *testing.F) {
	f.Add("clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\nA->B.topics = x.*\n")
	f.Add("clusters = A\nA->->B.enabled = true\n")
	f.Add("topics = [\nreplication.mode = preserve-offsets\nexactly.once.support = required\n")
	f.Add("A.consumer.isolation.level = read_committed\nclusters=A,B\nA->B.tasks.max=99999999999\n")
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := ParseConfig(strings.NewReader(text), "fuzz")
		if err != nil {
			return
		}
		_ = cfg.Validate()
		for _, fl := range cfg.Flows {
			fl.Name()
		}
	})
}
