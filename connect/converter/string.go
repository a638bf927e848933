package converter

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// EncodingKey is StringConverter's converter.encoding key.
const EncodingKey = "converter.encoding"

// StringConverter is Kafka's org.apache.kafka.connect.storage.StringConverter:
// values are written as text (see toText for non-strings) and read back
// as optional strings. Only UTF-8 (converter.encoding's default) is
// supported.
type StringConverter struct{}

// Config defines StringConverter's keys.
func (StringConverter) Config() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: EncodingKey, Default: "UTF-8", Importance: connect.ImportanceHigh,
			Validator:     connect.OneOf("UTF-8", "UTF8"),
			Documentation: "The character encoding of the text; only UTF-8 is supported."}).
		Define(connect.ConfigKey{Name: ConverterTypeKey, Default: "", Importance: connect.ImportanceLow,
			Documentation: "key, value or header; set by the runtime."})
}

// Configure checks the config.
func (c StringConverter) Configure(config map[string]string, _ bool) error {
	return c.Config().Validate(stringConfig(config))
}

// stringConfig maps Kafka's key/value-specific encoding keys to
// converter.encoding.
func stringConfig(config map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range config {
		switch k {
		case "converter.encoding", "converter.type":
			out[k] = v
		case "key.converter.encoding", "value.converter.encoding":
			if _, set := config["converter.encoding"]; !set {
				out["converter.encoding"] = v
			}
		}
	}
	return out
}

// FromConnect writes the value as UTF-8 text; nil stays nil. A string
// value is returned without copying: the bytes share its memory and must
// not be modified (the producer only reads them).
func (StringConverter) FromConnect(topic string, schema *data.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	if s, ok := value.(string); ok {
		if s == "" {
			return []byte{}, nil
		}
		return unsafe.Slice(unsafe.StringData(s), len(s)), nil
	}
	s, err := toText(schema, value)
	if err != nil {
		return nil, &connect.DataError{Err: fmt.Errorf("StringConverter, topic %s: %w", topic, err)}
	}
	return []byte(s), nil
}

// ToConnect reads the bytes as an optional string.
func (StringConverter) ToConnect(_ string, value []byte) (*data.Schema, any, error) {
	if value == nil {
		return data.OptionalStringSchema, nil, nil
	}
	return data.OptionalStringSchema, string(value), nil
}

type stringHeaderConverter struct{ StringConverter }

func (h stringHeaderConverter) Configure(config map[string]string) error {
	return h.StringConverter.Configure(config, false)
}

func (h stringHeaderConverter) FromConnectHeader(topic, _ string, schema *data.Schema, value any) ([]byte, error) {
	return h.FromConnect(topic, schema, value)
}

func (h stringHeaderConverter) ToConnectHeader(topic, _ string, value []byte) (*data.Schema, any, error) {
	return h.ToConnect(topic, value)
}

// ByteArrayConverter is Kafka's
// org.apache.kafka.connect.converters.ByteArrayConverter: bytes pass
// through unchanged, as optional bytes.
type ByteArrayConverter struct{}

// Config defines ByteArrayConverter's keys (none of its own).
func (ByteArrayConverter) Config() *connect.ConfigDef {
	return connect.NewConfigDef().Define(connect.ConfigKey{Name: ConverterTypeKey, Default: "", Importance: connect.ImportanceLow,
		Documentation: "key, value or header; set by the runtime."})
}

// Configure accepts any config.
func (ByteArrayConverter) Configure(map[string]string, bool) error { return nil }

// FromConnect passes bytes through; the schema must be bytes (or none).
func (ByteArrayConverter) FromConnect(topic string, schema *data.Schema, value any) ([]byte, error) {
	if schema != nil && schema.Type != data.TypeBytes {
		return nil, &connect.DataError{Err: fmt.Errorf("ByteArrayConverter, topic %s: schema type %s: want bytes", topic, schema.Type)}
	}
	if value == nil {
		return nil, nil
	}
	b, ok := value.([]byte)
	if !ok {
		return nil, &connect.DataError{Err: fmt.Errorf("ByteArrayConverter, topic %s: value of Go type %T: want []byte", topic, value)}
	}
	return b, nil
}

// ToConnect returns the bytes as optional bytes.
func (ByteArrayConverter) ToConnect(_ string, value []byte) (*data.Schema, any, error) {
	if value == nil {
		return data.OptionalBytesSchema, nil, nil
	}
	return data.OptionalBytesSchema, value, nil
}

type byteArrayHeaderConverter struct{ ByteArrayConverter }

func (h byteArrayHeaderConverter) Configure(map[string]string) error { return nil }

func (h byteArrayHeaderConverter) FromConnectHeader(topic, _ string, schema *data.Schema, value any) ([]byte, error) {
	return h.FromConnect(topic, schema, value)
}

func (h byteArrayHeaderConverter) ToConnectHeader(topic, _ string, value []byte) (*data.Schema, any, error) {
	return h.ToConnect(topic, value)
}

// SimpleHeaderConverter is Kafka's
// org.apache.kafka.connect.storage.SimpleHeaderConverter, the default
// header.converter: values are written as text (toText) and read back with
// their type inferred: true/false as boolean, integers as the smallest of
// int8/int16/int32/int64 that holds them, other numbers as float64, and
// anything else as a string. (Kafka also parses arrays, maps and ISO dates
// back into typed values; these come back as strings here.)
type SimpleHeaderConverter struct{}

// Config defines SimpleHeaderConverter's keys (none).
func (SimpleHeaderConverter) Config() *connect.ConfigDef { return connect.NewConfigDef() }

// Configure accepts any config.
func (SimpleHeaderConverter) Configure(map[string]string) error { return nil }

// FromConnectHeader writes the value as text.
func (SimpleHeaderConverter) FromConnectHeader(topic, key string, schema *data.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	s, err := toText(schema, value)
	if err != nil {
		return nil, &connect.DataError{Err: fmt.Errorf("header %s of topic %s: %w", key, topic, err)}
	}
	return []byte(s), nil
}

// ToConnectHeader parses the text, inferring its type.
func (SimpleHeaderConverter) ToConnectHeader(_, _ string, value []byte) (*data.Schema, any, error) {
	if value == nil {
		return nil, nil, nil
	}
	s, v := inferText(string(value))
	return s, v, nil
}

func inferText(text string) (*data.Schema, any) {
	t := strings.TrimSpace(text)
	switch strings.ToLower(t) {
	case "true":
		return data.BooleanSchema, true
	case "false":
		return data.BooleanSchema, false
	}
	if t != "" && t == text {
		if i, err := parseInteger(t, 64); err == nil && !strings.ContainsAny(t, ".eE") {
			switch {
			case i >= -1<<7 && i < 1<<7:
				return data.Int8Schema, int8(i)
			case i >= -1<<15 && i < 1<<15:
				return data.Int16Schema, int16(i)
			case i >= -1<<31 && i < 1<<31:
				return data.Int32Schema, int32(i)
			}
			return data.Int64Schema, i
		}
		if f, err := parseFloatStrict(t); err == nil {
			return data.Float64Schema, f
		}
	}
	return data.StringSchema, text
}
