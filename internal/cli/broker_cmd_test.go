package cli_test

// `tributary broker`: bad invocations exit 2 naming the problem before any
// file is touched; a good --config file with --set overrides starts a broker
// that clients use, and cancelling the command shuts it down cleanly.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/cli"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestBrokerCommandBadInvocations(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	props := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	badKey := props("badkey.properties", "# broker\nnum.partitions=2\nlog.retention.bogus=5\n")
	badValue := props("badvalue.properties", "num.partitions=2\n\nauto.create.topics.enable=maybe\n")
	twoBad := props("twobad.properties", "num.partitions=zero\nlog.retention.ms=1000\nsocket.request.max.bytes=1\n")
	malformed := props("malformed.properties", "num.partitions=2\n=value-without-key\n")
	unreadable := filepath.Join(dir, "missing.properties")

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown --set key", []string{"--set", "log.retention.bogus=1"}, []string{`unknown broker config "log.retention.bogus"`}},
		{"bad --set value", []string{"--set", "num.partitions=lots"}, []string{`num.partitions="lots"`, "accepted: an integer 1..100000"}},
		{"bad --set bool", []string{"--set", "auto.create.topics.enable=sometimes"}, []string{"auto.create.topics.enable", "accepted: true or false"}},
		{"bad --set topic default", []string{"--set", "log.cleanup.policy=shred"}, []string{"log.cleanup.policy", "accepted: delete, compact"}},
		{"--set without '='", []string{"--set", "num.partitions"}, []string{`--set "num.partitions": want key=value`}},
		{"every bad --set at once", []string{"--set", "num.partitions=0", "--set", "nope=1"}, []string{"num.partitions", `"nope"`}},
		{"bad --fsync", []string{"--fsync", "sometimes"}, []string{`--fsync "sometimes"`, "always"}},
		{"bad --log-level", []string{"--log-level", "loud"}, []string{`--log-level "loud"`, "debug, info, warn, error"}},
		{"bad --listen", []string{"--listen", "nohost"}, []string{`listen address "nohost"`, "host:port"}},
		{"bad --advertise", []string{"--advertise", "example.com:0"}, []string{`advertise address "example.com:0"`}},
		{"unreadable --config", []string{"--config", unreadable}, []string{"open broker config", unreadable}},
		{"unknown key in --config", []string{"--config", badKey}, []string{badKey + ":3:", `"log.retention.bogus"`}},
		{"bad value in --config", []string{"--config", badValue}, []string{badValue + ":3:", "auto.create.topics.enable"}},
		{"every bad line of --config", []string{"--config", twoBad}, []string{twoBad + ":1:", twoBad + ":3:", "num.partitions", "socket.request.max.bytes"}},
		{"malformed line in --config", []string{"--config", malformed}, []string{malformed + ":2:", "=value-without-key"}},
		{"unknown flag", []string{"--partitions", "3"}, []string{"--partitions"}},
		{"positional argument", []string{"now"}, []string{`"now"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"broker", "--data-dir", data, "--metrics-listen", ""}
			if !slices.Contains(tc.args, "--listen") { // a flag may be given once
				args = append(args, "--listen", "127.0.0.1:0")
			}
			args = append(args, tc.args...)
			r := run(t, "", args...)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitUsage, r.stdout, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Fatalf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stdout, "listening") {
				t.Fatalf("a refused invocation started the broker:\n%s", r.stdout)
			}
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a refused invocation created the data dir (%v)", err)
			}
		})
	}
}

func TestBrokerCommandRuntimeFailures(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "broker", "--data-dir", filepath.Join(file, "data"), "--listen", "127.0.0.1:0", "--metrics-listen", "")
	if r.code != exitError || !strings.Contains(r.stderr, "data dir") {
		t.Fatalf("data dir under a file: exit %d\n%s", r.code, r.stderr)
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	r = run(t, "", "broker", "--data-dir", filepath.Join(dir, "data"), "--listen", taken.Addr().String(), "--metrics-listen", "")
	if r.code != exitError || !strings.Contains(r.stderr, "listen on "+taken.Addr().String()) {
		t.Fatalf("listen address in use: exit %d\n%s", r.code, r.stderr)
	}
	// The failed start released the data dir: a broker opens it.
	testkit.StartBroker(t, testkit.WithDataDir(filepath.Join(dir, "data")))
}

var listeningLine = regexp.MustCompile(`tributary broker listening on (\S+) \(data in (.+)\)`)

func TestBrokerCommandRunsFromConfigFile(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	props := filepath.Join(dir, "server.properties")
	content := fmt.Sprintf(`# A Kafka server.properties
num.partitions=3
log.dirs=%s
message.max.bytes: 2000000
auto.create.topics.enable = true
log.retention.hours=2
`, data)
	if err := os.WriteFile(props, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testkit.SyncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- cli.Execute(ctx, []string{"broker", "--config", props, "--listen", "127.0.0.1:0", "--metrics-listen", "",
			"--log-level", "warn", "--set", "message.max.bytes=3000000", "--set", "log.retention.ms=3600000"},
			strings.NewReader(""), &stdout, &stderr)
	}()
	var addr string
	testkit.Eventually(t, 10*time.Second, func() error {
		select {
		case code := <-exit:
			t.Fatalf("broker exited %d before listening\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
		default:
		}
		m := listeningLine.FindStringSubmatch(stdout.String())
		if m == nil {
			return fmt.Errorf("no listening line yet: %q", stdout.String())
		}
		if m[2] != data {
			t.Fatalf("data dir %q, want log.dirs from the file %q", m[2], data)
		}
		addr = m[1]
		return nil
	})

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("from-file"))
	if err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer pcancel()
	for i := 0; i < 6; i++ {
		if err := cl.ProduceSync(pctx, &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprint("v", i))}).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	adm := kadm.NewClient(cl)
	topics, err := adm.ListTopics(pctx, "from-file")
	if err != nil || topics["from-file"].Err != nil {
		t.Fatalf("list topics: %v %+v", err, topics)
	}
	if n := len(topics["from-file"].Partitions); n != 3 {
		t.Fatalf("auto-created topic has %d partitions, want num.partitions=3 from the file", n)
	}
	rcs, err := adm.DescribeTopicConfigs(pctx, "from-file")
	if err != nil || len(rcs) != 1 || rcs[0].Err != nil {
		t.Fatalf("describe configs: %v %+v", err, rcs)
	}
	want := map[string]string{"max.message.bytes": "3000000", "retention.ms": "3600000"}
	for _, c := range rcs[0].Configs {
		if w, ok := want[c.Key]; ok {
			if c.MaybeValue() != w || c.Source != kmsg.ConfigSourceStaticBrokerConfig {
				t.Fatalf("%s = %q from %v, want %q (--set over the file) from STATIC_BROKER_CONFIG", c.Key, c.MaybeValue(), c.Source, w)
			}
			delete(want, c.Key)
		}
	}
	if len(want) != 0 {
		t.Fatalf("configs not described: %v", want)
	}
	cl.Close()

	// Cancelling the command stops the broker cleanly.
	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d after cancel\nstderr:\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("broker command did not return after its context was cancelled")
	}
	if s := stderr.String(); strings.Contains(s, "level=ERROR") || strings.Contains(s, "error:") {
		t.Fatalf("errors logged:\n%s", s)
	}
	for p := 0; p < 3; p++ {
		marker := filepath.Join(data, fmt.Sprintf("from-file-%d", p), ".clean-shutdown")
		if _, err := os.Stat(marker); err != nil {
			t.Fatalf("partition %d has no clean-shutdown marker: %v", p, err)
		}
	}

	// The same data dir opens again with everything in it.
	b := testkit.StartBroker(t, testkit.WithDataDir(data))
	cl2 := testkit.Client(t, b.Addr, kgo.ConsumeTopics("from-file"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]bool{}
	cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ccancel()
	for len(seen) < 6 {
		fs := cl2.PollFetches(cctx)
		if cctx.Err() != nil {
			t.Fatalf("read back %d of 6 records after reopening", len(seen))
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
	}
}
