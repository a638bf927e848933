package mirror_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/mirror"
)

const standardAuthorizer = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"

// aclBroker is a broker with the ACL authorizer on whose PLAINTEXT
// clients, User:ANONYMOUS (the test and the mirror), are super users.
func aclBroker(t *testing.T) *testkit.Broker {
	return testkit.StartBroker(t,
		testkit.WithConfig("authorizer.class.name", standardAuthorizer),
		testkit.WithConfig("super.users", "User:ANONYMOUS"))
}

// binding is an ACL binding as a test writes and compares it.
type binding struct {
	rt        kmsg.ACLResourceType
	name      string
	pattern   kmsg.ACLResourcePatternType
	principal string
	host      string
	op        kmsg.ACLOperation
	perm      kmsg.ACLPermissionType
}

func (b binding) String() string {
	return fmt.Sprintf("%s %s %s on %s:%s:%s from %s", b.perm, b.principal, b.op, b.rt, b.pattern, b.name, b.host)
}

// topicBinding is a binding on a topic pattern from every host.
func topicBinding(name string, pattern kmsg.ACLResourcePatternType, principal string, op kmsg.ACLOperation, perm kmsg.ACLPermissionType) binding {
	return binding{kmsg.ACLResourceTypeTopic, name, pattern, principal, "*", op, perm}
}

// createACLs creates bindings on the broker at addr in one request.
func createACLs(t *testing.T, addr string, bs ...binding) {
	t.Helper()
	req := kmsg.NewPtrCreateACLsRequest()
	for _, b := range bs {
		c := kmsg.NewCreateACLsRequestCreation()
		c.ResourceType, c.ResourceName, c.ResourcePatternType = b.rt, b.name, b.pattern
		c.Principal, c.Host, c.Operation, c.PermissionType = b.principal, b.host, b.op, b.perm
		req.Creations = append(req.Creations, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, testkit.Client(t, addr))
	if err != nil {
		t.Fatalf("create ACLs: %v", err)
	}
	for i, r := range resp.Results {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			t.Fatalf("create ACL %v: %v", bs[i], err)
		}
	}
}

// allACLs lists every binding on the broker at addr, sorted.
func allACLs(t *testing.T, addr string) []string {
	t.Helper()
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType = kmsg.ACLResourceTypeAny
	req.ResourcePatternType = kmsg.ACLResourcePatternTypeAny
	req.Operation = kmsg.ACLOperationAny
	req.PermissionType = kmsg.ACLPermissionTypeAny
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, testkit.Client(t, addr))
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		t.Fatalf("describe ACLs: %v", err)
	}
	var out []string
	for _, r := range resp.Resources {
		for _, a := range r.ACLs {
			out = append(out, binding{r.ResourceType, r.ResourceName, r.ResourcePatternType, a.Principal, a.Host, a.Operation, a.PermissionType}.String())
		}
	}
	slices.Sort(out)
	return out
}

func bindingStrings(bs ...binding) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.String()
	}
	slices.Sort(out)
	return out
}

