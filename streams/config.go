package streams

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/kafkaclient"
	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// Guarantee is a processing guarantee (processing.guarantee).
type Guarantee int

const (
	// AtLeastOnce (the default) commits input offsets after the outputs
	// and changelog writes they led to are acknowledged: after a crash
	// some records are processed again, none is lost.
	AtLeastOnce Guarantee = iota
	// ExactlyOnce (Kafka Streams' exactly_once_v2) puts outputs, changelog
	// writes and input offsets of each commit in one transaction, with one
	// transactional producer per instance; inputs are read
	// read_committed. After a crash, results are as if each record was
	// processed once.
	ExactlyOnce
)

func (g Guarantee) String() string {
	if g == ExactlyOnce {
		return "exactly_once_v2"
	}
	return "at_least_once"
}

// Option configures an App (and the test driver, which takes the same
// options). Names follow Kafka Streams' configs; each option's doc gives
// the config it stands for and its default.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	appID          string
	bootstrap      []string
	stateDir       string
	guarantee      Guarantee
	commitInterval time.Duration
	purgeInterval  time.Duration
	standbys       int
	queryListen    string
	metricsListen  string
	memoryBudget   int64
	cacheBytes     int64
	cacheSet       bool
	logger         *slog.Logger
	deser          DeserializationHandler
	clientOpts     []kgo.Opt
	clientProps    map[string]string
	propsApplied   bool // clientProps' options are in clientOpts
	sessionTimeout time.Duration
	txnTimeout     time.Duration
	maxPollRecords int
	replication    int
	wallClock      func() time.Time
}

// WithApplicationID sets application.id: the consumer group, the prefix
// of internal topics and the directory of local state. Required.
func WithApplicationID(id string) Option { return optionFunc(func(c *config) { c.appID = id }) }

// WithBootstrapServers sets bootstrap.servers (host:port each). Required
// by App.
func WithBootstrapServers(addrs ...string) Option {
	return optionFunc(func(c *config) { c.bootstrap = append(c.bootstrap, addrs...) })
}

// WithStateDir sets state.dir, under which each application keeps its
// Pebble store in <dir>/<application.id>. Default: $TMPDIR/tributary-streams.
func WithStateDir(dir string) Option { return optionFunc(func(c *config) { c.stateDir = dir }) }

// WithProcessingGuarantee sets processing.guarantee (default AtLeastOnce).
func WithProcessingGuarantee(g Guarantee) Option {
	return optionFunc(func(c *config) { c.guarantee = g })
}

// WithCommitInterval sets commit.interval.ms: how often tasks commit.
// Default 30s under at-least-once, 100ms under exactly-once.
func WithCommitInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.commitInterval = d })
}

// WithRepartitionPurgeInterval sets repartition.purge.interval.ms: how
// often, at most, the App deletes the records of its repartition topics
// that its commits covered (DeleteRecords up to the committed offset), so
// that they do not grow until retention. Topics the App does not own are
// never purged. Default 30s; 0 purges after every commit.
func WithRepartitionPurgeInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.purgeInterval = d })
}

// WithStandbyReplicas sets num.standby.replicas: warm copies of each
// task's state kept on other instances (default 0).
func WithStandbyReplicas(n int) Option { return optionFunc(func(c *config) { c.standbys = n }) }

// WithQueryListen serves interactive queries, the /topology page and
// /metrics (Prometheus) over HTTP on addr (host:port; port 0 picks one).
// Other instances forward queries to the owner of a key through it.
// Default: off.
func WithQueryListen(addr string) Option { return optionFunc(func(c *config) { c.queryListen = addr }) }

// WithMetricsListen serves the App's Prometheus metrics, and nothing else,
// at /metrics on addr (host:port), for an App without a query listener or
// one that keeps its metrics on a port of their own. Each App has its own
// registry, never Prometheus' default one. Default: off (the query
// listener, when set, serves /metrics anyway).
func WithMetricsListen(addr string) Option {
	return optionFunc(func(c *config) { c.metricsListen = addr })
}

