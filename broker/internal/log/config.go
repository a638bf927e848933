// Per-partition log configuration, using Kafka's topic-level config names
// and defaults. A Config is a plain struct so the broker can fill it from
// topic configs; Validate reports every bad field at once.

package log

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Config holds the topic-level settings that govern one partition's log.
// Field comments give the Kafka key and the default.
type Config struct {
	// segment.bytes, default 1 GiB: roll when the active segment would grow
	// past this. At least 14, at most 2147483647 (index positions are 32-bit).
	SegmentBytes int64
	// segment.ms, default 7 days: roll when the active segment's first batch
	// was appended longer ago than this (checked on append).
	SegmentMs int64
	// retention.ms, default 7 days, -1 unlimited: a closed segment is
	// deleted once its largest timestamp is older than now minus this.
	RetentionMs int64
	// retention.bytes, default -1 (unlimited): delete the oldest closed
	// segments while the log would still hold at least this many bytes.
	RetentionBytes int64
	// index.interval.bytes, default 4096: at most one offset index entry
	// per this many bytes of log.
	IndexIntervalBytes int32
	// flush.messages, default math.MaxInt64: fsync after this many messages.
	FlushMessages int64
	// flush.ms, default math.MaxInt64: fsync once the last fsync is older
	// than this (checked on append and by Tick).
	FlushMs int64
	// FsyncAlways fsyncs every append before it returns (the broker's
	// --fsync=always mode). Not a Kafka key.
	FsyncAlways bool
	// cleanup.policy, default "delete": "delete", "compact" or
	// "compact,delete" (either order).
	CleanupPolicy string
	// delete.retention.ms, default 1 day: how long tombstones survive after
	// their segment was first cleaned.
	DeleteRetentionMs int64
	// min.compaction.lag.ms, default 0: segments holding records newer
	// than this are not compacted.
	MinCompactionLagMs int64
	// min.cleanable.dirty.ratio, default 0.5: compact only when at least
	// this fraction of the closed log has not been cleaned yet.
	MinCleanableDirtyRatio float64
}

const (
	day  = 24 * 60 * 60 * 1000
	week = 7 * day
)

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:           1 << 30,
		SegmentMs:              week,
		RetentionMs:            week,
		RetentionBytes:         -1,
		IndexIntervalBytes:     4096,
		FlushMessages:          math.MaxInt64,
		FlushMs:                math.MaxInt64,
		CleanupPolicy:          "delete",
		DeleteRetentionMs:      day,
		MinCompactionLagMs:     0,
		MinCleanableDirtyRatio: 0.5,
	}
}

// minSegmentBytes is Kafka's lower bound for segment.bytes.
const minSegmentBytes = 14

// Validate returns every invalid field, each naming the Kafka key, the value
// and what would be accepted, joined with errors.Join.
func (c Config) Validate() error {
	var errs []error
	bad := func(key string, val any, want string) {
		errs = append(errs, fmt.Errorf("%s=%v: %s", key, val, want))
	}
	if c.SegmentBytes < minSegmentBytes || c.SegmentBytes > math.MaxInt32 {
		bad("segment.bytes", c.SegmentBytes, fmt.Sprintf("must be between %d and %d", minSegmentBytes, math.MaxInt32))
	}
	if c.SegmentMs < 1 {
		bad("segment.ms", c.SegmentMs, "must be at least 1")
	}
	if c.RetentionMs < -1 {
		bad("retention.ms", c.RetentionMs, "must be -1 (unlimited) or at least 0")
	}
	if c.RetentionBytes < -1 {
		bad("retention.bytes", c.RetentionBytes, "must be -1 (unlimited) or at least 0")
	}
	if c.IndexIntervalBytes < 0 {
		bad("index.interval.bytes", c.IndexIntervalBytes, "must be at least 0")
	}
	if c.FlushMessages < 1 {
		bad("flush.messages", c.FlushMessages, "must be at least 1")
	}
	if c.FlushMs < 0 {
		bad("flush.ms", c.FlushMs, "must be at least 0")
	}
	if _, _, err := parsePolicy(c.CleanupPolicy); err != nil {
		bad("cleanup.policy", fmt.Sprintf("%q", c.CleanupPolicy), err.Error())
	}
	if c.DeleteRetentionMs < 0 {
		bad("delete.retention.ms", c.DeleteRetentionMs, "must be at least 0")
	}
	if c.MinCompactionLagMs < 0 {
		bad("min.compaction.lag.ms", c.MinCompactionLagMs, "must be at least 0")
	}
	if !(c.MinCleanableDirtyRatio >= 0 && c.MinCleanableDirtyRatio <= 1) { // also rejects NaN
		bad("min.cleanable.dirty.ratio", c.MinCleanableDirtyRatio, "must be between 0 and 1")
	}
	return errors.Join(errs...)
}

// parsePolicy splits cleanup.policy into its two switches.
func parsePolicy(p string) (del, compact bool, err error) {
	for part := range strings.SplitSeq(p, ",") {
		switch strings.TrimSpace(part) {
		case "delete":
			del = true
		case "compact":
			compact = true
		default:
			return false, false, errors.New(`must be "delete", "compact" or "compact,delete"`)
		}
	}
	return del, compact, nil
}

func (c Config) deletes() bool  { d, _, _ := parsePolicy(c.CleanupPolicy); return d }
func (c Config) compacts() bool { _, k, _ := parsePolicy(c.CleanupPolicy); return k }
