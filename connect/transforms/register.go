package transforms

import "github.com/tributary-streams/tributary/connect"

// Class-name prefixes of Kafka's transformations and predicates.
const (
	classPrefix     = "org.apache.kafka.connect.transforms."
	predicatePrefix = "org.apache.kafka.connect.transforms.predicates."
)

func init() {
	keyValue("InsertField", "Insert fields from the record's topic, partition, offset and timestamp, or a static value.",
		func(s side) connect.Transformation { return &insertField{side: s} })
	keyValue("ReplaceField", "Keep (include), drop (exclude) or rename fields.",
		func(s side) connect.Transformation { return &replaceField{side: s} })
	keyValue("MaskField", "Replace fields with the zero value of their type, or a configured replacement.",
		func(s side) connect.Transformation { return &maskField{side: s} })
	keyValue("ExtractField", "Replace the key or value with one of its fields (nested with field.syntax.version=V2).",
		func(s side) connect.Transformation { return &extractField{side: s} })
	keyValue("HoistField", "Wrap the key or value in a struct (or map) with a single field.",
		func(s side) connect.Transformation { return &hoistField{side: s} })
	keyValue("Cast", "Cast fields, or the whole key or value, to another primitive type.",
		func(s side) connect.Transformation { return &cast{side: s} })
	keyValue("Flatten", "Flatten nested structs (or maps) into top-level fields joined by a delimiter.",
		func(s side) connect.Transformation { return &flatten{side: s} })
	keyValue("TimestampConverter", "Convert a timestamp field, or the whole key or value, between string, unix, Date, Time and Timestamp.",
		func(s side) connect.Transformation { return &timestampConverter{side: s} })
	keyValue("HeaderFrom", "Copy or move fields into headers.",
		func(s side) connect.Transformation { return &headerFrom{side: s} })

	single("ValueToKey", "Replace the key with a struct (or map) of fields taken from the value.",
		func() connect.Transformation { return &valueToKey{} })
	single("RegexRouter", "Rename the topic with a regular expression and a replacement.",
		func() connect.Transformation { return &regexRouter{} })
	single("TimestampRouter", "Rename the topic from its name and the record timestamp.",
		func() connect.Transformation { return &timestampRouter{} })
	single("Filter", "Drop every record (used with a predicate).",
		func() connect.Transformation { return filter{} })
	single("InsertHeader", "Add a header with a literal value.",
		func() connect.Transformation { return &insertHeader{} })
	single("DropHeaders", "Remove the headers with the given names.",
		func() connect.Transformation { return &dropHeaders{} })

	connect.RegisterPredicate(connect.PluginInfo{Class: predicatePrefix + "TopicNameMatches",
		Doc: "Matches records whose topic name matches a regular expression."},
		func() connect.Predicate { return &topicNameMatches{} })
	connect.RegisterPredicate(connect.PluginInfo{Class: predicatePrefix + "HasHeaderKey",
		Doc: "Matches records that have at least one header with the given name."},
		func() connect.Predicate { return &hasHeaderKey{} })
	connect.RegisterPredicate(connect.PluginInfo{Class: predicatePrefix + "RecordIsTombstone",
		Doc: "Matches tombstones (records with a null value)."},
		func() connect.Predicate { return recordIsTombstone{} })
}

// keyValue registers a transformation's $Key and $Value variants.
func keyValue(name, doc string, newT func(side) connect.Transformation) {
	for _, s := range []side{keySide, valueSide} {
		connect.RegisterTransformation(connect.PluginInfo{Class: classPrefix + name + s.suffix(), Doc: doc + " (record " + s.String() + ")"},
			func() connect.Transformation { return newT(s) })
	}
}

func single(name, doc string, newT func() connect.Transformation) {
	connect.RegisterTransformation(connect.PluginInfo{Class: classPrefix + name, Doc: doc}, newT)
}
