package acl

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	topic   = kmsg.ACLResourceTypeTopic
	group   = kmsg.ACLResourceTypeGroup
	cluster = kmsg.ACLResourceTypeCluster
	txnID   = kmsg.ACLResourceTypeTransactionalId
	literal = kmsg.ACLResourcePatternTypeLiteral
	prefix  = kmsg.ACLResourcePatternTypePrefixed
	allow   = kmsg.ACLPermissionTypeAllow
	deny    = kmsg.ACLPermissionTypeDeny
)

func allowACL(p string, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string, pt kmsg.ACLResourcePatternType) Binding {
	return Binding{ResourceType: rt, ResourceName: name, PatternType: pt, Principal: p, Host: "*", Operation: op, Permission: allow}
}

func open(t *testing.T, acls ...Binding) (*Authorizer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), File)
	a, err := Open(path, []string{"User:admin"}, false)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := a.Create(acls)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("acl %d: %v", i, e)
		}
	}
	return a, path
}

func TestAuthorize(t *testing.T) {
	denyRead := allowACL("User:alice", kmsg.ACLOperationRead, topic, "secret", literal)
	denyRead.Permission = deny
	hostOnly := allowACL("User:carol", kmsg.ACLOperationWrite, topic, "hosted", literal)
	hostOnly.Host = "10.0.0.1"
	a, _ := open(t,
		allowACL("User:alice", kmsg.ACLOperationWrite, topic, "orders", literal),
		allowACL("User:alice", kmsg.ACLOperationRead, topic, "logs-", prefix),
		allowACL("User:alice", kmsg.ACLOperationAll, topic, "secret", literal),
		denyRead,
		allowACL("User:*", kmsg.ACLOperationDescribe, topic, "public", literal),
		allowACL("User:bob", kmsg.ACLOperationRead, topic, "*", literal),
		allowACL("User:alice", kmsg.ACLOperationAlterConfigs, topic, "orders", literal),
		allowACL("User:alice", kmsg.ACLOperationRead, group, "g1", literal),
		allowACL("User:alice", kmsg.ACLOperationIdempotentWrite, cluster, ClusterName, literal),
		hostOnly,
	)
	cases := []struct {
		principal, host string
		op              kmsg.ACLOperation
		rt              kmsg.ACLResourceType
		name            string
		want            bool
	}{
		{"User:alice", "1.2.3.4", kmsg.ACLOperationWrite, topic, "orders", true},
		{"User:alice", "1.2.3.4", kmsg.ACLOperationRead, topic, "orders", false},
		{"User:alice", "1.2.3.4", kmsg.ACLOperationDescribe, topic, "orders", true},        // implied by Write
		{"User:alice", "1.2.3.4", kmsg.ACLOperationDescribeConfigs, topic, "orders", true}, // implied by AlterConfigs
		{"User:alice", "1.2.3.4", kmsg.ACLOperationDelete, topic, "orders", false},
		{"User:eve", "1.2.3.4", kmsg.ACLOperationWrite, topic, "orders", false},
		{"User:alice", "1.2.3.4", kmsg.ACLOperationRead, topic, "logs-app", true}, // prefixed
		{"User:alice", "1.2.3.4", kmsg.ACLOperationRead, topic, "logs", false},
		{"User:alice", "1.2.3.4", kmsg.ACLOperationRead, topic, "secret", false},    // deny wins over All
		{"User:alice", "1.2.3.4", kmsg.ACLOperationWrite, topic, "secret", true},    // a Read deny leaves Write
		{"User:alice", "1.2.3.4", kmsg.ACLOperationDescribe, topic, "secret", true}, // and Describe
		{"User:eve", "1.2.3.4", kmsg.ACLOperationDescribe, topic, "public", true},   // wildcard principal
		{"User:eve", "1.2.3.4", kmsg.ACLOperationRead, topic, "public", false},
		{"User:bob", "1.2.3.4", kmsg.ACLOperationRead, topic, "anything", true}, // wildcard resource
		{"User:bob", "1.2.3.4", kmsg.ACLOperationWrite, topic, "anything", false},
		{"User:eve", "1.2.3.4", kmsg.ACLOperationRead, topic, "no-acl-at-all", false}, // only bob's "*" applies
		{"User:eve", "1.2.3.4", kmsg.ACLOperationRead, group, "no-acl", false},
		{"User:admin", "1.2.3.4", kmsg.ACLOperationAlter, cluster, ClusterName, true}, // super user
		{"User:admin", "1.2.3.4", kmsg.ACLOperationRead, topic, "secret", true},
		{"User:alice", "1.2.3.4", kmsg.ACLOperationRead, group, "g1", true},
		{"User:alice", "1.2.3.4", kmsg.ACLOperationRead, group, "g2", false},
		{"User:alice", "1.2.3.4", kmsg.ACLOperationIdempotentWrite, cluster, ClusterName, true},
		{"User:alice", "1.2.3.4", kmsg.ACLOperationAlter, cluster, ClusterName, false},
		{"User:carol", "10.0.0.1", kmsg.ACLOperationWrite, topic, "hosted", true},
		{"User:carol", "10.0.0.2", kmsg.ACLOperationWrite, topic, "hosted", false},
	}
	for _, c := range cases {
		if got := a.Authorize(c.principal, c.host, c.op, c.rt, c.name); got != c.want {
			t.Errorf("%s@%s %s %s:%s = %v, want %v", c.principal, c.host, c.op, c.rt, c.name, got, c.want)
		}
	}
	if !a.AuthorizeAny("User:alice", "h", kmsg.ACLOperationWrite, topic) || a.AuthorizeAny("User:eve", "h", kmsg.ACLOperationWrite, topic) {
		t.Error("AuthorizeAny(Write, TOPIC)")
	}
	if a.AuthorizeAny("User:eve", "h", kmsg.ACLOperationWrite, txnID) {
		t.Error("AuthorizeAny with no ACL of the type and allow.everyone.if.no.acl.found=false")
	}
}

