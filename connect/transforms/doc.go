// Package transforms holds Kafka Connect's single message transforms and
// predicates, under Kafka's class names so that existing connector
// configs run unchanged. Importing the package registers them:
//
//	import _ "github.com/tributary-streams/tributary/connect/transforms"
//
// Each answers to its full class name and to its simple name
// (org.apache.kafka.connect.transforms.InsertField$Value or
// InsertField$Value; ...predicates.TopicNameMatches or TopicNameMatches):
//
//	InsertField$Key|$Value        topic.field, partition.field, offset.field, timestamp.field,
//	                              static.field, static.value ("!" suffix: required, "?": optional)
//	ReplaceField$Key|$Value       include, exclude, renames (old whitelist, blacklist)
//	MaskField$Key|$Value          fields, replacement
//	ValueToKey                    fields
//	ExtractField$Key|$Value       field, field.syntax.version (V1, V2 nested paths)
//	HoistField$Key|$Value         field
//	Cast$Key|$Value               spec ("a:int32,b:string" or one type for the whole value)
//	Flatten$Key|$Value            delimiter
//	TimestampConverter$Key|$Value field, target.type, format, unix.precision
//	TimestampRouter               topic.format, timestamp.format
//	RegexRouter                   regex, replacement
//	Filter                        (none; used with a predicate)
//	InsertHeader                  header, value.literal
//	DropHeaders                   headers
//	HeaderFrom$Key|$Value         fields, headers, operation (copy, move)
//	TopicNameMatches              pattern
//	HasHeaderKey                  name
//	RecordIsTombstone             (none)
//
// Transforms that copy struct fields also take replace.null.with.default
// (KIP-1040, default true): a null field with a schema default reads as
// the default, or with false stays null.
//
// Keys, defaults and behaviour follow Kafka's; the file of each transform
// says where it differs. Choices common to all:
//
//   - Schema'd records (a key or value schema) hold *data.Struct values,
//     schemaless ones map[string]any; any other value is an error saying
//     what the transform accepts.
//   - A null key or value (a tombstone) passes through the transforms that
//     work on fields unchanged, rather than failing (Kafka is uneven here:
//     InsertField and ReplaceField pass it, ValueToKey and HeaderFrom fail).
//   - The output schema is cached per input schema (16 entries, as Kafka's
//     LRU caches): records of one schema get one output schema, so that
//     converters downstream can cache by it.
//   - Config errors are checked when the connector is configured, including
//     what Kafka finds only on the first record (a replacement's $2 when
//     the regex has one group, a rename clash).
//   - Java patterns are translated: regular expressions to Go's RE2 (see
//     java_regex.go for the features RE2 lacks, which are rejected with a
//     clear error), SimpleDateFormat to Go time layouts (date_format.go).
//
// Records are never changed in place: a transform builds a new struct,
// map or header slice and sets it on the record (connect.Transformation's
// contract).
package transforms
