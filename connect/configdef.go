package connect

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ConfigType is a config key's type, spelled as Kafka's ConfigDef.Type.
type ConfigType string

// The config types and the Go type Config's getters return for each.
const (
	TypeBoolean  ConfigType = "BOOLEAN"  // bool: true or false, any case
	TypeString   ConfigType = "STRING"   // string, trimmed
	TypeInt      ConfigType = "INT"      // int32
	TypeShort    ConfigType = "SHORT"    // int16
	TypeLong     ConfigType = "LONG"     // int64
	TypeDouble   ConfigType = "DOUBLE"   // float64
	TypeList     ConfigType = "LIST"     // []string: comma separated, each trimmed, empty ones dropped
	TypeClass    ConfigType = "CLASS"    // string: a plugin class name or alias
	TypePassword ConfigType = "PASSWORD" // string, not trimmed, never shown in errors or the REST API
)

// Importance ranks a config key for documentation, as in Kafka.
type Importance string

// Importances.
const (
	ImportanceHigh   Importance = "HIGH"
	ImportanceMedium Importance = "MEDIUM"
	ImportanceLow    Importance = "LOW"
)

// Width is the display width hint Kafka's validate API reports.
type Width string

// Widths.
const (
	WidthNone   Width = "NONE"
	WidthShort  Width = "SHORT"
	WidthMedium Width = "MEDIUM"
	WidthLong   Width = "LONG"
)

// ConfigKey defines one config key.
type ConfigKey struct {
	// Name is the key, e.g. "batch.size".
	Name string
	// Type is how the value is parsed. Default TypeString.
	Type ConfigType
	// Default is the value used when the key is absent, in config syntax.
	// Ignored when Required.
	Default string
	// Required keys have no default: a config without them is invalid.
	Required bool
	// Importance ranks the key. Default ImportanceMedium.
	Importance Importance
	// Documentation describes the key for users.
	Documentation string
	// Validator, when set, checks the parsed value.
	Validator Validator
	// Group, OrderInGroup, Width, DisplayName and Dependents are
	// presentation hints reported by the validate API. Group defaults to
	// "Common" for connector keys.
	Group        string
	OrderInGroup int
	Width        Width
	DisplayName  string
	Dependents   []string
}

// ConfigDef is the set of keys a plugin defines. Build it with
// NewConfigDef().Define(...).Define(...); it is immutable once in use and
// safe for concurrent reads.
type ConfigDef struct {
	keys  []ConfigKey
	index map[string]int
}

// NewConfigDef returns an empty definition.
func NewConfigDef() *ConfigDef { return &ConfigDef{index: map[string]int{}} }

// Define adds a key and returns d. Defining a name twice panics: that is a
// programming error in the plugin.
func (d *ConfigDef) Define(k ConfigKey) *ConfigDef {
	if _, dup := d.index[k.Name]; dup {
		panic(fmt.Sprintf("connect: config key %q defined twice", k.Name))
	}
	if k.Type == "" {
		k.Type = TypeString
	}
	if k.Importance == "" {
		k.Importance = ImportanceMedium
	}
	if k.Width == "" {
		k.Width = WidthNone
	}
	if k.DisplayName == "" {
		k.DisplayName = k.Name
	}
	d.index[k.Name] = len(d.keys)
	d.keys = append(d.keys, k)
	return d
}

// Keys returns the keys in definition order.
func (d *ConfigDef) Keys() []ConfigKey { return slices.Clone(d.keys) }

// Key returns the key called name.
func (d *ConfigDef) Key(name string) (ConfigKey, bool) {
	i, ok := d.index[name]
	if !ok {
		return ConfigKey{}, false
	}
	return d.keys[i], true
}

// Merge returns a new definition with d's keys followed by o's keys that d
// does not define.
func (d *ConfigDef) Merge(o *ConfigDef) *ConfigDef {
	m := NewConfigDef()
	for _, k := range d.keys {
		m.Define(k)
	}
	if o != nil {
		for _, k := range o.keys {
			if _, dup := m.index[k.Name]; !dup {
				m.Define(k)
			}
		}
	}
	return m
}

