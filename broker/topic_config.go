package broker

// Topic-level configuration: Kafka's topic config names, defaults, broker
// synonyms and validation. DescribeConfigs, CreateTopics, AlterConfigs and
// IncrementalAlterConfigs all go through this one table.
//
// Differences from Apache Kafka, on purpose:
//   - compression.type accepts only "producer": batches are stored exactly as
//     the producer sent them, so the broker never recompresses.
//   - replication settings accept only what a single node can honour.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/log"
	"github.com/tributary-streams/tributary/broker/internal/record"
)

type topicConfigDef struct {
	name     string
	def      string
	synonym  string // the broker-level key that sets the default
	typ      int8   // kmsg ConfigType: 1 bool, 2 string, 3 int, 4 short, 5 long, 6 double, 7 list
	validate func(v string) error
	doc      string
}

func validateLong(min int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < min {
			return fmt.Errorf("accepted: an integer >= %d", min)
		}
		return nil
	}
}

func validateInt(min int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < min {
			return fmt.Errorf("accepted: an integer %d..%d", min, math.MaxInt32)
		}
		return nil
	}
}

func validateOneOf(values ...string) func(string) error {
	return func(v string) error {
		for _, a := range values {
			if v == a {
				return nil
			}
		}
		return fmt.Errorf("accepted: %s", strings.Join(values, ", "))
	}
}

func validateRatio(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		return errors.New("accepted: a number between 0 and 1")
	}
	return nil
}

func validateCleanupPolicy(v string) error {
	if v == "" {
		return errors.New("accepted: delete, compact, or compact,delete")
	}
	for _, p := range strings.Split(v, ",") {
		switch strings.TrimSpace(p) {
		case "delete", "compact":
		default:
			return errors.New("accepted: delete, compact, or compact,delete")
		}
	}
	return nil
}

func validateBool(v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return errors.New("accepted: true or false")
	}
	return nil
}

const maxLong = "9223372036854775807"

var topicConfigDefs = []topicConfigDef{
	{"cleanup.policy", "delete", "log.cleanup.policy", 7, validateCleanupPolicy, "delete old segments, compact by key, or both"},
	{"compression.type", "producer", "compression.type", 2, validateOneOf("producer"), "batches are stored as the producer compressed them"},
	{"delete.retention.ms", "86400000", "log.cleaner.delete.retention.ms", 5, validateLong(0), "how long tombstones survive compaction"},
	{"flush.messages", maxLong, "log.flush.interval.messages", 5, validateLong(1), "fsync after this many messages"},
	{"flush.ms", maxLong, "log.flush.interval.ms", 5, validateLong(0), "fsync when the last fsync is older than this"},
	{"index.interval.bytes", "4096", "log.index.interval.bytes", 3, validateInt(0), "bytes between offset index entries"},
	{"max.message.bytes", "1048588", "message.max.bytes", 3, validateInt(0), "largest record batch accepted"},
	{"message.timestamp.type", "CreateTime", "log.message.timestamp.type", 2, validateOneOf("CreateTime", "LogAppendTime"), "use the producer's timestamp or the broker's append time"},
	{"message.timestamp.before.max.ms", maxLong, "log.message.timestamp.before.max.ms", 5, validateLong(0), "reject CreateTime timestamps further in the past"},
	{"message.timestamp.after.max.ms", maxLong, "log.message.timestamp.after.max.ms", 5, validateLong(0), "reject CreateTime timestamps further in the future"},
	{"min.cleanable.dirty.ratio", "0.5", "log.cleaner.min.cleanable.ratio", 6, validateRatio, "compact when this share of the log is uncleaned"},
	{"min.compaction.lag.ms", "0", "log.cleaner.min.compaction.lag.ms", 5, validateLong(0), "records younger than this are not compacted"},
	{"min.insync.replicas", "1", "min.insync.replicas", 3, validateOneOf("1"), "a single node holds one replica"},
	{"preallocate", "false", "log.preallocate", 1, validateBool, "accepted for compatibility; segments are not preallocated"},
	{"retention.bytes", "-1", "log.retention.bytes", 5, validateLong(-1), "delete old segments beyond this size; -1 keeps all"},
	{"retention.ms", "604800000", "log.retention.ms", 5, validateLong(-1), "delete segments older than this; -1 keeps all"},
	{"segment.bytes", "1073741824", "log.segment.bytes", 3, validateInt(14), "roll the active segment at this size"},
	{"segment.index.bytes", "10485760", "log.index.size.max.bytes", 3, validateInt(4), "accepted for compatibility"},
	{"segment.ms", "604800000", "log.roll.ms", 5, validateLong(1), "roll the active segment after this long"},
	{"unclean.leader.election.enable", "false", "unclean.leader.election.enable", 1, validateBool, "accepted for compatibility; a single node has no replicas"},
}