// WithMemoryBudget bounds the memory of the Pebble state engine (block
// cache and memtables), shared by every task. Default 64 MiB.
func WithMemoryBudget(bytes int64) Option {
	return optionFunc(func(c *config) { c.memoryBudget = bytes })
}

// WithCacheMaxBytes sets statestore.cache.max.bytes: the record cache of
// key-value aggregations, shared by the tasks of an instance (default 10
// MiB). 0 turns caching off: every update goes downstream at once.
func WithCacheMaxBytes(n int64) Option {
	return optionFunc(func(c *config) { c.cacheBytes, c.cacheSet = n, true })
}

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.logger = l }) }

// WithDeserializationHandler sets deserialization.exception.handler
// (default LogAndFail).
func WithDeserializationHandler(h DeserializationHandler) Option {
	return optionFunc(func(c *config) { c.deser = h })
}

// WithClientOptions adds franz-go options to every client the App makes
// (TLS, SASL, ...). The App's own settings (group, transactions,
// isolation) take precedence.
func WithClientOptions(opts ...kgo.Opt) Option {
	return optionFunc(func(c *config) { c.clientOpts = append(c.clientOpts, opts...) })
}

// WithClientProperties sets Kafka client properties for every client the
// App makes, as a Kafka Streams config holds them; the security ones are
// read: security.protocol, sasl.mechanism, sasl.jaas.config (or
// sasl.username/sasl.password), ssl.truststore.location and the other PEM
// ssl.* keys, as every client in Tributary reads them. Other keys have
// typed options and are refused naming the key. Later calls add to
// earlier ones.
func WithClientProperties(props map[string]string) Option {
	return optionFunc(func(c *config) {
		if c.clientProps == nil {
			c.clientProps = map[string]string{}
		}
		for k, v := range props {
			c.clientProps[k] = v
		}
	})
}

// WithSessionTimeout sets the group's session.timeout.ms: how long the
// group waits for a crashed instance before its tasks move (default 45s).
func WithSessionTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.sessionTimeout = d })
}

// WithTransactionTimeout sets the producer's transaction.timeout.ms under
// exactly-once (default 10s, Kafka Streams' choice): how long a crashed
// instance's open transaction blocks its partitions.
func WithTransactionTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.txnTimeout = d })
}

// WithMaxPollRecords sets max.poll.records: records taken per poll
// (default 1000).
func WithMaxPollRecords(n int) Option { return optionFunc(func(c *config) { c.maxPollRecords = n }) }

// WithReplicationFactor sets replication.factor of the internal topics
// the App creates (default -1: the broker's default).
func WithReplicationFactor(n int) Option { return optionFunc(func(c *config) { c.replication = n }) }

// WithWallClock sets the wall clock of wall-clock punctuators: the test
// driver's start time, or a clock for tests of an App. Default time.Now.
func WithWallClock(now func() time.Time) Option {
	return optionFunc(func(c *config) { c.wallClock = now })
}

var appIDPattern = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,200}$`)

const defaultCacheBytes = 10 << 20

func newConfig(opts []Option) (*config, error) {
	c := &config{maxPollRecords: 1000, replication: -1, sessionTimeout: 45 * time.Second, txnTimeout: 10 * time.Second,
		purgeInterval: 30 * time.Second}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("streams: a nil option")
		}
		o.apply(c)
	}
	if !c.cacheSet {
		c.cacheBytes = defaultCacheBytes
	}
	if c.commitInterval == 0 {
		c.commitInterval = 30 * time.Second
		if c.guarantee == ExactlyOnce {
			c.commitInterval = 100 * time.Millisecond
		}
	}
	if c.stateDir == "" {
		c.stateDir = filepath.Join(os.TempDir(), "tributary-streams")
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.wallClock == nil {
		c.wallClock = time.Now
	}
	c.deser = c.deser.orDefault()
	return c, nil
}

// validate checks the options and the rules that cross them, reporting
// every problem at once. forApp adds what only a running App needs.
func (c *config) validate(forApp bool) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("streams: "+format, args...)) }
	if !appIDPattern.MatchString(c.appID) {
		bad("application.id %q: want 1 to 200 of a-z A-Z 0-9 . _ - (WithApplicationID)", c.appID)
	}
	if c.guarantee != AtLeastOnce && c.guarantee != ExactlyOnce {
		bad("processing.guarantee %d: want AtLeastOnce or ExactlyOnce", c.guarantee)
	}
	if c.commitInterval < 0 {
		bad("commit.interval.ms %s: want more than 0", c.commitInterval)
	}
	if c.purgeInterval < 0 {
		bad("repartition.purge.interval.ms %s: want 0 or more (WithRepartitionPurgeInterval)", c.purgeInterval)
	}
	if c.standbys < 0 {
		bad("num.standby.replicas %d: want 0 or more", c.standbys)
	}
	if c.cacheBytes < 0 {
		bad("statestore.cache.max.bytes %d: want 0 or more", c.cacheBytes)
	}
	if c.maxPollRecords < 1 {
		bad("max.poll.records %d: want at least 1", c.maxPollRecords)
	}
	if c.sessionTimeout < time.Second {
		bad("session.timeout.ms %s: want at least 1s", c.sessionTimeout)
	}
	if c.txnTimeout < time.Second {
		bad("transaction.timeout.ms %s: want at least 1s", c.txnTimeout)
	}
	if c.replication == 0 || c.replication < -1 {
		bad("replication.factor %d: want -1 (the broker's default) or at least 1", c.replication)
	}
	if c.memoryBudget != 0 && c.memoryBudget < 8<<20 {
		bad("memory budget %d bytes: want 0 (the default, 64 MiB) or at least 8 MiB", c.memoryBudget)
	}
	if forApp {
		if len(c.bootstrap) == 0 {
			bad("bootstrap.servers: none given; want host:port (WithBootstrapServers)")
		}
		for _, a := range c.bootstrap {
			if _, _, err := net.SplitHostPort(a); err != nil {
				bad("bootstrap server %q: want host:port", a)
			}
		}
		if c.queryListen != "" {
			if _, _, err := net.SplitHostPort(c.queryListen); err != nil {
				bad("query listen address %q: want host:port", c.queryListen)
			}
		}
		if c.metricsListen != "" {
			if _, port, err := net.SplitHostPort(c.metricsListen); err != nil {
				bad("metrics listen address %q: want host:port (WithMetricsListen)", c.metricsListen)
			} else if c.metricsListen == c.queryListen && port != "0" {
				bad("metrics listen address %q is the query listen address too; the query listener serves /metrics already", c.metricsListen)
			}
		}
	}
	for k := range c.clientProps {
		if !kafkaclient.IsSecurityKey(k) {
			bad("client property %q (WithClientProperties): only security.protocol, sasl.* and ssl.* are read here; the others have typed options", k)
		}
	}
	if len(errs) == 0 && len(c.clientProps) > 0 {
		sec, err := kafkaclient.Opts(c.clientProps)
		if err != nil {
			bad("client properties (WithClientProperties): %v", err)
		} else if forApp && !c.propsApplied {
			c.clientOpts, c.propsApplied = append(c.clientOpts, sec...), true
		}
	}
	return errors.Join(errs...)
}

// driverSettings resolves options for the test driver.
func driverSettings(opts []any) (topology.DriverSettings, error) {
	var os []Option
	for _, o := range opts {
		opt, ok := o.(Option)
		if !ok {
			return topology.DriverSettings{}, fmt.Errorf("streamstest: option %T is not a streams.Option", o)
		}
		os = append(os, opt)
	}
	c, err := newConfig(os)
	if err != nil {
		return topology.DriverSettings{}, err
	}
	if c.appID == "" {
		c.appID = "test-app"
	}
	if err := c.validate(false); err != nil {
		return topology.DriverSettings{}, err
	}
	return topology.DriverSettings{App: c.appID, CacheBytes: int(c.cacheBytes), Logger: c.logger,
		OnDeserializationError: c.deser.handle, Start: c.wallClock()}, nil
}

func init() { topology.ResolveDriverSettings = driverSettings }
