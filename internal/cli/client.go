package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/kafkaclient"
	"github.com/tributary-streams/tributary/internal/properties"
)

// The connection flags every command that talks to a cluster takes, and
// how they resolve to a client. Commands added by other parts of the CLI
// (connect, mirror, ...) use the same pieces:
//
//	conn := addConnFlags(cmd)                  // --bootstrap-server, --command-config, --profile, --timeout
//	conn.addPropertyFile(cmd, "producer.config", "...")   // optional, more property sources
//	conn.addPropertyArgs(cmd, "producer-property", "...")
//	s, err := conn.settings()                  // usage errors (exit 2) name the flag, file and line
//	opts := append(s.CommonOpts(), s.ProducerOpts()...)   // or s.ConsumerOpts(), s.GroupOpts()
//	adm, ctx, release, err := conn.openAdmin(cmd.Context())
//	return conn.fail("list topics", err)       // errors in the user's words
//
// Where the bootstrap servers come from, first match wins:
//  1. --bootstrap-server;
//  2. bootstrap.servers in a file or property given on the command line
//     (--command-config, --consumer.config, --producer-property, ...);
//  3. the TRIBUTARY_BOOTSTRAP environment variable;
//  4. the profile: --profile NAME, else TRIBUTARY_PROFILE, else the one
//     chosen with `tributary profile use`.
//
// Client properties are layered the same way: the profile's, then
// --command-config, then the command's own files, then its key=value flags.

// defaultClientID is sent to brokers unless client.id is set.
const defaultClientID = "tributary-cli"

const (
	envBootstrap = "TRIBUTARY_BOOTSTRAP"
	envProfile   = "TRIBUTARY_PROFILE"
)

// connFlags are the connection flags of one command. They are Kafka's:
// only the Kafka protocol is used, so commands work against any
// Kafka-compatible cluster.
type connFlags struct {
	bootstrap     string
	commandConfig string
	profile       string
	timeout       time.Duration
	files         []propertyFileFlag
	args          []propertyArgsFlag

	resolved *clientSettings // set by a successful settings(), for messages
}

// propertyFileFlag is a command's own client properties file flag
// (--consumer.config FILE); propertyArgsFlag its key=value flag
// (--consumer-property k=v, repeatable).
type propertyFileFlag struct {
	name string
	path *string
}

type propertyArgsFlag struct {
	name   string
	values *[]string
}

func addConnFlags(cmd *cobra.Command) *connFlags {
	c := &connFlags{}
	fs := cmd.Flags()
	fs.StringVar(&c.bootstrap, "bootstrap-server", "", "brokers to connect to, host:port[,host:port...] (default: $"+envBootstrap+" or the profile's bootstrap.servers)")
	fs.StringVar(&c.commandConfig, "command-config", "", "Kafka client properties file (client.id, request.timeout.ms, security.protocol, ...)")
	fs.StringVar(&c.profile, "profile", "", "profile to take bootstrap.servers and client properties from (default: $"+envProfile+" or `tributary profile use`)")
	durationVar(fs, &c.timeout, "timeout", 30*time.Second, "how long to wait for the cluster before giving up")
	return c
}

// addPropertyFile adds a command-specific client properties file flag.
func (c *connFlags) addPropertyFile(cmd *cobra.Command, name, usage string) {
	f := propertyFileFlag{name: name, path: new(string)}
	cmd.Flags().StringVar(f.path, name, "", usage)
	c.files = append(c.files, f)
}

// addPropertyArgs adds a command-specific repeatable key=value flag.
func (c *connFlags) addPropertyArgs(cmd *cobra.Command, name, usage string) {
	f := propertyArgsFlag{name: name, values: new([]string)}
	cmd.Flags().StringArrayVar(f.values, name, nil, usage)
	c.args = append(c.args, f)
}

// clientSettings is what the connection flags resolve to: the client
// properties (internal/kafkaclient's table, whose options CommonOpts,
// ProducerOpts, ConsumerOpts and GroupOpts give) and where they came from.
type clientSettings struct {
	kafkaclient.Settings
	seedsFrom string // where Seeds came from, for messages

	// given is every property that was set, with where it came from
	// (e.g. "--consumer.config c.properties:3"), for conflict messages.
	given map[string]propertySource
}

type propertySource struct {
	value, from string
	cmdline     bool // given on this command line (not by a profile)
}

