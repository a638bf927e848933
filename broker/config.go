package broker

// Broker configuration. Keys are Apache Kafka's broker config names so that an
// existing server.properties carries over; keys Tributary does not know are
// rejected with an error naming them rather than silently ignored.

import (
	"bufio"
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
)

// Config is the broker's configuration. The zero value is not usable: start
// from Defaults() and override. Every field names its Kafka key and default.
type Config struct {
	// Listen is the TCP address the Kafka listener binds. Default
	// "127.0.0.1:9092". Port 0 picks an ephemeral port.
	Listen string
	// Advertise is the host:port clients are told to connect to in Metadata
	// and FindCoordinator responses. Default: the bound listen address (with
	// an unspecified host replaced by 127.0.0.1).
	Advertise string
	// DataDir holds the partition logs, topic metadata and coordinator
	// state (Kafka: log.dirs). Default "./data".
	DataDir string
	// MetricsListen serves /metrics (Prometheus) and /healthz. Default
	// "127.0.0.1:9644"; "" disables the HTTP endpoint.
	MetricsListen string
	// FsyncAlways fsyncs every append before it is acknowledged
	// (--fsync=always). Default false: like Kafka, rely on the OS and on
	// flush.messages / flush.ms.
	FsyncAlways bool
	// Logger receives structured logs. Default slog.Default().
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
	// AutoCreateTopics is auto.create.topics.enable. Default true.
	AutoCreateTopics bool
	// DeleteTopicEnable is delete.topic.enable. Default true.
	DeleteTopicEnable bool
	// SocketRequestMaxBytes is socket.request.max.bytes: the largest request
	// frame accepted. Default 104857600.
	SocketRequestMaxBytes int32
	// QueuedMaxRequestBytes is queued.max.request.bytes: the bytes of
	// request frames held in memory (read, not yet answered) across all
	// connections before the broker stops reading sockets. Default
	// 536870912 (512 MiB); -1 is unbounded, which is Kafka's default, but
	// an unbounded broker can be made to hold any amount of memory by
	// clients that send large requests and read responses slowly.
	QueuedMaxRequestBytes int64
	// ConnectionsMaxIdleMs is connections.max.idle.ms. Default 600000.
	ConnectionsMaxIdleMs int64
	// RetentionCheckIntervalMs is log.retention.check.interval.ms. Default 300000.
	RetentionCheckIntervalMs int64
	// LogCleanerEnable is log.cleaner.enable. Default true.
	LogCleanerEnable bool
	// LogCleanerBackoffMs is log.cleaner.backoff.ms. Default 15000.
	LogCleanerBackoffMs int64
	// FetchMaxBytes is fetch.max.bytes: the cap on a whole fetch response.
	// Default 57671680.
	FetchMaxBytes int32
	// MaxIncrementalFetchSessionCacheSlots is
	// max.incremental.fetch.session.cache.slots. Default 1000.
	MaxIncrementalFetchSessionCacheSlots int

	// Group coordinator settings.
	GroupMinSessionTimeoutMs     int32 // group.min.session.timeout.ms, default 6000
	GroupMaxSessionTimeoutMs     int32 // group.max.session.timeout.ms, default 1800000
	GroupInitialRebalanceDelayMs int32 // group.initial.rebalance.delay.ms, default 3000
	OffsetsRetentionMinutes      int64 // offsets.retention.minutes, default 10080
	ConsumerHeartbeatIntervalMs  int32 // group.consumer.heartbeat.interval.ms, default 5000
	ConsumerSessionTimeoutMs     int32 // group.consumer.session.timeout.ms, default 45000

	// Transaction and producer settings.
	TransactionMaxTimeoutMs       int32 // transaction.max.timeout.ms, default 900000
	TransactionalIDExpirationMs   int64 // transactional.id.expiration.ms, default 604800000
	ProducerIDExpirationMs        int64 // producer.id.expiration.ms, default 86400000
	TransactionAbortCheckInterval int64 // transaction.abort.timed.out.transaction.cleanup.interval.ms, default 10000

	// TopicDefaults are the broker-level defaults for topic configs, keyed
	// by the topic config name (retention.ms, segment.bytes, ...). They are
	// set through the broker names (log.retention.ms, log.segment.bytes, ...).
	TopicDefaults map[string]string
}

