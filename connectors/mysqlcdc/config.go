package mysqlcdc

import (
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/connect"
)

// Config is the connector's configuration, in Debezium's MySQL connector
// key names. Each field states its key and default.
type Config struct {
	// Hostname of the server (database.hostname). Required.
	Hostname string
	// Port of the server (database.port). Default 3306.
	Port int
	// User to connect as (database.user). Required. It needs SELECT,
	// RELOAD, SHOW DATABASES, REPLICATION SLAVE and REPLICATION CLIENT.
	User string
	// Password of User (database.password). Default "".
	Password string
	// ServerID is the replica id the connector registers with
	// (database.server.id); it must differ from every server and replica.
	// Default: derived from TopicPrefix, in 5400..6399 (Debezium's range).
	ServerID uint32
	// TopicPrefix names the logical server: topics are
	// <topic.prefix>.<db>.<table> (topic.prefix). Required.
	TopicPrefix string
	// Flavor is mysql or mariadb (flavor). Default "": detected.
	Flavor string

	// DatabaseInclude, DatabaseExclude, TableInclude, TableExclude and
	// ColumnExclude are comma-separated regular expressions
	// (database.include.list, database.exclude.list, table.include.list,
	// table.exclude.list, column.exclude.list). Default: all captured.
	DatabaseInclude, DatabaseExclude, TableInclude, TableExclude, ColumnExclude string
	// KeyColumns overrides the key of tables (message.key.columns):
	// "db.table:col1,col2;db.other:col". Default: the primary key.
	KeyColumns string

	// SnapshotMode is initial, initial_only, no_data (schema_only),
	// when_needed or never (snapshot.mode). Default initial.
	SnapshotMode string
	// SnapshotLocking is minimal (a global read lock while the position
	// and definitions are read) or none (snapshot.locking.mode). Default
	// minimal.
	SnapshotLocking string
	// FetchSize is the rows per snapshot chunk (snapshot.fetch.size).
	// Default 10000.
	FetchSize int
	// SnapshotThreads is how many tables are copied at once
	// (snapshot.max.threads). Default 1.
	SnapshotThreads int

	// Tombstones sends a tombstone after each delete
	// (tombstones.on.delete). Default true.
	Tombstones bool
	// Heartbeat is how often a heartbeat record carries the position
	// (heartbeat.interval.ms). Default 0: off.
	Heartbeat time.Duration
	// HeartbeatTopicsPrefix prefixes the heartbeat topic
	// <prefix>.<topic.prefix> (heartbeat.topics.prefix). Default
	// __debezium-heartbeat.
	HeartbeatTopicsPrefix string
	// IncludeSchemaChanges sends DDL to the topic <topic.prefix>
	// (include.schema.changes). Default true.
	IncludeSchemaChanges bool
	// SkippedOperations are op codes not sent: c, u, d, t, or none
	// (skipped.operations). Default t.
	SkippedOperations []string

	// DecimalMode is precise, double or string (decimal.handling.mode).
	// Default precise.
	DecimalMode string
	// BigintUnsignedMode is long or precise
	// (bigint.unsigned.handling.mode). Default long.
	BigintUnsignedMode string
	// BinaryMode is bytes, base64, base64-url-safe or hex
	// (binary.handling.mode). Default bytes.
	BinaryMode string
	// TimePrecisionMode must be adaptive_time_microseconds
	// (time.precision.mode), the only mode supported. Default
	// adaptive_time_microseconds.
	TimePrecisionMode string

	// HistoryBootstrap are the brokers of the schema history topic and of
	// the topics the connector creates
	// (schema.history.internal.kafka.bootstrap.servers). Required.
	HistoryBootstrap []string
	// HistoryTopic is the schema history topic
	// (schema.history.internal.kafka.topic). Required.
	HistoryTopic string
	// HistorySecurity are the security keys of the schema history client
	// (schema.history.internal.producer.* and .consumer.*, by their
	// unprefixed names; see history_security.go). Default none: PLAINTEXT.
	HistorySecurity map[string]string
	// SkipUnparseableDDL skips DDL the parser cannot read instead of
	// failing (schema.history.internal.skip.unparseable.ddl). Default false.
	SkipUnparseableDDL bool

	// TopicPartitions and TopicReplication are used for the topics the
	// connector creates (topic.creation.default.partitions,
	// topic.creation.default.replication.factor). Default -1: the
	// broker's defaults.
	TopicPartitions  int32
	TopicReplication int16
	ConnectTimeout   time.Duration // connect.timeout.ms. Default 30000.
	MaxBatchSize     int           // max.batch.size. Default 2048.
	MaxQueueSize     int           // max.queue.size. Default 8192.
	PollInterval     time.Duration // poll.interval.ms. Default 500.
}

