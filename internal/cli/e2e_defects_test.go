package cli_test

// One test per defect of issue 13, each written against the command line
// as it was (so it fails on the code before the fix) and passing after it.

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// commitGroup commits offset 1 of every partition of topic for group, so
// the group exists (Empty) without a member.
func commitGroup(t *testing.T, bs, group, topic string, partitions int32) {
	t.Helper()
	adm := testkit.Admin(t, bs)
	offsets := make(kadm.Offsets)
	for p := int32(0); p < partitions; p++ {
		offsets.Add(kadm.Offset{Topic: topic, Partition: p, At: 0, LeaderEpoch: -1})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := adm.CommitOffsets(ctx, group, offsets)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("commit offsets for %s: %v", group, err)
	}
}

func groupExists(t *testing.T, bs, group string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	listed, err := testkit.Admin(t, bs).ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, ok := listed[group]
	return ok
}

func topicExists(t *testing.T, bs, topic string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	details, err := testkit.Admin(t, bs).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return details.Has(topic)
}

// Defect: `groups delete --group g1 --group nosuch` deleted nothing, said
// "successful" for nosuch and exited 0.
func TestDefectRepeatedGroupFlagDeletesEach(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic := uniqueName("del-groups")
	createTopic(t, bs, topic, 1)
	g1, g2, g3, nosuch := uniqueName("g1"), uniqueName("g2"), uniqueName("g3"), uniqueName("nosuch")
	for _, g := range []string{g1, g2, g3} {
		commitGroup(t, bs, g, topic, 1)
	}

	r := run(t, "", "groups", "delete", "--bootstrap-server", bs, "--group", g1, "--group", nosuch)
	if r.code != exitError {
		t.Errorf("deleting an existing and a missing group: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitError, r.stdout, r.stderr)
	}
	if groupExists(t, bs, g1) {
		t.Errorf("group %s was named first and still exists", g1)
	}
	if !strings.Contains(r.stderr, "'"+nosuch+"'") || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("stderr should say %s does not exist:\n%s", nosuch, r.stderr)
	}
	if strings.Contains(r.stdout, nosuch) {
		t.Errorf("stdout reports the missing group:\n%s", r.stdout)
	}

	// A comma list deletes both.
	out := mustRun(t, "", "groups", "delete", "--bootstrap-server", bs, "--group", g2+","+g3)
	if groupExists(t, bs, g2) || groupExists(t, bs, g3) {
		t.Errorf("--group %s,%s left a group behind; output %q", g2, g3, out)
	}
}

// Defect: `topics delete --topic d1 --topic d2` deleted only d2.
func TestDefectRepeatedTopicFlagDeletesEach(t *testing.T) {
	bs := testkit.Bootstrap(t)
	d1, d2, d3, d4 := uniqueName("d1"), uniqueName("d2"), uniqueName("d3"), uniqueName("d4")
	for _, topic := range []string{d1, d2, d3, d4} {
		createTopic(t, bs, topic, 1)
	}
	mustRun(t, "", "topics", "delete", "--bootstrap-server", bs, "--topic", d1, "--topic", d2)
	mustRun(t, "", "topics", "delete", "--bootstrap-server", bs, "--topic", d3+","+d4)
	testkit.Eventually(t, 10*time.Second, func() error {
		for _, topic := range []string{d1, d2, d3, d4} {
			if topicExists(t, bs, topic) {
				return fmt.Errorf("topic %s still exists", topic)
			}
		}
		return nil
	})
}

// Defect: a flag that takes one value silently kept the last of two.
func TestDefectSingleValueFlagGivenTwice(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic := uniqueName("twice")
	r := mustFail(t, exitUsage, "--partitions", "", "topics", "create", "--bootstrap-server", bs, "--topic", topic, "--partitions", "1", "--partitions", "2")
	if !strings.Contains(r.stderr, "given twice") {
		t.Errorf("stderr should say the flag was given twice: %s", r.stderr)
	}
	if topicExists(t, bs, topic) {
		t.Errorf("the refused command created topic %s", topic)
	}
	mustFail(t, exitUsage, "--group", "", "consume", "--bootstrap-server", bs, "--topic", topic, "--group", "a", "--group", "b")
	mustFail(t, exitUsage, "--bootstrap-server", "", "topics", "list", "--bootstrap-server", bs, "--bootstrap-server", bs)
}

