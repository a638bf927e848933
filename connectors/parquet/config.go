package parquet

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/connect"
)

// Config is the sink's configuration, in the key names of Confluent's
// storage sinks (S3, HDFS) with the Parquet format. Each field states its
// key and default.
type Config struct {
	// Dir is the local directory of store.url (file:///path). Required.
	Dir string
	// TopicsDir is the directory under Dir files go to (topics.dir).
	// Default topics.
	TopicsDir string
	// FlushSize is the records per topic partition after which its files
	// are committed (flush.size). Required.
	FlushSize int
	// RotateInterval commits a topic partition's files once a record's
	// time is this far past the first record of the files
	// (rotate.interval.ms). Default -1: off.
	RotateInterval time.Duration
	// RotateSchedule commits files on wall-clock boundaries of this
	// length (rotate.schedule.interval.ms); files then depend on timing,
	// so a restart may cut them differently. Default -1: off.
	RotateSchedule time.Duration
	// Partitioner is default, field, time, daily or hourly
	// (partitioner.class, Confluent's class names accepted). Default
	// default.
	Partitioner string
	// PartitionFields are the value fields of the field partitioner
	// (partition.field.name).
	PartitionFields []string
	// PathFormat is the time partitioner's directory pattern, in Joda
	// syntax (path.format), e.g. 'year'=YYYY/'month'=MM/'day'=dd.
	PathFormat string
	// PartitionDuration is the time partitioner's bucket
	// (partition.duration.ms).
	PartitionDuration time.Duration
	// Timezone of the time partitioner (timezone). Required for it.
	Timezone *time.Location
	// TimestampExtractor is Record, RecordField or Wallclock
	// (timestamp.extractor). Default Record.
	TimestampExtractor string
	// TimestampField is the RecordField extractor's field
	// (timestamp.field). Default timestamp.
	TimestampField string
	// Codec is snappy, gzip, zstd, lz4 or none (parquet.codec). Default
	// snappy.
	Codec string
	// Compatibility is NONE (any schema change commits the files and starts
	// new ones) or BACKWARD (records of an older schema are written with
	// the newest one) (schema.compatibility). Default NONE.
	Compatibility string
	// DirectoryDelim and FileDelim join path and file name parts
	// (directory.delim, file.delim). Defaults / and +.
	DirectoryDelim, FileDelim string
	// OffsetPad is the width of the offset in file names
	// (filename.offset.zero.pad.width). Default 10.
	OffsetPad int
	// IgnoreNulls skips records with a null value (behavior.on.null.values
	// = ignore) instead of failing (fail). Default fail.
	IgnoreNulls bool
}

const (
	keyStoreURL       = "store.url"
	keyTopicsDir      = "topics.dir"
	keyFlushSize      = "flush.size"
	keyRotateInterval = "rotate.interval.ms"
	keyRotateSchedule = "rotate.schedule.interval.ms"
	keyPartitioner    = "partitioner.class"
	keyPartitionField = "partition.field.name"
	keyPathFormat     = "path.format"
	keyPartitionDur   = "partition.duration.ms"
	keyLocale         = "locale"
	keyTimezone       = "timezone"
	keyTSExtractor    = "timestamp.extractor"
	keyTSField        = "timestamp.field"
	keyCodec          = "parquet.codec"
	keyCompatibility  = "schema.compatibility"
	keyDirDelim       = "directory.delim"
	keyFileDelim      = "file.delim"
	keyOffsetPad      = "filename.offset.zero.pad.width"
	keyNullValues     = "behavior.on.null.values"
	keyFormatClass    = "format.class"
)

// Partitioner names, with Confluent's classes as aliases.
var partitioners = map[string]string{
	"default": "default", "io.confluent.connect.storage.partitioner.DefaultPartitioner": "default", "DefaultPartitioner": "default",
	"field": "field", "io.confluent.connect.storage.partitioner.FieldPartitioner": "field", "FieldPartitioner": "field",
	"time": "time", "io.confluent.connect.storage.partitioner.TimeBasedPartitioner": "time", "TimeBasedPartitioner": "time",
	"daily": "daily", "io.confluent.connect.storage.partitioner.DailyPartitioner": "daily", "DailyPartitioner": "daily",
	"hourly": "hourly", "io.confluent.connect.storage.partitioner.HourlyPartitioner": "hourly", "HourlyPartitioner": "hourly",
}

var configDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: keyStoreURL, Required: true, Importance: connect.ImportanceHigh, Validator: connect.NonEmpty(),
		Documentation: "Where files go: file:///absolute/path of a local directory."}).
	Define(connect.ConfigKey{Name: keyTopicsDir, Default: "topics", Validator: connect.NonEmpty(),
		Documentation: "Directory under store.url holding topics/<topic>/<partition>/ files."}).
	Define(connect.ConfigKey{Name: keyFlushSize, Type: connect.TypeInt, Required: true, Importance: connect.ImportanceHigh, Validator: connect.AtLeast(1),
		Documentation: "Records of a topic partition after which its files are committed."}).
	Define(connect.ConfigKey{Name: keyRotateInterval, Type: connect.TypeLong, Default: "-1", Validator: connect.AtLeast(-1),
		Documentation: "Commit a partition's files once a record's time is this many milliseconds after the files' first record; -1 turns it off."}).
	Define(connect.ConfigKey{Name: keyRotateSchedule, Type: connect.TypeLong, Default: "-1", Validator: connect.AtLeast(-1),
		Documentation: "Commit open files on wall-clock boundaries of this many milliseconds; -1 turns it off. Files then depend on timing, so exactly-once file names no longer hold across restarts."}).
	Define(connect.ConfigKey{Name: keyPartitioner, Default: "io.confluent.connect.storage.partitioner.DefaultPartitioner",
		Documentation: "default (partition=<kafka partition>), field (<field>=<value>/...), time (path.format), daily or hourly; Confluent's class names work."}).
	Define(connect.ConfigKey{Name: keyPartitionField, Type: connect.TypeList,
		Documentation: "Value fields the field partitioner names directories after."}).
	Define(connect.ConfigKey{Name: keyPathFormat,
		Documentation: "Time partitioner directories, a Joda pattern such as 'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH."}).
	Define(connect.ConfigKey{Name: keyPartitionDur, Type: connect.TypeLong, Default: "-1",
		Documentation: "Time partitioner bucket length in milliseconds."}).
	Define(connect.ConfigKey{Name: keyLocale, Documentation: "Accepted for compatibility; directory names use digits only."}).
	Define(connect.ConfigKey{Name: keyTimezone, Documentation: "Time zone of the time partitioner, e.g. UTC or Europe/Paris."}).
	Define(connect.ConfigKey{Name: keyTSExtractor, Default: "Record", Validator: connect.OneOf("Record", "RecordField", "Wallclock"),
		Documentation: "Time of a record for the time partitioner and rotate.interval.ms: its Kafka timestamp (Record), a value field (RecordField) or now (Wallclock)."}).
	Define(connect.ConfigKey{Name: keyTSField, Default: "timestamp",
		Documentation: "Value field the RecordField extractor reads: int64 milliseconds, a Timestamp, Debezium's Timestamp/MicroTimestamp/ZonedTimestamp."}).
	Define(connect.ConfigKey{Name: keyCodec, Default: "snappy", Validator: connect.OneOf("snappy", "gzip", "zstd", "lz4", "none", "uncompressed"),
		Documentation: "Page compression (lz4 writes LZ4_RAW)."}).
	Define(connect.ConfigKey{Name: keyCompatibility, Default: "NONE", Validator: connect.OneOf("NONE", "BACKWARD"),
		Documentation: "NONE: a record with another schema commits the files and starts new ones. BACKWARD: records whose schema the newest one extends are written with the newest."}).
	Define(connect.ConfigKey{Name: keyDirDelim, Default: "/", Validator: connect.NonEmpty(), Documentation: "Joins directory levels."}).
	Define(connect.ConfigKey{Name: keyFileDelim, Default: "+", Validator: connect.NonEmpty(), Documentation: "Joins the parts of file names."}).
	Define(connect.ConfigKey{Name: keyOffsetPad, Type: connect.TypeInt, Default: "10", Validator: connect.Between(1, 20),
		Documentation: "Digits of the start offset in file names."}).
	Define(connect.ConfigKey{Name: keyNullValues, Default: "fail", Validator: connect.OneOf("fail", "ignore"),
		Documentation: "What a record with a null value (a tombstone) does: fail the task, or is skipped."}).
	Define(connect.ConfigKey{Name: keyFormatClass, Default: "parquet",
		Documentation: "Accepted for compatibility: must be a Parquet format (io.confluent.connect.s3.format.parquet.ParquetFormat, ...)."})