// Defaults returns the configuration `tributary broker` starts with when
// given no flags.
func Defaults() Config {
	c := Config{
		Listen:                               "127.0.0.1:9092",
		DataDir:                              "./data",
		MetricsListen:                        "127.0.0.1:9644",
		NumPartitions:                        1,
		DefaultReplicationFactor:             1,
		AutoCreateTopics:                     true,
		DeleteTopicEnable:                    true,
		SocketRequestMaxBytes:                104857600,
		QueuedMaxRequestBytes:                512 << 20,
		ConnectionsMaxIdleMs:                 600000,
		RetentionCheckIntervalMs:             300000,
		LogCleanerEnable:                     true,
		LogCleanerBackoffMs:                  15000,
		FetchMaxBytes:                        57671680,
		MaxIncrementalFetchSessionCacheSlots: 1000,
		GroupMinSessionTimeoutMs:             6000,
		GroupMaxSessionTimeoutMs:             1800000,
		GroupInitialRebalanceDelayMs:         3000,
		OffsetsRetentionMinutes:              10080,
		ConsumerHeartbeatIntervalMs:          5000,
		ConsumerSessionTimeoutMs:             45000,
		TransactionMaxTimeoutMs:              900000,
		TransactionalIDExpirationMs:          604800000,
		ProducerIDExpirationMs:               86400000,
		TransactionAbortCheckInterval:        10000,
		TopicDefaults:                        map[string]string{},
	}
	for _, d := range topicConfigDefs {
		c.TopicDefaults[d.name] = d.def
	}
	return c
}

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
	"listeners": stringKey(func(c *Config, v string) { c.Listen = stripListenerScheme(v) }),
	"advertised.listeners": stringKey(func(c *Config, v string) {
		c.Advertise = stripListenerScheme(v)
	}),
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
	"auto.create.topics.enable":                boolKey(func(c *Config, v bool) { c.AutoCreateTopics = v }),
	"delete.topic.enable":                      boolKey(func(c *Config, v bool) { c.DeleteTopicEnable = v }),
	"socket.request.max.bytes": intKey("an integer 1024..2147483647", 1024, math.MaxInt32, func(c *Config, v int64) {
		c.SocketRequestMaxBytes = int32(v)
	}),
	"queued.max.request.bytes": intKey("-1 (unbounded) or an integer >= 1024", -1, math.MaxInt64, func(c *Config, v int64) {
		c.QueuedMaxRequestBytes = v
	}),
	"connections.max.idle.ms": intKey("an integer >= -1", -1, math.MaxInt64, func(c *Config, v int64) {
		c.ConnectionsMaxIdleMs = v
	}),
	"log.retention.check.interval.ms": intKey("an integer >= 1", 1, math.MaxInt64, func(c *Config, v int64) {
		c.RetentionCheckIntervalMs = v
	}),
	"log.cleaner.enable": boolKey(func(c *Config, v bool) { c.LogCleanerEnable = v }),
	"log.cleaner.backoff.ms": intKey("an integer >= 1", 1, math.MaxInt64, func(c *Config, v int64) {
		c.LogCleanerBackoffMs = v
	}),
	"fetch.max.bytes": intKey("an integer >= 1024", 1024, math.MaxInt32, func(c *Config, v int64) {
		c.FetchMaxBytes = int32(v)
	}),
	"max.incremental.fetch.session.cache.slots": intKey("an integer >= 0", 0, math.MaxInt32, func(c *Config, v int64) {
		c.MaxIncrementalFetchSessionCacheSlots = int(v)
	}),
	"group.min.session.timeout.ms": intKey("an integer >= 0", 0, math.MaxInt32, func(c *Config, v int64) {
		c.GroupMinSessionTimeoutMs = int32(v)
	}),
	"group.max.session.timeout.ms": intKey("an integer >= 0", 0, math.MaxInt32, func(c *Config, v int64) {
		c.GroupMaxSessionTimeoutMs = int32(v)
	}),
	"group.initial.rebalance.delay.ms": intKey("an integer >= 0", 0, math.MaxInt32, func(c *Config, v int64) {
		c.GroupInitialRebalanceDelayMs = int32(v)
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

// stripListenerScheme turns "PLAINTEXT://host:9092" into "host:9092".
func stripListenerScheme(v string) string {
	v = strings.Split(v, ",")[0]
	if i := strings.Index(v, "://"); i >= 0 {
		return v[i+3:]
	}
	return v
}

// Set applies one Kafka broker config key. Unknown keys and bad values are
// errors naming the key, the value and what is accepted.
func (c *Config) Set(key, value string) error {
	k, ok := brokerKeys[key]
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

// LoadProperties applies a Java-properties file (key=value or key: value
// lines, # and ! comments) with Set, reporting every bad line at once.
func (c *Config) LoadProperties(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open broker config: %w", err)
	}
	defer f.Close()
	return c.loadProperties(path, f)
}

func (c *Config) loadProperties(name string, r io.Reader) error {
	props, err := ParseProperties(r)
	var le *propertyLineError
	if errors.As(err, &le) {
		// file:line, as for a bad key or value below.
		return fmt.Errorf("%s:%d: %q is not key=value", name, le.line, le.text)
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

// Property is one key=value line of a properties file.
type Property struct {
	Key, Value string
	Line       int
}

// propertyLineError is a properties line that is not key=value.
type propertyLineError struct {
	line int
	text string
}

func (e *propertyLineError) Error() string {
	return fmt.Sprintf("line %d: %q is not key=value", e.line, e.text)
}

// ParseProperties reads Java-properties syntax: key=value, key:value or
// "key value"; lines starting with # or ! are comments; a trailing backslash
// continues a line.
func ParseProperties(r io.Reader) ([]Property, error) {
	var out []Property
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line, start := 0, 0
	var pending strings.Builder
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if pending.Len() == 0 {
			start = line
			if text == "" || text[0] == '#' || text[0] == '!' {
				continue
			}
		}
		if strings.HasSuffix(text, `\`) && !strings.HasSuffix(text, `\\`) {
			pending.WriteString(strings.TrimSuffix(text, `\`))
			continue
		}
		pending.WriteString(text)
		full := pending.String()
		pending.Reset()
		i := strings.IndexAny(full, "=: \t")
		if i <= 0 {
			return nil, &propertyLineError{line: start, text: full}
		}
		out = append(out, Property{
			Key:   strings.TrimSpace(full[:i]),
			Value: strings.TrimSpace(strings.TrimLeft(full[i:], "=: \t")),
			Line:  start,
		})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen %q: want host:port (e.g. 127.0.0.1:9092): %v", c.Listen, err))
	}
	if c.Advertise != "" {
		if _, port, err := net.SplitHostPort(c.Advertise); err != nil || port == "0" {
			errs = append(errs, fmt.Errorf("advertise %q: want a reachable host:port with a non-zero port", c.Advertise))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data dir is empty: set --data-dir or log.dirs"))
	}
	if q := c.QueuedMaxRequestBytes; q == 0 || (q > 0 && q < int64(c.SocketRequestMaxBytes)) {
		errs = append(errs, fmt.Errorf("queued.max.request.bytes (%d) must be -1 (unbounded) or at least socket.request.max.bytes (%d)", q, c.SocketRequestMaxBytes))
	}
	if c.GroupMinSessionTimeoutMs > c.GroupMaxSessionTimeoutMs {
		errs = append(errs, fmt.Errorf("group.min.session.timeout.ms (%d) exceeds group.max.session.timeout.ms (%d)",
			c.GroupMinSessionTimeoutMs, c.GroupMaxSessionTimeoutMs))
	}
	for k, v := range c.TopicDefaults {
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
