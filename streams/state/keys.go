package state

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The engine's key space. Every shard owns the keys under its prefix; the
// layout is the same in both engines so the stores are written once.
//
//	'd' len(shard) shard len(store) store <store key>   data
//	'k' len(shard) shard <changelog topic>              checkpoint: next changelog offset to restore (8 bytes)
//
// Store keys:
//
//	key-value: key
//	window:    segment(8) len(key)(uvarint) key start(8) [seq(4)]
//	session:   segment(8) len(key)(uvarint) key end(8) start(8)
//
// Integers are big-endian so that byte order is numeric order.
const (
	dataSpace       = 'd'
	checkpointSpace = 'k'
)

// maxNameLen bounds shard and store names, each stored behind one length
// byte.
const maxNameLen = 255

func shardPrefix(space byte, shard string) []byte {
	b := make([]byte, 0, 2+len(shard))
	b = append(b, space, byte(len(shard)))
	return append(b, shard...)
}

func storePrefix(shard, store string) []byte {
	b := shardPrefix(dataSpace, shard)
	b = append(b, byte(len(store)))
	return append(b, store...)
}

func checkName(kind, name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("state: %s name %q: want 1 to %d bytes", kind, name, maxNameLen)
	}
	return nil
}

// prefixEnd is the first key after every key that starts with prefix.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // all 0xff: no upper bound
}

func appendUint64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

// appendKey appends a key with its length in front, so that a shorter key
// never interleaves with a longer one that starts with it.
func appendKey(b, key []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(key)))
	return append(b, key...)
}

// errCorruptKey reports a store key that does not parse: a bug or a
// foreign write into the engine.
var errCorruptKey = errors.New("state: corrupt store key")

// readKey splits a length-prefixed key off b.
func readKey(b []byte) (key, rest []byte, err error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return nil, nil, errCorruptKey
	}
	return b[w : w+int(n)], b[w+int(n):], nil
}

func readUint64(b []byte) (uint64, []byte, error) {
	if len(b) < 8 {
		return 0, nil, errCorruptKey
	}
	return binary.BigEndian.Uint64(b), b[8:], nil
}