// Groups returns the distinct key groups in order of first appearance.
func (d *ConfigDef) Groups() []string {
	var out []string
	for _, k := range d.keys {
		if k.Group != "" && !slices.Contains(out, k.Group) {
			out = append(out, k.Group)
		}
	}
	return out
}

// Validate checks config against the definition and returns nil or a
// *ConfigError with every problem. Keys the definition does not know are
// ignored.
func (d *ConfigDef) Validate(config map[string]string) error {
	_, err := d.Parse(config)
	return err
}

// Parse checks config against the definition (see Validate) and returns the
// typed values, defaults filled in. With an error, the Config returned
// still holds every value that parsed (the others read as zero values), so
// that cross-key checks can go on and report their problems too.
func (d *ConfigDef) Parse(config map[string]string) (*Config, error) {
	c := &Config{values: make(map[string]any, len(d.keys)), raw: config}
	var errs []error
	for _, k := range d.keys {
		raw, given := config[k.Name]
		if !given {
			if k.Required {
				errs = append(errs, FieldError{Key: k.Name, Message: "missing required configuration with no default value" + docHint(k)})
				continue
			}
			raw = k.Default
		}
		v, err := parseValue(k.Type, raw)
		if err != nil {
			errs = append(errs, FieldError{Key: k.Name, Message: fmt.Sprintf("invalid value %s: %v", shown(k, raw), err)})
			continue
		}
		if k.Validator != nil && (given || k.Required || raw != "") {
			if err := k.Validator.Validate(v); err != nil {
				errs = append(errs, FieldError{Key: k.Name, Message: fmt.Sprintf("invalid value %s: %v", shown(k, raw), err)})
				continue
			}
		}
		c.values[k.Name] = v
	}
	return c, ConfigErrors(errs...)
}

func docHint(k ConfigKey) string {
	if k.Documentation == "" {
		return ""
	}
	doc := k.Documentation
	if i := strings.Index(doc, ". "); i > 0 {
		doc = doc[:i]
	}
	return " (" + strings.TrimSuffix(doc, ".") + ")"
}

func shown(k ConfigKey, raw string) string {
	if k.Type == TypePassword {
		return "[hidden]"
	}
	return strconv.Quote(raw)
}

func parseValue(t ConfigType, raw string) (any, error) {
	s := strings.TrimSpace(raw)
	switch t {
	case TypeBoolean:
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false", "":
			return false, nil
		}
		return nil, fmt.Errorf("want true or false")
	case TypeInt, TypeShort, TypeLong:
		if s == "" {
			return zeroInt(t), nil
		}
		bits := map[ConfigType]int{TypeInt: 32, TypeShort: 16, TypeLong: 64}[t]
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return nil, fmt.Errorf("want a %d-bit integer", bits)
		}
		switch t {
		case TypeInt:
			return int32(n), nil
		case TypeShort:
			return int16(n), nil
		}
		return n, nil
	case TypeDouble:
		if s == "" {
			return float64(0), nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) {
			return nil, fmt.Errorf("want a number")
		}
		return f, nil
	case TypeList:
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	case TypePassword:
		return raw, nil
	case TypeString, TypeClass:
		return s, nil
	}
	return nil, fmt.Errorf("config type %q is not one of BOOLEAN, STRING, INT, SHORT, LONG, DOUBLE, LIST, CLASS, PASSWORD", t)
}

func zeroInt(t ConfigType) any {
	switch t {
	case TypeInt:
		return int32(0)
	case TypeShort:
		return int16(0)
	}
	return int64(0)
}

// Config is a config parsed against a ConfigDef: typed values with
// defaults filled in. Getters of keys the definition does not have, or of
// another type, return the zero value.
type Config struct {
	values map[string]any
	raw    map[string]string
}