// settings validates the connection flags and reads every property source.
func (c *connFlags) settings() (clientSettings, error) {
	s := clientSettings{Settings: kafkaclient.Settings{ClientID: defaultClientID}, given: map[string]propertySource{}}
	profile, err := c.activeProfile()
	if err != nil {
		return s, err
	}
	if profile != nil {
		for _, k := range sortedKeys(profile.Properties) {
			if err := s.applyProperty(k, profile.Properties[k], "profile "+profile.Name, false); err != nil {
				return s, usageErrorf("%v (fix it with `tributary profile create %s ...`)", err, profile.Name)
			}
		}
	}
	if c.commandConfig != "" {
		if err := s.applyFile("command-config", c.commandConfig); err != nil {
			return s, err
		}
	}
	for _, f := range c.files {
		if *f.path == "" {
			continue
		}
		if err := s.applyFile(f.name, *f.path); err != nil {
			return s, err
		}
	}
	for _, f := range c.args {
		for _, arg := range *f.values {
			k, v, ok := strings.Cut(arg, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				return s, usageErrorf("--%s must be key=value, got %q", f.name, arg)
			}
			if err := s.applyProperty(k, v, "--"+f.name, true); err != nil {
				return s, usageErrorf("%v", err)
			}
		}
	}
	if err := c.resolveSeeds(&s); err != nil {
		return s, err
	}
	if err := s.Security.Validate(); err != nil {
		src := s.given["security.protocol"]
		return s, usageErrorf("security.protocol=%s (%s): %v", s.Security.Protocol, src.from, err)
	}
	if s.AcksConflict() {
		return s, usageErrorf("enable.idempotence=true (%s) needs acks=all, got acks=%s (%s)", s.given["enable.idempotence"].from, s.Acks, s.given["acks"].from)
	}
	c.resolved = &s
	return s, nil
}

// resolveSeeds picks the bootstrap servers by the precedence documented
// at the top of this file.
func (c *connFlags) resolveSeeds(s *clientSettings) error {
	if strings.TrimSpace(c.bootstrap) != "" {
		seeds, err := kafkaclient.ParseSeeds(c.bootstrap)
		if err != nil {
			return usageErrorf("--bootstrap-server %v", err)
		}
		s.Seeds, s.seedsFrom = seeds, "--bootstrap-server"
		return nil
	}
	if src, ok := s.given["bootstrap.servers"]; ok && src.cmdline {
		s.seedsFrom = "bootstrap.servers in " + src.from
		return nil
	}
	if env := os.Getenv(envBootstrap); strings.TrimSpace(env) != "" {
		seeds, err := kafkaclient.ParseSeeds(env)
		if err != nil {
			return usageErrorf("$%s %v", envBootstrap, err)
		}
		s.Seeds, s.seedsFrom = seeds, "$"+envBootstrap
		return nil
	}
	if src, ok := s.given["bootstrap.servers"]; ok {
		s.seedsFrom = "bootstrap.servers of " + src.from
		return nil
	}
	return usageErrorf("--bootstrap-server is required: give the brokers to connect to as host:port[,host:port...] " +
		"(or set $" + envBootstrap + ", or save them in a profile: tributary profile create NAME --bootstrap-server host:port)")
}

// applyFile reads a Kafka client properties file given by --flag.
func (s *clientSettings) applyFile(flag, path string) error {
	props, err := properties.ParseFile(path)
	if err != nil {
		return usageErrorf("--%s: %v", flag, err)
	}
	for _, p := range props {
		if err := s.applyProperty(p.Key, p.Value, fmt.Sprintf("--%s %s:%d", flag, path, p.Line), true); err != nil {
			return usageErrorf("%v", err)
		}
	}
	return nil
}

// applyProperty checks and stores one client property. Errors name the
// key, where it came from and what is accepted.
func (s *clientSettings) applyProperty(key, value, from string, cmdline bool) error {
	if !isClientProperty(key) {
		return fmt.Errorf("%s: unsupported client property %q; supported: %s", from, key, strings.Join(supportedClientProperties(), ", "))
	}
	// The error reads "<key> must be <what is accepted>, got <value>",
	// a secret hidden.
	if err := s.Set(key, value); err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	s.given[key] = propertySource{value: value, from: from, cmdline: cmdline}
	return nil
}

// isSecret reports whether a property's value must never be shown.
func isSecret(key string) bool { return kafkaclient.IsSecret(key) }

