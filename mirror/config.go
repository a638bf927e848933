package mirror

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Config is an mm2.properties file: the clusters and the replication flows
// between them. LoadConfig reads one; Defaults is the starting point for
// building one in Go. Validate reports every problem at once.
type Config struct {
	// Clusters are the cluster aliases (`clusters = A, B`). Required.
	Clusters []string
	// Cluster is each alias's connection settings. Required for every
	// alias that a flow names.
	Cluster map[string]Cluster
	// Settings are the top-level flow settings (`topics`, `offset.lag.max`,
	// ...); every flow starts from them. Defaults: MM2's.
	Settings FlowSettings
	// Flows are the flows the file names (`A->B.enabled`, `A->B.topics`,
	// ...), in the order they first appear, each with Settings overridden
	// by its own `A->B.*` keys. Only enabled ones run.
	Flows []Flow
	// Warnings name the keys that were accepted but have no effect: MM2
	// and Kafka client keys that Tributary does not implement, and keys it
	// does not know that are not a typo of one it does.
	Warnings []string

	// problems are what LoadConfig found wrong with keys and values;
	// Validate reports them with its own.
	problems []error
}

// Cluster is how to reach one cluster.
type Cluster struct {
	// BootstrapServers is `<alias>.bootstrap.servers`. Required.
	BootstrapServers []string
	// Client holds Kafka client properties for every client of this
	// cluster: top-level client keys, then `<alias>.<key>`.
	Client map[string]string
	// Consumer, Producer and Admin hold `<alias>.consumer.<key>`,
	// `<alias>.producer.<key>` and `<alias>.admin.<key>`; they win over
	// Client for that kind of client.
	Consumer, Producer, Admin map[string]string
}

// Flow is one source->target replication flow.
type Flow struct {
	Source, Target string
	FlowSettings
}

// Name is "source->target".
func (f Flow) Name() string { return f.Source + "->" + f.Target }

// Replication modes (`replication.mode`, a Tributary key).
const (
	// ModeTranslate copies records to new offsets on the target and
	// translates consumer group offsets through offset syncs, as MM2 does.
	ModeTranslate = "translate"
	// ModePreserveOffsets writes every record at its source offset. See
	// the package documentation for what it guarantees.
	ModePreserveOffsets = "preserve-offsets"
)

// FlowSettings are the settings of one flow. Every field names its key and
// MM2's default; a flow's `A->B.<key>` wins over the top-level `<key>`.
type FlowSettings struct {
	// Enabled is `enabled` (`A->B.enabled`), default false: as in MM2,
	// each flow is switched on explicitly.
	Enabled bool
	// Topics is `topics`, default ".*": topic names and regexes to copy.
	Topics []string
	// TopicsExclude is `topics.exclude` (alias `topics.blacklist`),
	// default `.*[\-\.]internal, .*\.replica, __.*`. Excludes win.
	TopicsExclude []string
	// Groups is `groups`, default ".*": consumer groups to checkpoint.
	Groups []string
	// GroupsExclude is `groups.exclude` (alias `groups.blacklist`),
	// default `console-consumer-.*, connect-.*, __.*`.
	GroupsExclude []string
	// ReplicationPolicyClass is `replication.policy.class`, default
	// org.apache.kafka.connect.mirror.DefaultReplicationPolicy.
	ReplicationPolicyClass string
	// ReplicationPolicySeparator is `replication.policy.separator`,
	// default ".".
	ReplicationPolicySeparator string
	// InternalTopicSeparatorEnabled is
	// `replication.policy.internal.topic.separator.enabled`, default true.
	InternalTopicSeparatorEnabled bool
	// TasksMax is `tasks.max`, default 1: how many tasks split the flow's
	// partitions; processes running the same file share the tasks.
	TasksMax int
	// ReplicationFactor is `replication.factor` for remote topics. MM2's
	// default is 2; Tributary's is -1, the target cluster's own default,
	// so a single-node target works without setting it.
	ReplicationFactor int
	// RefreshTopicsEnabled / RefreshTopicsInterval are
	// `refresh.topics.enabled` (true) and
	// `refresh.topics.interval.seconds` (600): how often new topics and
	// partitions on the source are looked for.
	RefreshTopicsEnabled  bool
	RefreshTopicsInterval time.Duration
	// RefreshGroupsEnabled / RefreshGroupsInterval are
	// `refresh.groups.enabled` (true) and
	// `refresh.groups.interval.seconds` (600).
	RefreshGroupsEnabled  bool
	RefreshGroupsInterval time.Duration
	// SyncTopicConfigsEnabled / SyncTopicConfigsInterval are
	// `sync.topic.configs.enabled` (true) and
	// `sync.topic.configs.interval.seconds` (600).
	SyncTopicConfigsEnabled  bool
	SyncTopicConfigsInterval time.Duration
	// SyncTopicACLsEnabled / SyncTopicACLsInterval are
	// `sync.topic.acls.enabled` (true) and
	// `sync.topic.acls.interval.seconds` (600): copy the source's topic
	// ACLs to the remote topics with MM2's rules (acls.go). A source
	// without an authorizer turns the sync off with one log line.
	SyncTopicACLsEnabled  bool
	SyncTopicACLsInterval time.Duration
	// ConfigPropertiesExclude is `config.properties.exclude` (alias
	// `config.properties.blacklist`): topic configs never copied. Default
	// MM2's: throttled replicas, message.timestamp.difference.max.ms,
	// message.timestamp.type, unclean.leader.election.enable,
	// min.insync.replicas.
	ConfigPropertiesExclude []string
	// EmitHeartbeatsEnabled / EmitHeartbeatsInterval are
	// `emit.heartbeats.enabled` (true) and
	// `emit.heartbeats.interval.seconds` (1).
	EmitHeartbeatsEnabled  bool
	EmitHeartbeatsInterval time.Duration
	// EmitCheckpointsEnabled / EmitCheckpointsInterval are
	// `emit.checkpoints.enabled` (true) and
	// `emit.checkpoints.interval.seconds` (60).
	EmitCheckpointsEnabled  bool
	EmitCheckpointsInterval time.Duration
	// SyncGroupOffsetsEnabled / SyncGroupOffsetsInterval are
	// `sync.group.offsets.enabled` (false) and
	// `sync.group.offsets.interval.seconds` (60): write translated offsets
	// to target groups that have no active members there.
	SyncGroupOffsetsEnabled  bool
	SyncGroupOffsetsInterval time.Duration
	// EmitOffsetSyncsEnabled is `emit.offset-syncs.enabled`, default true.
	EmitOffsetSyncsEnabled bool
	// OffsetSyncsTopicLocation is `offset-syncs.topic.location`, "source"
	// (default) or "target".
	OffsetSyncsTopicLocation string
	// OffsetLagMax is `offset.lag.max`, default 100: an offset sync is
	// written at least every this many records.
	OffsetLagMax int64
	// ExactlyOnce is set by `exactly.once.source.support = enabled` or
	// `exactly.once.support = required|requested`; default off
	// (at-least-once). Records and source positions are then committed
	// in one transaction on the target.
	ExactlyOnce bool
	// ReplicationMode is `replication.mode` (Tributary): "translate"
	// (default) or "preserve-offsets".
	ReplicationMode string
	// SourceOffsetHeader is `source.offset.header.enabled` (Tributary),
	// default true: each copied record carries header
	// SourceOffsetHeaderKey with its source offset, which makes
	// checkpoints exact instead of up to offset.lag.max records behind.
	SourceOffsetHeader bool
	// OffsetFlushInterval is `offset.flush.interval.ms`: how often
	// at-least-once source positions are written. Kafka Connect's default
	// is 60 s; Tributary's is 1 s, since a restart copies again everything
	// after the last written position.
	OffsetFlushInterval time.Duration
	// AdminTimeout is `admin.timeout.ms`, default 60000: the limit for
	// one admin request (listing topics, creating them, ...).
	AdminTimeout time.Duration
	// SessionTimeout, HeartbeatInterval and RebalanceTimeout are the
	// Connect worker keys `session.timeout.ms` (10000),
	// `heartbeat.interval.ms` (3000) and `rebalance.timeout.ms` (60000),
	// for the group through which mirror processes share a flow's tasks:
	// a process that dies without leaving has its tasks taken over after
	// SessionTimeout.
	SessionTimeout, HeartbeatInterval, RebalanceTimeout time.Duration
}

// SourceOffsetHeaderKey is the header on copied records that carries the
// record's offset on the source, in decimal.
const SourceOffsetHeaderKey = "tributary.source.offset"

// Defaults returns a Config with no clusters or flows and MM2's defaults
// for every flow setting.
func Defaults() Config {
	var s FlowSettings
	for _, st := range flowSettings {
		if err := st.set(&s, st.def); err != nil {
			panic("mirror: bad default for " + st.key + ": " + err.Error())
		}
	}
	return Config{Cluster: map[string]Cluster{}, Settings: s}
}

