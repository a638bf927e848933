package worker

// The stores (configs, offsets, statuses) are tables built by applying
// key/value records in order. In a distributed worker the records live in a
// compacted topic (kafkaLog); in a standalone worker they are applied in
// memory (memoryLog) or, for offsets, kept in a file (fileLog). Either way
// the same apply code builds the table.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/fsutil"
)

// backingLog is where a store's records go.
type backingLog interface {
	// send writes records durably, in order (a nil value deletes the
	// key). They have been applied once readToEnd returns.
	send(ctx context.Context, records ...logRecord) error
	// readToEnd waits until every record sent before the call is applied.
	readToEnd(ctx context.Context) error
	close()
}

// logRecord is one key and value of a backing log.
type logRecord struct{ key, value []byte }

// openTopicLog is a kafkaLog applying records with apply.
func openTopicLog(w *Config, topic string, apply func(key, value []byte)) (*kafkaLog, error) {
	return openKafkaLog(w.clientOpts(roleWorker), topic, w.logger(), func(r *kgo.Record) { apply(r.Key, r.Value) })
}

// memoryLog applies records at once, in memory.
type memoryLog struct {
	mu    sync.Mutex // orders applies
	apply func(key, value []byte)
}

func (m *memoryLog) send(_ context.Context, records ...logRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range records {
		m.apply(r.key, r.value)
	}
	return nil
}

func (m *memoryLog) readToEnd(context.Context) error { return nil }
func (m *memoryLog) close()                          {}

// fileLog keeps the latest value of every key in a JSON file, rewritten
// atomically (and fsynced) on each send: a standalone worker's
// offset.storage.file.filename. The format is ours (Kafka's is a Java
// serialized map): {"entries":[{"key":<JSON>,"value":<JSON>},...]}.
type fileLog struct {
	path  string
	apply func(key, value []byte)

	mu      sync.Mutex // guards entries and orders writes
	entries map[string][]byte
}

type fileLogEntry struct {
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value"`
}

type fileLogContent struct {
	Entries []fileLogEntry `json:"entries"`
}

func openFileLog(path string, apply func(key, value []byte)) (*fileLog, error) {
	f := &fileLog{path: path, apply: apply, entries: map[string][]byte{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read offsets file: %w", err)
	}
	var c fileLogContent
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("offsets file %s is not a Tributary offsets file: %w", path, err)
	}
	for _, e := range c.Entries {
		// The file is indented for people; records are compact JSON.
		var key, value bytes.Buffer
		if err := json.Compact(&key, e.Key); err != nil {
			return nil, fmt.Errorf("offsets file %s: %w", path, err)
		}
		if err := json.Compact(&value, e.Value); err != nil {
			return nil, fmt.Errorf("offsets file %s: %w", path, err)
		}
		f.entries[key.String()] = value.Bytes()
		apply(key.Bytes(), value.Bytes())
	}
	return f, nil
}

func (f *fileLog) send(_ context.Context, records ...logRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range records {
		if r.value == nil {
			delete(f.entries, string(r.key))
		} else {
			f.entries[string(r.key)] = r.value
		}
	}
	keys := make([]string, 0, len(f.entries))
	for k := range f.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	c := fileLogContent{Entries: make([]fileLogEntry, 0, len(keys))}
	for _, k := range keys {
		c.Entries = append(c.Entries, fileLogEntry{Key: json.RawMessage(k), Value: f.entries[k]})
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode offsets file: %w", err)
	}
	if err := fsutil.WriteFileAtomic(f.path, append(b, '\n')); err != nil {
		return fmt.Errorf("write offsets file: %w", err)
	}
	for _, r := range records {
		f.apply(r.key, r.value)
	}
	return nil
}

func (f *fileLog) readToEnd(context.Context) error { return nil }
func (f *fileLog) close()                          {}
