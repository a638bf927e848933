package worker

// Worker configuration. Keys are Kafka Connect's worker config names
// (connect-distributed.properties / connect-standalone.properties) so that
// an existing worker file carries over; unknown keys are rejected with an
// error naming them.

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/internal/properties"
)

// Config is a worker's configuration. Start from Defaults(). Every field
// names its Kafka key and default.
type Config struct {
	// BootstrapServers is bootstrap.servers: the Kafka cluster. Required.
	BootstrapServers []string
	// GroupID is group.id: the distributed workers' group. Default
	// "connect-cluster". Not used in standalone mode.
	GroupID string

	// ConfigStorageTopic is config.storage.topic. Default "connect-configs".
	ConfigStorageTopic string
	// OffsetStorageTopic is offset.storage.topic. Default "connect-offsets".
	OffsetStorageTopic string
	// StatusStorageTopic is status.storage.topic. Default "connect-status".
	StatusStorageTopic string
	// Replication factors of the three topics when they are created
	// (config/offset/status.storage.replication.factor). Default -1: the
	// broker's default.replication.factor (Kafka defaults to 3, which a
	// single node cannot host).
	ConfigStorageReplicationFactor int16
	OffsetStorageReplicationFactor int16
	StatusStorageReplicationFactor int16
	// OffsetStoragePartitions is offset.storage.partitions. Default 25.
	OffsetStoragePartitions int32
	// StatusStoragePartitions is status.storage.partitions. Default 5.
	StatusStoragePartitions int32

	// OffsetStorageFile is offset.storage.file.filename: where a standalone
	// worker keeps source offsets. Default "connect.offsets".
	OffsetStorageFile string
	// OffsetFlushInterval is offset.flush.interval.ms: how often source
	// offsets and sink consumer offsets are committed. Default 60 s.
	OffsetFlushInterval time.Duration
	// OffsetFlushTimeout is offset.flush.timeout.ms: how long a commit may
	// wait for outstanding records. Default 5 s.
	OffsetFlushTimeout time.Duration
	// TaskShutdownTimeout is task.shutdown.graceful.timeout.ms. Default 5 s.
	TaskShutdownTimeout time.Duration

	// KeyConverter, ValueConverter and HeaderConverter are key.converter,
	// value.converter and header.converter: the defaults for connectors
	// that do not set their own. Defaults: JsonConverter, JsonConverter,
	// SimpleHeaderConverter (as Kafka's shipped worker files set them).
	KeyConverter    string
	ValueConverter  string
	HeaderConverter string
	// ConverterConfig holds key.converter.*, value.converter.* and
	// header.converter.* keys as given (e.g.
	// "value.converter.schemas.enable" -> "false").
	ConverterConfig map[string]string

	// RestListen is the REST API address (listeners=http://host:port, or
	// the --rest-listen flag). Default ":8083". "" disables the REST API.
	RestListen string
	// RestAdvertisedHost and RestAdvertisedPort are
	// rest.advertised.host.name and rest.advertised.port: how other workers
	// and status reports name this worker. Default: the bound address.
	RestAdvertisedHost string
	RestAdvertisedPort int

	// SessionTimeout, HeartbeatInterval and RebalanceTimeout are
	// session.timeout.ms (10 s), heartbeat.interval.ms (3 s) and
	// rebalance.timeout.ms (60 s) of the workers' group.
	SessionTimeout    time.Duration
	HeartbeatInterval time.Duration
	RebalanceTimeout  time.Duration
	// ScheduledRebalanceMaxDelay is scheduled.rebalance.max.delay.ms: how
	// long the group waits for a departed worker to come back before its
	// connectors and tasks move to the others. Default 300 s, as in Kafka.
	ScheduledRebalanceMaxDelay time.Duration

	// ExactlyOnceSourceSupport is exactly.once.source.support: disabled
	// (default), preparing or enabled. With enabled, source tasks of a
	// distributed worker write records and offsets in one transaction.
	ExactlyOnceSourceSupport string

	// ClientConfig holds the producer.<key>, consumer.<key> and
	// admin.<key> client properties (prefix kept) of the clients made for
	// connectors: e.g. "consumer.max.poll.records" (default 500),
	// "consumer.auto.offset.reset" (earliest), "consumer.session.timeout.ms"
	// (45 s), "producer.linger.ms" (0), "producer.compression.type" (none);
	// see client_config.go for every key. Default none.
	ClientConfig map[string]string
	// ClientOverridePolicy is connector.client.config.override.policy:
	// which producer.override.*, consumer.override.* and admin.override.*
	// keys a connector config may set. None, Principal, All (default, as
	// in Kafka since 3.0) or Allowlist, with ClientOverrideAllowlist
	// (connector.client.config.override.allowlist, default empty).
	ClientOverridePolicy    string
	ClientOverrideAllowlist []string

	// ClientSecurity holds the security.protocol, sasl.* and ssl.* keys of
	// the worker's Kafka clients, unprefixed (every client) or with
	// producer., consumer. or admin. (one kind of client; see
	// client_security.go). Default none: PLAINTEXT. Values may be secrets:
	// never log them.
	ClientSecurity map[string]string
	// RestTLS is listeners=https://...: the REST API over TLS, with
	// RestSSL's listeners.https.ssl.* keys (else the worker's ssl.* keys).
	// RestExtensions is rest.extension.classes (Kafka's basic-auth
	// extension only) and RestBasicAuthFile rest.basic.auth.credentials.file
	// (rest_security.go). Defaults: plain HTTP, no authentication.
	RestTLS           bool
	RestSSL           map[string]string
	RestExtensions    []string
	RestBasicAuthFile string

	// ConfigProviders holds config.providers and config.providers.* keys
	// (config_providers.go). Default none: ${...} references are errors.
	ConfigProviders map[string]string

	// Logger receives structured logs. Default slog.Default().
	Logger *slog.Logger
}

