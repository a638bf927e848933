package streams

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// parseKeyText reads a key given as text: as is for string keys, decimal
// for int64, JSON for anything else.
func parseKeyText[K any](text string) (K, error) {
	var k K
	switch p := any(&k).(type) {
	case *string:
		*p = text
	case *[]byte:
		*p = []byte(text)
	case *int64:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return k, fmt.Errorf("key %q: want a decimal integer", text)
		}
		*p = n
	default:
		if err := json.Unmarshal([]byte(text), &k); err != nil {
			return k, fmt.Errorf("key %q: want JSON of %s: %w", text, typeName[K](), err)
		}
	}
	return k, nil
}

// kvQuery reads a store of timestamped values for interactive queries.
func kvQuery[K, V any](keys Serde[K], values Serde[V]) *topology.QueryCodec {
	if keys == nil || values == nil {
		return nil
	}
	return &topology.QueryCodec{
		Key: func(text string) ([]byte, error) {
			k, err := parseKeyText[K](text)
			if err != nil {
				return nil, err
			}
			return keys.Serialize(k)
		},
		Decode: func(kb, vb []byte) (any, any, error) {
			k, err := keys.Deserialize(kb)
			if err != nil {
				return nil, nil, err
			}
			if len(vb) < 8 {
				return nil, nil, fmt.Errorf("a stored value of %d bytes has no timestamp", len(vb))
			}
			v, err := values.Deserialize(vb[8:])
			return k, timestamped[V]{Value: v, Timestamp: int64(binary.BigEndian.Uint64(vb))}, err
		},
		Partition: topology.Partition,
	}
}

// timestamped is a value with its timestamp, as queries print it.
type timestamped[V any] struct {
	Value     V     `json:"value"`
	Timestamp int64 `json:"timestamp"`
}

// windowQuery reads a window store of timestamped values.
func windowQuery[K, V any](keys Serde[K], values Serde[V], w windowInfo) *topology.QueryCodec {
	q := kvQuery(keys, values)
	if q == nil {
		return nil
	}
	q.Windowed = true
	q.WindowSize = w.size
	return q
}

// plainQuery reads a store of values kept as they are.
func plainQuery[K, V any](keys Serde[K], values Serde[V]) *topology.QueryCodec {
	q := kvQuery(keys, values)
	if q == nil {
		return nil
	}
	q.Decode = func(kb, vb []byte) (any, any, error) {
		k, err := keys.Deserialize(kb)
		if err != nil {
			return nil, nil, err
		}
		v, err := values.Deserialize(vb)
		return k, v, err
	}
	return q
}
