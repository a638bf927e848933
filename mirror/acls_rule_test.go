package mirror

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func testFlow(t *testing.T, text string) *flow {
	t.Helper()
	cfg := parse(t, "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nA->B.enabled = true\n"+text)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	f, err := newFlow(cfg.Flows[0], cfg.Cluster["A"], cfg.Cluster["B"], slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// MirrorSourceConnector's rules, binding by binding.
func TestRemoteACLFollowsMM2(t *testing.T) {
	const (
		allow   = kmsg.ACLPermissionTypeAllow
		deny    = kmsg.ACLPermissionTypeDeny
		literal = kmsg.ACLResourcePatternTypeLiteral
	)
	acl := func(name string, pattern kmsg.ACLResourcePatternType, op kmsg.ACLOperation, perm kmsg.ACLPermissionType) topicACL {
		return topicACL{name: name, pattern: pattern, principal: "User:alice", host: "10.0.0.7", op: op, permission: perm}
	}
	cases := []struct {
		name     string
		settings string
		in       topicACL
		want     *topicACL // nil: not copied
	}{
		{"allow read", "", acl("orders", literal, kmsg.ACLOperationRead, allow), ptr(acl("A.orders", literal, kmsg.ACLOperationRead, allow))},
		{"allow describe", "", acl("orders", literal, kmsg.ACLOperationDescribe, allow), ptr(acl("A.orders", literal, kmsg.ACLOperationDescribe, allow))},
		{"allow all becomes read", "", acl("orders", literal, kmsg.ACLOperationAll, allow), ptr(acl("A.orders", literal, kmsg.ACLOperationRead, allow))},
		{"allow write never", "", acl("orders", literal, kmsg.ACLOperationWrite, allow), nil},
		{"deny read kept", "", acl("orders", literal, kmsg.ACLOperationRead, deny), ptr(acl("A.orders", literal, kmsg.ACLOperationRead, deny))},
		{"deny write kept", "", acl("orders", literal, kmsg.ACLOperationWrite, deny), ptr(acl("A.orders", literal, kmsg.ACLOperationWrite, deny))},
		{"deny all kept as all", "", acl("orders", literal, kmsg.ACLOperationAll, deny), ptr(acl("A.orders", literal, kmsg.ACLOperationAll, deny))},
		{"prefixed never", "", acl("ord", kmsg.ACLResourcePatternTypePrefixed, kmsg.ACLOperationRead, allow), nil},
		{"wildcard never", "", acl("*", literal, kmsg.ACLOperationRead, allow), nil},
		{"not selected", "A->B.topics = payments", acl("orders", literal, kmsg.ACLOperationRead, allow), nil},
		{"excluded", "A->B.topics.exclude = orders", acl("orders", literal, kmsg.ACLOperationRead, allow), nil},
		{"no topic needed", "A->B.topics = ord.*", acl("ordinals", literal, kmsg.ACLOperationRead, allow), ptr(acl("A.ordinals", literal, kmsg.ACLOperationRead, allow))},
		{"heartbeats whatever topics says", "A->B.topics = payments", acl("heartbeats", literal, kmsg.ACLOperationRead, allow), ptr(acl("A.heartbeats", literal, kmsg.ACLOperationRead, allow))},
		{"cycle never", "", acl("B.orders", literal, kmsg.ACLOperationRead, allow), nil},
		{"internal never", "", acl("mm2-offsets.B.internal", literal, kmsg.ACLOperationRead, allow), nil},
		{"identity keeps the name", "replication.policy.class = IdentityReplicationPolicy", acl("orders", literal, kmsg.ACLOperationRead, allow), ptr(acl("orders", literal, kmsg.ACLOperationRead, allow))},
		{"separator", "replication.policy.separator = _", acl("orders", literal, kmsg.ACLOperationRead, allow), ptr(acl("A_orders", literal, kmsg.ACLOperationRead, allow))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := testFlow(t, c.settings).remoteACL(c.in)
			switch {
			case c.want == nil && ok:
				t.Fatalf("%v copied as %v; MM2 does not copy it", c.in, got)
			case c.want != nil && !ok:
				t.Fatalf("%v not copied; want %v", c.in, *c.want)
			case c.want != nil && got != *c.want:
				t.Fatalf("%v copied as %v; want %v", c.in, got, *c.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestACLSyncKeys(t *testing.T) {
	s := Defaults().Settings
	if !s.SyncTopicACLsEnabled || s.SyncTopicACLsInterval.Seconds() != 600 {
		t.Fatalf("defaults: sync.topic.acls.enabled=%v interval=%v, want MM2's true and 600 s", s.SyncTopicACLsEnabled, s.SyncTopicACLsInterval)
	}
	cfg := parse(t, `
clusters = A, B
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
sync.topic.acls.interval.seconds = 30
A->B.enabled = true
A->B.sync.topic.acls.enabled = false
B->A.enabled = true
`)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("the ACL keys are warned about as unused: %v", cfg.Warnings)
	}
	ab, ba := cfg.Flows[0], cfg.Flows[1]
	if ab.SyncTopicACLsEnabled || ab.SyncTopicACLsInterval.Seconds() != 30 {
		t.Errorf("A->B: enabled=%v interval=%v, want false and 30 s", ab.SyncTopicACLsEnabled, ab.SyncTopicACLsInterval)
	}
	if !ba.SyncTopicACLsEnabled || ba.SyncTopicACLsInterval.Seconds() != 30 {
		t.Errorf("B->A: enabled=%v interval=%v, want true and 30 s", ba.SyncTopicACLsEnabled, ba.SyncTopicACLsInterval)
	}

	bad := parse(t, `
clusters = A, B
A.bootstrap.servers = a:9092
B.bootstrap.servers = b:9092
sync.topic.acls.enabled = yes
A->B.enabled = true
A->B.sync.topic.acls.interval.seconds = 0
`)
	err := bad.Validate()
	if err == nil {
		t.Fatal("bad ACL sync values accepted")
	}
	for _, want := range []string{
		`sync.topic.acls.enabled="yes": accepted true or false`,
		`A->B.sync.topic.acls.interval.seconds="0": accepted a positive whole number of seconds`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
