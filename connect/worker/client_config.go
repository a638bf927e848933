package worker

// The Kafka clients the worker makes for connectors, configured the way
// Kafka Connect configures them:
//
//   - worker keys producer.<key>, consumer.<key> and admin.<key> set a
//     client property for every connector: the producers of source tasks
//     (and of sink dead-letter queues), the consumers of sink tasks, and
//     the admin clients of a connector's operations (dead-letter topic
//     creation, a sink's offsets in the REST API);
//   - connector keys producer.override.<key>, consumer.override.<key> and
//     admin.override.<key> set one for that connector only, as far as the
//     worker's connector.client.config.override.policy allows: None (no
//     key), Principal (security.protocol, sasl.mechanism,
//     sasl.jaas.config), All (every key; Kafka's default since 3.0) or
//     Allowlist (the keys in connector.client.config.override.allowlist).
//     A key the policy forbids is a validation error on that key.
//
// As in Kafka, a connector's overrides are checked when it is validated
// only for the clients it uses (a producer for a source, or for a sink
// with a dead-letter queue; a consumer for a sink; an admin client for a
// sink with a dead-letter queue), and the policy is applied again
// whenever a client is made. The properties are the Java client's names
// for what franz-go offers (clientProps); the security keys are read by
// the builder every client in Tributary shares (internal/kafkaclient).
// Other keys are refused, naming the key, rather than silently ignored.

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/kafkaclient"
)

// Override policies, connector.client.config.override.policy.
const (
	policyNone      = "None"
	policyPrincipal = "Principal"
	policyAll       = "All"
	policyAllowlist = "Allowlist"
)

// overridePrefix is how a connector config names an override of role's
// client: producer.override., consumer.override., admin.override..
func overridePrefix(role clientRole) string { return string(role) + "override." }

// clientSettings is what one client of a connector is built from.
type clientSettings struct {
	role                                         clientRole
	seeds                                        []string
	security                                     kafkaclient.Security
	clientID                                     string
	requestTimeout, metadataMaxAge, retryBackoff time.Duration
	connIdle, dialTimeout                        time.Duration

	// Consumers (sink tasks).
	maxPollRecords                                  int
	autoOffsetReset, isolationLevel, rack           string
	fetchMinBytes, fetchMaxBytes, partitionMaxBytes int32
	fetchMaxWait, sessionTimeout, heartbeatInterval time.Duration
	maxPollInterval                                 time.Duration

	// Producers (source tasks, dead-letter queues).
	compression                 string
	linger                      time.Duration
	batchMaxBytes               int32
	acks                        string
	idempotence                 bool
	deliveryTimeout, txnTimeout time.Duration
	bufferMemory                int
}

// clientProp is one client property: the roles it applies to, what it
// accepts (for messages), and how a value is checked and kept.
type clientProp struct {
	roles    []clientRole // nil: every role
	accepted string
	set      func(s *clientSettings, v string) error
}

var allRoles = []clientRole{roleProducer, roleConsumer, roleAdmin}

func (p clientProp) appliesTo(role clientRole) bool {
	return p.roles == nil || slices.Contains(p.roles, role)
}

func msProp(roles []clientRole, min int64, field func(*clientSettings) *time.Duration) clientProp {
	what := "a positive number of milliseconds"
	if min == 0 {
		what = "0 or a positive number of milliseconds"
	}
	return clientProp{roles, what, func(s *clientSettings, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < min || n > math.MaxInt32 {
			return errors.New("out of range")
		}
		*field(s) = time.Duration(n) * time.Millisecond
		return nil
	}}
}

func bytesProp(roles []clientRole, field func(*clientSettings) *int32) clientProp {
	return clientProp{roles, "a positive number of bytes up to 2147483647", func(s *clientSettings, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil || n <= 0 {
			return errors.New("out of range")
		}
		*field(s) = int32(n)
		return nil
	}}
}

func oneOfProp(roles []clientRole, field func(*clientSettings) *string, accepted ...string) clientProp {
	return clientProp{roles, strings.Join(accepted, ", "), func(s *clientSettings, v string) error {
		v = strings.ToLower(strings.TrimSpace(v))
		if !slices.Contains(accepted, v) {
			return errors.New("not accepted")
		}
		*field(s) = v
		return nil
	}}
}