// Config keys.
const (
	keyHostname         = "database.hostname"
	keyPort             = "database.port"
	keyUser             = "database.user"
	keyPassword         = "database.password"
	keyServerID         = "database.server.id"
	keyTopicPrefix      = "topic.prefix"
	keyFlavor           = "flavor"
	keyDBInclude        = "database.include.list"
	keyDBExclude        = "database.exclude.list"
	keyTableInclude     = "table.include.list"
	keyTableExclude     = "table.exclude.list"
	keyColumnExclude    = "column.exclude.list"
	keyKeyColumns       = "message.key.columns"
	keySnapshotMode     = "snapshot.mode"
	keySnapshotLocking  = "snapshot.locking.mode"
	keyFetchSize        = "snapshot.fetch.size"
	keySnapshotThreads  = "snapshot.max.threads"
	keyTombstones       = "tombstones.on.delete"
	keyHeartbeat        = "heartbeat.interval.ms"
	keyHeartbeatPrefix  = "heartbeat.topics.prefix"
	keySchemaChanges    = "include.schema.changes"
	keySkippedOps       = "skipped.operations"
	keyDecimalMode      = "decimal.handling.mode"
	keyBigintMode       = "bigint.unsigned.handling.mode"
	keyBinaryMode       = "binary.handling.mode"
	keyTimePrecision    = "time.precision.mode"
	keyHistoryBootstrap = "schema.history.internal.kafka.bootstrap.servers"
	keyHistoryTopic     = "schema.history.internal.kafka.topic"
	keySkipBadDDL       = "schema.history.internal.skip.unparseable.ddl"
	keyTopicPartitions  = "topic.creation.default.partitions"
	keyTopicReplication = "topic.creation.default.replication.factor"
	keyConnectTimeout   = "connect.timeout.ms"
	keyMaxBatch         = "max.batch.size"
	keyMaxQueue         = "max.queue.size"
	keyPollInterval     = "poll.interval.ms"
)

