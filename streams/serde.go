package streams

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
)

// Serde turns values of one type into bytes and back: record keys and
// values on topics, and what stores keep. Deserialize gets nil for a
// record without a key or value; the built-in serdes decode nil to the
// zero value.
type Serde[T any] interface {
	Serialize(v T) ([]byte, error)
	Deserialize(b []byte) (T, error)
}

// Appender is an optional Serde method that serializes into a caller's
// buffer, so that hot paths (store keys, cache lookups) do not allocate.
type Appender[T any] interface {
	AppendSerialized(dst []byte, v T) ([]byte, error)
}

// String is the UTF-8 serde (Kafka's StringSerde).
func String() Serde[string] { return stringSerde{} }

// Bytes passes bytes through (Kafka's ByteArraySerde).
func Bytes() Serde[[]byte] { return bytesSerde{} }

// Int64 is a big-endian 8-byte integer (Kafka's LongSerde).
func Int64() Serde[int64] { return int64Serde{} }

// Float64 is a big-endian IEEE 754 double (Kafka's DoubleSerde).
func Float64() Serde[float64] { return float64Serde{} }

// JSON encodes values with encoding/json; nil decodes to the zero value.
func JSON[T any]() Serde[T] { return jsonSerde[T]{} }

type stringSerde struct{}

func (stringSerde) Serialize(v string) ([]byte, error)   { return []byte(v), nil }
func (stringSerde) Deserialize(b []byte) (string, error) { return string(b), nil }
func (stringSerde) AppendSerialized(dst []byte, v string) ([]byte, error) {
	return append(dst, v...), nil
}

type bytesSerde struct{}

func (bytesSerde) Serialize(v []byte) ([]byte, error)   { return v, nil }
func (bytesSerde) Deserialize(b []byte) ([]byte, error) { return b, nil }
func (bytesSerde) AppendSerialized(dst []byte, v []byte) ([]byte, error) {
	return append(dst, v...), nil
}

type int64Serde struct{}

func (int64Serde) Serialize(v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(nil, uint64(v)), nil
}

func (int64Serde) Deserialize(b []byte) (int64, error) {
	if b == nil {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("int64: %d bytes, want 8 (a big-endian long)", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

func (int64Serde) AppendSerialized(dst []byte, v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, uint64(v)), nil
}

type float64Serde struct{}

func (float64Serde) Serialize(v float64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(nil, math.Float64bits(v)), nil
}

func (float64Serde) Deserialize(b []byte) (float64, error) {
	if b == nil {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("float64: %d bytes, want 8 (a big-endian double)", len(b))
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
}

func (float64Serde) AppendSerialized(dst []byte, v float64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(v)), nil
}

type jsonSerde[T any] struct{}

func (jsonSerde[T]) Serialize(v T) ([]byte, error) { return json.Marshal(v) }

func (jsonSerde[T]) Deserialize(b []byte) (T, error) {
	var v T
	if b == nil {
		return v, nil
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("json %s: %w", typeName[T](), err)
	}
	return v, nil
}

// defaultSerde is the serde a step uses when none is given: the built-in
// one for string, []byte, int64 and float64; nil (none) for other types.
func defaultSerde[T any]() Serde[T] {
	var s any
	switch any(*new(T)).(type) {
	case string:
		s = stringSerde{}
	case []byte:
		s = bytesSerde{}
	case int64:
		s = int64Serde{}
	case float64:
		s = float64Serde{}
	default:
		return nil
	}
	return s.(Serde[T])
}

// typeName is the Go type of T, for messages.
func typeName[T any]() string { return reflect.TypeFor[T]().String() }

// codec is a serde with its fast path looked up once.
type codec[T any] struct {
	serde Serde[T]
	app   Appender[T]
}

func newCodec[T any](s Serde[T]) codec[T] {
	c := codec[T]{serde: s}
	c.app, _ = s.(Appender[T])
	return c
}

// enc appends v's bytes to dst.
func (c codec[T]) enc(dst []byte, v T) ([]byte, error) {
	if c.app != nil {
		return c.app.AppendSerialized(dst, v)
	}
	b, err := c.serde.Serialize(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// owned returns v's bytes in a fresh slice, for records handed to the
// producer.
func (c codec[T]) owned(v T) ([]byte, error) {
	if c.app != nil {
		return c.app.AppendSerialized(nil, v)
	}
	return c.serde.Serialize(v)
}

func (c codec[T]) dec(b []byte) (T, error) { return c.serde.Deserialize(b) }