// FlowError is a problem confined to one flow: an unknown cluster alias in
// it, an invalid regex in one of its keys. The other flows can still run.
type FlowError struct {
	Flow string
	Err  error
}

func (e *FlowError) Error() string { return fmt.Sprintf("flow %s: %v", e.Flow, e.Err) }
func (e *FlowError) Unwrap() error { return e.Err }

// Validate reports every problem at once, each naming the key, the value
// and what would be accepted. Problems confined to one flow are
// *FlowError; Start runs the other flows despite them.
func (c *Config) Validate() error {
	errs := slices.Clone(c.problems)
	if len(c.Clusters) == 0 {
		errs = append(errs, errors.New("clusters: no cluster aliases: list them, e.g. clusters = A, B"))
	}
	seen := map[string]bool{}
	for _, alias := range c.Clusters {
		if err := checkAlias(alias); err != nil {
			errs = append(errs, fmt.Errorf("clusters: %w", err))
		}
		if seen[alias] {
			errs = append(errs, fmt.Errorf("clusters: alias %q listed twice", alias))
		}
		seen[alias] = true
	}
	for _, alias := range c.usedClusters() {
		cl := c.Cluster[alias]
		if len(cl.BootstrapServers) == 0 {
			errs = append(errs, fmt.Errorf("%s.bootstrap.servers: not set: give the brokers of cluster %s as host:port[,host:port]", alias, alias))
		}
		if err := checkClientProperties(alias, cl); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.Settings.validate(); err != nil {
		errs = append(errs, err)
	}
	names := map[string]bool{}
	for _, f := range c.Flows {
		if names[f.Name()] {
			errs = append(errs, &FlowError{f.Name(), errors.New("listed twice")})
		}
		names[f.Name()] = true
		if !f.Enabled {
			continue
		}
		if err := f.validate(seen); err != nil {
			errs = append(errs, &FlowError{f.Name(), err})
		}
	}
	if err := c.checkIdentityCycles(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// usedClusters are the aliases of enabled flows whose aliases are declared.
func (c *Config) usedClusters() []string {
	var out []string
	for _, f := range c.Flows {
		if !f.Enabled {
			continue
		}
		for _, a := range []string{f.Source, f.Target} {
			if slices.Contains(c.Clusters, a) && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

func checkAlias(alias string) error {
	switch {
	case alias == "":
		return errors.New("empty cluster alias")
	case strings.ContainsAny(alias, " \t.,>"), strings.Contains(alias, "->"):
		return fmt.Errorf("cluster alias %q: must not contain spaces, '.', ',' or '>'", alias)
	}
	return nil
}

func (f Flow) validate(clusters map[string]bool) error {
	var errs []error
	for _, a := range []string{f.Source, f.Target} {
		if !clusters[a] {
			errs = append(errs, fmt.Errorf("unknown cluster alias %q: clusters lists %s", a, strings.Join(sortedKeys(clusters), ", ")))
		}
	}
	if f.Source == f.Target {
		errs = append(errs, fmt.Errorf("source and target are both %q: a flow copies between two clusters", f.Source))
	}
	if err := f.FlowSettings.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validate checks the settings' values; key names are those of the file.
func (s *FlowSettings) validate() error {
	var errs []error
	for _, list := range []struct {
		key      string
		patterns []string
	}{
		{"topics", s.Topics}, {"topics.exclude", s.TopicsExclude},
		{"groups", s.Groups}, {"groups.exclude", s.GroupsExclude},
		{"config.properties.exclude", s.ConfigPropertiesExclude},
	} {
		if _, err := compileList(list.patterns); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", list.key, err))
		}
	}
	if _, err := s.policy(); err != nil {
		errs = append(errs, fmt.Errorf("replication.policy.class: %w", err))
	}
	if s.ReplicationPolicySeparator == "" {
		errs = append(errs, errors.New(`replication.policy.separator: empty: give the string between alias and topic, e.g. "."`))
	}
	if s.TasksMax < 1 {
		errs = append(errs, fmt.Errorf("tasks.max %d: must be at least 1", s.TasksMax))
	}
	if s.ReplicationFactor == 0 || s.ReplicationFactor < -1 || s.ReplicationFactor > 32767 {
		errs = append(errs, fmt.Errorf("replication.factor %d: accepted 1 to 32767, or -1 for the target cluster's default", s.ReplicationFactor))
	}
	if s.OffsetLagMax < 0 {
		errs = append(errs, fmt.Errorf("offset.lag.max %d: must be 0 or more", s.OffsetLagMax))
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"refresh.topics.interval.seconds", s.RefreshTopicsInterval},
		{"refresh.groups.interval.seconds", s.RefreshGroupsInterval},
		{"sync.topic.configs.interval.seconds", s.SyncTopicConfigsInterval},
		{"sync.topic.acls.interval.seconds", s.SyncTopicACLsInterval},
		{"emit.heartbeats.interval.seconds", s.EmitHeartbeatsInterval},
		{"emit.checkpoints.interval.seconds", s.EmitCheckpointsInterval},
		{"sync.group.offsets.interval.seconds", s.SyncGroupOffsetsInterval},
		{"offset.flush.interval.ms", s.OffsetFlushInterval},
		{"admin.timeout.ms", s.AdminTimeout},
		{"session.timeout.ms", s.SessionTimeout},
		{"heartbeat.interval.ms", s.HeartbeatInterval},
		{"rebalance.timeout.ms", s.RebalanceTimeout},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s %s: must be positive", d.key, d.v))
		}
	}
	if s.HeartbeatInterval >= s.SessionTimeout {
		errs = append(errs, fmt.Errorf("heartbeat.interval.ms %d must be below session.timeout.ms %d", s.HeartbeatInterval.Milliseconds(), s.SessionTimeout.Milliseconds()))
	}
	if s.OffsetSyncsTopicLocation != "source" && s.OffsetSyncsTopicLocation != "target" {
		errs = append(errs, fmt.Errorf("offset-syncs.topic.location %q: accepted source or target", s.OffsetSyncsTopicLocation))
	}
	switch s.ReplicationMode {
	case ModeTranslate:
	case ModePreserveOffsets:
		if s.ExactlyOnce {
			errs = append(errs, errors.New("replication.mode=preserve-offsets with exactly-once: the commit markers of the mirror's own transactions "+
				"would take offsets on the target and shift every record after them; preserve-offsets is already free of duplicates "+
				"(it resumes at the target's end offset), so turn exactly-once off for this flow"))
		}
	default:
		errs = append(errs, fmt.Errorf("replication.mode %q: accepted %s or %s", s.ReplicationMode, ModeTranslate, ModePreserveOffsets))
	}
	return errors.Join(errs...)
}

func (s *FlowSettings) policy() (ReplicationPolicy, error) {
	return newPolicy(s.ReplicationPolicyClass, s.ReplicationPolicySeparator, s.InternalTopicSeparatorEnabled)
}

// checkIdentityCycles refuses enabled flows that form a cycle (A->B, B->A)
// under IdentityReplicationPolicy: names do not say where a topic came from,
// so records would loop forever. The exception is a cycle whose flows list
// plain topic names (no regex) that no two of them share.
func (c *Config) checkIdentityCycles() error {
	enabled := map[string]Flow{}
	for _, f := range c.Flows {
		if f.Enabled {
			enabled[f.Name()] = f
		}
	}
	var errs []error
	for _, f := range c.Flows {
		back, ok := enabled[f.Target+"->"+f.Source]
		if !f.Enabled || !ok || f.Source > f.Target {
			continue // each pair once
		}
		if !isIdentity(f.ReplicationPolicyClass) && !isIdentity(back.ReplicationPolicyClass) {
			continue
		}
		if literalDisjoint(f.Topics, back.Topics) {
			continue
		}
		errs = append(errs, &FlowError{f.Name(), fmt.Errorf("flows %s and %s both run under IdentityReplicationPolicy, which cannot tell a copied topic "+
			"from a local one, so records would loop between the clusters: use DefaultReplicationPolicy, or give each flow plain topic names that the other does not list",
			f.Name(), back.Name())})
	}
	return errors.Join(errs...)
}

func isIdentity(class string) bool {
	return class == IdentityReplicationPolicyClass || class == "IdentityReplicationPolicy"
}

func literalDisjoint(a, b []string) bool {
	for _, t := range append(slices.Clone(a), b...) {
		if regexp.QuoteMeta(t) != t {
			return false
		}
	}
	for _, t := range a {
		if slices.Contains(b, t) {
			return false
		}
	}
	return true
}

// compileList compiles MM2's comma-separated list of names and regexes into
// one anchored pattern (nil for an empty list, which matches nothing).
func compileList(patterns []string) (*regexp.Regexp, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	var errs []error
	parts := make([]string, 0, len(patterns))
	for _, p := range patterns {
		if _, err := regexp.Compile(p); err != nil {
			errs = append(errs, fmt.Errorf("invalid regex %q: %v", p, err))
			continue
		}
		parts = append(parts, "(?:"+p+")")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return regexp.Compile("^(?:" + strings.Join(parts, "|") + ")$")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