// String returns a STRING, CLASS or PASSWORD value.
func (c *Config) String(key string) string { s, _ := c.values[key].(string); return s }

// Bool returns a BOOLEAN value.
func (c *Config) Bool(key string) bool { b, _ := c.values[key].(bool); return b }

// Int returns an INT, SHORT or LONG value as an int.
func (c *Config) Int(key string) int { return int(c.Long(key)) }

// Long returns an INT, SHORT or LONG value.
func (c *Config) Long(key string) int64 {
	switch v := c.values[key].(type) {
	case int32:
		return int64(v)
	case int16:
		return int64(v)
	case int64:
		return v
	}
	return 0
}

// Double returns a DOUBLE value.
func (c *Config) Double(key string) float64 { f, _ := c.values[key].(float64); return f }

// List returns a LIST value.
func (c *Config) List(key string) []string { l, _ := c.values[key].([]string); return slices.Clone(l) }

// Millis returns an INT or LONG value counted in milliseconds (the *.ms
// keys) as a duration.
func (c *Config) Millis(key string) time.Duration {
	return time.Duration(c.Long(key)) * time.Millisecond
}

// Given reports whether the config set the key (rather than defaulting it).
func (c *Config) Given(key string) bool { _, ok := c.raw[key]; return ok }

// Validator checks a parsed config value (of the Go type its ConfigType
// parses to). String describes what is accepted, for documentation.
type Validator interface {
	Validate(value any) error
	String() string
}

type validatorFunc struct {
	doc string
	fn  func(any) error
}

func (v validatorFunc) Validate(value any) error { return v.fn(value) }
func (v validatorFunc) String() string           { return v.doc }

// ValidatorFunc makes a Validator from a function and a description of
// what it accepts.
func ValidatorFunc(doc string, fn func(value any) error) Validator {
	return validatorFunc{doc: doc, fn: fn}
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// AtLeast accepts numbers >= min (Kafka's Range.atLeast).
func AtLeast(min float64) Validator {
	doc := "[" + fmtNum(min) + ",...]"
	return ValidatorFunc(doc, func(v any) error {
		if n, ok := number(v); !ok || n < min {
			return fmt.Errorf("want a value of at least %s", fmtNum(min))
		}
		return nil
	})
}

// Between accepts numbers in [min, max] (Kafka's Range.between).
func Between(min, max float64) Validator {
	doc := "[" + fmtNum(min) + ",...," + fmtNum(max) + "]"
	return ValidatorFunc(doc, func(v any) error {
		if n, ok := number(v); !ok || n < min || n > max {
			return fmt.Errorf("want a value between %s and %s", fmtNum(min), fmtNum(max))
		}
		return nil
	})
}

// OneOf accepts strings equal, ignoring case, to one of values (Kafka's
// CaseInsensitiveValidString); for a LIST, every element must be.
func OneOf(values ...string) Validator {
	doc := "[" + strings.Join(values, ", ") + "]"
	match := func(s string) bool {
		for _, v := range values {
			if strings.EqualFold(v, s) {
				return true
			}
		}
		return false
	}
	return ValidatorFunc(doc, func(v any) error {
		switch x := v.(type) {
		case string:
			if match(x) {
				return nil
			}
		case []string:
			for _, e := range x {
				if !match(e) {
					return fmt.Errorf("%q is not one of %s", e, doc)
				}
			}
			return nil
		}
		return fmt.Errorf("want one of %s", doc)
	})
}

// NonEmpty accepts a non-empty string or list (Kafka's NonEmptyString).
func NonEmpty() Validator {
	return ValidatorFunc("non-empty string", func(v any) error {
		switch x := v.(type) {
		case string:
			if x != "" {
				return nil
			}
		case []string:
			if len(x) > 0 {
				return nil
			}
		}
		return fmt.Errorf("must not be empty")
	})
}