// configDef defines the keys, with Debezium's defaults.
var configDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: keyHostname, Required: true, Importance: connect.ImportanceHigh, Validator: connect.NonEmpty(),
		Documentation: "Host name or address of the MySQL or MariaDB server."}).
	Define(connect.ConfigKey{Name: keyPort, Type: connect.TypeInt, Default: "3306", Importance: connect.ImportanceHigh, Validator: connect.Between(1, 65535),
		Documentation: "Port of the server."}).
	Define(connect.ConfigKey{Name: keyUser, Required: true, Importance: connect.ImportanceHigh, Validator: connect.NonEmpty(),
		Documentation: "User to connect as: it needs SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE and REPLICATION CLIENT."}).
	Define(connect.ConfigKey{Name: keyPassword, Type: connect.TypePassword, Importance: connect.ImportanceHigh,
		Documentation: "Password of the user."}).
	Define(connect.ConfigKey{Name: keyServerID, Type: connect.TypeLong, Default: "0", Validator: connect.Between(0, 1<<32-1),
		Documentation: "Replica id the connector registers with; unique among the servers and replicas. 0 derives one from topic.prefix in 5400..6399."}).
	Define(connect.ConfigKey{Name: keyTopicPrefix, Required: true, Importance: connect.ImportanceHigh, Validator: connect.NonEmpty(),
		Documentation: "Logical name of the server: topics are <topic.prefix>.<database>.<table>, and the offsets and schema history are kept under it."}).
	Define(connect.ConfigKey{Name: keyFlavor, Validator: connect.OneOf("", "mysql", "mariadb"),
		Documentation: "mysql or mariadb; empty detects it from the server's version."}).
	Define(connect.ConfigKey{Name: keyDBInclude, Documentation: "Comma-separated regular expressions of the databases to capture (default all but the system databases)."}).
	Define(connect.ConfigKey{Name: keyDBExclude, Documentation: "Comma-separated regular expressions of databases not to capture."}).
	Define(connect.ConfigKey{Name: keyTableInclude, Documentation: "Comma-separated regular expressions of <database>.<table> to capture."}).
	Define(connect.ConfigKey{Name: keyTableExclude, Documentation: "Comma-separated regular expressions of <database>.<table> not to capture."}).
	Define(connect.ConfigKey{Name: keyColumnExclude, Documentation: "Comma-separated regular expressions of <database>.<table>.<column> left out of events."}).
	Define(connect.ConfigKey{Name: keyKeyColumns, Documentation: "Key columns of tables, overriding the primary key: <database>.<table>:<column>[,<column>...][;...]."}).
	Define(connect.ConfigKey{Name: keySnapshotMode, Default: "initial", Importance: connect.ImportanceHigh,
		Validator:     connect.OneOf("initial", "initial_only", "no_data", "schema_only", "when_needed", "never"),
		Documentation: "initial: snapshot when there is no offset, then stream; initial_only: snapshot, then stop; no_data: record the schema only, then stream; when_needed: snapshot also when the offset's binlog is gone; never: stream from the oldest binlog."}).
	Define(connect.ConfigKey{Name: keySnapshotLocking, Default: "minimal", Validator: connect.OneOf("minimal", "none"),
		Documentation: "minimal: a global read lock only while the binlog position and table definitions are read; none: no lock (only safe without concurrent DDL)."}).
	Define(connect.ConfigKey{Name: keyFetchSize, Type: connect.TypeInt, Default: "10000", Validator: connect.AtLeast(1),
		Documentation: "Rows per snapshot chunk."}).
	Define(connect.ConfigKey{Name: keySnapshotThreads, Type: connect.TypeInt, Default: "1", Validator: connect.Between(1, 64),
		Documentation: "Tables copied in parallel during a snapshot, each on its own connection."}).
	Define(connect.ConfigKey{Name: keyTombstones, Type: connect.TypeBoolean, Default: "true",
		Documentation: "Send a tombstone (null value) after each delete, so compacted topics drop the key."}).
	Define(connect.ConfigKey{Name: keyHeartbeat, Type: connect.TypeLong, Default: "0", Validator: connect.AtLeast(0),
		Documentation: "Milliseconds between heartbeat records, which commit the position while captured tables are idle; 0 turns them off."}).
	Define(connect.ConfigKey{Name: keyHeartbeatPrefix, Default: "__debezium-heartbeat", Validator: connect.NonEmpty(),
		Documentation: "Heartbeat records go to <prefix>.<topic.prefix>."}).
	Define(connect.ConfigKey{Name: keySchemaChanges, Type: connect.TypeBoolean, Default: "true",
		Documentation: "Send schema changes (DDL) to the topic <topic.prefix>."}).
	Define(connect.ConfigKey{Name: keySkippedOps, Type: connect.TypeList, Default: "t", Validator: connect.OneOf("c", "u", "d", "t", "none"),
		Documentation: "Operations not sent: c (create), u (update), d (delete), t (truncate), or none."}).
	Define(connect.ConfigKey{Name: keyDecimalMode, Default: "precise", Validator: connect.OneOf("precise", "double", "string"),
		Documentation: "DECIMAL as Connect Decimal (precise), float64 (double) or text (string)."}).
	Define(connect.ConfigKey{Name: keyBigintMode, Default: "long", Validator: connect.OneOf("long", "precise"),
		Documentation: "BIGINT UNSIGNED as int64 holding the value's 64 bits (long; values above 2^63-1 read negative) or Decimal(20,0) (precise)."}).
	Define(connect.ConfigKey{Name: keyBinaryMode, Default: "bytes", Validator: connect.OneOf("bytes", "base64", "base64-url-safe", "hex"),
		Documentation: "BINARY, VARBINARY and BLOB as bytes, or as base64, base64-url-safe or hex text."}).
	Define(connect.ConfigKey{Name: keyTimePrecision, Default: "adaptive_time_microseconds", Validator: connect.OneOf("adaptive_time_microseconds"),
		Documentation: "Temporal values as Debezium's adaptive_time_microseconds mode (the only mode supported)."}).
	Define(connect.ConfigKey{Name: keyHistoryBootstrap, Type: connect.TypeList, Required: true, Importance: connect.ImportanceHigh, Validator: connect.NonEmpty(),
		Documentation: "Brokers of the schema history topic; the connector also creates its data topics there, so name the worker's cluster."}).
	Define(connect.ConfigKey{Name: keyHistoryTopic, Required: true, Importance: connect.ImportanceHigh, Validator: connect.NonEmpty(),
		Documentation: "Schema history topic (one partition, created when missing). Give each connector its own."}).
	Define(connect.ConfigKey{Name: keySkipBadDDL, Type: connect.TypeBoolean, Default: "false",
		Documentation: "Skip table DDL the parser cannot read instead of failing."}).
	Define(connect.ConfigKey{Name: keyTopicPartitions, Type: connect.TypeInt, Default: "-1", Validator: connect.AtLeast(-1),
		Documentation: "Partitions of the table topics the connector creates (-1: the broker's num.partitions). A row's changes always go to one partition, by a hash of its key."}).
	Define(connect.ConfigKey{Name: keyTopicReplication, Type: connect.TypeShort, Default: "-1", Validator: connect.AtLeast(-1),
		Documentation: "Replication factor of the topics the connector creates (-1: the broker's default)."}).
	Define(connect.ConfigKey{Name: keyConnectTimeout, Type: connect.TypeLong, Default: "30000", Validator: connect.AtLeast(1),
		Documentation: "Milliseconds to wait for the database connection."}).
	Define(connect.ConfigKey{Name: keyMaxBatch, Type: connect.TypeInt, Default: "2048", Validator: connect.AtLeast(1),
		Documentation: "Most records returned by one poll."}).
	Define(connect.ConfigKey{Name: keyMaxQueue, Type: connect.TypeInt, Default: "8192", Validator: connect.AtLeast(1),
		Documentation: "Most changes read ahead of the runtime."}).
	Define(connect.ConfigKey{Name: keyPollInterval, Type: connect.TypeLong, Default: "500", Validator: connect.Between(1, 1000),
		Documentation: "Longest a poll waits for changes, in milliseconds."})

