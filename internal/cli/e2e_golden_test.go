package cli_test

// Golden files of every output format, produced by real commands against a
// test broker of the test's own (so names, offsets and broker ids are
// fixed). What differs from run to run (topic ids, member ids, the port)
// is replaced by a placeholder of the same length, so tables stay aligned.
// `go test ./internal/cli -run Golden -update` rewrites the files.

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/cli"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func goldenFile(t *testing.T, name, got string) {
	t.Helper()
	cli.Golden(t, filepath.Join("e2e", name), got)
}

// masker replaces run-specific strings by same-length placeholders.
type masker struct{ pairs []string }

func (m *masker) add(actual, label string) {
	if actual == "" {
		return
	}
	ph := label
	if len(ph) < len(actual) {
		ph += strings.Repeat("x", len(actual)-len(ph))
	}
	m.pairs = append(m.pairs, actual, ph[:len(actual)])
}

func (m *masker) mask(s string) string { return strings.NewReplacer(m.pairs...).Replace(s) }

var memberIDs = regexp.MustCompile(`golden-member-[0-9a-f-]{36}`)

func TestGoldenOutputs(t *testing.T) {
	b := testkit.StartBroker(t)
	bs := b.Addr
	conn := []string{"--bootstrap-server", bs}
	m := &masker{}
	_, port, _ := strings.Cut(bs, ":")
	m.add(bs, "127.0.0.1:"+strings.Repeat("N", len(port)))

	cmd := func(args ...string) string {
		t.Helper()
		return mustRun(t, "", append(args, conn...)...)
	}
	mustRun(t, "", append([]string{"topics", "create", "--topic", "golden-orders", "--partitions", "2", "--config", "retention.ms=600000", "--config", "cleanup.policy=compact"}, conn...)...)
	mustRun(t, "", append([]string{"topics", "create", "--topic", "golden-audit", "--partitions", "1"}, conn...)...)
	ids := testkit.Admin(t, bs)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	details, err := ids.ListTopics(ctx, "golden-orders", "golden-audit")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"golden-orders", "golden-audit"} {
		id := details[name].ID
		m.add(kafkaID(id[:]), "id-of-"+name)
	}

	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	var recs []*kgo.Record
	for i, kv := range []struct{ k, v string }{{"a", `{"n":1}`}, {"b", "two"}, {"c", "three"}, {"d", "four"}} {
		recs = append(recs, &kgo.Record{Topic: "golden-orders", Partition: int32(i % 2), Key: []byte(kv.k), Value: []byte(kv.v),
			Timestamp: at.Add(time.Duration(i) * time.Second), Headers: []kgo.RecordHeader{{Key: "n", Value: []byte(fmt.Sprint(i))}}})
	}
	producer := testkit.Client(t, bs, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	var out strings.Builder
	section := func(title, body string) {
		fmt.Fprintf(&out, "$ %s\n%s\n", title, m.mask(body))
	}
	// Records of different partitions arrive in no fixed order: sorted.
	sorted := func(body string) string {
		lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		slices.Sort(lines)
		return strings.Join(lines, "\n") + "\n"
	}

	// topics
	section("topics describe --topic golden-orders", cmd("topics", "describe", "--topic", "golden-orders"))
	section("topics describe --topic golden-orders,golden-audit --output table", cmd("topics", "describe", "--topic", "golden-orders,golden-audit", "--output", "table"))
	section("topics describe --topic golden-orders --output json", cmd("topics", "describe", "--topic", "golden-orders", "--output", "json"))
	section("topics describe --topics-with-overrides --exclude-internal", cmd("topics", "describe", "--topics-with-overrides", "--exclude-internal"))
	section("topics list --exclude-internal", cmd("topics", "list", "--exclude-internal"))
	goldenFile(t, "topics.golden", out.String())
	out.Reset()

	// configs
	cmd("configs", "alter", "--entity-type", "brokers", "--entity-name", "0", "--add-config", "log.retention.ms=3600000")
	cmd("configs", "alter", "--broker-defaults", "--add-config", "log.segment.bytes=2097152")
	section("configs describe --topic golden-orders", cmd("configs", "describe", "--topic", "golden-orders"))
	section("configs describe --topic golden-orders --output table", cmd("configs", "describe", "--topic", "golden-orders", "--output", "table"))
	section("configs describe --topic golden-orders --output json", cmd("configs", "describe", "--topic", "golden-orders", "--output", "json"))
	section("configs describe --entity-type brokers", cmd("configs", "describe", "--entity-type", "brokers"))
	section("configs describe --entity-type brokers --entity-default --output json", cmd("configs", "describe", "--entity-type", "brokers", "--entity-default", "--output", "json"))
	goldenFile(t, "configs.golden", out.String())
	out.Reset()

	// consume
	section("consume --topic golden-orders --partition 0 --offset earliest --max-messages 2 --property print.timestamp=true --property print.partition=true --property print.offset=true --property print.headers=true --property print.key=true",
		cmd("consume", "--topic", "golden-orders", "--partition", "0", "--offset", "earliest", "--max-messages", "2",
			"--property", "print.timestamp=true", "--property", "print.partition=true", "--property", "print.offset=true", "--property", "print.headers=true", "--property", "print.key=true"))
	section(`consume --topic golden-orders --offset :end --format '%t %p %o %k %v %h{%k=%v} %d\n' (sorted)`,
		sorted(cmd("consume", "--topic", "golden-orders", "--offset", ":end", "--format", `%t %p %o %k %v %h{%k=%v} %d\n`)))
	section(`consume --topic golden-orders --offset -1 --follow=false --format '%p %k{json} %v{json} %v{hex} %v{base64} %d{go#2006-01-02T15:04:05Z07:00#}\n' (sorted)`,
		sorted(cmd("consume", "--topic", "golden-orders", "--offset", "-1", "--follow=false", "--format", `%p %k{json} %v{json} %v{hex} %v{base64} %d{go#2006-01-02T15:04:05Z07:00#}\n`)))
	section("consume --topic golden-orders --offset @2026-11-01T12:00:01Z:@2026-11-01T12:00:03Z --format '%p %o %v\\n' (sorted)",
		sorted(cmd("consume", "--topic", "golden-orders", "--offset", "@2026-11-01T12:00:01Z:@2026-11-01T12:00:03Z", "--format", `%p %o %v\n`)))
	section("consume --topic golden-orders --partition 1 --offset 0:2 --output json",
		cmd("consume", "--topic", "golden-orders", "--partition", "1", "--offset", "0:2", "--output", "json"))
	goldenFile(t, "consume.golden", out.String())
	out.Reset()

	// groups: one with a live member, one empty
	mustRun(t, "", append([]string{"consume", "--topic", "golden-orders", "--group", "golden-empty", "--from-beginning", "--max-messages", "4"}, conn...)...)
	mustRun(t, "", append([]string{"groups", "reset-offsets", "--group", "golden-empty", "--topic", "golden-orders:1", "--to-offset", "1", "--execute"}, conn...)...)
	member := testkit.Client(t, bs, kgo.ConsumerGroup("golden-live"), kgo.ConsumeTopics("golden-audit"), kgo.ClientID("golden-member"),
		kgo.Balancers(kgo.RangeBalancer()))
	pollCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		for pollCtx.Err() == nil {
			member.PollFetches(pollCtx)
		}
	}()
	testkit.Eventually(t, 20*time.Second, func() error {
		if !strings.Contains(mustRun(t, "", append([]string{"groups", "list", "--state"}, conn...)...), "Stable") {
			return fmt.Errorf("golden-live not stable yet")
		}
		return nil
	})
	maskMembers := func(s string) string {
		return memberIDs.ReplaceAllStringFunc(s, func(id string) string { return "golden-member-" + strings.Repeat("x", 36) })
	}
	gsection := func(title, body string) { section(title, maskMembers(body)) }
	gsection("groups list", cmd("groups", "list"))
	gsection("groups list --state", cmd("groups", "list", "--state"))
	gsection("groups list --state stable", cmd("groups", "list", "--state", "stable"))
	gsection("groups list --output table", cmd("groups", "list", "--output", "table"))
	gsection("groups describe --group golden-empty", cmd("groups", "describe", "--group", "golden-empty"))
	gsection("groups describe --group golden-empty --verbose", cmd("groups", "describe", "--group", "golden-empty", "--verbose"))
	gsection("groups describe --group golden-live,golden-empty --members", cmd("groups", "describe", "--group", "golden-live,golden-empty", "--members"))
	gsection("groups describe --group golden-live --members --verbose", cmd("groups", "describe", "--group", "golden-live", "--members", "--verbose"))
	gsection("groups describe --group golden-live --state", cmd("groups", "describe", "--group", "golden-live", "--state"))
	gsection("groups describe --group golden-live --state --verbose", cmd("groups", "describe", "--group", "golden-live", "--state", "--verbose"))
	gsection("groups describe --group golden-empty --output json", cmd("groups", "describe", "--group", "golden-empty", "--output", "json"))
	gsection("groups reset-offsets --group golden-empty --all-topics --to-earliest", cmd("groups", "reset-offsets", "--group", "golden-empty", "--all-topics", "--to-earliest"))
	gsection("groups reset-offsets --group golden-empty --topic golden-orders --shift-by -1 --export", cmd("groups", "reset-offsets", "--group", "golden-empty", "--topic", "golden-orders", "--shift-by", "-1", "--export"))
	gsection("groups reset-offsets --group golden-empty --topic golden-orders:1 --to-offset 0 --output json", cmd("groups", "reset-offsets", "--group", "golden-empty", "--topic", "golden-orders:1", "--to-offset", "0", "--output", "json"))
	goldenFile(t, "groups.golden", out.String())
	out.Reset()

	// produce and profiles (in a profiles file of this test's own)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	section("produce --topic golden-audit --output json (2 lines)", mustRun(t, "x\ny\n", append([]string{"produce", "--topic", "golden-audit", "--output", "json"}, conn...)...))
	mustRun(t, "", "profile", "create", "golden-local", "--bootstrap-server", bs, "--set", "client.id=golden", "--set", "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"p\";")
	mustRun(t, "", "profile", "create", "golden-other", "--bootstrap-server", "kafka.example:9092")
	section("profile list", mustRun(t, "", "profile", "list"))
	section("profile list --output json", mustRun(t, "", "profile", "list", "--output", "json"))
	goldenFile(t, "produce_profile.golden", out.String())
}

func kafkaID(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }
