package broker

// Broker configuration. Keys are Apache Kafka's broker config names so that an
// existing server.properties carries over; keys Tributary does not know are
// rejected with an error naming them rather than silently ignored.

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/tributary-streams/tributary/broker/internal/log"
	"github.com/tributary-streams/tributary/internal/properties"
)

// Config is the broker's configuration. The zero value plus a DataDir is a
// working broker: every zero field takes the default its comment names (as
// pebble's Options do), so an embedding program sets only what it cares
// about:
//
//	b, err := broker.Start(ctx, broker.Config{Listen: "127.0.0.1:0", DataDir: dir})
//
// Fields follow Kafka's broker config keys. Where Kafka's value 0 or false
// is meaningful but is not the default, the field is named or signed so
// that its zero value is the default: DisableAutoCreateTopics for
// auto.create.topics.enable=false, and -1 for "none" where Kafka would say
// 0. Set applies Kafka's key=value form and does that translation.
type Config struct {
	// Listen is the TCP address the Kafka listener binds. Default
	// "127.0.0.1:9092". Port 0 picks an ephemeral port (see Broker.Addr).
	Listen string
	// Advertise is the host:port clients are told to connect to in Metadata
	// and FindCoordinator responses. Default: the bound listen address (with
	// an unspecified host replaced by 127.0.0.1).
	Advertise string
	// DataDir holds the partition logs, topic metadata and coordinator
	// state (Kafka: log.dirs). Required: there is no default directory, so
	// that an embedded broker never writes somewhere it was not told to.
	DataDir string
	// MetricsListen serves /metrics (Prometheus) and /healthz. Default ""
	// (off); `tributary broker` serves it on 127.0.0.1:9644 unless told
	// otherwise. Port 0 picks an ephemeral port (see Broker.MetricsAddr).
	MetricsListen string
	// FsyncAlways fsyncs every append before it is acknowledged
	// (--fsync=always). Default false: like Kafka, rely on the OS and on
	// flush.messages / flush.ms.
	FsyncAlways bool
	// OpenSegmentFiles bounds the segment (.log) files held open across
	// all partitions; others are opened on demand, so idle partitions cost
	// no descriptors. Not a Kafka key (Kafka keeps every segment open).
	// Default: a quarter of the process's descriptor limit, between 64 and
	// 4096.
	OpenSegmentFiles int
	// Faults, for tests only, injects errors, delays and dropped
	// connections into request handling (see Faults). Default nil: none.
	Faults *Faults
	// Logger receives structured logs; the coordinators log through it
	// with a "component" attribute. Default slog.Default().
	Logger *slog.Logger

	// NodeID is node.id / broker.id. Default 0.
	NodeID int32
	// ClusterID is reported in Metadata and DescribeCluster. Default: a
	// random id generated on first start and kept in the data dir.
	ClusterID string
	// NumPartitions is num.partitions, used for auto-created topics and
	// CreateTopics with -1 partitions. Default 1.
	NumPartitions int32
	// DefaultReplicationFactor is default.replication.factor. Default 1;
	// a single node accepts only 1.
	DefaultReplicationFactor int16
	// DisableAutoCreateTopics is auto.create.topics.enable=false. Default
	// false: topics are created on first use, as in Kafka.
	DisableAutoCreateTopics bool
	// DisableTopicDeletion is delete.topic.enable=false. Default false.
	DisableTopicDeletion bool
	// SocketRequestMaxBytes is socket.request.max.bytes: the largest request
	// frame accepted. Default 104857600.
	SocketRequestMaxBytes int32
	// QueuedMaxRequestBytes is queued.max.request.bytes: the bytes of
	// request frames held in memory (read, not yet answered) across all
	// connections before the broker stops reading sockets. Default
	// 536870912 (512 MiB); -1 is unbounded (Kafka's 0 or -1, Kafka's
	// default), but an unbounded broker can be made to hold any amount of
	// memory by clients that send large requests and read slowly.
	QueuedMaxRequestBytes int64
	// ConnectionsMaxIdleMs is connections.max.idle.ms. Default 600000; -1
	// keeps idle connections open forever.
	ConnectionsMaxIdleMs int64
	// RetentionCheckIntervalMs is log.retention.check.interval.ms. Default 300000.
	RetentionCheckIntervalMs int64
	// DisableLogCleaner is log.cleaner.enable=false: compacted topics are
	// then never cleaned. Default false.
	DisableLogCleaner bool
	// LogCleanerBackoffMs is log.cleaner.backoff.ms. Default 15000.
	LogCleanerBackoffMs int64
	// LogCleanerDedupeBufferSize is log.cleaner.dedupe.buffer.size: the
	// memory of compaction's key map (24 bytes a key), shared by all
	// partitions. A log with more distinct dirty keys than it holds is
	// cleaned in several passes. Default 134217728; at least 1024 (Kafka
	// asks for 1 MiB).
	LogCleanerDedupeBufferSize int64
	// LogCleanerIOBufferLoadFactor is log.cleaner.io.buffer.load.factor:
	// how full the key map may get. Default 0.9.
	LogCleanerIOBufferLoadFactor float64
	// FetchMaxBytes is fetch.max.bytes: the cap on a whole fetch response.
	// Default 57671680.
	FetchMaxBytes int32
	// MaxIncrementalFetchSessionCacheSlots is
	// max.incremental.fetch.session.cache.slots. Default 1000; -1 (Kafka's
	// 0) serves no incremental fetch sessions.
	MaxIncrementalFetchSessionCacheSlots int

	// Group coordinator settings.
	GroupMinSessionTimeoutMs int32 // group.min.session.timeout.ms, default 6000
	GroupMaxSessionTimeoutMs int32 // group.max.session.timeout.ms, default 1800000
	// GroupInitialRebalanceDelayMs is group.initial.rebalance.delay.ms,
	// default 3000; -1 (Kafka's 0) starts the first rebalance at once.
	GroupInitialRebalanceDelayMs int32
	OffsetsRetentionMinutes      int64 // offsets.retention.minutes, default 10080
	ConsumerHeartbeatIntervalMs  int32 // group.consumer.heartbeat.interval.ms, default 5000
	ConsumerSessionTimeoutMs     int32 // group.consumer.session.timeout.ms, default 45000
	// OffsetsTopicNumPartitions is offsets.topic.num.partitions: the
	// partitions of __consumer_offsets, which a group's records go to by
	// the hash of its id. Default 50. Once the topic exists its partition
	// count is used instead, as in Kafka.
	OffsetsTopicNumPartitions int32

	// Transaction and producer settings.
	TransactionMaxTimeoutMs       int32 // transaction.max.timeout.ms, default 900000
	TransactionalIDExpirationMs   int64 // transactional.id.expiration.ms, default 604800000
	ProducerIDExpirationMs        int64 // producer.id.expiration.ms, default 86400000
	TransactionAbortCheckInterval int64 // transaction.abort.timed.out.transaction.cleanup.interval.ms, default 10000
	// TransactionRemoveExpiredInterval is
	// transaction.remove.expired.transaction.cleanup.interval.ms: how often
	// transactional ids idle past transactional.id.expiration.ms are
	// removed. Default 3600000.
	TransactionRemoveExpiredInterval int64
	// TransactionStateLogNumPartitions is
	// transaction.state.log.num.partitions: the partitions of
	// __transaction_state. Default 50.
	TransactionStateLogNumPartitions int32

	// SecurityConfig holds listeners, TLS, SASL, ACL, quota-window and
	// connection-limit settings (security_config.go).
	SecurityConfig

	// TopicDefaults are the broker-level defaults for topic configs, keyed
	// by the topic config name (retention.ms, segment.bytes, ...). They are
	// set through the broker names (log.retention.ms, log.segment.bytes,
	// ...). Default: Kafka's default for every key; a key left out of the
	// map takes its Kafka default.
	TopicDefaults map[string]string
}

// Defaults fills every zero field with its default (see each field). It
// leaves set fields alone, so it can run on a Config that Set has filled.
func (c *Config) Defaults() {
	setDefault(&c.Listen, "127.0.0.1:9092")
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	setDefault(&c.NumPartitions, 1)
	setDefault(&c.DefaultReplicationFactor, 1)
	setDefault(&c.SocketRequestMaxBytes, 104857600)
	setDefault(&c.QueuedMaxRequestBytes, 512<<20)
	setDefault(&c.OpenSegmentFiles, defaultOpenSegmentFiles())
	setDefault(&c.ConnectionsMaxIdleMs, 600000)
	setDefault(&c.RetentionCheckIntervalMs, 300000)
	setDefault(&c.LogCleanerBackoffMs, 15000)
	setDefault(&c.LogCleanerDedupeBufferSize, log.DefaultDedupeBufferBytes)
	setDefault(&c.LogCleanerIOBufferLoadFactor, log.DefaultLoadFactor)
	setDefault(&c.FetchMaxBytes, 57671680)
	setDefault(&c.MaxIncrementalFetchSessionCacheSlots, 1000)
	setDefault(&c.GroupMinSessionTimeoutMs, 6000)
	setDefault(&c.GroupMaxSessionTimeoutMs, 1800000)
	setDefault(&c.GroupInitialRebalanceDelayMs, 3000)
	setDefault(&c.OffsetsRetentionMinutes, 10080)
	setDefault(&c.ConsumerHeartbeatIntervalMs, 5000)
	setDefault(&c.ConsumerSessionTimeoutMs, 45000)
	setDefault(&c.TransactionMaxTimeoutMs, 900000)
	setDefault(&c.TransactionalIDExpirationMs, 604800000)
	setDefault(&c.ProducerIDExpirationMs, 86400000)
	setDefault(&c.TransactionAbortCheckInterval, 10000)
	setDefault(&c.TransactionRemoveExpiredInterval, 3600000)
	setDefault(&c.OffsetsTopicNumPartitions, 50)
	setDefault(&c.TransactionStateLogNumPartitions, 50)
	c.SecurityConfig.defaults()
	defaults := make(map[string]string, len(topicConfigDefs))
	for _, d := range topicConfigDefs {
		defaults[d.name] = d.def
	}
	for k, v := range c.TopicDefaults {
		defaults[k] = v
	}
	c.TopicDefaults = defaults
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// noneIfZero stores Kafka's 0 ("none") as -1, since a zero field takes its
// default; orNone turns it back.
func noneIfZero(v int64) int64 {
	if v == 0 {
		return -1
	}
	return v
}

// orNone turns the -1 that stands for Kafka's 0 back into 0.
func orNone[T int | int32 | int64](v T) T { return max(v, 0) }

// brokerKey describes one broker-level key: how to set it on a Config.
type brokerKey struct {
	set func(c *Config, v string) error
}

func intKey(accept string, min, max int64, set func(c *Config, v int64)) brokerKey {
	return brokerKey{set: func(c *Config, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < min || n > max {
			return fmt.Errorf("accepted: %s", accept)
		}
		set(c, n)
		return nil
	}}
}

func boolKey(set func(c *Config, v bool)) brokerKey {
	return brokerKey{set: func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return errors.New("accepted: true or false")
		}
		set(c, b)
		return nil
	}}
}

func stringKey(set func(c *Config, v string)) brokerKey {
	return brokerKey{set: func(c *Config, v string) error { set(c, strings.TrimSpace(v)); return nil }}
}

// topicDefaultKey maps a broker key (log.retention.ms) to the topic config it
// sets the default of (retention.ms), validated by the topic config's rules.
func topicDefaultKey(topicKey string, scale int64) brokerKey {
	return brokerKey{set: func(c *Config, v string) error {
		v = strings.TrimSpace(v)
		if scale != 1 {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return errors.New("accepted: an integer")
			}
			if n > 0 {
				n *= scale
			}
			v = strconv.FormatInt(n, 10)
		}
		d := topicConfigByName[topicKey]
		if err := d.validate(v); err != nil {
			return err
		}
		c.TopicDefaults[topicKey] = v
		return nil
	}}
}

var brokerKeys = map[string]brokerKey{
	"listeners": {set: func(c *Config, v string) error {
		l, err := parseListeners("listeners", v)
		c.Listeners = l
		return err
	}},
	"advertised.listeners": {set: func(c *Config, v string) error {
		l, err := parseListeners("advertised.listeners", v)
		c.advertisedListeners = l
		return err
	}},
	"log.dirs": stringKey(func(c *Config, v string) { c.DataDir = strings.Split(v, ",")[0] }),
	"log.dir":  stringKey(func(c *Config, v string) { c.DataDir = v }),
	"node.id":  intKey("an integer 0..2147483647", 0, math.MaxInt32, func(c *Config, v int64) { c.NodeID = int32(v) }),
	"broker.id": intKey("an integer 0..2147483647", 0, math.MaxInt32, func(c *Config, v int64) {
		c.NodeID = int32(v)
	}),
	"cluster.id": stringKey(func(c *Config, v string) { c.ClusterID = v }),
	"num.partitions": intKey("an integer 1..100000", 1, 100000, func(c *Config, v int64) {
		c.NumPartitions = int32(v)
	}),
	"default.replication.factor": intKey("1 (a single node holds one replica)", 1, 1, func(c *Config, v int64) {
		c.DefaultReplicationFactor = int16(v)
	}),
	"offsets.topic.replication.factor":         intKey("1 (a single node holds one replica)", 1, 1, func(*Config, int64) {}),
	"transaction.state.log.replication.factor": intKey("1 (a single node holds one replica)", 1, 1, func(*Config, int64) {}),
	"transaction.state.log.min.isr":            intKey("1 (a single node holds one replica)", 1, 1, func(*Config, int64) {}),
	"auto.create.topics.enable":                boolKey(func(c *Config, v bool) { c.DisableAutoCreateTopics = !v }),
	"delete.topic.enable":                      boolKey(func(c *Config, v bool) { c.DisableTopicDeletion = !v }),
	"socket.request.max.bytes": intKey("an integer 1024..2147483647", 1024, math.MaxInt32, func(c *Config, v int64) {
		c.SocketRequestMaxBytes = int32(v)
	}),
	"queued.max.request.bytes": intKey("-1 or 0 (unbounded), or an integer >= socket.request.max.bytes", -1, math.MaxInt64, func(c *Config, v int64) {
		c.QueuedMaxRequestBytes = noneIfZero(v)
	}),
	"connections.max.idle.ms": intKey("an integer >= 1, or -1 for never", -1, math.MaxInt64, func(c *Config, v int64) {
		c.ConnectionsMaxIdleMs = noneIfZero(v)
	}),
	"log.retention.check.interval.ms": intKey("an integer >= 1", 1, math.MaxInt64, func(c *Config, v int64) {
		c.RetentionCheckIntervalMs = v
	}),
	"log.cleaner.enable": boolKey(func(c *Config, v bool) { c.DisableLogCleaner = !v }),
	"log.cleaner.backoff.ms": intKey("an integer >= 1", 1, math.MaxInt64, func(c *Config, v int64) {
		c.LogCleanerBackoffMs = v
	}),
	"log.cleaner.dedupe.buffer.size": intKey(fmt.Sprintf("an integer >= %d (bytes)", log.MinDedupeBufferBytes), log.MinDedupeBufferBytes, math.MaxInt64, func(c *Config, v int64) {
		c.LogCleanerDedupeBufferSize = v
	}),
	"log.cleaner.io.buffer.load.factor": {set: func(c *Config, v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || !(f > 0 && f <= 1) {
			return errors.New("accepted: a number above 0 and at most 1")
		}
		c.LogCleanerIOBufferLoadFactor = f
		return nil
	}},
	"fetch.max.bytes": intKey("an integer >= 1024", 1024, math.MaxInt32, func(c *Config, v int64) {
		c.FetchMaxBytes = int32(v)
	}),
	"max.incremental.fetch.session.cache.slots": intKey("an integer >= 0", 0, math.MaxInt32, func(c *Config, v int64) {
		c.MaxIncrementalFetchSessionCacheSlots = int(noneIfZero(v))
	}),
	"group.min.session.timeout.ms": intKey("an integer >= 1", 1, math.MaxInt32, func(c *Config, v int64) {
		c.GroupMinSessionTimeoutMs = int32(v)
	}),
	"group.max.session.timeout.ms": intKey("an integer >= 1", 1, math.MaxInt32, func(c *Config, v int64) {
		c.GroupMaxSessionTimeoutMs = int32(v)
	}),
	"group.initial.rebalance.delay.ms": intKey("an integer >= 0", 0, math.MaxInt32, func(c *Config, v int64) {
		c.GroupInitialRebalanceDelayMs = int32(noneIfZero(v))
	}),
	"offsets.retention.minutes": intKey("an integer >= 1", 1, math.MaxInt32, func(c *Config, v int64) {
		c.OffsetsRetentionMinutes = v
	}),
	"group.consumer.heartbeat.interval.ms": intKey("an integer >= 1", 1, math.MaxInt32, func(c *Config, v int64) {
		c.ConsumerHeartbeatIntervalMs = int32(v)
	}),
	"group.consumer.session.timeout.ms": intKey("an integer >= 1", 1, math.MaxInt32, func(c *Config, v int64) {
		c.ConsumerSessionTimeoutMs = int32(v)
	}),
	"transaction.max.timeout.ms": intKey("an integer >= 1", 1, math.MaxInt32, func(c *Config, v int64) {
		c.TransactionMaxTimeoutMs = int32(v)
	}),
	"transactional.id.expiration.ms": intKey("an integer >= 1", 1, math.MaxInt32, func(c *Config, v int64) {
		c.TransactionalIDExpirationMs = v
	}),
	"producer.id.expiration.ms": intKey("an integer >= 1", 1, math.MaxInt32, func(c *Config, v int64) {
		c.ProducerIDExpirationMs = v
	}),
	"transaction.abort.timed.out.transaction.cleanup.interval.ms": intKey("an integer >= 1", 1, math.MaxInt32, func(c *Config, v int64) {
		c.TransactionAbortCheckInterval = v
	}),
	"transaction.remove.expired.transaction.cleanup.interval.ms": intKey("an integer >= 1", 1, math.MaxInt32, func(c *Config, v int64) {
		c.TransactionRemoveExpiredInterval = v
	}),
	"offsets.topic.num.partitions": intKey("an integer 1..100000", 1, 100000, func(c *Config, v int64) {
		c.OffsetsTopicNumPartitions = int32(v)
	}),
	"transaction.state.log.num.partitions": intKey("an integer 1..100000", 1, 100000, func(c *Config, v int64) {
		c.TransactionStateLogNumPartitions = int32(v)
	}),

	// Broker names for topic defaults.
	"log.cleanup.policy":                  topicDefaultKey("cleanup.policy", 1),
	"log.retention.ms":                    topicDefaultKey("retention.ms", 1),
	"log.retention.minutes":               topicDefaultKey("retention.ms", 60000),
	"log.retention.hours":                 topicDefaultKey("retention.ms", 3600000),
	"log.retention.bytes":                 topicDefaultKey("retention.bytes", 1),
	"log.segment.bytes":                   topicDefaultKey("segment.bytes", 1),
	"log.roll.ms":                         topicDefaultKey("segment.ms", 1),
	"log.roll.hours":                      topicDefaultKey("segment.ms", 3600000),
	"log.index.interval.bytes":            topicDefaultKey("index.interval.bytes", 1),
	"log.index.size.max.bytes":            topicDefaultKey("segment.index.bytes", 1),
	"log.flush.interval.messages":         topicDefaultKey("flush.messages", 1),
	"log.flush.interval.ms":               topicDefaultKey("flush.ms", 1),
	"log.cleaner.delete.retention.ms":     topicDefaultKey("delete.retention.ms", 1),
	"log.cleaner.min.compaction.lag.ms":   topicDefaultKey("min.compaction.lag.ms", 1),
	"log.cleaner.min.cleanable.ratio":     topicDefaultKey("min.cleanable.dirty.ratio", 1),
	"log.message.timestamp.type":          topicDefaultKey("message.timestamp.type", 1),
	"log.message.timestamp.before.max.ms": topicDefaultKey("message.timestamp.before.max.ms", 1),
	"log.message.timestamp.after.max.ms":  topicDefaultKey("message.timestamp.after.max.ms", 1),
	"message.max.bytes":                   topicDefaultKey("max.message.bytes", 1),
	"compression.type":                    topicDefaultKey("compression.type", 1),
	"min.insync.replicas":                 topicDefaultKey("min.insync.replicas", 1),
	"unclean.leader.election.enable":      topicDefaultKey("unclean.leader.election.enable", 1),
	"log.preallocate":                     topicDefaultKey("preallocate", 1),
}

// Set applies one Kafka broker config key. Unknown keys and bad values are
// errors naming the key, the value and what is accepted.
func (c *Config) Set(key, value string) error {
	k, ok := brokerKeys[key]
	if !ok && listenerPrefixedKey(key) {
		k, ok = brokerKey{set: func(c *Config, v string) error { return c.setListenerKey(key, v) }}, true
	}
	if !ok {
		return fmt.Errorf("unknown broker config %q (known keys: %s)", key, strings.Join(knownBrokerKeys(), ", "))
	}
	if c.TopicDefaults == nil {
		c.TopicDefaults = map[string]string{}
	}
	if err := k.set(c, value); err != nil {
		return fmt.Errorf("broker config %s=%q: %w", key, value, err)
	}
	return nil
}

func knownBrokerKeys() []string {
	keys := make([]string, 0, len(brokerKeys))
	for k := range brokerKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// LoadProperties applies a Java-properties file (Kafka's server.properties
// format) with Set, reporting every bad line at once as file:line.
func (c *Config) LoadProperties(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open broker config: %w", err)
	}
	defer f.Close()
	return c.loadProperties(path, f)
}

func (c *Config) loadProperties(name string, r io.Reader) error {
	props, err := properties.Parse(r)
	var le *properties.LineError
	if errors.As(err, &le) {
		return fmt.Errorf("%s:%d: %s", name, le.Line, le.Reason)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var errs []error
	for _, p := range props {
		if err := c.Set(p.Key, p.Value); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, p.Line, err))
		}
	}
	return errors.Join(errs...)
}

// Validate reports every problem at once, each naming the Kafka key, the
// value and what would be accepted. Zero fields are checked as the defaults
// they stand for.
func (c Config) Validate() error {
	c.Defaults()
	var errs []error
	bad := func(key string, v any, want string) {
		errs = append(errs, fmt.Errorf("%s=%v: %s", key, v, want))
	}
	atLeast := func(key string, v, min int64) {
		if v < min {
			bad(key, v, fmt.Sprintf("must be at least %d", min))
		}
	}
	positiveOrNone := func(key string, v int64) {
		if v < 1 && v != -1 {
			bad(key, v, "must be at least 1, or -1 for none")
		}
	}
	if len(c.Listeners) == 0 {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			errs = append(errs, fmt.Errorf("listen address %q (listeners): want host:port (e.g. 127.0.0.1:9092)", c.Listen))
		}
		if c.Advertise != "" {
			if _, port, err := net.SplitHostPort(c.Advertise); err != nil || port == "0" {
				errs = append(errs, fmt.Errorf("advertise address %q (advertised.listeners): want a reachable host:port with a non-zero port", c.Advertise))
			}
		}
	} else if c.Advertise != "" {
		errs = append(errs, fmt.Errorf("advertise address %q: with listeners set, give advertised.listeners instead", c.Advertise))
	}
	if err := c.validateSecurity(); err != nil {
		errs = append(errs, err)
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data dir is empty: set DataDir (--data-dir, log.dirs)"))
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			errs = append(errs, fmt.Errorf("metrics listen address %q: want host:port, or empty for none", c.MetricsListen))
		}
	}
	if c.NodeID < 0 {
		bad("node.id", c.NodeID, "must be at least 0")
	}
	atLeast("num.partitions", int64(c.NumPartitions), 1)
	if c.DefaultReplicationFactor != 1 {
		bad("default.replication.factor", c.DefaultReplicationFactor, "must be 1 (a single node holds one replica)")
	}
	atLeast("socket.request.max.bytes", int64(c.SocketRequestMaxBytes), 1024)
	atLeast("OpenSegmentFiles", int64(c.OpenSegmentFiles), 1)
	if q := c.QueuedMaxRequestBytes; q != -1 && q < int64(c.SocketRequestMaxBytes) {
		bad("queued.max.request.bytes", q, fmt.Sprintf("must be -1 (unbounded) or at least socket.request.max.bytes (%d)", c.SocketRequestMaxBytes))
	}
	positiveOrNone("connections.max.idle.ms", c.ConnectionsMaxIdleMs)
	atLeast("log.retention.check.interval.ms", c.RetentionCheckIntervalMs, 1)
	atLeast("log.cleaner.backoff.ms", c.LogCleanerBackoffMs, 1)
	atLeast("log.cleaner.dedupe.buffer.size", c.LogCleanerDedupeBufferSize, log.MinDedupeBufferBytes)
	if !(c.LogCleanerIOBufferLoadFactor > 0 && c.LogCleanerIOBufferLoadFactor <= 1) {
		bad("log.cleaner.io.buffer.load.factor", c.LogCleanerIOBufferLoadFactor, "must be above 0 and at most 1")
	}
	atLeast("fetch.max.bytes", int64(c.FetchMaxBytes), 1024)
	positiveOrNone("max.incremental.fetch.session.cache.slots", int64(c.MaxIncrementalFetchSessionCacheSlots))
	atLeast("group.min.session.timeout.ms", int64(c.GroupMinSessionTimeoutMs), 1)
	atLeast("group.max.session.timeout.ms", int64(c.GroupMaxSessionTimeoutMs), 1)
	if c.GroupMinSessionTimeoutMs > c.GroupMaxSessionTimeoutMs {
		bad("group.min.session.timeout.ms", c.GroupMinSessionTimeoutMs,
			fmt.Sprintf("must not exceed group.max.session.timeout.ms (%d)", c.GroupMaxSessionTimeoutMs))
	}
	positiveOrNone("group.initial.rebalance.delay.ms", int64(c.GroupInitialRebalanceDelayMs))
	atLeast("offsets.retention.minutes", c.OffsetsRetentionMinutes, 1)
	atLeast("group.consumer.heartbeat.interval.ms", int64(c.ConsumerHeartbeatIntervalMs), 1)
	if c.ConsumerSessionTimeoutMs <= c.ConsumerHeartbeatIntervalMs {
		bad("group.consumer.session.timeout.ms", c.ConsumerSessionTimeoutMs,
			fmt.Sprintf("must exceed group.consumer.heartbeat.interval.ms (%d)", c.ConsumerHeartbeatIntervalMs))
	}
	atLeast("transaction.max.timeout.ms", int64(c.TransactionMaxTimeoutMs), 1)
	atLeast("transactional.id.expiration.ms", c.TransactionalIDExpirationMs, 1)
	atLeast("producer.id.expiration.ms", c.ProducerIDExpirationMs, 1)
	atLeast("transaction.abort.timed.out.transaction.cleanup.interval.ms", c.TransactionAbortCheckInterval, 1)
	atLeast("transaction.remove.expired.transaction.cleanup.interval.ms", c.TransactionRemoveExpiredInterval, 1)
	if c.OffsetsTopicNumPartitions < 1 || c.OffsetsTopicNumPartitions > 100000 {
		bad("offsets.topic.num.partitions", c.OffsetsTopicNumPartitions, "must be 1..100000")
	}
	if c.TransactionStateLogNumPartitions < 1 || c.TransactionStateLogNumPartitions > 100000 {
		bad("transaction.state.log.num.partitions", c.TransactionStateLogNumPartitions, "must be 1..100000")
	}
	keys := make([]string, 0, len(c.TopicDefaults))
	for k := range c.TopicDefaults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := c.TopicDefaults[k]
		d, ok := topicConfigByName[k]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown topic config default %q", k))
			continue
		}
		if err := d.validate(v); err != nil {
			errs = append(errs, fmt.Errorf("topic default %s=%q: %w", k, v, err))
		}
	}
	return errors.Join(errs...)
}
