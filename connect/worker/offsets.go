package worker

// Source offsets: for each connector and source partition, the offset of
// the last record known to be in Kafka. Stored as Kafka Connect stores
// them: key ["<connector>",{<partition>}] and value {<offset>}, both
// schemaless JSON, in the offsets topic (distributed) or file (standalone).

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/converter"
)

type offsetEntry struct {
	connector string
	partition map[string]any
	offset    map[string]any
}

type offsetStore struct {
	log backingLog

	mu      sync.Mutex
	entries map[string]offsetEntry // by encoded key
}

func newOffsetStore() *offsetStore { return &offsetStore{entries: map[string]offsetEntry{}} }

// apply is the table's record handler: a bad record is skipped (it cannot
// be ours).
func (s *offsetStore) apply(key, value []byte) {
	connector, partition, err := decodeOffsetKey(key)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if value == nil {
		delete(s.entries, string(key))
		return
	}
	offset, err := decodeOffsetValue(value)
	if err != nil {
		return
	}
	s.entries[string(key)] = offsetEntry{connector: connector, partition: partition, offset: offset}
}

// get returns the committed offset of a source partition, or nil.
func (s *offsetStore) get(connector string, partition map[string]any) (map[string]any, error) {
	key, err := encodeOffsetKey(connector, partition)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.entries[string(key)].offset, nil
}

// all returns a connector's committed positions, ordered by partition key.
func (s *offsetStore) all(connector string) []connect.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0)
	for k, e := range s.entries {
		if e.connector == connector {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]connect.Position, len(keys))
	for i, k := range keys {
		out[i] = connect.Position{Partition: s.entries[k].partition, Offset: s.entries[k].offset}
	}
	return out
}

// records encodes positions as offset records (nil Offset: a tombstone).
func offsetRecords(connector string, positions []connect.Position) ([]logRecord, error) {
	out := make([]logRecord, 0, len(positions))
	for _, p := range positions {
		key, err := encodeOffsetKey(connector, p.Partition)
		if err != nil {
			return nil, err
		}
		var value []byte
		if p.Offset != nil {
			if value, err = encodeOffsetValue(p.Offset); err != nil {
				return nil, err
			}
		}
		out = append(out, logRecord{key: key, value: value})
	}
	return out, nil
}

// put commits positions durably.
func (s *offsetStore) put(ctx context.Context, connector string, positions []connect.Position) error {
	recs, err := offsetRecords(connector, positions)
	if err != nil {
		return err
	}
	if err := s.log.send(ctx, recs...); err != nil {
		return fmt.Errorf("commit offsets of %s: %w", connector, err)
	}
	return nil
}

// offsetJSON is a schemaless JSON converter (one per use: converters are
// not safe for concurrent use, and offsets are encoded per commit, not per
// record).
func offsetJSON() *converter.JSONConverter { return converter.NewJSONConverter(false) }

func encodeOffsetKey(connector string, partition map[string]any) ([]byte, error) {
	var p any = partition
	if partition == nil {
		p = nil
	}
	b, err := offsetJSON().FromConnect("", nil, []any{connector, p})
	if err != nil {
		return nil, fmt.Errorf("source partition %v: %w", partition, err)
	}
	return b, nil
}

func decodeOffsetKey(b []byte) (string, map[string]any, error) {
	_, v, err := offsetJSON().ToConnect("", b)
	if err != nil {
		return "", nil, err
	}
	arr, ok := v.([]any)
	if !ok || len(arr) != 2 {
		return "", nil, fmt.Errorf("offset key %s is not [connector, partition]", b)
	}
	name, ok := arr[0].(string)
	if !ok {
		return "", nil, fmt.Errorf("offset key %s: connector name is not a string", b)
	}
	partition, ok := arr[1].(map[string]any)
	if !ok && arr[1] != nil {
		return "", nil, fmt.Errorf("offset key %s: source partition is not an object", b)
	}
	return name, partition, nil
}

func encodeOffsetValue(offset map[string]any) ([]byte, error) {
	b, err := offsetJSON().FromConnect("", nil, offset)
	if err != nil {
		return nil, fmt.Errorf("source offset %v: %w", offset, err)
	}
	return b, nil
}

func decodeOffsetValue(b []byte) (map[string]any, error) {
	_, v, err := offsetJSON().ToConnect("", b)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("source offset %s is not an object", b)
	}
	return m, nil
}