// Defaults returns the configuration a worker starts with.
func Defaults() Config {
	return Config{
		GroupID:                        "connect-cluster",
		ConfigStorageTopic:             "connect-configs",
		OffsetStorageTopic:             "connect-offsets",
		StatusStorageTopic:             "connect-status",
		ConfigStorageReplicationFactor: -1,
		OffsetStorageReplicationFactor: -1,
		StatusStorageReplicationFactor: -1,
		OffsetStoragePartitions:        25,
		StatusStoragePartitions:        5,
		OffsetStorageFile:              "connect.offsets",
		OffsetFlushInterval:            60 * time.Second,
		OffsetFlushTimeout:             5 * time.Second,
		TaskShutdownTimeout:            5 * time.Second,
		KeyConverter:                   "org.apache.kafka.connect.json.JsonConverter",
		ValueConverter:                 "org.apache.kafka.connect.json.JsonConverter",
		HeaderConverter:                "org.apache.kafka.connect.storage.SimpleHeaderConverter",
		ConverterConfig:                map[string]string{},
		RestListen:                     ":8083",
		SessionTimeout:                 10 * time.Second,
		HeartbeatInterval:              3 * time.Second,
		RebalanceTimeout:               60 * time.Second,
		ScheduledRebalanceMaxDelay:     300 * time.Second,
		ExactlyOnceSourceSupport:       "disabled",
		ClientOverridePolicy:           policyAll,
	}
}

type workerKey struct {
	doc string
	set func(c *Config, v string) error
}

func millisKey(field func(*Config) *time.Duration, min int64, doc string) workerKey {
	return workerKey{doc: doc, set: func(c *Config, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < min {
			return fmt.Errorf("want milliseconds, at least %d", min)
		}
		*field(c) = time.Duration(n) * time.Millisecond
		return nil
	}}
}

func stringKey(field func(*Config) *string, doc string, accepted ...string) workerKey {
	return workerKey{doc: doc, set: func(c *Config, v string) error {
		v = strings.TrimSpace(v)
		if len(accepted) > 0 {
			for _, a := range accepted {
				if strings.EqualFold(a, v) {
					*field(c) = a
					return nil
				}
			}
			return fmt.Errorf("accepted: %s", strings.Join(accepted, ", "))
		}
		*field(c) = v
		return nil
	}}
}

func intKey[T int | int16 | int32](field func(*Config) *T, min int64, doc string) workerKey {
	return workerKey{doc: doc, set: func(c *Config, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil || n < min {
			return fmt.Errorf("want an integer of at least %d", min)
		}
		*field(c) = T(n)
		return nil
	}}
}

