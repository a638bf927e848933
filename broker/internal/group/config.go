package group

import (
	"errors"
	"fmt"
)

// Config configures the group coordinator. Field names follow Kafka's broker
// configuration keys; each field documents its key and default.
type Config struct {
	// Dir is where durable group state lives (committed offsets, group
	// metadata, staged transactional offsets). The broker passes
	// <data-dir>/__groups. Required.
	Dir string

	// MinSessionTimeoutMs is group.min.session.timeout.ms. Default 6000.
	MinSessionTimeoutMs int32
	// MaxSessionTimeoutMs is group.max.session.timeout.ms. Default 1800000.
	MaxSessionTimeoutMs int32
	// InitialRebalanceDelayMs is group.initial.rebalance.delay.ms: how long
	// the first rebalance of an empty group waits for more members.
	// Default 3000; 0 disables the delay.
	InitialRebalanceDelayMs int32
	// OffsetsRetentionMs is offsets.retention.minutes*60000: how long
	// committed offsets of an empty group are kept. Default 7 days.
	OffsetsRetentionMs int64
	// OffsetsRetentionCheckIntervalMs is offsets.retention.check.interval.ms:
	// how often expired offsets and dead empty groups are swept.
	// Default 600000 (10 minutes).
	OffsetsRetentionCheckIntervalMs int64
	// OffsetMetadataMaxBytes is offset.metadata.max.bytes. Default 4096.
	OffsetMetadataMaxBytes int32

	// ConsumerHeartbeatIntervalMs is group.consumer.heartbeat.interval.ms
	// (KIP-848 groups). Default 5000.
	ConsumerHeartbeatIntervalMs int32
	// ConsumerSessionTimeoutMs is group.consumer.session.timeout.ms
	// (KIP-848 groups). Default 45000.
	ConsumerSessionTimeoutMs int32

	// SyncWrites fsyncs the state file after every append before the
	// response is returned (the broker's --fsync=always). Default false:
	// like Kafka, state is written to the OS before answering and the OS
	// flushes it.
	SyncWrites bool

	// OffsetsLog receives the coordinator's state in Kafka's
	// __consumer_offsets format (see offsets_topic.go). Default nil: no
	// offsets topic is written.
	OffsetsLog OffsetsLog
	// OffsetsTopicPartitions is offsets.topic.num.partitions: how many
	// partitions the records are spread over by group. Default 50.
	OffsetsTopicPartitions int32
}

// DefaultConfig returns Kafka's defaults. Dir is left empty.
func DefaultConfig() Config {
	return Config{
		MinSessionTimeoutMs:             6000,
		MaxSessionTimeoutMs:             1800000,
		InitialRebalanceDelayMs:         3000,
		OffsetsRetentionMs:              7 * 24 * 60 * 60 * 1000,
		OffsetsRetentionCheckIntervalMs: 600000,
		OffsetMetadataMaxBytes:          4096,
		ConsumerHeartbeatIntervalMs:     5000,
		ConsumerSessionTimeoutMs:        45000,
		OffsetsTopicPartitions:          50,
	}
}

// Defaults fills zero fields with their defaults. InitialRebalanceDelayMs
// is left alone: zero is a meaningful value there.
func (c *Config) Defaults() {
	d := DefaultConfig()
	if c.MinSessionTimeoutMs == 0 {
		c.MinSessionTimeoutMs = d.MinSessionTimeoutMs
	}
	if c.MaxSessionTimeoutMs == 0 {
		c.MaxSessionTimeoutMs = d.MaxSessionTimeoutMs
	}
	if c.OffsetsRetentionMs == 0 {
		c.OffsetsRetentionMs = d.OffsetsRetentionMs
	}
	if c.OffsetsRetentionCheckIntervalMs == 0 {
		c.OffsetsRetentionCheckIntervalMs = d.OffsetsRetentionCheckIntervalMs
	}
	if c.OffsetMetadataMaxBytes == 0 {
		c.OffsetMetadataMaxBytes = d.OffsetMetadataMaxBytes
	}
	if c.ConsumerHeartbeatIntervalMs == 0 {
		c.ConsumerHeartbeatIntervalMs = d.ConsumerHeartbeatIntervalMs
	}
	if c.ConsumerSessionTimeoutMs == 0 {
		c.ConsumerSessionTimeoutMs = d.ConsumerSessionTimeoutMs
	}
	if c.OffsetsTopicPartitions == 0 {
		c.OffsetsTopicPartitions = d.OffsetsTopicPartitions
	}
}

// Validate reports every invalid field at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(key string, v any, want string) {
		errs = append(errs, fmt.Errorf("%s=%v: %s", key, v, want))
	}
	if c.Dir == "" {
		bad("dir", `""`, "a directory for group state is required")
	}
	if c.MinSessionTimeoutMs <= 0 {
		bad("group.min.session.timeout.ms", c.MinSessionTimeoutMs, "must be > 0")
	}
	if c.MaxSessionTimeoutMs < c.MinSessionTimeoutMs {
		bad("group.max.session.timeout.ms", c.MaxSessionTimeoutMs, fmt.Sprintf("must be >= group.min.session.timeout.ms (%d)", c.MinSessionTimeoutMs))
	}
	if c.InitialRebalanceDelayMs < 0 {
		bad("group.initial.rebalance.delay.ms", c.InitialRebalanceDelayMs, "must be >= 0")
	}
	if c.OffsetsRetentionMs <= 0 {
		bad("offsets.retention.minutes", c.OffsetsRetentionMs/60000, "must be > 0")
	}
	if c.OffsetsRetentionCheckIntervalMs <= 0 {
		bad("offsets.retention.check.interval.ms", c.OffsetsRetentionCheckIntervalMs, "must be > 0")
	}
	if c.OffsetMetadataMaxBytes < 0 {
		bad("offset.metadata.max.bytes", c.OffsetMetadataMaxBytes, "must be >= 0")
	}
	if c.ConsumerHeartbeatIntervalMs <= 0 {
		bad("group.consumer.heartbeat.interval.ms", c.ConsumerHeartbeatIntervalMs, "must be > 0")
	}
	if c.ConsumerSessionTimeoutMs <= c.ConsumerHeartbeatIntervalMs {
		bad("group.consumer.session.timeout.ms", c.ConsumerSessionTimeoutMs, fmt.Sprintf("must be > group.consumer.heartbeat.interval.ms (%d)", c.ConsumerHeartbeatIntervalMs))
	}
	if c.OffsetsTopicPartitions < 1 {
		bad("offsets.topic.num.partitions", c.OffsetsTopicPartitions, "must be > 0")
	}
	return errors.Join(errs...)
}
