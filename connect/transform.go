package connect

// Transformation is a single message transform (Kafka's SMT): it changes,
// reroutes or drops one record at a time, on the source side after Poll or
// on the sink side before Put. Configured in a connector config as
//
//	transforms=addSource,route
//	transforms.addSource.type=org.apache.kafka.connect.transforms.InsertField$Value
//	transforms.addSource.static.field=source
//	transforms.addSource.static.value=orders-db
//	transforms.addSource.predicate=isOrders
//	transforms.addSource.negate=false
//	predicates=isOrders
//	predicates.isOrders.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches
//	predicates.isOrders.pattern=orders.*
//
// Contract:
//   - The runtime makes one instance per task and chain position, calls
//     Configure once with the transformation's keys stripped of their
//     "transforms.<alias>." prefix (and without type, predicate and
//     negate), then Apply from one goroutine at a time, then Close.
//   - Apply returns the transformed record, or nil to drop it (Filter).
//     It may modify r's own fields (Topic, Key, Value, schemas, Headers
//     as a slice value, ...) and return r, or return a new Record. It must
//     not modify, in place, values r refers to (a *data.Struct, a map, a
//     slice's elements, a byte slice, the Headers' backing array): build
//     new ones, since the task that made them may still hold them.
//     Headers' With and Without copy.
//   - On the source side r.Offset is -1; a transformation that needs a
//     Kafka offset (sink side only) returns an error there.
//   - An error means this record cannot be transformed: the runtime
//     applies errors.tolerance to it (skip, log, dead-letter queue on the
//     sink side, or fail the task).
type Transformation interface {
	// Config defines the transformation's keys.
	Config() *ConfigDef
	// Configure applies the config; an error (preferably a *ConfigError)
	// makes the connector config invalid.
	Configure(config map[string]string) error
	// Apply transforms one record. See the type's contract.
	Apply(r *Record) (*Record, error)
	// Close releases resources.
	Close() error
}

// Predicate decides whether a transformation applies to a record
// (`transforms.<alias>.predicate`, negated by `transforms.<alias>.negate`).
// Same life cycle as Transformation: Configure with the
// "predicates.<alias>." keys, Test from one goroutine at a time, Close.
// Test must not modify the record.
type Predicate interface {
	// Config defines the predicate's keys.
	Config() *ConfigDef
	// Configure applies the config.
	Configure(config map[string]string) error
	// Test reports whether the record matches.
	Test(r *Record) bool
	// Close releases resources.
	Close() error
}