func replicationKey(field func(*Config) *int16) workerKey {
	return workerKey{doc: "replication factor for a topic the worker creates; -1 for the broker default", set: func(c *Config, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 16)
		if err != nil || n == 0 || n < -1 {
			return errors.New("want a positive replication factor or -1 (the broker's default)")
		}
		*field(c) = int16(n)
		return nil
	}}
}

var workerKeys = map[string]workerKey{
	"bootstrap.servers": {doc: "host:port list of the Kafka cluster", set: func(c *Config, v string) error {
		c.BootstrapServers = splitList(v)
		return nil
	}},
	"group.id":                          stringKey(func(c *Config) *string { return &c.GroupID }, "distributed workers' group"),
	"config.storage.topic":              stringKey(func(c *Config) *string { return &c.ConfigStorageTopic }, "connector configs topic"),
	"offset.storage.topic":              stringKey(func(c *Config) *string { return &c.OffsetStorageTopic }, "source offsets topic"),
	"status.storage.topic":              stringKey(func(c *Config) *string { return &c.StatusStorageTopic }, "status topic"),
	"config.storage.replication.factor": replicationKey(func(c *Config) *int16 { return &c.ConfigStorageReplicationFactor }),
	"offset.storage.replication.factor": replicationKey(func(c *Config) *int16 { return &c.OffsetStorageReplicationFactor }),
	"status.storage.replication.factor": replicationKey(func(c *Config) *int16 { return &c.StatusStorageReplicationFactor }),
	"offset.storage.partitions":         intKey(func(c *Config) *int32 { return &c.OffsetStoragePartitions }, 1, "partitions of the offsets topic"),
	"status.storage.partitions":         intKey(func(c *Config) *int32 { return &c.StatusStoragePartitions }, 1, "partitions of the status topic"),
	"offset.storage.file.filename":      stringKey(func(c *Config) *string { return &c.OffsetStorageFile }, "standalone offsets file"),
	"offset.flush.interval.ms":          millisKey(func(c *Config) *time.Duration { return &c.OffsetFlushInterval }, 1, "offset commit interval"),
	"offset.flush.timeout.ms":           millisKey(func(c *Config) *time.Duration { return &c.OffsetFlushTimeout }, 1, "offset commit timeout"),
	"task.shutdown.graceful.timeout.ms": millisKey(func(c *Config) *time.Duration { return &c.TaskShutdownTimeout }, 0, "task stop timeout"),
	"key.converter":                     stringKey(func(c *Config) *string { return &c.KeyConverter }, "default key converter"),
	"value.converter":                   stringKey(func(c *Config) *string { return &c.ValueConverter }, "default value converter"),
	"header.converter":                  stringKey(func(c *Config) *string { return &c.HeaderConverter }, "default header converter"),
	"listeners": {doc: "REST listener, http://host:port", set: func(c *Config, v string) error {
		l := splitList(v)
		if len(l) != 1 {
			return errors.New("want exactly one listener, e.g. http://:8083")
		}
		u, err := url.Parse(l[0])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("want http://host:port or https://host:port")
		}
		c.RestListen, c.RestTLS = u.Host, u.Scheme == "https"
		return nil
	}},
	"rest.advertised.host.name": stringKey(func(c *Config) *string { return &c.RestAdvertisedHost }, "advertised REST host"),
	"rest.advertised.port":      intKey(func(c *Config) *int { return &c.RestAdvertisedPort }, 0, "advertised REST port"),
	"session.timeout.ms":        millisKey(func(c *Config) *time.Duration { return &c.SessionTimeout }, 1, "group session timeout"),
	"heartbeat.interval.ms":     millisKey(func(c *Config) *time.Duration { return &c.HeartbeatInterval }, 1, "group heartbeat interval"),
	"rebalance.timeout.ms":      millisKey(func(c *Config) *time.Duration { return &c.RebalanceTimeout }, 1, "group rebalance timeout"),
	"scheduled.rebalance.max.delay.ms": millisKey(func(c *Config) *time.Duration { return &c.ScheduledRebalanceMaxDelay }, 0,
		"wait for a departed worker before reassigning its work"),
	"exactly.once.source.support": stringKey(func(c *Config) *string { return &c.ExactlyOnceSourceSupport }, "exactly-once sources",
		"disabled", "preparing", "enabled"),
	// plugin.path is accepted so that Kafka worker files run unchanged;
	// plugins are compiled into the binary, so it has no effect.
	"plugin.path": {doc: "ignored: plugins are compiled in", set: func(*Config, string) error { return nil }},
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Set applies one worker config key. Converter sub-keys
// (key.converter.schemas.enable, ...) are kept for the converters.
func (c *Config) Set(key, value string) error {
	key = strings.TrimSpace(key)
	for _, prefix := range []string{"key.converter.", "value.converter.", "header.converter."} {
		if strings.HasPrefix(key, prefix) && len(key) > len(prefix) {
			if c.ConverterConfig == nil {
				c.ConverterConfig = map[string]string{}
			}
			c.ConverterConfig[key] = value
			return nil
		}
	}
	if c.setProviderKey(key, value) {
		return nil
	}
	if handled, err := c.setRestKey(key, value); handled {
		return err
	}
	if handled, err := c.setPolicyKey(key, value); handled {
		return err
	}
	if handled, err := c.setClientKey(key, value); handled {
		return err
	}
	if handled, err := c.setSecurity(key, value); handled {
		if err != nil {
			return fmt.Errorf("worker config %w", err)
		}
		return nil
	}
	k, ok := workerKeys[key]
	if !ok {
		return fmt.Errorf("unknown worker config %q (known keys: %s, and key.converter.*, value.converter.*, header.converter.*, producer.*, consumer.*, admin.* client properties)",
			key, strings.Join(knownWorkerKeys(), ", "))
	}
	if err := k.set(c, value); err != nil {
		return fmt.Errorf("worker config %s=%q: %w", key, value, err)
	}
	return nil
}