var (
	producerOnly = []clientRole{roleProducer}
	consumerOnly = []clientRole{roleConsumer}
)

var clientProps = map[string]clientProp{
	"bootstrap.servers": {nil, "host:port[,host:port...]", func(s *clientSettings, v string) error {
		seeds := splitList(v)
		if len(seeds) == 0 {
			return errors.New("empty")
		}
		s.seeds = seeds
		return nil
	}},
	"client.id": {nil, "a non-empty string", func(s *clientSettings, v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New("empty")
		}
		s.clientID = strings.TrimSpace(v)
		return nil
	}},
	"request.timeout.ms":                 msProp(nil, 1, func(s *clientSettings) *time.Duration { return &s.requestTimeout }),
	"metadata.max.age.ms":                msProp(nil, 1, func(s *clientSettings) *time.Duration { return &s.metadataMaxAge }),
	"retry.backoff.ms":                   msProp(nil, 1, func(s *clientSettings) *time.Duration { return &s.retryBackoff }),
	"connections.max.idle.ms":            msProp(nil, 1, func(s *clientSettings) *time.Duration { return &s.connIdle }),
	"socket.connection.setup.timeout.ms": msProp(nil, 1, func(s *clientSettings) *time.Duration { return &s.dialTimeout }),

	"max.poll.records": {consumerOnly, "a positive number of records", func(s *clientSettings, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			return errors.New("out of range")
		}
		s.maxPollRecords = n
		return nil
	}},
	"auto.offset.reset":         oneOfProp(consumerOnly, func(s *clientSettings) *string { return &s.autoOffsetReset }, "earliest", "latest", "none"),
	"isolation.level":           oneOfProp(consumerOnly, func(s *clientSettings) *string { return &s.isolationLevel }, "read_committed", "read_uncommitted"),
	"fetch.min.bytes":           bytesProp(consumerOnly, func(s *clientSettings) *int32 { return &s.fetchMinBytes }),
	"fetch.max.bytes":           bytesProp(consumerOnly, func(s *clientSettings) *int32 { return &s.fetchMaxBytes }),
	"max.partition.fetch.bytes": bytesProp(consumerOnly, func(s *clientSettings) *int32 { return &s.partitionMaxBytes }),
	"fetch.max.wait.ms":         msProp(consumerOnly, 1, func(s *clientSettings) *time.Duration { return &s.fetchMaxWait }),
	"session.timeout.ms":        msProp(consumerOnly, 1, func(s *clientSettings) *time.Duration { return &s.sessionTimeout }),
	"heartbeat.interval.ms":     msProp(consumerOnly, 1, func(s *clientSettings) *time.Duration { return &s.heartbeatInterval }),
	"max.poll.interval.ms":      msProp(consumerOnly, 1, func(s *clientSettings) *time.Duration { return &s.maxPollInterval }),
	"client.rack": {consumerOnly, "a rack name", func(s *clientSettings, v string) error {
		s.rack = strings.TrimSpace(v)
		return nil
	}},

	"compression.type": oneOfProp(producerOnly, func(s *clientSettings) *string { return &s.compression }, "none", "gzip", "snappy", "lz4", "zstd"),
	"linger.ms":        msProp(producerOnly, 0, func(s *clientSettings) *time.Duration { return &s.linger }),
	"batch.size":       bytesProp(producerOnly, func(s *clientSettings) *int32 { return &s.batchMaxBytes }),
	"acks": {producerOnly, "all, -1, 1 or 0", func(s *clientSettings, v string) error {
		switch a := strings.ToLower(strings.TrimSpace(v)); a {
		case "all", "-1":
			s.acks = "all"
		case "1", "0":
			s.acks = a
		default:
			return errors.New("not accepted")
		}
		return nil
	}},
	"enable.idempotence": {producerOnly, "true or false", func(s *clientSettings, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return errors.New("not a boolean")
		}
		s.idempotence = b
		return nil
	}},
	"delivery.timeout.ms":    msProp(producerOnly, 1, func(s *clientSettings) *time.Duration { return &s.deliveryTimeout }),
	"transaction.timeout.ms": msProp(producerOnly, 1, func(s *clientSettings) *time.Duration { return &s.txnTimeout }),
	"buffer.memory": {producerOnly, "a positive number of bytes", func(s *clientSettings, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n <= 0 || n > math.MaxInt32 {
			return errors.New("out of range")
		}
		s.bufferMemory = int(n)
		return nil
	}},
}

