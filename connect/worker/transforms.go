package worker

// Kafka's single message transforms and predicates (InsertField$Value,
// RegexRouter, TopicNameMatches, ...) are always available, as the
// converters are.
import _ "github.com/tributary-streams/tributary/connect/transforms"