var topicConfigByName = func() map[string]*topicConfigDef {
	m := make(map[string]*topicConfigDef, len(topicConfigDefs))
	for i := range topicConfigDefs {
		m[topicConfigDefs[i].name] = &topicConfigDefs[i]
	}
	return m
}()

// errInvalidConfig is returned for a topic config that is unknown or has a
// bad value; the message names the key, the value and what is accepted.
var errInvalidConfig = errors.New("invalid config")

func validateTopicConfig(key, value string) error {
	d, ok := topicConfigByName[key]
	if !ok {
		return fmt.Errorf("%w: unknown topic config %q", errInvalidConfig, key)
	}
	if err := d.validate(value); err != nil {
		return fmt.Errorf("%w: %s=%q: %v", errInvalidConfig, key, value, err)
	}
	return nil
}

// effectiveTopicConfig resolves one key: topic override, else broker default.
func effectiveTopicConfig(overrides, defaults map[string]string, key string) string {
	if v, ok := overrides[key]; ok {
		return v
	}
	if v, ok := defaults[key]; ok {
		return v
	}
	return topicConfigByName[key].def
}

// topicSettings is the parsed form the produce path and the log need.
type topicSettings struct {
	log                  log.Config
	maxMessageBytes      int32
	logAppendTime        bool
	timestampBeforeMaxMs int64
	timestampAfterMaxMs  int64
	compacted            bool
}

func parseTopicSettings(overrides, defaults map[string]string, fsyncAlways bool) topicSettings {
	get := func(k string) string { return effectiveTopicConfig(overrides, defaults, k) }
	i64 := func(k string) int64 { n, _ := strconv.ParseInt(get(k), 10, 64); return n }
	f64 := func(k string) float64 { f, _ := strconv.ParseFloat(get(k), 64); return f }
	lc := log.DefaultConfig()
	lc.SegmentBytes = i64("segment.bytes")
	lc.SegmentMs = i64("segment.ms")
	lc.RetentionMs = i64("retention.ms")
	lc.RetentionBytes = i64("retention.bytes")
	lc.IndexIntervalBytes = int32(i64("index.interval.bytes"))
	lc.FlushMessages = i64("flush.messages")
	lc.FlushMs = i64("flush.ms")
	lc.FsyncAlways = fsyncAlways
	lc.CleanupPolicy = strings.ReplaceAll(get("cleanup.policy"), " ", "")
	lc.DeleteRetentionMs = i64("delete.retention.ms")
	lc.MinCompactionLagMs = i64("min.compaction.lag.ms")
	lc.MinCleanableDirtyRatio = f64("min.cleanable.dirty.ratio")
	return topicSettings{
		log:                  lc,
		maxMessageBytes:      int32(i64("max.message.bytes")),
		logAppendTime:        get("message.timestamp.type") == "LogAppendTime",
		timestampBeforeMaxMs: i64("message.timestamp.before.max.ms"),
		timestampAfterMaxMs:  i64("message.timestamp.after.max.ms"),
		compacted:            strings.Contains(lc.CleanupPolicy, "compact"),
	}
}

// timestampAcceptable applies message.timestamp.{before,after}.max.ms to a
// CreateTime batch. Kafka checks every record, so the lower bound is held
// against each record's timestamp (decoding the batch, only when that bound
// is set); the upper bound needs only the batch's MaxTimestamp.
func (s *topicSettings) timestampAcceptable(batch []byte, h record.Header, now time.Time) (bool, error) {
	nowMs := now.UnixMilli()
	if s.timestampAfterMaxMs != math.MaxInt64 && h.MaxTimestamp > nowMs+s.timestampAfterMaxMs {
		return false, nil
	}
	if s.timestampBeforeMaxMs == math.MaxInt64 {
		return true, nil
	}
	lowest := nowMs - s.timestampBeforeMaxMs
	if h.MaxTimestamp < lowest {
		return false, nil
	}
	recs, err := record.Records(batch)
	if err != nil {
		return false, err
	}
	for _, r := range recs {
		if h.RecordTimestamp(r) < lowest {
			return false, nil
		}
	}
	return true, nil
}
