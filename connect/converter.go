package connect

import "github.com/tributary-streams/tributary/connect/data"

// Converter turns record keys or values into bytes for Kafka and back
// (key.converter, value.converter). Implementations live in
// connect/converter (JSON, string, bytes) and are registered under
// Kafka's class names (org.apache.kafka.connect.json.JsonConverter, ...).
//
// Contract:
//   - The runtime makes one instance per task and use (key or value) and
//     calls Configure once, with the converter's keys stripped of their
//     prefix (value.converter.schemas.enable=false arrives as
//     schemas.enable=false); a configured instance is used from one
//     goroutine at a time.
//   - nil converts to nil bytes and nil bytes to a nil value (tombstones
//     and null keys pass through).
//   - An error means this record cannot be converted (a *DataError, or
//     any error): the runtime applies errors.tolerance to it. It must not
//     be used for failures of an external system; a converter that calls
//     one (a schema registry) returns Retriable errors for those.
type Converter interface {
	// Config defines the converter's keys.
	Config() *ConfigDef
	// Configure applies the converter config; isKey says whether the
	// instance converts keys (true) or values.
	Configure(config map[string]string, isKey bool) error
	// FromConnect serializes value, described by schema (nil:
	// schemaless), for a record of topic.
	FromConnect(topic string, schema *data.Schema, value any) ([]byte, error)
	// ToConnect deserializes bytes read from topic into a schema (nil:
	// schemaless) and value.
	ToConnect(topic string, value []byte) (*data.Schema, any, error)
}

// HeaderConverter turns header values into bytes and back
// (header.converter). Same contract as Converter.
type HeaderConverter interface {
	// Config defines the header converter's keys.
	Config() *ConfigDef
	// Configure applies the header converter config.
	Configure(config map[string]string) error
	// FromConnectHeader serializes the value of header key.
	FromConnectHeader(topic, key string, schema *data.Schema, value any) ([]byte, error)
	// ToConnectHeader deserializes the value of header key.
	ToConnectHeader(topic, key string, value []byte) (*data.Schema, any, error)
}