// Defaults returns the configuration with every default set.
func Defaults() Config {
	return Config{
		Port: 3306, SnapshotMode: "initial", SnapshotLocking: "minimal", FetchSize: 10000, SnapshotThreads: 1,
		Tombstones: true, HeartbeatTopicsPrefix: "__debezium-heartbeat", IncludeSchemaChanges: true,
		SkippedOperations: []string{"t"}, DecimalMode: "precise", BigintUnsignedMode: "long", BinaryMode: "bytes",
		TimePrecisionMode: "adaptive_time_microseconds", TopicPartitions: -1, TopicReplication: -1,
		ConnectTimeout: 30 * time.Second, MaxBatchSize: 2048, MaxQueueSize: 8192, PollInterval: 500 * time.Millisecond,
	}
}

// ParseConfig reads and validates a connector config map.
func ParseConfig(m map[string]string) (Config, error) {
	c, err := configDef.Parse(m)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		Hostname: c.String(keyHostname), Port: c.Int(keyPort), User: c.String(keyUser), Password: c.String(keyPassword),
		ServerID: uint32(c.Long(keyServerID)), TopicPrefix: c.String(keyTopicPrefix), Flavor: strings.ToLower(c.String(keyFlavor)),
		DatabaseInclude: c.String(keyDBInclude), DatabaseExclude: c.String(keyDBExclude),
		TableInclude: c.String(keyTableInclude), TableExclude: c.String(keyTableExclude),
		ColumnExclude: c.String(keyColumnExclude), KeyColumns: c.String(keyKeyColumns),
		SnapshotMode: strings.ToLower(c.String(keySnapshotMode)), SnapshotLocking: strings.ToLower(c.String(keySnapshotLocking)),
		FetchSize: c.Int(keyFetchSize), SnapshotThreads: c.Int(keySnapshotThreads),
		Tombstones: c.Bool(keyTombstones), Heartbeat: c.Millis(keyHeartbeat), HeartbeatTopicsPrefix: c.String(keyHeartbeatPrefix),
		IncludeSchemaChanges: c.Bool(keySchemaChanges), SkippedOperations: c.List(keySkippedOps),
		DecimalMode: strings.ToLower(c.String(keyDecimalMode)), BigintUnsignedMode: strings.ToLower(c.String(keyBigintMode)),
		BinaryMode: strings.ToLower(c.String(keyBinaryMode)), TimePrecisionMode: strings.ToLower(c.String(keyTimePrecision)),
		HistoryBootstrap: c.List(keyHistoryBootstrap), HistoryTopic: c.String(keyHistoryTopic), SkipUnparseableDDL: c.Bool(keySkipBadDDL),
		TopicPartitions: int32(c.Int(keyTopicPartitions)), TopicReplication: int16(c.Int(keyTopicReplication)),
		ConnectTimeout: c.Millis(keyConnectTimeout), MaxBatchSize: c.Int(keyMaxBatch), MaxQueueSize: c.Int(keyMaxQueue),
		PollInterval: c.Millis(keyPollInterval),
	}
	security, err := historySecurity(m)
	if err != nil {
		return Config{}, err
	}
	cfg.HistorySecurity = security
	if cfg.SnapshotMode == "schema_only" {
		cfg.SnapshotMode = "no_data"
	}
	if cfg.ServerID == 0 {
		cfg.ServerID = derivedServerID(cfg.TopicPrefix)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// derivedServerID picks a stable replica id in Debezium's 5400..6399.
func derivedServerID(prefix string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(prefix))
	return 5400 + h.Sum32()%1000
}