// capturedLog is a debug-level logger for the mirror whose lines the test
// reads; they are shown if the test fails.
func capturedLog(t *testing.T) (*slog.Logger, *syncLog) {
	buf := &syncLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mirror log (captured):\n%s", filterLog(buf.String()))
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// A flow A->B between brokers with authorizers copies A's topic ACLs to
// the remote topics with MirrorMaker 2's rules, and picks up an ACL added
// later at the next interval.
func TestTopicACLsSyncedWithMM2Rules(t *testing.T) {
	a, b := aclBroker(t), aclBroker(t)
	createTopic(t, a.Addr, "orders", 2)
	createTopic(t, a.Addr, "payments", 1)
	createTopic(t, a.Addr, "audit", 1)
	const (
		allow    = kmsg.ACLPermissionTypeAllow
		deny     = kmsg.ACLPermissionTypeDeny
		literal  = kmsg.ACLResourcePatternTypeLiteral
		prefixed = kmsg.ACLResourcePatternTypePrefixed
	)
	carolFromHost := topicBinding("payments", literal, "User:carol", kmsg.ACLOperationAll, allow)
	carolFromHost.host = "10.0.0.7"
	createACLs(t, a.Addr,
		topicBinding("orders", literal, "User:alice", kmsg.ACLOperationRead, allow),  // copied
		topicBinding("pay", prefixed, "User:bob", kmsg.ACLOperationRead, allow),      // prefixed: not copied
		topicBinding("orders", literal, "User:alice", kmsg.ACLOperationWrite, allow), // ALLOW WRITE: never copied
		carolFromHost, // ALLOW ALL: copied as READ, host kept
		topicBinding("orders", literal, "User:eve", kmsg.ACLOperationRead, deny),                                // DENY: copied
		topicBinding("payments", literal, "User:eve", kmsg.ACLOperationWrite, deny),                             // DENY WRITE: copied (only ALLOW WRITE is dropped)
		topicBinding("audit", literal, "User:dave", kmsg.ACLOperationRead, allow),                               // topic not selected
		topicBinding("*", literal, "User:*", kmsg.ACLOperationDescribe, allow),                                  // wildcard: not copied
		binding{kmsg.ACLResourceTypeGroup, "billing", literal, "User:alice", "*", kmsg.ACLOperationRead, allow}, // not a topic
	)
	recs := produce(t, a.Addr, sourceRecords("orders", 2, 5)...)

	logger, logs := capturedLog(t)
	m := startMirror(t, twoClusters(a.Addr, b.Addr)+`
A->B.enabled = true
A->B.topics = orders, payments
sync.topic.acls.interval.seconds = 1
`, mirror.WithLogger(logger))
	checkCopied(t, recs, consumeN(t, b.Addr, "A.orders", len(recs), 30*time.Second))

	carolRead := carolFromHost
	carolRead.name, carolRead.op = "A.payments", kmsg.ACLOperationRead
	want := bindingStrings(
		topicBinding("A.orders", literal, "User:alice", kmsg.ACLOperationRead, allow),
		carolRead,
		topicBinding("A.orders", literal, "User:eve", kmsg.ACLOperationRead, deny),
		topicBinding("A.payments", literal, "User:eve", kmsg.ACLOperationWrite, deny),
	)
	testkit.Eventually(t, 30*time.Second, func() error {
		if got := allACLs(t, b.Addr); !slices.Equal(got, want) {
			return fmt.Errorf("ACLs on B:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		return nil
	})

	// An ACL added on A later is on B after the next interval.
	later := topicBinding("payments", literal, "User:frank", kmsg.ACLOperationDescribe, allow)
	createACLs(t, a.Addr, later)
	remoteLater := later
	remoteLater.name = "A.payments"
	want = append(want, remoteLater.String())
	slices.Sort(want)
	testkit.Eventually(t, 30*time.Second, func() error {
		if got := allACLs(t, b.Addr); !slices.Equal(got, want) {
			return fmt.Errorf("ACLs on B:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		return nil
	})
	// Two more syncs find nothing to create.
	runs := strings.Count(logs.String(), "topic ACL sync ran")
	testkit.Eventually(t, 30*time.Second, func() error {
		if n := strings.Count(logs.String(), "topic ACL sync ran"); n < runs+2 {
			return fmt.Errorf("%d syncs ran", n)
		}
		return nil
	})
	if n := strings.Count(logs.String(), "synced topic ACLs"); n != 2 {
		t.Errorf("%d log lines say ACLs were synced, want 2 (the first sync, then the later ACL): bindings already on B must not be created again", n)
	}
	if strings.Contains(logs.String(), "topic ACL sync failed") {
		t.Errorf("ACL sync failed:\n%s", filterLog(logs.String()))
	}
	if st := flowStatus(m, "A->B"); st.Err != nil {
		t.Errorf("status %+v", st)
	}
}

// A source without an authorizer: the flow copies as usual and says once
// that ACL sync is off, however many intervals pass.
func TestTopicACLSyncOffWithoutSourceAuthorizer(t *testing.T) {
	a, b := testkit.StartBroker(t), aclBroker(t)
	createTopic(t, a.Addr, "orders", 1)
	recs := produce(t, a.Addr, sourceRecords("orders", 1, 10)...)
	logger, logs := capturedLog(t)
	m := startMirror(t, twoClusters(a.Addr, b.Addr)+`
A->B.enabled = true
sync.topic.acls.interval.seconds = 1
`, mirror.WithLogger(logger))
	checkCopied(t, recs, consumeN(t, b.Addr, "A.orders", len(recs), 30*time.Second))
	// Wait for two later syncs, each of which asks again quietly.
	testkit.Eventually(t, 30*time.Second, func() error {
		if n := strings.Count(logs.String(), "still has no authorizer"); n < 2 {
			return fmt.Errorf("%d quiet retries logged", n)
		}
		return nil
	})
	text := logs.String()
	if n := strings.Count(text, "topic ACL sync off: cluster A has no authorizer"); n != 1 {
		t.Errorf("%d lines say ACL sync is off, want exactly 1", n)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "topic ACL sync off") && !strings.Contains(line, "level=INFO") {
			t.Errorf("ACL sync off is not an INFO line: %s", line)
		}
	}
	if strings.Contains(text, "topic ACL sync failed") {
		t.Errorf("a source without an authorizer is reported as a failure:\n%s", filterLog(text))
	}
	// Replication goes on.
	more := sourceRange("orders", 1, 10, 20)
	produce(t, a.Addr, more...)
	checkCopied(t, append(recs, more...), consumeN(t, b.Addr, "A.orders", len(recs)+len(more), 30*time.Second))
	if st := flowStatus(m, "A->B"); st.Err != nil {
		t.Errorf("status %+v", st)
	}
	if got := allACLs(t, b.Addr); len(got) != 0 {
		t.Errorf("ACLs on B: %v", got)
	}
}

// A target that refuses CreateAcls: the refusal is logged once, clearly,
// and copying goes on.
func TestTopicACLSyncRefusedByTarget(t *testing.T) {
	a := aclBroker(t)
	// B lets User:ANONYMOUS do everything but Alter on the cluster, which
	// CreateAcls needs. It starts with allow.everyone.if.no.acl.found so
	// that the test may create those ACLs, in one request: once the
	// cluster has an ACL, ANONYMOUS may no longer create any.
	b := testkit.StartBroker(t,
		testkit.WithConfig("authorizer.class.name", standardAuthorizer),
		testkit.WithConfig("allow.everyone.if.no.acl.found", "true"))
	const allow, literal = kmsg.ACLPermissionTypeAllow, kmsg.ACLResourcePatternTypeLiteral
	anon := func(rt kmsg.ACLResourceType, name string, op kmsg.ACLOperation) binding {
		return binding{rt, name, literal, "User:ANONYMOUS", "*", op, allow}
	}
	bACLs := []binding{
		anon(kmsg.ACLResourceTypeTopic, "*", kmsg.ACLOperationAll),
		anon(kmsg.ACLResourceTypeGroup, "*", kmsg.ACLOperationAll),
		anon(kmsg.ACLResourceTypeTransactionalId, "*", kmsg.ACLOperationAll),
	}
	for _, op := range []kmsg.ACLOperation{kmsg.ACLOperationCreate, kmsg.ACLOperationDescribe, kmsg.ACLOperationDescribeConfigs,
		kmsg.ACLOperationAlterConfigs, kmsg.ACLOperationIdempotentWrite, kmsg.ACLOperationClusterAction} {
		bACLs = append(bACLs, anon(kmsg.ACLResourceTypeCluster, "kafka-cluster", op))
	}
	createACLs(t, b.Addr, bACLs...)

	createTopic(t, a.Addr, "orders", 1)
	createACLs(t, a.Addr, topicBinding("orders", literal, "User:alice", kmsg.ACLOperationRead, allow))
	recs := produce(t, a.Addr, sourceRecords("orders", 1, 10)...)
	logger, logs := capturedLog(t)
	m := startMirror(t, twoClusters(a.Addr, b.Addr)+`
A->B.enabled = true
sync.topic.acls.interval.seconds = 1
`, mirror.WithLogger(logger))
	checkCopied(t, recs, consumeN(t, b.Addr, "A.orders", len(recs), 30*time.Second))
	testkit.Eventually(t, 30*time.Second, func() error {
		if n := strings.Count(logs.String(), "topic ACL sync failed again"); n < 2 {
			return fmt.Errorf("%d repeated refusals logged", n)
		}
		return nil
	})
	var warns []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "topic ACL sync failed") {
			warns = append(warns, line)
		}
	}
	if len(warns) != 1 {
		t.Fatalf("%d warnings of the refusal, want exactly 1:\n%s", len(warns), strings.Join(warns, "\n"))
	}
	for _, want := range []string{"cluster B refused 1 of 1 topic ACLs", "CLUSTER_AUTHORIZATION_FAILED", "Alter (to create them)", "A.orders", "copying goes on"} {
		if !strings.Contains(warns[0], want) {
			t.Errorf("warning lacks %q: %s", want, warns[0])
		}
	}
	more := sourceRange("orders", 1, 10, 20)
	produce(t, a.Addr, more...)
	checkCopied(t, append(recs, more...), consumeN(t, b.Addr, "A.orders", len(recs)+len(more), 30*time.Second))
	if st := flowStatus(m, "A->B"); st.Err != nil {
		t.Errorf("status %+v", st)
	}
	if got, want := allACLs(t, b.Addr), bindingStrings(bACLs...); !slices.Equal(got, want) {
		t.Errorf("ACLs on B changed: %v", got)
	}
}