// Defect: `configs alter --entity-type brokers --entity-name 0` was stored
// as the cluster-wide default and a later --entity-default overwrote it.
func TestDefectPerBrokerConfigKeptApartFromDefault(t *testing.T) {
	b := testkit.StartBroker(t) // changes broker-wide state: a broker of its own
	bs := b.Addr
	mustRun(t, "", "configs", "alter", "--bootstrap-server", bs, "--entity-type", "brokers", "--entity-name", "0", "--add-config", "log.retention.ms=3600000")
	mustRun(t, "", "configs", "alter", "--bootstrap-server", bs, "--entity-type", "brokers", "--entity-default", "--add-config", "log.retention.ms=7200000")

	var broker0, defaults configsJSON
	decodeJSON(t, mustRun(t, "", "configs", "describe", "--bootstrap-server", bs, "--entity-type", "brokers", "--entity-name", "0", "--all", "--output", "json"), &broker0)
	if v, src, ok := broker0.lookup("log.retention.ms"); !ok || v != "3600000" || src != "DYNAMIC_BROKER_CONFIG" {
		t.Errorf("broker 0 log.retention.ms = %q from %s, want 3600000 from DYNAMIC_BROKER_CONFIG", v, src)
	}
	decodeJSON(t, mustRun(t, "", "configs", "describe", "--bootstrap-server", bs, "--entity-type", "brokers", "--entity-default", "--all", "--output", "json"), &defaults)
	if v, src, ok := defaults.lookup("log.retention.ms"); !ok || v != "7200000" || src != "DYNAMIC_DEFAULT_BROKER_CONFIG" {
		t.Errorf("default log.retention.ms = %q from %s, want 7200000 from DYNAMIC_DEFAULT_BROKER_CONFIG", v, src)
	}
	// Topics follow broker 0's own value.
	topic := uniqueName("follows")
	createTopic(t, bs, topic, 1)
	var tc configsJSON
	decodeJSON(t, mustRun(t, "", "configs", "describe", "--bootstrap-server", bs, "--entity-type", "topics", "--entity-name", topic, "--all", "--output", "json"), &tc)
	if v, src, _ := tc.lookup("retention.ms"); v != "3600000" || src != "DYNAMIC_BROKER_CONFIG" {
		t.Errorf("topic retention.ms = %q from %s, want broker 0's 3600000 from DYNAMIC_BROKER_CONFIG", v, src)
	}
}

