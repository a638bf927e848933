package mirror

import "testing"

func TestDefaultReplicationPolicy(t *testing.T) {
	p := DefaultReplicationPolicy{Separator: ".", InternalTopicSeparatorEnabled: true}
	cases := []struct{ topic, source, upstream string }{
		{"orders", "", ""},
		{"A.orders", "A", "orders"},
		{"B.A.orders", "B", "A.orders"},
		{".hidden", "", ""},
		{"A.", "", ""},
	}
	for _, c := range cases {
		if got := p.TopicSource(c.topic); got != c.source {
			t.Errorf("TopicSource(%q) = %q, want %q", c.topic, got, c.source)
		}
		if got := p.UpstreamTopic(c.topic); got != c.upstream {
			t.Errorf("UpstreamTopic(%q) = %q, want %q", c.topic, got, c.upstream)
		}
	}
	if got := p.FormatRemoteTopic("us-west", "orders"); got != "us-west.orders" {
		t.Errorf("FormatRemoteTopic = %q", got)
	}
	if p.OffsetSyncsTopic("B") != "mm2-offset-syncs.B.internal" || p.CheckpointsTopic("A") != "A.checkpoints.internal" || p.HeartbeatsTopic() != "heartbeats" {
		t.Errorf("internal topic names %s %s %s", p.OffsetSyncsTopic("B"), p.CheckpointsTopic("A"), p.HeartbeatsTopic())
	}
	custom := DefaultReplicationPolicy{Separator: "__", InternalTopicSeparatorEnabled: false}
	if custom.FormatRemoteTopic("A", "t") != "A__t" || custom.TopicSource("A__t") != "A" || custom.CheckpointsTopic("A") != "A.checkpoints.internal" {
		t.Errorf("custom separator: %s %s %s", custom.FormatRemoteTopic("A", "t"), custom.TopicSource("A__t"), custom.CheckpointsTopic("A"))
	}
	for topic, internal := range map[string]bool{"__consumer_offsets": true, "mm2-offset-syncs.B.internal": true, "x-internal": true, "orders": false} {
		if p.IsInternalTopic(topic) != internal {
			t.Errorf("IsInternalTopic(%q) = %v", topic, !internal)
		}
	}
}

func TestIdentityReplicationPolicy(t *testing.T) {
	p := IdentityReplicationPolicy{DefaultReplicationPolicy{Separator: ".", InternalTopicSeparatorEnabled: true}}
	if p.FormatRemoteTopic("A", "orders") != "orders" || p.TopicSource("A.orders") != "" {
		t.Errorf("identity renamed or attributed orders")
	}
	if p.FormatRemoteTopic("A", "heartbeats") != "A.heartbeats" || p.TopicSource("A.heartbeats") != "A" || p.UpstreamTopic("A.heartbeats") != "heartbeats" {
		t.Errorf("identity does not prefix heartbeats: %s", p.FormatRemoteTopic("A", "heartbeats"))
	}
}

func TestIsCycle(t *testing.T) {
	p := DefaultReplicationPolicy{Separator: "."}
	for _, c := range []struct {
		topic, target string
		cycle         bool
	}{
		{"orders", "B", false},
		{"B.orders", "B", true},   // came from B: do not send back
		{"C.B.orders", "B", true}, // came from B through C
		{"C.orders", "B", false},
		{"B.heartbeats", "B", true},
	} {
		if got := isCycle(p, c.topic, c.target); got != c.cycle {
			t.Errorf("isCycle(%q, %q) = %v, want %v", c.topic, c.target, got, c.cycle)
		}
	}
}

func TestNewPolicyRejectsUnknownClass(t *testing.T) {
	if _, err := newPolicy("com.example.MyPolicy", ".", true); err == nil {
		t.Fatal("unknown policy accepted")
	}
}