var topicName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Validate checks what spans keys or goes beyond a key's type, and
// returns every problem at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, connect.FieldError{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	if c.Hostname == "" {
		bad(keyHostname, "missing: name the MySQL or MariaDB server")
	}
	if c.User == "" {
		bad(keyUser, "missing: name the user to connect as")
	}
	if !topicName.MatchString(c.TopicPrefix) {
		bad(keyTopicPrefix, "invalid value %q: use letters, digits, '.', '_' and '-' only", c.TopicPrefix)
	}
	if c.DatabaseInclude != "" && c.DatabaseExclude != "" {
		bad(keyDBExclude, "cannot be used with %s: give one of them", keyDBInclude)
	}
	if c.TableInclude != "" && c.TableExclude != "" {
		bad(keyTableExclude, "cannot be used with %s: give one of them", keyTableInclude)
	}
	for key, list := range map[string]string{keyDBInclude: c.DatabaseInclude, keyDBExclude: c.DatabaseExclude,
		keyTableInclude: c.TableInclude, keyTableExclude: c.TableExclude, keyColumnExclude: c.ColumnExclude} {
		if _, err := compilePatterns(key, list); err != nil {
			bad(key, "%v", strings.TrimPrefix(err.Error(), key+": "))
		}
	}
	if _, err := parseKeyColumns(c.KeyColumns); err != nil {
		bad(keyKeyColumns, "%v", strings.TrimPrefix(err.Error(), keyKeyColumns+": "))
	}
	for _, op := range c.SkippedOperations {
		if op == "none" && len(c.SkippedOperations) > 1 {
			bad(keySkippedOps, "none cannot be combined with other operations")
		}
	}
	if c.ServerID == 0 {
		bad(keyServerID, "0 is not a valid replica id")
	}
	if c.HistoryTopic == "" || !topicName.MatchString(c.HistoryTopic) {
		bad(keyHistoryTopic, "invalid value %q: name a topic (letters, digits, '.', '_', '-')", c.HistoryTopic)
	}
	if len(c.HistoryBootstrap) == 0 {
		bad(keyHistoryBootstrap, "missing: name the brokers (host:port,...)")
	}
	if c.FetchSize < 1 || c.SnapshotThreads < 1 || c.MaxBatchSize < 1 || c.MaxQueueSize < 1 {
		bad(keyFetchSize, "snapshot.fetch.size, snapshot.max.threads, max.batch.size and max.queue.size must be at least 1")
	}
	return connect.ConfigErrors(errs...)
}

// filters compiles the capture filters (Validate has checked them).
func (c Config) filters() (*filters, error) {
	var f filters
	var err error
	var errs []error
	f.dbInclude, err = compilePatterns(keyDBInclude, c.DatabaseInclude)
	errs = append(errs, err)
	f.dbExclude, err = compilePatterns(keyDBExclude, c.DatabaseExclude)
	errs = append(errs, err)
	f.tableInclude, err = compilePatterns(keyTableInclude, c.TableInclude)
	errs = append(errs, err)
	f.tableExclude, err = compilePatterns(keyTableExclude, c.TableExclude)
	errs = append(errs, err)
	f.columnExclude, err = compilePatterns(keyColumnExclude, c.ColumnExclude)
	errs = append(errs, err)
	f.keyColumns, err = parseKeyColumns(c.KeyColumns)
	errs = append(errs, err)
	return &f, errors.Join(errs...)
}

func (c Config) types(flavor string) typeOptions {
	return typeOptions{decimalMode: c.DecimalMode, bigintMode: c.BigintUnsignedMode, binaryMode: c.BinaryMode, flavorMySQL: flavor == "mysql"}
}

func (c Config) skipped() map[byte]bool {
	out := map[byte]bool{}
	for _, op := range c.SkippedOperations {
		if len(op) == 1 {
			out[op[0]] = true
		}
	}
	return out
}

func (c Config) conn() conn {
	return conn{host: c.Hostname, port: c.Port, user: c.User, password: c.Password, timeout: c.ConnectTimeout}
}