// deadAddress is a host:port where nothing listens.
func deadAddress(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Defect: library wording leaked into errors ("request ListGroups has 1
// separate shard errors, first: unable to dial", "unknown broker").
func TestDefectErrorsInUsersWords(t *testing.T) {
	dead := deadAddress(t)
	for _, args := range [][]string{
		{"groups", "list"},
		{"topics", "list"},
		{"groups", "describe", "--group", "g"},
		{"configs", "describe", "--entity-type", "brokers"},
		{"topics", "create", "--topic", "t"},
	} {
		r := run(t, "", append(args, "--bootstrap-server", dead)...)
		if r.code != exitError {
			t.Errorf("%v against %s: exit %d, want %d", args, dead, r.code, exitError)
		}
		for _, leak := range []string{"shard errors", "unable to dial", "dial tcp"} {
			if strings.Contains(r.stderr, leak) {
				t.Errorf("%v: stderr has the library's %q:\n%s", args, leak, r.stderr)
			}
		}
		for _, want := range []string{"cannot connect to broker " + dead, "connection refused", "check"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%v: stderr lacks %q:\n%s", args, want, r.stderr)
			}
		}
	}

	bs := testkit.Bootstrap(t)
	r := run(t, "", "configs", "describe", "--bootstrap-server", bs, "--entity-type", "brokers", "--entity-name", "7")
	if r.code != exitError || strings.Contains(r.stderr, "unknown broker") || strings.Contains(r.stderr, "shard") || !strings.Contains(r.stderr, "broker 7") {
		t.Errorf("describing a broker that is not in the cluster: exit %d\n%s", r.code, r.stderr)
	}
}

// Defect: produce against a dead broker waited the whole --timeout while
// admin commands failed at once, and its wording changed with the timeout.
// A --timeout far beyond the test's own bound shows it no longer waits.
func TestDefectProduceFailsLikeTheRest(t *testing.T) {
	dead := deadAddress(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	long := runContext(ctx, "x\n", "produce", "--bootstrap-server", dead, "--topic", "t", "--timeout", "10m")
	if ctx.Err() != nil {
		t.Fatal("produce against a dead broker was still waiting after 60s")
	}
	short := run(t, "x\n", "produce", "--bootstrap-server", dead, "--topic", "t", "--timeout", "5s")
	admin := run(t, "", "topics", "list", "--bootstrap-server", dead)
	for _, r := range []result{long, short} {
		if r.code != exitError || !strings.Contains(r.stderr, "cannot connect to broker "+dead) {
			t.Errorf("produce: exit %d\n%s", r.code, r.stderr)
		}
	}
	if long.stderr != short.stderr {
		t.Errorf("the wording depends on --timeout:\n%s\n%s", long.stderr, short.stderr)
	}
	cause := func(stderr string) string { return stderr[strings.Index(stderr, "cannot connect"):] }
	if !strings.Contains(admin.stderr, "cannot connect") || cause(long.stderr) != cause(admin.stderr) {
		t.Errorf("produce and topics list word the same failure differently:\n%s\n%s", long.stderr, admin.stderr)
	}
}

// Defect: "the 1 records before it were produced".
func TestDefectPluralForms(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic := uniqueName("plural")
	createTopic(t, bs, topic, 1)
	r := mustFail(t, exitError, "line 2", "a:1\nbad\n", "produce", "--bootstrap-server", bs, "--topic", topic,
		"--property", "parse.key=true", "--property", "key.separator=:")
	if !strings.Contains(r.stderr, "the 1 record before it was produced") {
		t.Errorf("stderr: %q", r.stderr)
	}
}

// Defect: groups describe printed a numeric LAG where CURRENT-OFFSET is
// "-" (no committed offset); Kafka prints "-".
func TestDefectNoLagWithoutCommittedOffset(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic, group := uniqueName("lag"), uniqueName("lag-group")
	createTopic(t, bs, topic, 2)
	testkit.Produce(t, bs, &kgo.Record{Topic: topic, Partition: 0, Value: []byte("a")}, &kgo.Record{Topic: topic, Partition: 1, Value: []byte("b")})
	// A member that is assigned both partitions and commits nothing.
	member := testkit.Client(t, bs, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit())
	pollCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		for pollCtx.Err() == nil {
			member.PollFetches(pollCtx)
		}
	}()
	var g groupJSON
	testkit.Eventually(t, 20*time.Second, func() error {
		r := run(t, "", "groups", "describe", "--bootstrap-server", bs, "--group", group, "--output", "json")
		if r.code != 0 {
			return fmt.Errorf("describe: %s", r.stderr)
		}
		decodeJSON(t, r.stdout, &g)
		if g.State != "Stable" || len(g.Partitions) != 2 {
			return fmt.Errorf("group not settled: %+v", g)
		}
		return nil
	})
	for _, p := range g.Partitions {
		if p.CurrentOffset != nil || p.Lag != nil {
			t.Errorf("partition %d without a commit: current offset %v, lag %v; want both unknown", p.Partition, p.CurrentOffset, p.Lag)
		}
	}
	text := mustRun(t, "", "groups", "describe", "--bootstrap-server", bs, "--group", group)
	for _, line := range strings.Split(strings.TrimSpace(text), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 6 || f[3] != "-" || f[5] != "-" {
			t.Errorf("row %q: want CURRENT-OFFSET and LAG '-'", line)
		}
	}
}

// Defect: print.value=false left a trailing key separator.
func TestDefectNoTrailingSeparatorWithoutValue(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic := uniqueName("novalue")
	createTopic(t, bs, topic, 1)
	mustRun(t, "k1:v1\n", "produce", "--bootstrap-server", bs, "--topic", topic, "--property", "parse.key=true", "--property", "key.separator=:")
	out := mustRun(t, "", "consume", "--bootstrap-server", bs, "--topic", topic, "--from-beginning", "--max-messages", "1",
		"--property", "print.key=true", "--property", "print.value=false", "--property", "key.separator=|")
	if out != "k1\n" {
		t.Errorf("print.key=true print.value=false: got %q, want %q", out, "k1\n")
	}
}
