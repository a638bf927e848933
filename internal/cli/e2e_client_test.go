package cli_test

// Profiles, TRIBUTARY_BOOTSTRAP, bootstrap.servers in properties files, and
// client properties that change what the console tools do.

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
)

func writeProps(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestProfilesAndBootstrapPrecedence(t *testing.T) {
	config := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config)
	bs := testkit.Bootstrap(t)
	dead := deadAddress(t)
	topic := uniqueName("profiled")
	createTopic(t, bs, topic, 1)
	listsTopic := func(r result) bool { return r.code == 0 && containsLine(r.stdout, topic) }

	// No brokers named anywhere: a usage error that says where they may come from.
	mustFail(t, exitUsage, "TRIBUTARY_BOOTSTRAP", "", "topics", "list")

	out := mustRun(t, "", "profile", "create", "local", "--bootstrap-server", bs, "--set", "client.id=ops")
	if !strings.Contains(out, "Created profile local in "+filepath.Join(config, "tributary", "profiles.yaml")) || !strings.Contains(out, "current profile") {
		t.Errorf("create output: %q", out)
	}
	if info, err := os.Stat(filepath.Join(config, "tributary", "profiles.yaml")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("profiles file: %v, mode %v; want 0600 (it may hold passwords)", err, info.Mode())
	}
	if r := run(t, "", "topics", "list"); !listsTopic(r) {
		t.Fatalf("topics list with the current profile: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	mustRun(t, "", "profile", "create", "gone", "--bootstrap-server", dead, "--use")
	r := run(t, "", "topics", "list")
	if r.code != exitError || !strings.Contains(r.stderr, "cannot connect to broker "+dead) || !strings.Contains(r.stderr, "from bootstrap.servers of profile gone") {
		t.Errorf("with a dead current profile: exit %d\n%s", r.code, r.stderr)
	}
	for name, args := range map[string][]string{
		"--profile":          {"topics", "list", "--profile", "local"},
		"--bootstrap-server": {"topics", "list", "--bootstrap-server", bs},
		"--command-config":   {"topics", "list", "--command-config", writeProps(t, "c.properties", "bootstrap.servers="+bs+"\n")},
	} {
		if r := run(t, "", args...); !listsTopic(r) {
			t.Errorf("%s over the current profile: exit %d\n%s", name, r.code, r.stderr)
		}
	}
	t.Setenv("TRIBUTARY_BOOTSTRAP", bs)
	if r := run(t, "", "topics", "list"); !listsTopic(r) {
		t.Errorf("TRIBUTARY_BOOTSTRAP over the profile: exit %d\n%s", r.code, r.stderr)
	}
	// A properties file on the command line wins over the environment.
	r = run(t, "", "topics", "list", "--command-config", writeProps(t, "d.properties", "bootstrap.servers="+dead+"\n"))
	if r.code != exitError || !strings.Contains(r.stderr, "from bootstrap.servers in --command-config") {
		t.Errorf("--command-config bootstrap.servers over TRIBUTARY_BOOTSTRAP: exit %d\n%s", r.code, r.stderr)
	}
	t.Setenv("TRIBUTARY_BOOTSTRAP", "")
	t.Setenv("TRIBUTARY_PROFILE", "local")
	if r := run(t, "", "topics", "list"); !listsTopic(r) {
		t.Errorf("TRIBUTARY_PROFILE: exit %d\n%s", r.code, r.stderr)
	}
	t.Setenv("TRIBUTARY_PROFILE", "")

	list := mustRun(t, "", "profile", "list")
	if !containsFields(list, []string{"*", "gone", dead}) || !containsFields(list, []string{"-", "local", bs}) {
		t.Errorf("profile list:\n%s", list)
	}
	mustRun(t, "", "profile", "use", "local")
	mustRun(t, "", "profile", "delete", "gone")
	if r := run(t, "", "topics", "list"); !listsTopic(r) {
		t.Errorf("after use local and delete gone: exit %d\n%s", r.code, r.stderr)
	}
	mustFail(t, exitError, `profile "gone" does not exist`, "", "profile", "delete", "gone")
}

func TestConsumerPropertiesApply(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic := uniqueName("isolation")
	createTopic(t, bs, topic, 1)
	// A committed transaction, then one left open.
	for _, commit := range []bool{true, false} {
		txn := testkit.Client(t, bs, kgo.TransactionalID(uniqueName("txn")), kgo.DefaultProduceTopic(topic))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		value := map[bool]string{true: "committed", false: "open"}[commit]
		if err := txn.ProduceSync(ctx, &kgo.Record{Value: []byte(value)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if commit {
			if err := txn.EndTransaction(ctx, kgo.TryCommit); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
	}
	read := func(args ...string) string {
		return mustRun(t, "", append([]string{"consume", "--bootstrap-server", bs, "--topic", topic, "--offset", ":end", "--format", `%v\n`}, args...)...)
	}
	if got := read(); got != "committed\nopen\n" {
		t.Errorf("read_uncommitted (Kafka's default): %q", got)
	}
	if got := read("--isolation-level", "read_committed"); got != "committed\n" {
		t.Errorf("--isolation-level read_committed: %q", got)
	}
	if got := read("--consumer-property", "isolation.level=read_committed"); got != "committed\n" {
		t.Errorf("--consumer-property isolation.level=read_committed: %q", got)
	}
	cfg := writeProps(t, "consumer.properties", "isolation.level=read_committed\n")
	if got := read("--consumer.config", cfg); got != "committed\n" {
		t.Errorf("--consumer.config with isolation.level: %q", got)
	}
	if got := read("--consumer.config", cfg, "--isolation-level", "read_uncommitted"); got != "committed\nopen\n" {
		t.Errorf("the flag wins over the file: %q", got)
	}

	// group.id from a file joins that group and commits what was printed.
	group := uniqueName("filegroup")
	mustRun(t, "", "consume", "--bootstrap-server", bs, "--topic", topic, "--from-beginning", "--max-messages", "1",
		"--consumer.config", writeProps(t, "g.properties", "group.id="+group+"\nclient.id=from-file\n"))
	var g groupJSON
	decodeJSON(t, mustRun(t, "", "groups", "describe", "--bootstrap-server", bs, "--group", group, "--output", "json"), &g)
	if len(g.Partitions) != 1 || g.Partitions[0].CurrentOffset == nil || *g.Partitions[0].CurrentOffset != 1 {
		t.Errorf("group from group.id: %+v", g)
	}
	// enable.auto.commit=false: nothing committed.
	noCommit := uniqueName("nocommit")
	mustRun(t, "", "consume", "--bootstrap-server", bs, "--topic", topic, "--group", noCommit, "--from-beginning", "--max-messages", "1",
		"--consumer-property", "enable.auto.commit=false")
	var nc groupJSON
	decodeJSON(t, mustRun(t, "", "groups", "describe", "--bootstrap-server", bs, "--group", noCommit, "--output", "json"), &nc)
	if len(nc.Partitions) != 0 {
		t.Errorf("enable.auto.commit=false committed: %+v", nc)
	}
}

func TestProducerPropertiesApply(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic := uniqueName("producer-props")
	createTopic(t, bs, topic, 1)
	long := strings.Repeat("abc", 400) + "\n" // compressible, so the codec is used
	mustRun(t, long, "produce", "--bootstrap-server", bs, "--topic", topic, "--producer-property", "compression.type=gzip", "--producer-property", "linger.ms=5")
	mustRun(t, long, "produce", "--bootstrap-server", bs, "--topic", topic, "--producer.config", writeProps(t, "p.properties", "compression.type=gzip\nacks=1\n"), "--compression-codec", "lz4")
	mustRun(t, "NULL:v\nk:NULL\nk2:v2\n", "produce", "--bootstrap-server", bs, "--topic", topic, "--sync",
		"--property", "parse.key=true", "--property", "key.separator=:", "--property", "null.marker=NULL")
	recs := testkit.Consume(t, bs, topic, 5)
	if c := recs[0].Attrs.CompressionType(); c != 1 {
		t.Errorf("compression.type=gzip: batch codec %d", c)
	}
	if c := recs[1].Attrs.CompressionType(); c != 3 {
		t.Errorf("--compression-codec lz4 over compression.type=gzip: batch codec %d", c)
	}
	if recs[2].Key != nil || string(recs[2].Value) != "v" {
		t.Errorf("null.marker key: key %q (nil=%v) value %q", recs[2].Key, recs[2].Key == nil, recs[2].Value)
	}
	if string(recs[3].Key) != "k" || recs[3].Value != nil {
		t.Errorf("null.marker value: key %q value %q (nil=%v)", recs[3].Key, recs[3].Value, recs[3].Value == nil)
	}
	if string(recs[4].Key) != "k2" || string(recs[4].Value) != "v2" {
		t.Errorf("record after the null markers: %q %q", recs[4].Key, recs[4].Value)
	}
}

// TestConsumeSkipMessageOnError: a batch corrupted on disk makes the
// consumer stop (exit 1) naming the partition, unless
// --skip-message-on-error, which reports the offset and goes on past it.
func TestConsumeSkipMessageOnError(t *testing.T) {
	b := testkit.StartBroker(t)
	topic := uniqueName("corrupt")
	createTopic(t, b.Addr, topic, 1)
	for _, v := range []string{"one", "two", "three"} { // one batch each
		testkit.Produce(t, b.Addr, &kgo.Record{Topic: topic, Value: []byte(v)})
	}
	b.Broker.Close() // a clean stop: the log is not scanned when it opens again
	segment := filepath.Join(b.DataDir, topic+"-0", "00000000000000000000.log")
	raw, err := os.ReadFile(segment)
	if err != nil {
		t.Fatal(err)
	}
	// Batch framing: base offset (8 bytes), length (4), then length bytes.
	second := 12 + int(binary.BigEndian.Uint32(raw[8:12]))
	end := second + 12 + int(binary.BigEndian.Uint32(raw[second+8:second+12]))
	raw[end-1] ^= 0xff // the last byte of "two": the CRC no longer matches
	if err := os.WriteFile(segment, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	b2 := testkit.StartBroker(t, testkit.WithDataDir(b.DataDir))

	consume := func(extra ...string) result {
		return run(t, "", append([]string{"consume", "--bootstrap-server", b2.Addr, "--topic", topic, "--offset", ":end", "--format", `%o %v\n`}, extra...)...)
	}
	r := consume()
	if r.code != exitError || r.stdout != "0 one\n" || !strings.Contains(r.stderr, "crc") || !strings.Contains(r.stderr, "--skip-message-on-error") {
		t.Errorf("a corrupt batch: exit %d stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	r = consume("--skip-message-on-error")
	if r.code != 0 || r.stdout != "0 one\n2 three\n" || !strings.Contains(r.stderr, "skipping offset 1 of topic") {
		t.Errorf("--skip-message-on-error: exit %d stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestConsumeInclude: --include reads every topic whose whole name matches,
// as Kafka's console consumer does, with and without an --offset range.
func TestConsumeInclude(t *testing.T) {
	bs := testkit.Bootstrap(t)
	suffix := uniqueName("")
	in1, in2, out := "inc-a"+suffix, "inc-b"+suffix, "xinc-a"+suffix
	for _, topic := range []string{in1, in2, out} {
		createTopic(t, bs, topic, 1)
		mustRun(t, topic+"\n", "produce", "--bootstrap-server", bs, "--topic", topic)
	}
	pattern := `inc-.` + strings.ReplaceAll(suffix, "-", `\-`)
	want := in1 + " " + in1 + "\n" + in2 + " " + in2 + "\n"
	got := mustRun(t, "", "consume", "--bootstrap-server", bs, "--include", pattern, "--from-beginning", "--max-messages", "2", "--format", `%t %v\n`)
	if lines := strings.Split(strings.TrimSpace(got), "\n"); len(lines) != 2 || !strings.Contains(want, lines[0]+"\n") || !strings.Contains(want, lines[1]+"\n") || lines[0] == lines[1] {
		t.Errorf("--include %s: got %q, want the records of %s and %s", pattern, got, in1, in2)
	}
	got = mustRun(t, "", "consume", "--bootstrap-server", bs, "--include", pattern, "--offset", ":end", "--format", `%t %v\n`)
	if lines := strings.Split(strings.TrimSpace(got), "\n"); len(lines) != 2 || strings.Contains(got, out) {
		t.Errorf("--include %s --offset :end: got %q", pattern, got)
	}
}