func TestAllowEveryoneIfNoACLFound(t *testing.T) {
	a, err := Open(filepath.Join(t.TempDir(), File), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Authorize("User:eve", "h", kmsg.ACLOperationWrite, topic, "t") {
		t.Fatal("no ACL: not allowed")
	}
	a.Create([]Binding{allowACL("User:alice", kmsg.ACLOperationWrite, topic, "t", literal)})
	if a.Authorize("User:eve", "h", kmsg.ACLOperationWrite, topic, "t") || !a.Authorize("User:eve", "h", kmsg.ACLOperationWrite, topic, "u") {
		t.Fatal("once a resource has an ACL, others are refused; resources without stay open")
	}
}

func TestDescribeDeleteFilters(t *testing.T) {
	a, path := open(t,
		allowACL("User:alice", kmsg.ACLOperationWrite, topic, "orders", literal),
		allowACL("User:alice", kmsg.ACLOperationRead, topic, "ord", prefix),
		allowACL("User:bob", kmsg.ACLOperationRead, topic, "*", literal),
		allowACL("User:bob", kmsg.ACLOperationRead, group, "orders", literal),
	)
	str := func(s string) *string { return &s }
	any := Filter{ResourceType: kmsg.ACLResourceTypeAny, PatternType: kmsg.ACLResourcePatternTypeAny, Operation: kmsg.ACLOperationAny, Permission: kmsg.ACLPermissionTypeAny}
	count := func(f Filter) int { return len(a.Describe(f)) }
	if n := count(any); n != 4 {
		t.Fatalf("all = %d", n)
	}
	f := any
	f.ResourceType, f.ResourceName = topic, str("orders")
	if n := count(f); n != 1 { // ANY pattern type: exact name only
		t.Fatalf("ANY orders = %d", n)
	}
	f.PatternType = kmsg.ACLResourcePatternTypeMatch
	if n := count(f); n != 3 { // literal orders, prefixed ord, literal *
		t.Fatalf("MATCH orders = %d", n)
	}
	f.PatternType = prefix
	f.ResourceName = str("ord")
	if n := count(f); n != 1 {
		t.Fatalf("PREFIXED ord = %d", n)
	}
	f = any
	f.Principal = str("User:bob")
	if n := count(f); n != 2 {
		t.Fatalf("bob = %d", n)
	}
	f.Operation = kmsg.ACLOperationWrite
	if n := count(f); n != 0 {
		t.Fatalf("bob write = %d", n)
	}

	fb := any
	fb.Principal = str("User:bob")
	matched, err := a.Delete([]Filter{fb, fb})
	if err != nil || len(matched[0]) != 2 || len(matched[1]) != 2 {
		t.Fatalf("Delete = %v, %v", matched, err)
	}
	// Durable: a reopened store has what is left.
	b, err := Open(path, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Describe(any); len(got) != 2 || got[0].Principal != "User:alice" {
		t.Fatalf("after reopen: %v", got)
	}
}

func TestValidate(t *testing.T) {
	good := allowACL("User:alice", kmsg.ACLOperationRead, topic, "t", literal)
	for name, mutate := range map[string]func(*Binding){
		"any resource type":  func(b *Binding) { b.ResourceType = kmsg.ACLResourceTypeAny },
		"user resource type": func(b *Binding) { b.ResourceType = kmsg.ACLResourceTypeUser },
		"cluster name":       func(b *Binding) { b.ResourceType = cluster },
		"empty name":         func(b *Binding) { b.ResourceName = "" },
		"match pattern":      func(b *Binding) { b.PatternType = kmsg.ACLResourcePatternTypeMatch },
		"principal":          func(b *Binding) { b.Principal = "alice" },
		"empty principal":    func(b *Binding) { b.Principal = "User:" },
		"host":               func(b *Binding) { b.Host = "example.com" },
		"any operation":      func(b *Binding) { b.Operation = kmsg.ACLOperationAny },
		"unknown operation":  func(b *Binding) { b.Operation = 99 },
		"any permission":     func(b *Binding) { b.Permission = kmsg.ACLPermissionTypeAny },
		"unknown permission": func(b *Binding) { b.Permission = 0 },
	} {
		b := good
		mutate(&b)
		if err := b.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	a, _ := open(t)
	bad := good
	bad.Host = "nope"
	errs, err := a.Create([]Binding{good, bad, good})
	if err != nil || errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("Create = %v, %v", errs, err)
	}
	if n := len(a.Describe(Filter{ResourceType: 1, PatternType: 1, Operation: 1, Permission: 1})); n != 1 {
		t.Fatalf("a duplicate binding was stored twice: %d", n)
	}
}

func TestDamagedFileRefused(t *testing.T) {
	_, path := open(t, allowACL("User:alice", kmsg.ACLOperationRead, topic, "t", literal))
	raw, _ := os.ReadFile(path)
	raw[5] ^= 1
	os.WriteFile(path, raw, 0o644)
	if _, err := Open(path, nil, false); err == nil {
		t.Fatal("a damaged ACL file was read")
	}
}
