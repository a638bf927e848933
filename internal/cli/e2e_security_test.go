package cli_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/kafkaclient"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// secureCluster is a broker with a SASL_SSL listener, StandardAuthorizer
// and User:admin as super user, and the client properties files for it.
type secureCluster struct {
	*testkit.Broker
	certs *testkit.Certs
	addr  string // the SASL_SSL listener
}

func startSecureCluster(t *testing.T) *secureCluster {
	t.Helper()
	certs := testkit.NewCerts(t)
	b := testkit.StartBroker(t,
		testkit.WithConfig("listeners", "SASL_SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0"),
		testkit.WithConfig("sasl.enabled.mechanisms", "SCRAM-SHA-256,SCRAM-SHA-512,PLAIN"),
		testkit.WithConfig("ssl.keystore.location", certs.ServerKeystore),
		testkit.WithConfig("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer"),
		testkit.WithConfig("super.users", "User:admin"),
		testkit.WithSCRAM("SCRAM-SHA-512=[name=admin,password=admin-secret]"))
	return &secureCluster{Broker: b, certs: certs, addr: b.ListenerAddr("SASL_SSL")}
}

// props writes a client properties file for user over SASL_SSL.
func (c *secureCluster) props(t *testing.T, user, password, mechanism string) string {
	t.Helper()
	module := "org.apache.kafka.common.security.scram.ScramLoginModule"
	if mechanism == "PLAIN" {
		module = "org.apache.kafka.common.security.plain.PlainLoginModule"
	}
	return writeProps(t, user+".properties", fmt.Sprintf(`security.protocol=SASL_SSL
sasl.mechanism=%s
sasl.jaas.config=%s required username="%s" password="%s";
ssl.truststore.location=%s
`, mechanism, module, user, password, c.certs.CAFile))
}