func knownWorkerKeys() []string {
	keys := make([]string, 0, len(workerKeys))
	for k := range workerKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// LoadProperties applies a worker properties file (Kafka's
// connect-distributed.properties or connect-standalone.properties format),
// reporting every bad line at once.
func (c *Config) LoadProperties(path string) error {
	props, err := properties.ParseFile(path)
	if err != nil {
		return fmt.Errorf("worker config: %w", err)
	}
	var errs []error
	for _, p := range props {
		if err := c.Set(p.Key, p.Value); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", path, p.Line, err))
		}
	}
	return errors.Join(errs...)
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	if len(c.BootstrapServers) == 0 {
		errs = append(errs, errors.New("bootstrap.servers is empty: set --bootstrap-server host:port"))
	}
	for _, s := range c.BootstrapServers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			errs = append(errs, fmt.Errorf("bootstrap.servers %q: want host:port", s))
		}
	}
	if c.RestListen != "" {
		if _, _, err := net.SplitHostPort(c.RestListen); err != nil {
			errs = append(errs, fmt.Errorf("REST listener %q: want host:port, e.g. :8083", c.RestListen))
		}
	}
	for name, topic := range map[string]string{"config.storage.topic": c.ConfigStorageTopic,
		"offset.storage.topic": c.OffsetStorageTopic, "status.storage.topic": c.StatusStorageTopic} {
		if topic == "" {
			errs = append(errs, fmt.Errorf("%s is empty", name))
		}
	}
	if c.ConfigStorageTopic == c.OffsetStorageTopic || c.ConfigStorageTopic == c.StatusStorageTopic || c.OffsetStorageTopic == c.StatusStorageTopic {
		errs = append(errs, fmt.Errorf("config.storage.topic, offset.storage.topic and status.storage.topic must differ (got %q, %q, %q)",
			c.ConfigStorageTopic, c.OffsetStorageTopic, c.StatusStorageTopic))
	}
	if c.HeartbeatInterval >= c.SessionTimeout {
		errs = append(errs, fmt.Errorf("heartbeat.interval.ms (%s) must be below session.timeout.ms (%s)", c.HeartbeatInterval, c.SessionTimeout))
	}
	if c.OffsetFlushInterval <= 0 {
		errs = append(errs, fmt.Errorf("offset.flush.interval.ms must be positive"))
	}
	if err := c.validateSecurity(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validateWorkerClients(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.providers(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.restTLSConfig(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.restClientTLS(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.basicAuthUsers(); err != nil {
		errs = append(errs, err)
	}
	for _, kv := range [][2]string{{"key.converter", c.KeyConverter}, {"value.converter", c.ValueConverter}} {
		if kv[1] == "" {
			errs = append(errs, fmt.Errorf("%s is empty", kv[0]))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}
