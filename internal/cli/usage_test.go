package cli_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tributary-streams/tributary/internal/cli"
)

// TestUsageErrors checks that every kind of bad invocation exits 2 with a
// message naming what was wrong and what is accepted, before any connection
// is attempted (the bootstrap address points nowhere).
func TestUsageErrors(t *testing.T) {
	const bs = "127.0.0.1:1"
	unsupported := filepath.Join(t.TempDir(), "client.properties")
	if err := os.WriteFile(unsupported, []byte("# comment\nclient.id=x\nsasl.mechanisms=PLAIN\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	secured := filepath.Join(t.TempDir(), "ssl.properties")
	if err := os.WriteFile(secured, []byte("security.protocol=SSL\nssl.truststore.location=/etc/ts.jks\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badTimeout := filepath.Join(t.TempDir(), "timeout.properties")
	if err := os.WriteFile(badTimeout, []byte("request.timeout.ms=soon\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"topcs"}, `unknown command "topcs" for "tributary"`},
		{"unknown subcommand with suggestion", []string{"topics", "lst"}, `did you mean "list"?`},
		{"positional argument", []string{"topics", "list", "--bootstrap-server", bs, "extra"}, `unexpected argument "extra"`},
		{"unknown flag", []string{"topics", "list", "--bootstrap-servers", bs}, `unknown flag: --bootstrap-servers`},
		{"missing bootstrap", []string{"topics", "list"}, `--bootstrap-server is required`},
		{"bootstrap without port", []string{"topics", "list", "--bootstrap-server", "localhost"}, `--bootstrap-server entry "localhost" must be host:port`},
		{"bootstrap bad port", []string{"topics", "list", "--bootstrap-server", "localhost:99999"}, `invalid port`},
		{"timeout not a duration", []string{"topics", "list", "--bootstrap-server", bs, "--timeout", "5"}, `--timeout must be a positive duration such as 30s or 2m, got "5"`},
		{"unsupported command-config key", []string{"topics", "list", "--bootstrap-server", bs, "--command-config", unsupported}, `client.properties:3: unsupported client property "sasl.mechanisms"; supported: acks, auto.commit.interval.ms,`},
		{"security files checked before connecting", []string{"topics", "list", "--bootstrap-server", bs, "--command-config", secured}, `security.protocol=SSL (--command-config ` + secured + `:1): ssl.truststore.location: open /etc/ts.jks: no such file`},
		{"bad command-config value", []string{"topics", "list", "--bootstrap-server", bs, "--command-config", badTimeout}, `request.timeout.ms must be a positive number of milliseconds, got "soon"`},
		{"missing command-config file", []string{"topics", "list", "--bootstrap-server", bs, "--command-config", "/nonexistent/x.properties"}, `--command-config: open /nonexistent/x.properties`},
		{"output format", []string{"topics", "list", "--bootstrap-server", bs, "--output", "yaml"}, `unknown --output "yaml": accepted text, table, json`},

		{"create without topic", []string{"topics", "create", "--bootstrap-server", bs}, `--topic is required`},
		{"partitions not a number", []string{"topics", "create", "--bootstrap-server", bs, "--topic", "t", "--partitions", "x"}, `--partitions must be a positive integer, got "x"`},
		{"partitions zero", []string{"topics", "create", "--bootstrap-server", bs, "--topic", "t", "--partitions", "0"}, `--partitions must be a positive integer, got "0"`},
		{"replication factor too big", []string{"topics", "create", "--bootstrap-server", bs, "--topic", "t", "--replication-factor", "40000"}, `--replication-factor must be a positive integer, got "40000"`},
		{"config without value", []string{"topics", "create", "--bootstrap-server", bs, "--topic", "t", "--config", "retention.ms"}, `--config must be key=value, got "retention.ms"`},
		{"config twice", []string{"topics", "create", "--bootstrap-server", bs, "--topic", "t", "--config", "a=1", "--config", "a=2"}, `--config sets "a" more than once`},
		{"alter without partitions", []string{"topics", "alter", "--bootstrap-server", bs, "--topic", "t"}, `--partitions is required`},
		{"delete without topic", []string{"topics", "delete", "--bootstrap-server", bs}, `--topic is required`},

		{"configs without entity type", []string{"configs", "describe", "--bootstrap-server", bs}, `--entity-type is required: accepted topics, brokers`},
		{"configs bad entity type", []string{"configs", "describe", "--bootstrap-server", bs, "--entity-type", "broker-loggers"}, `unknown --entity-type "broker-loggers": accepted topics, brokers, users, clients`},
		{"configs broker name not an id", []string{"configs", "describe", "--bootstrap-server", bs, "--entity-type", "brokers", "--entity-name", "b1"}, `--entity-name for brokers must be a broker id (a non-negative integer), got "b1"`},
		{"configs default for topics", []string{"configs", "describe", "--bootstrap-server", bs, "--entity-type", "topics", "--entity-default"}, `--entity-default applies only to --entity-type brokers`},
		{"alter without entity name", []string{"configs", "alter", "--bootstrap-server", bs, "--entity-type", "topics", "--add-config", "a=1"}, `--entity-name is required: name the topic`},
		{"alter nothing", []string{"configs", "alter", "--bootstrap-server", bs, "--entity-type", "topics", "--entity-name", "t"}, `nothing to alter`},
		{"add-config without value", []string{"configs", "alter", "--bootstrap-server", bs, "--entity-type", "topics", "--entity-name", "t", "--add-config", "a=1,b"}, `--add-config must be key=value, got "b"`},
		{"add-config unbalanced bracket", []string{"configs", "alter", "--bootstrap-server", bs, "--entity-type", "topics", "--entity-name", "t", "--add-config", "a=[1,2"}, `unclosed '['`},
		{"add and delete same key", []string{"configs", "alter", "--bootstrap-server", bs, "--entity-type", "topics", "--entity-name", "t", "--add-config", "a=1", "--delete-config", "a"}, `config "a" is in both --add-config and --delete-config`},
		{"delete-config with value", []string{"configs", "alter", "--bootstrap-server", bs, "--entity-type", "topics", "--entity-name", "t", "--delete-config", "a=1"}, `--delete-config takes config names only`},

		{"produce without topic", []string{"produce", "--bootstrap-server", bs}, `--topic is required`},
		{"produce bad codec", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--compression-codec", "foo"}, `unknown --compression-codec "foo": accepted none, gzip, snappy, lz4, zstd`},
		{"produce bad acks", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--acks", "2"}, `unknown --acks "2": accepted all, -1, 1, 0`},
		{"produce negative partition", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--partition", "-2"}, `--partition must be a non-negative integer, got "-2"`},
		{"produce unknown property", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--property", "print.key=true"}, `unknown --property "print.key": accepted headers.delimiter, headers.key.separator, headers.separator, ignore.error, key.separator, null.marker, parse.headers, parse.key`},
		{"produce property not key=value", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--property", "parse.key"}, `--property must be key=value, got "parse.key"`},
		{"produce property not bool", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--property", "parse.key=yes"}, `--property parse.key must be true or false, got "yes"`},
		{"produce empty separator", []string{"produce", "--bootstrap-server", bs, "--topic", "t", "--property", "key.separator="}, `--property key.separator must not be empty`},

		{"consume without topic", []string{"consume", "--bootstrap-server", bs}, `--topic is required`},
		{"consume offset without partition", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--offset", "3"}, `--offset needs --partition`},
		{"consume bad offset", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--partition", "0", "--offset", "first"}, `--offset "first": not an offset; accepted earliest, latest, N, start, end, +N, -N, N:M`},
		{"consume offset and from-beginning", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--partition", "0", "--offset", "3", "--from-beginning"}, `give either --from-beginning or --offset, not both`},
		{"consume group and partition", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--partition", "0", "--group", "g"}, `--group and --partition cannot be used together`},
		{"consume max-messages zero", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--max-messages", "0"}, `--max-messages must be a positive integer, got "0"`},
		{"consume timeout-ms text", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--timeout-ms", "1s"}, `--timeout-ms must be a positive integer, got "1s"`},
		{"consume unknown property", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--property", "parse.key=true"}, `unknown --property "parse.key"`},
		{"consume output", []string{"consume", "--bootstrap-server", bs, "--topic", "t", "--output", "avro"}, `unknown --output "avro": accepted text, json`},

		{"groups describe without group", []string{"groups", "describe", "--bootstrap-server", bs}, `--group is required`},
		{"groups delete without group", []string{"groups", "delete", "--bootstrap-server", bs}, `--group is required`},
		{"reset without scenario", []string{"groups", "reset-offsets", "--bootstrap-server", bs, "--group", "g", "--topic", "t"}, `give exactly one of --to-earliest, --to-latest, --to-current, --to-offset, --to-datetime, --shift-by, --by-duration, --from-file`},
		{"reset two scenarios", []string{"groups", "reset-offsets", "--bootstrap-server", bs, "--group", "g", "--topic", "t", "--to-earliest", "--to-latest"}, `got --to-earliest and --to-latest`},
		{"reset without topics", []string{"groups", "reset-offsets", "--bootstrap-server", bs, "--group", "g", "--to-earliest"}, `--topic T[:P,...] (may be repeated) or --all-topics`},
		{"reset topics and all-topics", []string{"groups", "reset-offsets", "--bootstrap-server", bs, "--group", "g", "--topic", "t", "--all-topics", "--to-earliest"}, `give either --topic or --all-topics, not both`},
		{"reset dry-run and execute", []string{"groups", "reset-offsets", "--bootstrap-server", bs, "--group", "g", "--topic", "t", "--to-earliest", "--dry-run", "--execute"}, `give either --dry-run or --execute, not both`},
		{"reset bad partition list", []string{"groups", "reset-offsets", "--bootstrap-server", bs, "--group", "g", "--topic", "t:0,x", "--to-earliest"}, `partitions must be comma-separated non-negative integers, got "x"`},
		{"reset negative to-offset", []string{"groups", "reset-offsets", "--bootstrap-server", bs, "--group", "g", "--topic", "t", "--to-offset", "-1"}, `--to-offset must be a non-negative integer, got "-1"`},
		{"reset shift-by text", []string{"groups", "reset-offsets", "--bootstrap-server", bs, "--group", "g", "--topic", "t", "--shift-by", "back"}, `--shift-by must be an integer, got "back"`},
		{"reset bad datetime", []string{"groups", "reset-offsets", "--bootstrap-server", bs, "--group", "g", "--topic", "t", "--to-datetime", "yesterday"}, `--to-datetime must look like 2024-01-01T00:00:00.000`},
		{"reset bad duration", []string{"groups", "reset-offsets", "--bootstrap-server", bs, "--group", "g", "--topic", "t", "--by-duration", "1h"}, `--by-duration must be an ISO-8601 duration PnDTnHnMnS`},
		{"reset to-earliest=false", []string{"groups", "reset-offsets", "--bootstrap-server", bs, "--group", "g", "--topic", "t", "--to-earliest=false"}, `--to-earliest=false chooses no scenario`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustFail(t, exitUsage, tc.want, "", tc.args...)
			if !strings.HasPrefix(r.stderr, "error: ") {
				t.Errorf("stderr should start with %q, got %q", "error: ", r.stderr)
			}
			if !strings.Contains(r.stderr, "--help' for usage.") {
				t.Errorf("stderr should point at --help, got %q", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout should be empty on a usage error, got %q", r.stdout)
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{}, {"topics"}, {"groups", "--help"}, {"consume", "--help"}} {
		r := run(t, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("tributary %v: want exit 0 with usage on stdout, got exit %d stdout %q stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

// TestHelpHasExamples: every command of the Kafka-style tools, the broker
// and profiles shows examples in --help.
func TestHelpHasExamples(t *testing.T) {
	root := cli.NewRootCommand(strings.NewReader(""), io.Discard, io.Discard)
	var walk func(c *cobra.Command)
	checked := 0
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			switch sub.Name() {
			case "help", "completion", "server", "connect", "mirror": // cobra's own, and other parts' commands
				continue
			}
			if sub.Example == "" {
				t.Errorf("tributary %s has no examples in --help", strings.TrimPrefix(sub.CommandPath(), "tributary "))
			}
			checked++
			walk(sub)
		}
	}
	walk(root)
	if checked < 20 {
		t.Fatalf("checked only %d commands", checked)
	}
	r := run(t, "", "topics", "create", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "Examples:\n  tributary topics create --bootstrap-server") {
		t.Errorf("topics create --help:\n%s", r.stdout)
	}
}

// TestShellCompletion: `tributary completion bash|zsh|fish` prints a
// script, and enum flags complete to their accepted words.
func TestShellCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "bash completion", "zsh": "#compdef tributary", "fish": "fish completion for tributary"} {
		r := run(t, "", "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("completion %s: exit %d, output starts %.80q", shell, r.code, r.stdout)
		}
	}
	r := run(t, "", "__complete", "configs", "describe", "--entity-type", "")
	if r.code != 0 || !strings.Contains(r.stdout, "topics\nbrokers\n") {
		t.Errorf("completing --entity-type: exit %d\n%s", r.code, r.stdout)
	}
	r = run(t, "", "__complete", "consume", "--isolation-level", "read_")
	if r.code != 0 || !strings.Contains(r.stdout, "read_committed") {
		t.Errorf("completing --isolation-level: exit %d\n%s", r.code, r.stdout)
	}
}