// canAuthenticate reports whether user's password works with mechanism.
func (c *secureCluster) canAuthenticate(t *testing.T, user, password, mechanism string) error {
	t.Helper()
	opts, err := kafkaclient.Opts(map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": mechanism,
		"sasl.username": user, "sasl.password": password, "ssl.truststore.location": c.certs.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	cl := testkit.Client(t, c.addr, append(opts, kgo.RequestRetries(0))...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

// TestSecurityCommands: users, SCRAM through configs, ACLs and quotas
// managed with the CLI over SASL_SSL, with --command-config and a profile.
func TestSecurityCommands(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	c := startSecureCluster(t)
	admin := c.props(t, "admin", "admin-secret", "SCRAM-SHA-512")
	as := func(props string, args ...string) []string {
		return append(args, "--bootstrap-server", c.addr, "--command-config", props)
	}

	// users create|list|delete; the password comes on standard input.
	out := mustRun(t, "alice-secret\n", as(admin, "users", "create", "--user", "alice")...)
	if !strings.Contains(out, "Created or updated user alice (SCRAM-SHA-256, SCRAM-SHA-512)") {
		t.Errorf("users create: %q", out)
	}
	for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"} {
		if err := c.canAuthenticate(t, "alice", "alice-secret", mech); err != nil {
			t.Errorf("alice with %s after users create: %v", mech, err)
		}
	}
	pw := filepath.Join(t.TempDir(), "bob.pw")
	os.WriteFile(pw, []byte("bob-secret\n"), 0o600)
	mustRun(t, "", as(admin, "users", "create", "--user", "bob", "--mechanism", "SCRAM-SHA-256", "--iterations", "8192", "--password-file", pw)...)
	out = mustRun(t, "", as(admin, "users", "list")...)
	for _, line := range []string{"admin: SCRAM-SHA-512 (iterations=4096)", "alice: SCRAM-SHA-256 (iterations=4096), SCRAM-SHA-512 (iterations=4096)", "bob: SCRAM-SHA-256 (iterations=8192)"} {
		if !containsLine(out, line) {
			t.Errorf("users list lacks %q:\n%s", line, out)
		}
	}
	if strings.Contains(out, "secret") {
		t.Errorf("users list shows a password:\n%s", out)
	}
	mustRun(t, "", as(admin, "users", "delete", "--user", "bob")...)
	if err := c.canAuthenticate(t, "bob", "bob-secret", "SCRAM-SHA-256"); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("bob after users delete: %v", err)
	}
	mustFail(t, exitError, "the user has no SCRAM credentials", "", as(admin, "users", "delete", "--user", "bob")...)
	mustFail(t, exitUsage, "no password on standard input", "", as(admin, "users", "create", "--user", "x")...)

	// SCRAM through kafka-configs.sh's form.
	mustRun(t, "", as(admin, "configs", "alter", "--entity-type", "users", "--entity-name", "carol", "--add-config", "SCRAM-SHA-256=[iterations=8192,password=carol-secret]")...)
	if err := c.canAuthenticate(t, "carol", "carol-secret", "SCRAM-SHA-256"); err != nil {
		t.Errorf("carol after configs alter: %v", err)
	}
	mustFail(t, exitUsage, "needs password=SECRET", "", as(admin, "configs", "alter", "--entity-type", "users", "--entity-name", "carol", "--add-config", "SCRAM-SHA-256=[iterations=8192]")...)

	// Quotas for users and clients.
	mustRun(t, "", as(admin, "configs", "alter", "--entity-type", "users", "--entity-name", "alice", "--add-config", "producer_byte_rate=1048576,consumer_byte_rate=2097152")...)
	mustRun(t, "", as(admin, "configs", "--alter", "--entity-type", "clients", "--entity-default", "--add-config", "request_percentage=200")...)
	mustRun(t, "", as(admin, "configs", "alter", "--user", "alice", "--client", "app", "--add-config", "controller_mutation_rate=10")...)
	out = mustRun(t, "", as(admin, "configs", "describe", "--entity-type", "users", "--entity-name", "alice")...)
	for _, line := range []string{
		"Quota configs for user-principal 'alice' are consumer_byte_rate=2097152.0, producer_byte_rate=1048576.0",
		"SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=4096, SCRAM-SHA-512=iterations=4096",
	} {
		if !containsLine(out, line) {
			t.Errorf("configs describe users alice lacks %q:\n%s", line, out)
		}
	}
	out = mustRun(t, "", as(admin, "configs", "describe", "--entity-type", "clients")...)
	if !containsLine(out, "Quota configs for client-id '<default>' are request_percentage=200.0") {
		t.Errorf("configs describe clients:\n%s", out)
	}
	out = mustRun(t, "", as(admin, "configs", "describe", "--user", "alice", "--client", "app")...)
	if !containsLine(out, "Quota configs for user-principal 'alice', client-id 'app' are controller_mutation_rate=10.0") {
		t.Errorf("configs describe user+client:\n%s", out)
	}
	mustRun(t, "", as(admin, "configs", "alter", "--entity-type", "users", "--entity-name", "alice", "--delete-config", "consumer_byte_rate")...)
	out = mustRun(t, "", as(admin, "configs", "describe", "--entity-type", "users", "--entity-name", "alice")...)
	if strings.Contains(out, "consumer_byte_rate") {
		t.Errorf("consumer_byte_rate still set after --delete-config:\n%s", out)
	}
	mustFail(t, exitUsage, `--add-config "retention.ms": not a config of users`, "", as(admin, "configs", "alter", "--entity-type", "users", "--entity-name", "alice", "--add-config", "retention.ms=1")...)

	// ACLs, kafka-acls.sh's way; alice produces with her own properties.
	alice := c.props(t, "alice", "alice-secret", "SCRAM-SHA-256")
	mustRun(t, "", as(admin, "topics", "create", "--topic", "orders", "--partitions", "1")...)
	r := run(t, "o1\n", as(alice, "produce", "--topic", "orders")...)
	if r.code == 0 || !strings.Contains(r.stderr, "TOPIC_AUTHORIZATION_FAILED") {
		t.Errorf("alice produces without an ACL: exit %d %s", r.code, r.stderr)
	}
	out = mustRun(t, "", as(admin, "acls", "--add", "--allow-principal", "User:alice", "--operation", "Write", "--operation", "Describe", "--topic", "orders")...)
	if !strings.Contains(out, "Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`:") {
		t.Errorf("acls add output:\n%s", out)
	}
	mustRun(t, "o2\n", as(alice, "produce", "--topic", "orders")...)
	mustRun(t, "", as(admin, "acls", "add", "--allow-principal", "User:alice", "--consumer", "--topic", "orders", "--group", "billing")...)
	mustRun(t, "", as(admin, "acls", "add", "--deny-principal", "User:alice", "--operation", "Read", "--topic", "secret-", "--resource-pattern-type", "prefixed")...)
	out = mustRun(t, "", as(admin, "acls", "list", "--topic", "orders")...)
	for _, line := range []string{
		"Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`:",
		" \t(principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW)",
		" \t(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)",
	} {
		if !containsLine(out, line) {
			t.Errorf("acls list --topic orders lacks %q:\n%s", line, out)
		}
	}
	out = mustRun(t, "", as(admin, "acls", "list", "--principal", "User:alice", "--output", "json")...)
	var listed []map[string]string
	decodeJSON(t, out, &listed)
	// orders: Write, Describe, Read (--consumer's Describe is the same
	// binding); group billing: Read; secret-*: the Read deny.
	if len(listed) != 5 {
		t.Errorf("acls list --principal User:alice: %d ACLs, want 5:\n%s", len(listed), out)
	}
	out = mustRun(t, "", as(alice, "consume", "--topic", "orders", "--group", "billing", "--from-beginning", "--max-messages", "1")...)
	if !strings.Contains(out, "o2") {
		t.Errorf("alice consumes in group billing: %q", out)
	}
	mustRun(t, "", as(admin, "acls", "remove", "--allow-principal", "User:alice", "--operation", "Write", "--topic", "orders", "--force")...)
	// Without Write on any topic, alice's idempotent producer is refused
	// its producer id (CLUSTER_AUTHORIZATION_FAILED), as by Kafka.
	r = run(t, "o3\n", as(alice, "produce", "--topic", "orders")...)
	if r.code == 0 || !strings.Contains(r.stderr, "AUTHORIZATION_FAILED") {
		t.Errorf("alice produces after acls remove: exit %d %s", r.code, r.stderr)
	}
	mustFail(t, exitUsage, "--add needs --allow-principal or --deny-principal", "", as(admin, "acls", "add", "--topic", "orders")...)
	mustFail(t, exitUsage, `--operation "Fly"`, "", as(admin, "acls", "add", "--allow-principal", "User:x", "--operation", "Fly", "--topic", "orders")...)

	// Wrong credentials and wrong trust are runtime failures that say so.
	bad := c.props(t, "admin", "not-the-password", "SCRAM-SHA-512")
	mustFail(t, exitError, "SASL_AUTHENTICATION_FAILED", "", as(bad, "topics", "list")...)
	r = run(t, "", "topics", "list", "--bootstrap-server", c.addr, "--command-config", writeProps(t, "untrusted.properties",
		"security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.username=admin\nsasl.password=x\n"), "--timeout", "5s")
	if r.code != exitError || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("a CA the client does not trust: exit %d %s", r.code, r.stderr)
	}

	// A profile carries the same properties.
	mustRun(t, "", "profile", "create", "secure", "--bootstrap-server", c.addr, "--set", "security.protocol=SASL_SSL",
		"--set", "sasl.mechanism=SCRAM-SHA-512", "--set", "sasl.username=admin", "--set", "sasl.password=admin-secret",
		"--set", "ssl.truststore.location="+c.certs.CAFile)
	out = mustRun(t, "", "topics", "list", "--profile", "secure")
	if !containsLine(out, "orders") {
		t.Errorf("topics list with the secure profile:\n%s", out)
	}
}