// clientKeysFor lists the properties a role's clients take, sorted.
func clientKeysFor(role clientRole) []string {
	keys := slices.Clone(kafkaclient.Keys())
	for k, p := range clientProps {
		if p.appliesTo(role) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// setClient applies one client property to s; the error says what is
// accepted. A secret's value never appears in it.
func (s *clientSettings) setClient(key, value string) error {
	if slices.Contains(kafkaclient.Keys(), key) {
		return s.security.Set(key, value)
	}
	p, ok := clientProps[key]
	if !ok || !p.appliesTo(s.role) {
		return fmt.Errorf("%s is not a property of %s clients here; accepted: %s", key, strings.TrimSuffix(string(s.role), "."),
			strings.Join(clientKeysFor(s.role), ", "))
	}
	if err := p.set(s, value); err != nil {
		return fmt.Errorf("%s=%q: want %s", key, value, p.accepted)
	}
	return nil
}

// setClientKey stores a worker key producer.<key>, consumer.<key> or
// admin.<key> of a client property; handled is false for other keys.
func (c *Config) setClientKey(key, value string) (handled bool, err error) {
	for _, role := range allRoles {
		bare, ok := strings.CutPrefix(key, string(role))
		if !ok {
			continue
		}
		if p, known := clientProps[bare]; !known || !p.appliesTo(role) {
			return false, nil
		}
		probe := clientSettings{role: role}
		if err := probe.setClient(bare, value); err != nil {
			return true, fmt.Errorf("worker config %s%w", role, err)
		}
		if c.ClientConfig == nil {
			c.ClientConfig = map[string]string{}
		}
		c.ClientConfig[key] = value
		return true, nil
	}
	return false, nil
}

// setPolicyKey stores connector.client.config.override.policy and
// .allowlist; handled is false for other keys.
func (c *Config) setPolicyKey(key, value string) (handled bool, err error) {
	switch key {
	case "connector.client.config.override.policy":
		p, err := parsePolicy(value)
		if err != nil {
			return true, fmt.Errorf("worker config %s=%q: %w", key, value, err)
		}
		c.ClientOverridePolicy = p
		return true, nil
	case "connector.client.config.override.allowlist":
		c.ClientOverrideAllowlist = splitList(value)
		return true, nil
	}
	return false, nil
}

// parsePolicy reads a policy by name or by Kafka's class name.
func parsePolicy(v string) (string, error) {
	v = strings.TrimSpace(v)
	for _, p := range []string{policyNone, policyPrincipal, policyAll, policyAllowlist} {
		if strings.EqualFold(v, p) || v == "org.apache.kafka.connect.connector.policy."+p+"ConnectorClientConfigOverridePolicy" {
			return p, nil
		}
	}
	return "", fmt.Errorf("accepted None, Principal, All or Allowlist (or Kafka's class names, org.apache.kafka.connect.connector.policy.<name>ConnectorClientConfigOverridePolicy)")
}

// isSecretOverride reports whether a connector key overrides a client
// property whose value must not be shown (sasl.jaas.config, passwords).
func isSecretOverride(key string) bool {
	for _, role := range allRoles {
		if bare, ok := strings.CutPrefix(key, overridePrefix(role)); ok {
			return kafkaclient.IsSecret(bare)
		}
	}
	return false
}

// principalKeys are what the Principal policy lets a connector override.
var principalKeys = []string{"security.protocol", "sasl.mechanism", "sasl.jaas.config"}

// overrideAllowed reports whether the policy lets a connector override key.
func (c *Config) overrideAllowed(key string) bool {
	switch c.ClientOverridePolicy {
	case policyNone:
		return false
	case policyPrincipal:
		return slices.Contains(principalKeys, key)
	case policyAllowlist:
		return slices.Contains(c.ClientOverrideAllowlist, key)
	}
	return true
}

// clientSettings resolves the settings of one of a connector's clients:
// the runtime's defaults, the worker's keys (unprefixed security keys,
// then role.<key>), then the connector's role.override.<key> (raw is the
// connector config, references resolved; nil for none). The errors are
// keyed by the connector key they come from.
func (c *Config) clientSettings(role clientRole, raw map[string]string) (*clientSettings, map[string][]string) {
	s := &clientSettings{role: role, seeds: c.BootstrapServers, maxPollRecords: 500, autoOffsetReset: "earliest",
		isolationLevel: "read_committed", compression: "none", batchMaxBytes: 1 << 20, acks: "all", idempotence: true}
	errs := map[string][]string{}
	// The worker's own keys were checked by Set and Validate.
	if sec, err := c.security(role); err == nil {
		s.security = sec
	}
	for _, k := range sortedKeys(c.ClientConfig) {
		if bare, ok := strings.CutPrefix(k, string(role)); ok {
			s.setClient(bare, c.ClientConfig[k])
		}
	}
	prefix := overridePrefix(role)
	for _, k := range sortedKeys(raw) {
		bare, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		if !c.overrideAllowed(bare) {
			errs[k] = append(errs[k], fmt.Sprintf("The '%s' policy does not allow '%s' to be overridden in the connector configuration.",
				c.ClientOverridePolicy, bare))
			continue
		}
		if err := s.setClient(bare, raw[k]); err != nil {
			errs[k] = append(errs[k], err.Error())
		}
	}
	if len(errs) == 0 {
		if err := s.security.Validate(); err != nil {
			// Blamed on the connector's first security key: the worker's
			// own were checked by Validate.
			key := prefix + "security.protocol"
			for _, k := range sortedKeys(raw) {
				if bare, ok := strings.CutPrefix(k, prefix); ok && slices.Contains(kafkaclient.Keys(), bare) {
					key = k
					break
				}
			}
			errs[key] = append(errs[key], err.Error())
		}
	}
	if role == roleProducer && (s.acks != "all" || !s.idempotence) && c.ExactlyOnceSourceSupport == "enabled" {
		key := prefix + "acks"
		errs[key] = append(errs[key], "exactly.once.source.support=enabled needs acks=all and enable.idempotence=true")
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

// connectorClient returns the settings of a connector's client, or an
// error naming every bad key.
func (c *Config) connectorClient(role clientRole, raw map[string]string) (*clientSettings, error) {
	s, errs := c.clientSettings(role, raw)
	if errs == nil {
		return s, nil
	}
	var out []error
	for _, k := range sortedKeys(errs) {
		for _, msg := range errs[k] {
			out = append(out, fmt.Errorf("%s: %s", k, msg))
		}
	}
	return nil, fmt.Errorf("%sclient config: %w", role, errors.Join(out...))
}

// validateWorkerClients checks the worker's client keys (a Config built in
// Go may carry ClientConfig entries Set never saw).
func (c *Config) validateWorkerClients() error {
	var errs []error
	for _, k := range sortedKeys(c.ClientConfig) {
		handled := false
		for _, role := range allRoles {
			if bare, ok := strings.CutPrefix(k, string(role)); ok {
				handled = true
				probe := clientSettings{role: role}
				if err := probe.setClient(bare, c.ClientConfig[k]); err != nil {
					errs = append(errs, fmt.Errorf("worker config %s%w", role, err))
				}
			}
		}
		if !handled {
			errs = append(errs, fmt.Errorf("worker config %s: not a producer., consumer. or admin. client property", k))
		}
	}
	if _, err := parsePolicy(c.ClientOverridePolicy); err != nil {
		errs = append(errs, fmt.Errorf("connector.client.config.override.policy=%q: %w", c.ClientOverridePolicy, err))
	}
	return errors.Join(errs...)
}

// clientRolesOf are the clients a connector of kind uses, whose overrides
// validation checks (Kafka's connectorUsesProducer/Consumer/Admin).
func clientRolesOf(sink, dlq bool) []clientRole {
	switch {
	case !sink:
		return []clientRole{roleProducer}
	case dlq:
		return []clientRole{roleProducer, roleConsumer, roleAdmin}
	}
	return []clientRole{roleConsumer}
}

// defaultClientID names the client as Kafka Connect does (e.g.
// connector-consumer-<connector>-<task>) unless client.id is set.
func (s *clientSettings) defaultClientID(id string) *clientSettings {
	if s.clientID == "" {
		s.clientID = id
	}
	return s
}

// opts are the franz-go options of the settings; callers add what the
// runtime fixes (the group, the partitioner, transactions).
func (s *clientSettings) opts() []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(s.seeds...)}
	sec, _ := s.security.Opts() // validated by clientSettings
	opts = append(opts, sec...)
	if s.clientID != "" {
		opts = append(opts, kgo.ClientID(s.clientID))
	}
	if s.requestTimeout > 0 {
		opts = append(opts, kgo.RequestTimeoutOverhead(s.requestTimeout))
	}
	if s.metadataMaxAge > 0 {
		opts = append(opts, kgo.MetadataMaxAge(s.metadataMaxAge))
	}
	if d := s.retryBackoff; d > 0 {
		opts = append(opts, kgo.RetryBackoffFn(func(int) time.Duration { return d }))
	}
	if s.connIdle > 0 {
		opts = append(opts, kgo.ConnIdleTimeout(s.connIdle))
	}
	if s.dialTimeout > 0 {
		opts = append(opts, kgo.DialTimeout(s.dialTimeout))
	}
	switch s.role {
	case roleConsumer:
		opts = append(opts, s.consumerOpts()...)
	case roleProducer:
		opts = append(opts, s.producerOpts()...)
	}
	return opts
}

func (s *clientSettings) consumerOpts() []kgo.Opt {
	reset := kgo.NewOffset().AtStart()
	switch s.autoOffsetReset {
	case "latest":
		reset = kgo.NewOffset().AtEnd()
	case "none":
		reset = kgo.NoResetOffset()
	}
	iso := kgo.ReadCommitted()
	if s.isolationLevel == "read_uncommitted" {
		iso = kgo.ReadUncommitted()
	}
	opts := []kgo.Opt{kgo.ConsumeResetOffset(reset), kgo.FetchIsolationLevel(iso)}
	if s.fetchMinBytes > 0 {
		opts = append(opts, kgo.FetchMinBytes(s.fetchMinBytes))
	}
	if s.fetchMaxBytes > 0 {
		opts = append(opts, kgo.FetchMaxBytes(s.fetchMaxBytes))
	}
	if s.partitionMaxBytes > 0 {
		opts = append(opts, kgo.FetchMaxPartitionBytes(s.partitionMaxBytes))
	}
	if s.fetchMaxWait > 0 {
		opts = append(opts, kgo.FetchMaxWait(s.fetchMaxWait))
	}
	// Unset, the group timings are franz-go's defaults, which are the Java
	// consumer's: session.timeout.ms 45 s, heartbeat.interval.ms 3 s.
	if s.sessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(s.sessionTimeout))
	}
	if s.heartbeatInterval > 0 {
		opts = append(opts, kgo.HeartbeatInterval(s.heartbeatInterval))
	}
	if s.maxPollInterval > 0 {
		opts = append(opts, kgo.RebalanceTimeout(s.maxPollInterval))
	}
	if s.rack != "" {
		opts = append(opts, kgo.Rack(s.rack))
	}
	return opts
}

func (s *clientSettings) producerOpts() []kgo.Opt {
	codec := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(),
		"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}[s.compression]
	opts := []kgo.Opt{kgo.ProducerBatchCompression(codec), kgo.ProducerLinger(s.linger), kgo.ProducerBatchMaxBytes(s.batchMaxBytes)}
	switch {
	case s.acks == "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case s.acks == "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	case !s.idempotence:
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if s.deliveryTimeout > 0 {
		opts = append(opts, kgo.RecordDeliveryTimeout(s.deliveryTimeout))
	}
	if s.txnTimeout > 0 {
		opts = append(opts, kgo.TransactionTimeout(s.txnTimeout))
	}
	if s.bufferMemory > 0 {
		opts = append(opts, kgo.MaxBufferedBytes(s.bufferMemory))
	}
	return opts
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