// ParseConfig reads and validates a config map.
func ParseConfig(m map[string]string) (Config, error) {
	c, err := configDef.Parse(m)
	if err != nil {
		return Config{}, err
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, connect.FieldError{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	cfg := Config{
		TopicsDir: c.String(keyTopicsDir), FlushSize: c.Int(keyFlushSize),
		RotateInterval: c.Millis(keyRotateInterval), RotateSchedule: c.Millis(keyRotateSchedule),
		PartitionFields: c.List(keyPartitionField), PathFormat: c.String(keyPathFormat),
		PartitionDuration: c.Millis(keyPartitionDur), TimestampExtractor: c.String(keyTSExtractor),
		TimestampField: c.String(keyTSField), Codec: strings.ToLower(c.String(keyCodec)),
		Compatibility: strings.ToUpper(c.String(keyCompatibility)), DirectoryDelim: c.String(keyDirDelim),
		FileDelim: c.String(keyFileDelim), OffsetPad: c.Int(keyOffsetPad), IgnoreNulls: c.String(keyNullValues) == "ignore",
	}
	if cfg.Codec == "uncompressed" {
		cfg.Codec = "none"
	}
	for _, e := range []string{"Record", "RecordField", "Wallclock"} {
		if strings.EqualFold(cfg.TimestampExtractor, e) {
			cfg.TimestampExtractor = e
		}
	}
	raw := c.String(keyStoreURL)
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		bad(keyStoreURL, "invalid value %q: %v; want file:///absolute/path", raw, err)
	case u.Scheme != "file" || u.Host != "" && u.Host != "localhost" || !filepath.IsAbs(u.Path):
		bad(keyStoreURL, "invalid value %q: want file:///absolute/path (only local directories are supported)", raw)
	default:
		cfg.Dir = filepath.Clean(u.Path)
	}
	name, ok := partitioners[c.String(keyPartitioner)]
	if !ok {
		bad(keyPartitioner, "invalid value %q: want default, field, time, daily or hourly (or Confluent's DefaultPartitioner, FieldPartitioner, TimeBasedPartitioner, DailyPartitioner, HourlyPartitioner)", c.String(keyPartitioner))
	}
	cfg.Partitioner = name
	switch name {
	case "field":
		if len(cfg.PartitionFields) == 0 {
			bad(keyPartitionField, "missing: the field partitioner needs the value fields to partition by")
		}
	case "daily":
		cfg.PathFormat, cfg.PartitionDuration = "'year'=YYYY/'month'=MM/'day'=dd", 24*time.Hour
	case "hourly":
		cfg.PathFormat, cfg.PartitionDuration = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", time.Hour
	}
	if name == "time" || name == "daily" || name == "hourly" {
		if name == "time" && cfg.PartitionDuration <= 0 {
			bad(keyPartitionDur, "invalid value %d: the time partitioner needs a bucket length in milliseconds (e.g. 3600000)", cfg.PartitionDuration.Milliseconds())
		}
		if _, err := compilePathFormat(cfg.PathFormat); err != nil {
			bad(keyPathFormat, "invalid value %q: %v", cfg.PathFormat, err)
		}
		tz := c.String(keyTimezone)
		if tz == "" {
			bad(keyTimezone, "missing: the time partitioner needs a time zone (e.g. UTC)")
		} else if loc, err := time.LoadLocation(tz); err != nil {
			bad(keyTimezone, "invalid value %q: not a time zone (e.g. UTC, Europe/Paris)", tz)
		} else {
			cfg.Timezone = loc
		}
	}
	if f := c.String(keyFormatClass); !strings.Contains(strings.ToLower(f), "parquet") {
		bad(keyFormatClass, "invalid value %q: this sink writes Parquet only (io.confluent.connect.s3.format.parquet.ParquetFormat)", f)
	}
	if cfg.RotateInterval == 0 {
		bad(keyRotateInterval, "invalid value 0: give a positive interval or -1")
	}
	if cfg.RotateSchedule == 0 {
		bad(keyRotateSchedule, "invalid value 0: give a positive interval or -1")
	}
	if strings.ContainsAny(cfg.FileDelim, "/") {
		bad(keyFileDelim, "invalid value %q: must not contain /", cfg.FileDelim)
	}
	if err := connect.ConfigErrors(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// ErrUnwritable is the error for an output directory the sink cannot
// write.
var ErrUnwritable = errors.New("parquet: output directory not writable")

// checkWritable creates the topics directory and a probe file in it.
func (c Config) checkWritable() error {
	dir := filepath.Join(c.Dir, c.TopicsDir)
	fail := func(err error) error {
		return fmt.Errorf("%w: store.url %s: %v; make %s writable by the worker, or point store.url elsewhere", ErrUnwritable, "file://"+c.Dir, err, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	probe, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fail(err)
	}
	name := probe.Name()
	probe.Close()
	if err := os.Remove(name); err != nil {
		return fail(err)
	}
	return nil
}
