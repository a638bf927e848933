package converter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// JSON converter config keys, Kafka's JsonConverterConfig.
const (
	SchemasEnableKey          = "schemas.enable"
	SchemasCacheSizeKey       = "schemas.cache.size"
	DecimalFormatKey          = "decimal.format"
	ReplaceNullWithDefaultKey = "replace.null.with.default"
	ConverterTypeKey          = "converter.type"
)

// JSONConverter is Kafka's org.apache.kafka.connect.json.JsonConverter.
// With schemas.enable=true (the default) each message is an envelope
// {"schema": <schema>, "payload": <value>}; with false, the bare value,
// read back schemaless. Schema JSON is cached per converter
// (schemas.cache.size entries each way).
type JSONConverter struct {
	schemasEnabled         bool
	cacheSize              int
	decimalNumeric         bool
	replaceNullWithDefault bool

	// Caches of schema JSON, by schema and by JSON text. The converter is
	// used from one goroutine at a time (connect.Converter's contract).
	toJSON   map[*data.Schema][]byte
	fromJSON map[string]*data.Schema
	buf      []byte
}

// Config defines JsonConverter's keys.
func (c *JSONConverter) Config() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: SchemasEnableKey, Type: connect.TypeBoolean, Default: "true", Importance: connect.ImportanceHigh,
			Documentation: "Include the schema in each message: {\"schema\": ..., \"payload\": ...}. With false, messages are bare JSON and read back schemaless."}).
		Define(connect.ConfigKey{Name: SchemasCacheSizeKey, Type: connect.TypeInt, Default: "1000", Importance: connect.ImportanceHigh, Validator: connect.AtLeast(0),
			Documentation: "The number of schemas cached in each direction."}).
		Define(connect.ConfigKey{Name: DecimalFormatKey, Default: "BASE64", Importance: connect.ImportanceLow, Validator: connect.OneOf("BASE64", "NUMERIC"),
			Documentation: "How Decimal values are written: BASE64 (base64 of the unscaled two's-complement bytes) or NUMERIC (a JSON number). Both are read."}).
		Define(connect.ConfigKey{Name: ReplaceNullWithDefaultKey, Type: connect.TypeBoolean, Default: "true", Importance: connect.ImportanceLow,
			Documentation: "Replace a null value of a schema with a default by that default, in both directions."}).
		Define(connect.ConfigKey{Name: ConverterTypeKey, Default: "", Importance: connect.ImportanceLow, Validator: connect.ValidatorFunc("[key, value, header]", func(v any) error {
			switch strings.ToLower(v.(string)) {
			case "", "key", "value", "header":
				return nil
			}
			return errors.New("want key, value or header")
		}), Documentation: "key, value or header; set by the runtime."})
}

// Configure applies the config.
func (c *JSONConverter) Configure(config map[string]string, isKey bool) error {
	cfg, err := c.Config().Parse(config)
	if err != nil {
		return err
	}
	c.schemasEnabled = cfg.Bool(SchemasEnableKey)
	c.cacheSize = cfg.Int(SchemasCacheSizeKey)
	c.decimalNumeric = strings.EqualFold(cfg.String(DecimalFormatKey), "NUMERIC")
	c.replaceNullWithDefault = cfg.Bool(ReplaceNullWithDefaultKey)
	c.toJSON = map[*data.Schema][]byte{}
	c.fromJSON = map[string]*data.Schema{}
	return nil
}

// NewJSONConverter returns a configured JsonConverter (a convenience for Go
// callers; the runtime goes through the registry).
func NewJSONConverter(schemasEnabled bool) *JSONConverter {
	c := &JSONConverter{}
	if err := c.Configure(map[string]string{SchemasEnableKey: fmt.Sprint(schemasEnabled)}, false); err != nil {
		panic(err) // the config above is valid
	}
	return c
}

