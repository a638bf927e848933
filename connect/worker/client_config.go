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
// for what franz-go offers, read by the table every client in Tributary
// shares (internal/kafkaclient), the security keys included; the keys of
// the consumer group the runtime runs are not among them (notForConnectors).
// Other keys are refused, naming the key, rather than silently ignored.

import (
	"errors"
	"fmt"
	"slices"
	"sort"
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

// clientSettings is what one client of a connector is built from: the
// client properties, read by internal/kafkaclient's table.
type clientSettings struct {
	kafkaclient.Settings
	role clientRole
}

var allRoles = []clientRole{roleProducer, roleConsumer, roleAdmin}

// kind is the kind of client of a role.
func (r clientRole) kind() kafkaclient.Kind {
	switch r {
	case roleProducer:
		return kafkaclient.Producer
	case roleConsumer:
		return kafkaclient.Consumer
	case roleAdmin:
		return kafkaclient.Admin
	}
	return kafkaclient.AnyClient
}

// notForConnectors are the shared client properties connectors' clients
// do not take: the runtime runs a sink's consumer group (its id, commits,
// protocol and assignors), and no admin request has a timeout of its own.
var notForConnectors = []string{"group.id", "group.instance.id", "enable.auto.commit", "auto.commit.interval.ms",
	"partition.assignment.strategy", "group.protocol", "group.remote.assignor", "default.api.timeout.ms"}

// isClientProperty reports whether role's clients take key, a property of
// the shared table (the security keys are handled apart).
func isClientProperty(key string, role clientRole) bool {
	p, ok := kafkaclient.Lookup(key)
	return ok && p.For(role.kind()) && !slices.Contains(notForConnectors, key)
}

// clientKeysFor lists the properties a role's clients take, sorted.
func clientKeysFor(role clientRole) []string {
	keys := slices.Clone(kafkaclient.Keys())
	for _, k := range kafkaclient.PropertyKeys() {
		if isClientProperty(k, role) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// setClient applies one client property to s; the error says what is
// accepted. A secret's value never appears in it.
func (s *clientSettings) setClient(key, value string) error {
	if !slices.Contains(kafkaclient.Keys(), key) && !isClientProperty(key, s.role) {
		return fmt.Errorf("%s is not a property of %s clients here; accepted: %s", key, strings.TrimSuffix(string(s.role), "."),
			strings.Join(clientKeysFor(s.role), ", "))
	}
	err := s.Set(key, value)
	var bad *kafkaclient.PropertyError
	if errors.As(err, &bad) {
		return fmt.Errorf("%s=%q: want %s", key, value, bad.Accepted)
	}
	return err
}

// setClientKey stores a worker key producer.<key>, consumer.<key> or
// admin.<key> of a client property; handled is false for other keys.
func (c *Config) setClientKey(key, value string) (handled bool, err error) {
	for _, role := range allRoles {
		bare, ok := strings.CutPrefix(key, string(role))
		if !ok {
			continue
		}
		if !isClientProperty(bare, role) {
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
	noLinger := time.Duration(0)
	s := &clientSettings{role: role, Settings: kafkaclient.Settings{Seeds: c.BootstrapServers, MaxPollRecords: 500,
		AutoOffsetReset: "earliest", IsolationLevel: "read_committed", Compression: "none", Linger: &noLinger,
		BatchMaxBytes: 1 << 20, Acks: "all"}}
	errs := map[string][]string{}
	// The worker's own keys were checked by Set and Validate.
	if sec, err := c.security(role); err == nil {
		s.Security = sec
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
		if err := s.Security.Validate(); err != nil {
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
	if role == roleProducer && s.AcksConflict() {
		// Kafka's producer refuses it. Blamed on the connector's key; a
		// worker's own conflict was refused by Validate.
		for _, k := range []string{prefix + "enable.idempotence", prefix + "acks"} {
			if _, ok := raw[k]; ok {
				errs[k] = append(errs[k], fmt.Sprintf("enable.idempotence=true needs acks=all, got acks=%s", s.Acks))
				break
			}
		}
	}
	if role == roleProducer && !s.Idempotent() && c.ExactlyOnceSourceSupport == "enabled" {
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
	if s, keyErrs := c.clientSettings(roleProducer, nil); keyErrs == nil && s.AcksConflict() {
		errs = append(errs, fmt.Errorf("worker config producer.enable.idempotence=true needs producer.acks=all, got acks=%s", s.Acks))
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
	if s.ClientID == "" {
		s.ClientID = id
	}
	return s
}

// opts are the franz-go options of the settings; callers add what the
// runtime fixes (the group, the partitioner, transactions).
func (s *clientSettings) opts() []kgo.Opt {
	opts := s.CommonOpts() // security validated by clientSettings
	switch s.role {
	case roleConsumer:
		opts = append(opts, s.ConsumerOpts()...)
		opts = append(opts, s.GroupOpts()...)
	case roleProducer:
		opts = append(opts, s.ProducerOpts()...)
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