// adminClient is a kadm client plus the kgo client under it.
type adminClient struct {
	*kadm.Client
	kgo      *kgo.Client
	settings clientSettings
}

func (a *adminClient) close() { a.kgo.Close() }

// newAdmin builds an admin client from the connection flags.
func (c *connFlags) newAdmin() (*adminClient, error) {
	s, err := c.settings()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(s.CommonOpts()...)
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	adm := kadm.NewClient(cl)
	if t := max(s.RequestTimeout, s.APITimeout); t > 0 {
		adm.SetTimeoutMillis(int32(t / time.Millisecond))
	}
	return &adminClient{Client: adm, kgo: cl, settings: s}, nil
}

// openAdmin builds an admin client and a context bounded by --timeout for
// one command; release cancels the context and closes the client.
func (c *connFlags) openAdmin(ctx context.Context) (adm *adminClient, cmdCtx context.Context, release func(), err error) {
	if adm, err = c.newAdmin(); err != nil {
		return nil, nil, nil, err
	}
	cmdCtx, cancel := c.withTimeout(ctx)
	return adm, cmdCtx, func() {
		cancel()
		adm.close()
	}, nil
}

// withTimeout bounds one command's conversation with the cluster.
func (c *connFlags) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// fail reports that action failed, in the user's words: which broker
// could not be reached and what to check, rather than the client
// library's "request X has 1 separate shard errors" or "unable to dial".
// The original error stays in the chain for errors.Is.
func (c *connFlags) fail(action string, err error) error {
	if err == nil || isUsageError(err) {
		return err
	}
	return &clusterError{msg: action + ": " + c.describe(err), err: err}
}

// clusterError is an error reworded for the user.
type clusterError struct {
	msg string
	err error
}

func (e *clusterError) Error() string { return e.msg }
func (e *clusterError) Unwrap() error { return e.err }

// describe words one failure to talk to the cluster.
func (c *connFlags) describe(err error) string {
	var ce *clusterError
	if errors.As(err, &ce) {
		return ce.msg
	}
	var shards *kadm.ShardErrors
	if errors.As(err, &shards) && len(shards.Errs) > 0 {
		first := shards.Errs[0]
		msg := c.describe(first.Err)
		if first.Broker.NodeID >= 0 && first.Broker.Host != "" && !strings.Contains(msg, first.Broker.Host) {
			msg = fmt.Sprintf("broker %d (%s:%d): %s", first.Broker.NodeID, first.Broker.Host, first.Broker.Port, msg)
		}
		if n := len(shards.Errs); n > 1 {
			msg += fmt.Sprintf(" (and %d more %s)", n-1, plural(n-1, "failure", "failures"))
		}
		return msg
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		addr := ""
		if op.Addr != nil {
			addr = op.Addr.String()
		}
		return fmt.Sprintf("cannot connect to broker %s (%s); check %s and that the broker is running", addr, dialReason(op), c.seedsHint())
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Sprintf("cannot resolve broker host %q; check %s", dns.Name, c.seedsHint())
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer from the cluster within --timeout %s; check %s and that the brokers are up", c.timeout, c.seedsHint())
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case err.Error() == "unknown broker":
		return "the cluster has no broker with that id (tributary configs describe --entity-type brokers lists them)"
	}
	return err.Error()
}

// seedsHint names the bootstrap servers and where they came from.
func (c *connFlags) seedsHint() string {
	s := c.resolved
	if s == nil || len(s.Seeds) == 0 {
		return "--bootstrap-server"
	}
	return fmt.Sprintf("the bootstrap servers %s (from %s)", strings.Join(s.Seeds, ","), s.seedsFrom)
}

// dialReason is the operating system's reason a dial failed, without Go's
// "dial tcp 127.0.0.1:1: connect:" prefix.
func dialReason(op *net.OpError) string {
	if op.Err == nil {
		return "failed"
	}
	msg := op.Err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

// kafkaError joins a Kafka error code (whose text already carries its name,
// e.g. "TOPIC_ALREADY_EXISTS: The topic has already been created.") with the
// free-text message a broker may add.
func kafkaError(err error, message string) error {
	if err == nil {
		return nil
	}
	if message == "" || strings.Contains(err.Error(), message) {
		return err
	}
	return fmt.Errorf("%w (broker says: %s)", err, message)
}

// plural picks the singular or plural form for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// countOf renders "1 record", "2 records".
func countOf(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, plural(n, one, many))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
