package mirror

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// setting is one flow key of mm2.properties: its name, MM2's default as
// the file would spell it, and how a value is applied. Defaults() applies
// every def, so this table is the one place defaults live.
type setting struct {
	key   string
	alias string // the deprecated MM2 name, if any
	def   string
	set   func(s *FlowSettings, v string) error
}

var flowSettings = []setting{
	{key: "enabled", def: "false", set: boolSetting(func(s *FlowSettings) *bool { return &s.Enabled })},
	{key: "topics", def: ".*", set: listSetting(func(s *FlowSettings) *[]string { return &s.Topics })},
	{key: "topics.exclude", alias: "topics.blacklist", def: `.*[\-\.]internal, .*\.replica, __.*`,
		set: listSetting(func(s *FlowSettings) *[]string { return &s.TopicsExclude })},
	{key: "groups", def: ".*", set: listSetting(func(s *FlowSettings) *[]string { return &s.Groups })},
	{key: "groups.exclude", alias: "groups.blacklist", def: "console-consumer-.*, connect-.*, __.*",
		set: listSetting(func(s *FlowSettings) *[]string { return &s.GroupsExclude })},
	{key: "replication.policy.class", def: DefaultReplicationPolicyClass, set: func(s *FlowSettings, v string) error {
		s.ReplicationPolicyClass = v
		_, err := newPolicy(v, ".", true)
		return err
	}},
	{key: "replication.policy.separator", def: ".", set: func(s *FlowSettings, v string) error {
		if v == "" {
			return fmt.Errorf(`must not be empty: give the string between alias and topic, e.g. "."`)
		}
		s.ReplicationPolicySeparator = v
		return nil
	}},
	{key: "replication.policy.internal.topic.separator.enabled", def: "true",
		set: boolSetting(func(s *FlowSettings) *bool { return &s.InternalTopicSeparatorEnabled })},
	{key: "tasks.max", def: "1", set: intSetting(1, 1<<16, func(s *FlowSettings, n int64) { s.TasksMax = int(n) })},
	{key: "replication.factor", def: "-1", set: func(s *FlowSettings, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n == 0 || n < -1 || n > 32767 {
			return fmt.Errorf("accepted 1 to 32767, or -1 for the target cluster's default")
		}
		s.ReplicationFactor = n
		return nil
	}},
	{key: "refresh.topics.enabled", def: "true", set: boolSetting(func(s *FlowSettings) *bool { return &s.RefreshTopicsEnabled })},
	{key: "refresh.topics.interval.seconds", def: "600", set: secondsSetting(func(s *FlowSettings) *time.Duration { return &s.RefreshTopicsInterval })},
	{key: "refresh.groups.enabled", def: "true", set: boolSetting(func(s *FlowSettings) *bool { return &s.RefreshGroupsEnabled })},
	{key: "refresh.groups.interval.seconds", def: "600", set: secondsSetting(func(s *FlowSettings) *time.Duration { return &s.RefreshGroupsInterval })},
	{key: "sync.topic.configs.enabled", def: "true", set: boolSetting(func(s *FlowSettings) *bool { return &s.SyncTopicConfigsEnabled })},
	{key: "sync.topic.configs.interval.seconds", def: "600", set: secondsSetting(func(s *FlowSettings) *time.Duration { return &s.SyncTopicConfigsInterval })},
	{key: "sync.topic.acls.enabled", def: "true", set: boolSetting(func(s *FlowSettings) *bool { return &s.SyncTopicACLsEnabled })},
	{key: "sync.topic.acls.interval.seconds", def: "600", set: secondsSetting(func(s *FlowSettings) *time.Duration { return &s.SyncTopicACLsInterval })},
	{key: "config.properties.exclude", alias: "config.properties.blacklist",
		def: `follower\.replication\.throttled\.replicas, leader\.replication\.throttled\.replicas, message\.timestamp\.difference\.max\.ms, ` +
			`message\.timestamp\.type, unclean\.leader\.election\.enable, min\.insync\.replicas`,
		set: listSetting(func(s *FlowSettings) *[]string { return &s.ConfigPropertiesExclude })},
	{key: "emit.heartbeats.enabled", def: "true", set: boolSetting(func(s *FlowSettings) *bool { return &s.EmitHeartbeatsEnabled })},
	{key: "emit.heartbeats.interval.seconds", def: "1", set: secondsSetting(func(s *FlowSettings) *time.Duration { return &s.EmitHeartbeatsInterval })},
	{key: "emit.checkpoints.enabled", def: "true", set: boolSetting(func(s *FlowSettings) *bool { return &s.EmitCheckpointsEnabled })},
	{key: "emit.checkpoints.interval.seconds", def: "60", set: secondsSetting(func(s *FlowSettings) *time.Duration { return &s.EmitCheckpointsInterval })},
	{key: "sync.group.offsets.enabled", def: "false", set: boolSetting(func(s *FlowSettings) *bool { return &s.SyncGroupOffsetsEnabled })},
	{key: "sync.group.offsets.interval.seconds", def: "60", set: secondsSetting(func(s *FlowSettings) *time.Duration { return &s.SyncGroupOffsetsInterval })},
	{key: "emit.offset-syncs.enabled", def: "true", set: boolSetting(func(s *FlowSettings) *bool { return &s.EmitOffsetSyncsEnabled })},
	{key: "offset-syncs.topic.location", def: "source", set: func(s *FlowSettings, v string) error {
		if v != "source" && v != "target" {
			return fmt.Errorf("accepted source or target")
		}
		s.OffsetSyncsTopicLocation = v
		return nil
	}},
	{key: "offset.lag.max", def: "100", set: intSetting(0, 1<<62, func(s *FlowSettings, n int64) { s.OffsetLagMax = n })},
	{key: "exactly.once.source.support", def: "disabled", set: func(s *FlowSettings, v string) error {
		switch strings.ToLower(v) {
		case "enabled":
			s.ExactlyOnce = true
		case "disabled", "preparing":
			s.ExactlyOnce = false
		default:
			return fmt.Errorf("accepted enabled, disabled or preparing (which, as for a Connect worker, does not turn exactly-once on)")
		}
		return nil
	}},
	{key: "exactly.once.support", def: "", set: func(s *FlowSettings, v string) error {
		switch strings.ToLower(v) {
		case "required", "requested":
			s.ExactlyOnce = true
		case "":
		default:
			return fmt.Errorf("accepted required or requested (either turns exactly-once on), or exactly.once.source.support=enabled")
		}
		return nil
	}},
	{key: "replication.mode", def: ModeTranslate, set: func(s *FlowSettings, v string) error {
		if v != ModeTranslate && v != ModePreserveOffsets {
			return fmt.Errorf("accepted %s or %s", ModeTranslate, ModePreserveOffsets)
		}
		s.ReplicationMode = v
		return nil
	}},
	{key: "source.offset.header.enabled", def: "true", set: boolSetting(func(s *FlowSettings) *bool { return &s.SourceOffsetHeader })},
	{key: "offset.flush.interval.ms", def: "1000", set: msSetting(func(s *FlowSettings) *time.Duration { return &s.OffsetFlushInterval })},
	{key: "admin.timeout.ms", def: "60000", set: msSetting(func(s *FlowSettings) *time.Duration { return &s.AdminTimeout })},
	{key: "session.timeout.ms", def: "10000", set: msSetting(func(s *FlowSettings) *time.Duration { return &s.SessionTimeout })},
	{key: "heartbeat.interval.ms", def: "3000", set: msSetting(func(s *FlowSettings) *time.Duration { return &s.HeartbeatInterval })},
	{key: "rebalance.timeout.ms", def: "60000", set: msSetting(func(s *FlowSettings) *time.Duration { return &s.RebalanceTimeout })},
}

