package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/cli"
	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/mirror"
)

// One file with a good flow and a bad one of each kind: the bad ones
// report clear errors, the good one copies.
func TestBadFlowsFailAloneAndClearly(t *testing.T) {
	a, b, c := testkit.StartBroker(t), testkit.StartBroker(t), testkit.StartBroker(t)
	createTopic(t, a.Addr, "orders", 3)
	createTopic(t, a.Addr, "orders-eu", 3)
	// An existing topic on C, fewer partitions than its source, under a
	// policy that keeps names: not the mirror's to grow.
	createTopic(t, c.Addr, "orders", 1)
	recs := sourceRecords("orders", 3, 10)
	produce(t, a.Addr, recs...)
	eu := sourceRecords("orders-eu", 3, 10)
	produce(t, a.Addr, eu...)

	m := startMirror(t, fmt.Sprintf(`
clusters = A, B, C, DOWN
A.bootstrap.servers = %s
B.bootstrap.servers = %s
C.bootstrap.servers = %s
DOWN.bootstrap.servers = 127.0.0.1:1
`, a.Addr, b.Addr, c.Addr)+fastSettings+`
A->B.enabled = true
A->DOWN.enabled = true
A->DOWN.admin.timeout.ms = 2000
A->NOWHERE.enabled = true
B->A.enabled = true
B->A.topics = orders, [unclosed
A->C.enabled = true
A->C.replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy
`)
	checkCopied(t, recs, consumeN(t, b.Addr, "A.orders", len(recs), 30*time.Second))
	// A->C copies what it can: orders-eu, not orders.
	checkCopied(t, eu, consumeN(t, c.Addr, "orders-eu", len(eu), 30*time.Second))

	want := map[string]string{
		"A->DOWN":    "cluster DOWN (bootstrap.servers 127.0.0.1:1) is unreachable",
		"A->NOWHERE": `unknown cluster alias "NOWHERE": clusters lists A, B, C, DOWN`,
		"B->A":       `B->A.topics="orders, [unclosed": invalid regex "[unclosed"`,
	}
	testkit.Eventually(t, 30*time.Second, func() error {
		for flow, msg := range want {
			st := flowStatus(m, flow)
			if st.Err == nil || !strings.Contains(st.Err.Error(), msg) {
				return fmt.Errorf("flow %s: error %v, want %q", flow, st.Err, msg)
			}
		}
		for _, ts := range flowStatus(m, "A->C").Topics {
			if ts.Source == "orders" {
				if ts.Err == nil || !strings.Contains(ts.Err.Error(), "target topic orders on cluster C has 1 partitions, source topic orders has 3") {
					return fmt.Errorf("A->C orders: %v", ts.Err)
				}
				return nil
			}
		}
		return fmt.Errorf("A->C has no status for orders")
	})
	for _, flow := range []string{"A->B", "A->C"} {
		if st := flowStatus(m, flow); st.Err != nil {
			t.Errorf("flow %s: %v", flow, st.Err)
		}
	}
	// Once the partitions are added, the topic is copied.
	resp, err := admin(t, c.Addr).CreatePartitions(context.Background(), 2, "orders")
	if err != nil || resp.Error() != nil {
		t.Fatalf("add partitions: %v %v", err, resp.Error())
	}
	checkCopied(t, recs, consumeN(t, c.Addr, "orders", len(recs), 30*time.Second))
}

func TestStartRefusesFileLevelProblems(t *testing.T) {
	for name, c := range map[string]struct{ text, want string }{
		"no flow": {"clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\n", "no flow is enabled"},
		"all flows bad": {"clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\nA->B.topics = (\n",
			"every enabled flow is invalid"},
		"top-level regex": {"clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\ntopics = (\n",
			`topics="(": invalid regex "("`},
		"typo": {"clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\nemit.hearbeats.enabled = false\n",
			"did you mean emit.heartbeats.enabled?"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := mirror.ParseConfig(strings.NewReader(c.text), "mm2.properties")
			if err != nil {
				t.Fatal(err)
			}
			_, err = mirror.Start(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Start: %v, want %q", err, c.want)
			}
		})
	}
	cfg, _ := mirror.ParseConfig(strings.NewReader("clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\n"), "f")
	if _, err := mirror.Start(context.Background(), cfg, mirror.WithTargetClusters("A")); !errors.Is(err, mirror.ErrNoFlows) {
		t.Fatalf("--clusters A with no flow into A: %v", err)
	}
	if _, err := mirror.Start(context.Background(), cfg, mirror.WithTargetClusters("Z")); err == nil || !strings.Contains(err.Error(), `--clusters "Z": not a cluster`) {
		t.Fatalf("--clusters Z: %v", err)
	}
}

func TestCommandExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.properties")
	os.WriteFile(bad, []byte("clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\noffset.lag.max = many\n"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"mirror", "run"}, 2, "takes one argument"},
		{[]string{"mirror", "run", filepath.Join(dir, "missing.properties")}, 2, "no such file"},
		{[]string{"mirror", "run", bad}, 2, `offset.lag.max="many": accepted a whole number`},
		{[]string{"mirror", "walk"}, 2, `unknown command "walk"`},
	} {
		var out, errOut strings.Builder
		code := cli.Execute(context.Background(), c.args, strings.NewReader(""), &out, &errOut)
		if code != c.code || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errOut.String(), c.code, c.want)
		}
	}
}
