package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// TestKafkaRefusals checks that the flag combinations Kafka's tools refuse
// (and the ones that make no sense here) are refused with exit 2 and a
// message naming the flag, before any connection is attempted: the
// bootstrap address points nowhere, so reaching the cluster would show as
// exit 1.
func TestKafkaRefusals(t *testing.T) {
	const bs = "127.0.0.1:1"
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	plan3 := file("plan.csv", "t,0,5\n")
	planBad := file("bad.csv", "t,x,5\n")
	cfgFile := file("add.properties", "retention.ms=1000\n")
	consumerCfg := file("consumer.properties", "group.id=from-file\n")

	tests := []struct {
		name string
		args []string
		want string
	}{
		// kafka-topics.sh
		{"topics without action", []string{"topics", "--bootstrap-server", bs, "--topic", "t"}, "Command must include exactly one action: --list, --describe, --create, --alter or --delete"},
		{"topics two actions", []string{"topics", "--bootstrap-server", bs, "--create", "--list"}, "got --create and --list"},
		{"topics list with partitions", []string{"topics", "--bootstrap-server", bs, "--list", "--partitions", "3"}, "--partitions cannot be used with --list"},
		{"topics describe with replication factor", []string{"topics", "--bootstrap-server", bs, "--describe", "--replication-factor", "1"}, "--replication-factor cannot be used with --describe"},
		{"topics alter with replication factor", []string{"topics", "--bootstrap-server", bs, "--alter", "--topic", "t", "--partitions", "2", "--replication-factor", "2"}, "--replication-factor cannot be used with --alter"},
		{"topics alter with config", []string{"topics", "--bootstrap-server", bs, "--alter", "--topic", "t", "--partitions", "2", "--config", "a=b"}, "--config cannot be used with --alter"},
		{"topics create with if-exists", []string{"topics", "--bootstrap-server", bs, "--create", "--topic", "t", "--if-exists"}, "--if-exists cannot be used with --create"},
		{"topics delete with if-not-exists", []string{"topics", "--bootstrap-server", bs, "--delete", "--topic", "t", "--if-not-exists"}, "--if-not-exists cannot be used with --delete"},
		{"topics create with exclude-internal", []string{"topics", "--bootstrap-server", bs, "--create", "--topic", "t", "--exclude-internal"}, "--exclude-internal cannot be used with --create"},
		{"topics list with if-exists", []string{"topics", "--bootstrap-server", bs, "--list", "--if-exists"}, "--if-exists cannot be used with --list"},
		{"topics create without topic", []string{"topics", "--bootstrap-server", bs, "--create"}, "--topic is required"},
		{"topics alter without topic", []string{"topics", "--bootstrap-server", bs, "--alter", "--partitions", "2"}, "--topic is required"},
		{"topics delete without topic", []string{"topics", "--bootstrap-server", bs, "--delete"}, "--topic is required"},
		{"topics alter without partitions", []string{"topics", "--bootstrap-server", bs, "--alter", "--topic", "t"}, "--partitions is required"},
		{"topics create a pattern", []string{"topics", "--bootstrap-server", bs, "--create", "--topic", "a.*"}, `--topic "a.*": a topic to create is a name, not a pattern`},
		{"topics bad regular expression", []string{"topics", "--bootstrap-server", bs, "--describe", "--topic", "a[b"}, `--topic "a[b" is not a valid regular expression`},
		{"topics overrides with a partition filter", []string{"topics", "--bootstrap-server", bs, "--describe", "--topics-with-overrides", "--under-replicated-partitions"}, "--topics-with-overrides cannot be used with --under-replicated-partitions"},
		{"topics empty name in a list", []string{"topics", "--bootstrap-server", bs, "--delete", "--topic", "a,,b"}, `--topic "a,,b": empty name in the list`},
		{"topics partitions twice", []string{"topics", "--bootstrap-server", bs, "--create", "--topic", "t", "--partitions", "1", "--partitions", "2"}, `--partitions takes one value but was given twice ("1", then "2")`},

		// kafka-consumer-groups.sh
		{"groups without action", []string{"groups", "--bootstrap-server", bs, "--group", "g"}, "Command must include exactly one action: --list, --describe, --delete, --reset-offsets or --delete-offsets"},
		{"groups describe without group", []string{"groups", "--bootstrap-server", bs, "--describe"}, "--group is required"},
		{"groups group and all-groups", []string{"groups", "--bootstrap-server", bs, "--describe", "--group", "g", "--all-groups"}, "give either --group or --all-groups, not both"},
		{"groups two describe views", []string{"groups", "--bootstrap-server", bs, "--describe", "--group", "g", "--members", "--state"}, "--describe takes at most one of --members, --offsets, --state, got --members and --state"},
		{"groups describe state with a value", []string{"groups", "--bootstrap-server", bs, "--describe", "--group", "g", "--state", "stable"}, "--describe does not take a value for --state"},
		{"groups delete with topic", []string{"groups", "--bootstrap-server", bs, "--delete", "--group", "g", "--topic", "t"}, "--delete does not take --topic"},
		{"groups list with group", []string{"groups", "--bootstrap-server", bs, "--list", "--group", "g"}, "--group cannot be used with --list"},
		{"groups list with members", []string{"groups", "--bootstrap-server", bs, "--list", "--members"}, "--members cannot be used with --list"},
		{"groups list bad state", []string{"groups", "--bootstrap-server", bs, "--list", "--state", "sleeping"}, `invalid --state list "sleeping": valid states are PreparingRebalance, CompletingRebalance, Stable, Dead, Empty, Assigning, Reconciling`},
		{"groups list bad type", []string{"groups", "--bootstrap-server", bs, "--list", "--type", "simple"}, `invalid --type list "simple"`},
		{"groups reset without scenario", []string{"groups", "--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--topic", "t"}, "give exactly one of --to-earliest"},
		{"groups reset two scenarios", []string{"groups", "--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--topic", "t", "--to-earliest", "--to-latest"}, "got --to-earliest and --to-latest"},
		{"groups reset without scope", []string{"groups", "--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--to-earliest"}, "one of the reset scopes should be defined: --topic"},
		{"groups reset topic and all-topics", []string{"groups", "--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--topic", "t", "--all-topics", "--to-earliest"}, "give either --topic or --all-topics, not both"},
		{"groups reset dry-run and execute", []string{"groups", "--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--topic", "t", "--to-earliest", "--dry-run", "--execute"}, "give either --dry-run or --execute, not both"},
		{"groups reset without group", []string{"groups", "--bootstrap-server", bs, "--reset-offsets", "--topic", "t", "--to-earliest"}, "--group is required"},
		{"groups reset bad partition", []string{"groups", "--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--topic", "t:0,x", "--to-earliest"}, `partitions must be comma-separated non-negative integers, got "x"`},
		{"groups reset bad datetime", []string{"groups", "--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--topic", "t", "--to-datetime", "yesterday"}, "--to-datetime must look like"},
		{"groups reset bad duration", []string{"groups", "--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--topic", "t", "--by-duration", "1h"}, "--by-duration must be an ISO-8601 duration"},
		{"groups reset from a missing file", []string{"groups", "--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--from-file", filepath.Join(dir, "none.csv")}, "--from-file: open"},
		{"groups reset from a bad file", []string{"groups", "--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--from-file", planBad}, "bad.csv:1: want a topic, a partition number and an offset"},
		{"groups reset 3-column file for two groups", []string{"groups", "--bootstrap-server", bs, "--reset-offsets", "--group", "g1,g2", "--from-file", plan3}, "a topic,partition,offset line needs exactly one --group"},
		{"groups delete-offsets without topic", []string{"groups", "--bootstrap-server", bs, "--delete-offsets", "--group", "g"}, "--delete-offsets takes the following options: --group G and --topic T"},
		{"groups describe with a reset scenario", []string{"groups", "--bootstrap-server", bs, "--describe", "--group", "g", "--to-earliest"}, "--to-earliest cannot be used with --describe; it goes with --reset-offsets"},

		// kafka-configs.sh
		{"configs without action", []string{"configs", "--bootstrap-server", bs, "--entity-type", "topics", "--entity-name", "t"}, "Command must include exactly one action: --describe or --alter"},
		{"configs two actions", []string{"configs", "--bootstrap-server", bs, "--describe", "--alter", "--topic", "t"}, "got --describe and --alter"},
		{"configs describe with add-config", []string{"configs", "--bootstrap-server", bs, "--describe", "--topic", "t", "--add-config", "a=1"}, "--add-config cannot be used with --describe; it goes with --alter"},
		{"configs alter without name", []string{"configs", "--bootstrap-server", bs, "--alter", "--entity-type", "topics", "--add-config", "a=1"}, "--entity-name is required"},
		{"configs alter broker without name", []string{"configs", "--bootstrap-server", bs, "--alter", "--entity-type", "brokers", "--add-config", "a=1"}, "--entity-name or --entity-default is required with --alter of brokers"},
		{"configs shorthand with entity flags", []string{"configs", "--bootstrap-server", bs, "--alter", "--topic", "t", "--entity-type", "topics", "--add-config", "a=1"}, "--entity-type, --entity-name and --entity-default cannot be used with --topic"},
		{"configs two shorthands", []string{"configs", "--bootstrap-server", bs, "--alter", "--topic", "t", "--broker", "0", "--add-config", "a=1"}, "give one of --topic, --broker or --broker-defaults, got --topic and --broker"},
		{"configs topics default", []string{"configs", "--bootstrap-server", bs, "--alter", "--entity-type", "topics", "--entity-default", "--add-config", "a=1"}, "--entity-default applies only to --entity-type brokers"},
		{"configs add-config and file", []string{"configs", "--bootstrap-server", bs, "--alter", "--topic", "t", "--add-config", "a=1", "--add-config-file", cfgFile}, "give either --add-config or --add-config-file, not both"},
		{"configs nothing to alter", []string{"configs", "--bootstrap-server", bs, "--alter", "--topic", "t"}, "nothing to alter"},
		{"configs unknown entity type", []string{"configs", "--bootstrap-server", bs, "--describe", "--entity-type", "broker-loggers"}, `unknown --entity-type "broker-loggers": accepted topics, brokers, users, clients`},
		{"configs broker name not an id", []string{"configs", "--bootstrap-server", bs, "--describe", "--broker", "b1"}, "must be a broker id"},
		{"configs entity name twice", []string{"configs", "--bootstrap-server", bs, "--describe", "--entity-type", "topics", "--entity-name", "a", "--entity-name", "b"}, "--entity-name takes one value but was given twice"},

		// kafka-console-consumer.sh
		{"consume without topic", []string{"consume", "--bootstrap-server", bs}, "--topic is required"},
		{"consume topic and include", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--include", "t.*"}, "exactly one of --topic or --include is required, not both"},
		{"consume partition with include", []string{"consume", "--bootstrap-server", bs, "--include", "t.*", "--partition", "0"}, "--partition needs --topic"},
		{"consume Kafka offset without partition", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--offset", "5"}, "--offset needs --partition"},
		{"consume offset and from-beginning", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--offset", "-5", "--from-beginning"}, "give either --from-beginning or --offset, not both"},
		{"consume group and partition", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--group", "g", "--partition", "0"}, "--group and --partition cannot be used together"},
		{"consume group and offset", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--group", "g", "--offset", "-5"}, "--group and --offset cannot be used together"},
		{"consume format and json", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--format", "%v", "--output", "json"}, "give either --format or --output json, not both"},
		{"consume format and property", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--format", "%v", "--property", "print.key=true"}, "--property cannot be used with it"},
		{"consume property and formatter-property", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--property", "print.key=true", "--formatter-property", "print.offset=true"}, "--property and --formatter-property cannot be used together"},
		{"consume max-messages and num", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--max-messages", "1", "--num", "2"}, "give either --max-messages or --num, not both"},
		{"consume follow with a bounded range", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--offset", "1:5", "--follow"}, "--follow cannot be used with an --offset range that ends"},
		{"consume no-follow with group", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--group", "g", "--follow=false"}, "--follow=false cannot be used with --group"},
		{"consume consumer.config and command-config", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--consumer.config", consumerCfg, "--command-config", consumerCfg}, "--consumer.config and --command-config cannot be used together"},
		{"consume group ids differ", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--group", "g", "--consumer.config", consumerCfg}, `the group ids given in different places do not match: --group "g", group.id="from-file"`},
		{"consume group id and partition", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--partition", "0", "--consumer-property", "group.id=x"}, "group.id (--consumer-property) and --partition cannot be used together"},
		{"consume from-beginning and auto.offset.reset", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--from-beginning", "--consumer-property", "auto.offset.reset=latest"}, "can't simultaneously specify --from-beginning and auto.offset.reset=latest"},
		{"consume bad isolation level", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--isolation-level", "read_all"}, `unknown --isolation-level "read_all": accepted read_uncommitted, read_committed`},
		{"consume bad isolation property", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--consumer-property", "isolation.level=read_all"}, `isolation.level must be read_committed or read_uncommitted, got "read_all"`},
		{"consume unknown consumer property", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--consumer-property", "fetch.max.byte=5"}, `unsupported client property "fetch.max.byte"`},
		{"consume consumer property not key=value", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--consumer-property", "group.id"}, `--consumer-property must be key=value, got "group.id"`},
		{"consume bad format", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--format", "%q"}, "--format: %q at position 1: unknown verb"},
		{"consume bad include", []string{"consume", "--bootstrap-server", bs, "--include", "a["}, `--include "a[" is not a valid regular expression`},
		{"consume bad range", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--offset", "9:3"}, "the end 3 must be after the start 9"},

		// kafka-console-producer.sh
		{"produce acks twice over", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--acks", "1", "--request-required-acks", "all"}, "give either --acks or --request-required-acks, not both"},
		{"produce bad acks", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--request-required-acks", "2"}, `unknown --request-required-acks "2": accepted all, -1, 1, 0`},
		{"produce other line reader", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--line-reader", "com.example.CsvReader"}, `--line-reader "com.example.CsvReader" is not available`},
		{"produce null marker equal to separator", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--property", "null.marker=:", "--property", "key.separator=:"}, "--property null.marker and key.separator may not be equal"},
		{"produce equal header separators", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--property", "parse.headers=true", "--property", "headers.delimiter=,"}, "--property headers.delimiter and headers.separator may not be equal"},
		{"produce idempotence without acks all", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--producer-property", "enable.idempotence=true", "--request-required-acks", "1"}, "enable.idempotence=true (--producer-property) needs acks=all, got acks=1"},
		{"produce bad producer property", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--producer-property", "linger.ms=soon"}, `linger.ms must be a non-negative number of milliseconds, got "soon"`},
		{"produce unknown producer property", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--producer-property", "transactional.id=x"}, `unsupported client property "transactional.id"`},
		{"produce bootstrap and broker-list", []string{"produce", "--bootstrap-server", bs, "--broker-list", bs, "--topic", "t"}, "give either --bootstrap-server or --broker-list, not both"},
		{"produce topic twice", []string{"produce", "--bootstrap-server", bs, "--topic", "a", "--topic", "b"}, "--topic takes one value but was given twice"},

		// profiles
		{"profile create without name", []string{"profile", "create"}, "give the profile's name"},
		{"profile bad name", []string{"profile", "create", "-x", "--bootstrap-server", bs}, "unknown shorthand flag"},
		{"profile bad name characters", []string{"profile", "create", "a/b", "--bootstrap-server", bs}, `profile name "a/b"`},
		{"profile without properties", []string{"profile", "create", "p"}, "a profile needs at least --bootstrap-server"},
		{"profile unknown property", []string{"profile", "create", "p", "--set", "bootstrap.server=x:1"}, `unsupported client property "bootstrap.server"`},
		{"profile bad bootstrap", []string{"profile", "create", "p", "--bootstrap-server", "nohost"}, `bootstrap.servers must be host:port[,host:port...], got "nohost"`},
		{"profile use missing", []string{"profile", "use", "nosuch"}, `profile "nosuch" does not exist`},
		{"command names a missing profile", []string{"topics", "list", "--profile", "nosuch"}, `--profile names profile "nosuch", which does not exist`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, "", tc.args...)
			if r.code != exitUsage {
				t.Fatalf("tributary %s: exit %d, want %d\nstderr:\n%s", strings.Join(tc.args, " "), r.code, exitUsage, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("tributary %s: stderr lacks %q:\n%s", strings.Join(tc.args, " "), tc.want, r.stderr)
			}
			if r.stdout != "" {
				t.Fatalf("a refused command printed to stdout: %q", r.stdout)
			}
		})
	}
}

// TestRuntimeFailuresExitOne: a command that ran and failed exits 1 (the
// cluster said no, or is not there).
func TestRuntimeFailuresExitOne(t *testing.T) {
	bs := testkit.Bootstrap(t)
	conn := []string{"--bootstrap-server", bs}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"topics", "describe", "--topic", uniqueName("none")}, "does not exist"},
		{[]string{"topics", "alter", "--topic", uniqueName("none"), "--partitions", "3"}, "does not exist"},
		{[]string{"topics", "delete", "--topic", uniqueName("none")}, "the topic does not exist (UNKNOWN_TOPIC_OR_PARTITION)"},
		{[]string{"groups", "describe", "--group", uniqueName("none")}, "does not exist"},
		{[]string{"groups", "delete", "--group", uniqueName("none")}, "could not be deleted due to: it does not exist (GROUP_ID_NOT_FOUND)"},
		{[]string{"configs", "describe", "--topic", uniqueName("none")}, "does not exist (UNKNOWN_TOPIC_OR_PARTITION)"},
		{[]string{"configs", "alter", "--broker", "0", "--add-config", "num.partitions=3"}, "cannot be changed at runtime"},
		{[]string{"consume", "--topic", uniqueName("none"), "--timeout-ms", "100"}, "does not exist"},
		{[]string{"consume", "--include", uniqueName("none") + ".*", "--offset", "start", "--follow=false"}, "no topic matches --include"},
	} {
		r := run(t, "", append(tc.args, conn...)...)
		if r.code != exitError || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("tributary %s: exit %d, want 1 with %q\n%s", strings.Join(tc.args, " "), r.code, tc.want, r.stderr)
		}
	}
	topic := uniqueName("cfgdel")
	createTopic(t, bs, topic, 1)
	mustFail(t, exitError, "Invalid config(s): retention.ms", "", append([]string{"configs", "alter", "--topic", topic, "--delete-config", "retention.ms"}, conn...)...)
}