// FromConnect writes value as JSON, in the envelope when schemas are
// enabled. A nil value without a schema is nil bytes.
func (c *JSONConverter) FromConnect(topic string, schema *data.Schema, value any) ([]byte, error) {
	if c.toJSON == nil {
		c.Configure(nil, false)
	}
	if schema == nil && value == nil {
		return nil, nil
	}
	b := c.buf[:0]
	var err error
	if c.schemasEnabled {
		b = append(b, `{"schema":`...)
		if b, err = c.appendCachedSchema(b, schema); err != nil {
			return nil, &connect.DataError{Err: fmt.Errorf("convert schema of topic %s to JSON: %w", topic, err)}
		}
		b = append(b, `,"payload":`...)
	}
	if b, err = c.appendValue(b, schema, value); err != nil {
		return nil, &connect.DataError{Err: fmt.Errorf("convert a value of topic %s to JSON: %w", topic, err)}
	}
	if c.schemasEnabled {
		b = append(b, '}')
	}
	c.buf = b
	out := make([]byte, len(b))
	copy(out, b)
	return out, nil
}

func (c *JSONConverter) appendCachedSchema(b []byte, s *data.Schema) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	if js, ok := c.toJSON[s]; ok {
		return append(b, js...), nil
	}
	js, err := c.appendSchema(nil, s, "")
	if err != nil {
		return nil, err
	}
	if c.cacheSize > 0 {
		if len(c.toJSON) >= c.cacheSize {
			clear(c.toJSON)
		}
		c.toJSON[s] = js
	}
	return append(b, js...), nil
}

// ToConnect reads JSON: with schemas enabled it must be the envelope
// {"schema": ..., "payload": ...} and nothing else; otherwise any JSON,
// read schemaless. nil bytes give a nil value.
func (c *JSONConverter) ToConnect(topic string, value []byte) (*data.Schema, any, error) {
	if c.toJSON == nil {
		c.Configure(nil, false)
	}
	if value == nil {
		return nil, nil, nil
	}
	fail := func(err error) (*data.Schema, any, error) {
		return nil, nil, &connect.DataError{Err: fmt.Errorf("convert JSON of topic %s: %w", topic, err)}
	}
	if !c.schemasEnabled {
		n, err := decodeJSON(value)
		if err != nil {
			return fail(err)
		}
		return nil, schemalessFromJSON(n), nil
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(value, &env); err != nil || len(env) != 2 || env["schema"] == nil || env["payload"] == nil {
		if err != nil && !errors.As(err, new(*json.UnmarshalTypeError)) {
			return fail(fmt.Errorf("not valid JSON: %w", err))
		}
		return fail(errors.New(`JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields; to read plain JSON, set schemas.enable=false in the converter config`))
	}
	schema, err := c.cachedSchemaFromJSON(env["schema"])
	if err != nil {
		return fail(err)
	}
	n, err := decodeJSON(env["payload"])
	if err != nil {
		return fail(err)
	}
	v, err := c.valueFromJSON(schema, n, "")
	if err != nil {
		return fail(err)
	}
	return schema, v, nil
}

func (c *JSONConverter) cachedSchemaFromJSON(raw json.RawMessage) (*data.Schema, error) {
	if s, ok := c.fromJSON[string(raw)]; ok {
		return s, nil
	}
	n, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	s, err := c.schemaFromJSON(n)
	if err != nil {
		return nil, err
	}
	if c.cacheSize > 0 {
		if len(c.fromJSON) >= c.cacheSize {
			clear(c.fromJSON)
		}
		c.fromJSON[string(raw)] = s
	}
	return s, nil
}

// decodeJSON decodes one JSON value, numbers as json.Number, and rejects
// trailing data.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var n any
	if err := d.Decode(&n); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("not valid JSON: data after the value")
	}
	return n, nil
}

// FromConnectHeader writes a header value as FromConnect does.
func (c *JSONConverter) FromConnectHeader(topic, _ string, schema *data.Schema, value any) ([]byte, error) {
	return c.FromConnect(topic, schema, value)
}

// ToConnectHeader reads a header value as ToConnect does.
func (c *JSONConverter) ToConnectHeader(topic, _ string, value []byte) (*data.Schema, any, error) {
	return c.ToConnect(topic, value)
}

// jsonHeaderConverter adapts JSONConverter to the HeaderConverter
// interface (whose Configure has no isKey).
type jsonHeaderConverter struct{ JSONConverter }

func (h *jsonHeaderConverter) Configure(config map[string]string) error {
	return h.JSONConverter.Configure(config, false)
}
