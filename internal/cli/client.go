package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultClientID is sent to brokers unless --command-config sets client.id.
const defaultClientID = "tributary-cli"

// connFlags are the connection flags every admin and console command takes.
// They are deliberately Kafka's: only the Kafka protocol is used, so the
// commands work against any Kafka-compatible cluster.
type connFlags struct {
	bootstrap     string
	commandConfig string
	timeout       time.Duration
}

func addConnFlags(cmd *cobra.Command) *connFlags {
	c := &connFlags{}
	fs := cmd.Flags()
	fs.StringVar(&c.bootstrap, "bootstrap-server", "", "brokers to connect to, host:port[,host:port...] (required)")
	fs.StringVar(&c.commandConfig, "command-config", "", "Kafka client properties file; supported keys: "+strings.Join(supportedClientProperties(), ", "))
	durationVar(fs, &c.timeout, "timeout", 30*time.Second, "how long to wait for the cluster before giving up")
	return c
}

// clientProperties maps the Kafka client properties we honour to kgo
// options. Anything else in a --command-config file is an error: silently
// ignoring, say, security.protocol would connect in plaintext to a cluster
// the user meant to reach over TLS.
var clientProperties = map[string]func(v string, s *clientSettings) error{
	"client.id": func(v string, s *clientSettings) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		s.clientID = v
		return nil
	},
	"request.timeout.ms": func(v string, s *clientSettings) error {
		ms, err := strconv.ParseInt(v, 10, 32)
		if err != nil || ms <= 0 {
			return fmt.Errorf("must be a positive number of milliseconds, got %q", v)
		}
		s.requestTimeout = time.Duration(ms) * time.Millisecond
		return nil
	},
}

func supportedClientProperties() []string {
	keys := make([]string, 0, len(clientProperties))
	for k := range clientProperties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// clientSettings is what the connection flags resolve to.
type clientSettings struct {
	seeds          []string
	clientID       string
	requestTimeout time.Duration // 0: franz-go's default
}

// settings validates the flags and reads --command-config.
func (c *connFlags) settings() (clientSettings, error) {
	s := clientSettings{clientID: defaultClientID}
	if strings.TrimSpace(c.bootstrap) == "" {
		return s, usageErrorf("--bootstrap-server is required: give the brokers to connect to as host:port[,host:port...]")
	}
	for _, seed := range strings.Split(c.bootstrap, ",") {
		seed = strings.TrimSpace(seed)
		if seed == "" {
			continue
		}
		host, port, err := net.SplitHostPort(seed)
		if err != nil || host == "" || port == "" {
			return s, usageErrorf("--bootstrap-server entry %q must be host:port", seed)
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return s, usageErrorf("--bootstrap-server entry %q has an invalid port: want 1-65535", seed)
		}
		s.seeds = append(s.seeds, seed)
	}
	if len(s.seeds) == 0 {
		return s, usageErrorf("--bootstrap-server is required: give the brokers to connect to as host:port[,host:port...]")
	}
	if c.commandConfig == "" {
		return s, nil
	}
	props, err := readPropertiesFile(c.commandConfig)
	if err != nil {
		return s, usageErrorf("--command-config: %v", err)
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		apply, ok := clientProperties[k]
		if !ok {
			return s, usageErrorf("--command-config %s: unsupported client property %q: supported %s",
				c.commandConfig, k, strings.Join(supportedClientProperties(), ", "))
		}
		if err := apply(props[k], &s); err != nil {
			return s, usageErrorf("--command-config %s: %s %v", c.commandConfig, k, err)
		}
	}
	return s, nil
}

// kgoOpts returns the client options the connection flags stand for.
func (s clientSettings) kgoOpts() []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(s.seeds...), kgo.ClientID(s.clientID)}
	if s.requestTimeout > 0 {
		opts = append(opts, kgo.RequestTimeoutOverhead(s.requestTimeout))
	}
	return opts
}

// adminClient is a kadm client plus the kgo client under it.
type adminClient struct {
	*kadm.Client
	kgo *kgo.Client
}

func (a *adminClient) close() { a.kgo.Close() }

// newAdmin builds an admin client from the connection flags.
func (c *connFlags) newAdmin() (*adminClient, error) {
	s, err := c.settings()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(s.kgoOpts()...)
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	adm := kadm.NewClient(cl)
	if s.requestTimeout > 0 {
		adm.SetTimeoutMillis(int32(s.requestTimeout / time.Millisecond))
	}
	return &adminClient{Client: adm, kgo: cl}, nil
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

// explain adds what the user can do to errors that otherwise only say
// "context deadline exceeded".
func (c *connFlags) explain(err error) error {
	if err == nil || isUsageError(err) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer from the cluster at %s within --timeout %s (is --bootstrap-server right?): %w", c.bootstrap, c.timeout, err)
	}
	return err
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