// settingByKey finds a flow setting by its name or deprecated alias.
func settingByKey(key string) (setting, bool) {
	for _, s := range flowSettings {
		if s.key == key || (s.alias != "" && s.alias == key) {
			return s, true
		}
	}
	return setting{}, false
}

// ignoredMM2Keys are MirrorMaker 2 / Kafka Connect worker keys that an
// existing mm2.properties may hold and that have no effect here: they are
// accepted with a warning naming them. Internal-topic replication factors
// are among them: Tributary creates its internal topics with the cluster's
// default.
var ignoredMM2Keys = []string{
	"checkpoints.topic.replication.factor", "heartbeats.topic.replication.factor",
	"offset-syncs.topic.replication.factor", "offset.storage.replication.factor",
	"config.storage.replication.factor", "status.storage.replication.factor",
	"offset.storage.topic", "config.storage.topic", "status.storage.topic",
	"offset.storage.partitions", "status.storage.partitions",
	"consumer.poll.timeout.ms", "dedicated.mode.enable.internal.rest",
	"key.converter", "value.converter", "header.converter", "key.converter.schemas.enable", "value.converter.schemas.enable",
	"topic.filter.class", "group.filter.class", "config.property.filter.class",
	"forwarding.admin.class", "replication.policy.source.cluster.alias",
	"emit.checkpoints.topic.partitions", "sync.topic.configs.use.defaults.from",
	"task.shutdown.graceful.timeout.ms", "offset.flush.timeout.ms",
	"metric.reporters", "metrics.num.samples", "metrics.sample.window.ms", "metrics.recording.level",
	"heartbeats.replication.enabled", "add.source.alias.to.metrics",
	"listeners", "rest.advertised.host.name", "rest.advertised.port", "rest.port",
}

func boolSetting(field func(*FlowSettings) *bool) func(*FlowSettings, string) error {
	return func(s *FlowSettings, v string) error {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			*field(s) = true
		case "false":
			*field(s) = false
		default:
			return fmt.Errorf("accepted true or false")
		}
		return nil
	}
}

func listSetting(field func(*FlowSettings) *[]string) func(*FlowSettings, string) error {
	return func(s *FlowSettings, v string) error {
		items := splitList(v)
		if _, err := compileList(items); err != nil {
			return err
		}
		*field(s) = items
		return nil
	}
}

func intSetting(lo, hi int64, apply func(*FlowSettings, int64)) func(*FlowSettings, string) error {
	return func(s *FlowSettings, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("accepted a whole number from %d to %d", lo, hi)
		}
		apply(s, n)
		return nil
	}
}

func secondsSetting(field func(*FlowSettings) *time.Duration) func(*FlowSettings, string) error {
	return durationSetting(time.Second, "seconds", field)
}

func msSetting(field func(*FlowSettings) *time.Duration) func(*FlowSettings, string) error {
	return durationSetting(time.Millisecond, "milliseconds", field)
}

func durationSetting(unit time.Duration, unitName string, field func(*FlowSettings) *time.Duration) func(*FlowSettings, string) error {
	return func(s *FlowSettings, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n <= 0 || n > int64(24*365*time.Hour/unit) {
			return fmt.Errorf("accepted a positive whole number of %s", unitName)
		}
		*field(s) = time.Duration(n) * unit
		return nil
	}
}

// splitList splits a Kafka LIST value: comma-separated, items trimmed,
// empty items dropped.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
