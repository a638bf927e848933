package connect

import (
	"slices"
	"time"

	"github.com/tributary-streams/tributary/connect/data"
)

// AnyPartition in a source record's Partition lets the producer's
// partitioner choose the partition (by key hash, or spread when the key is
// null), as a null kafkaPartition does in Kafka Connect.
const AnyPartition int32 = -1

// Record is the part of a record that converters and transformations see,
// shared by source and sink records: Kafka Connect's ConnectRecord.
//
// Values follow package data: a nil schema means schemaless. A record
// handed to the runtime (returned from Poll, or passed to a transformation)
// belongs to the runtime; see Transformation for what may be changed.
type Record struct {
	// Topic is the Kafka topic written to (source) or read from (sink).
	Topic string
	// Partition is the Kafka partition. Sink side: the partition the record
	// was read from. Source side: the partition to write to, or
	// AnyPartition to let the producer choose; note that the zero value
	// means partition 0.
	Partition int32
	// KeySchema describes Key; nil for schemaless.
	KeySchema *data.Schema
	// Key is the record key; nil for none.
	Key any
	// ValueSchema describes Value; nil for schemaless.
	ValueSchema *data.Schema
	// Value is the record value; nil is a tombstone.
	Value any
	// Timestamp is the record time; zero lets the producer stamp it.
	Timestamp time.Time
	// Headers are the record headers, in order (keys may repeat).
	Headers Headers
	// Offset is the record's Kafka offset on the sink side (the offset it
	// was read from). It means nothing on the source side.
	Offset int64
}

// SourceRecord is what a SourceTask produces: a record plus the position in
// the source system it comes from.
type SourceRecord struct {
	Record
	// SourcePartition names a stream within the source (a file, a table,
	// a binlog), e.g. {"filename": "/var/log/app.log"}. Keys are strings;
	// values are JSON-compatible primitives (string, bool, integer,
	// float). Offsets are stored per source partition.
	SourcePartition map[string]any
	// SourceOffset is the position just after this record within its
	// source partition, e.g. {"position": 1024}: what a restarted task
	// reads back through SourceTaskContext.Offset to resume. Same value
	// rules as SourcePartition; integers come back as int64 and
	// non-integral numbers as float64 whatever type was written. A nil
	// SourceOffset commits nothing for this record.
	SourceOffset map[string]any
}

// SinkRecord is what a SinkTask receives: a record read from Kafka.
type SinkRecord struct {
	Record
	// TimestampType says what Timestamp is.
	TimestampType TimestampType
	// Original is the topic and partition the record was read from, and
	// OriginalOffset its offset, before any transformation changed Topic
	// or Partition (Kafka's KIP-793). Offsets handed to Flush are keyed by
	// Original.
	Original       TopicPartition
	OriginalOffset int64
}

// TimestampType is the kind of a Kafka record timestamp.
type TimestampType int8

const (
	// NoTimestampType: the record has no timestamp.
	NoTimestampType TimestampType = iota
	// CreateTime: set by the producer.
	CreateTime
	// LogAppendTime: set by the broker when it appended the record.
	LogAppendTime
)

func (t TimestampType) String() string {
	switch t {
	case CreateTime:
		return "CreateTime"
	case LogAppendTime:
		return "LogAppendTime"
	}
	return "NoTimestampType"
}

// TopicPartition names one Kafka partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Position is a committed source position: the offset of one source
// partition.
type Position struct {
	Partition map[string]any
	Offset    map[string]any
}

// Header is one record header: a key and a value described by a schema
// (nil for schemaless), converted to and from bytes by the connector's
// header converter.
type Header struct {
	Key    string
	Schema *data.Schema
	Value  any
}

// Headers are a record's headers in order. Methods that change headers
// return a new slice and leave the receiver untouched, so headers can be
// shared between records.
type Headers []Header

// Last returns the last header with the key.
func (h Headers) Last(key string) (Header, bool) {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Key == key {
			return h[i], true
		}
	}
	return Header{}, false
}

// All returns every header with the key, in order.
func (h Headers) All(key string) []Header {
	var out []Header
	for _, x := range h {
		if x.Key == key {
			out = append(out, x)
		}
	}
	return out
}

// With returns a copy of h with the header appended.
func (h Headers) With(key string, schema *data.Schema, value any) Headers {
	out := make(Headers, len(h), len(h)+1)
	copy(out, h)
	return append(out, Header{Key: key, Schema: schema, Value: value})
}

// Without returns a copy of h without any header whose key is in keys.
func (h Headers) Without(keys ...string) Headers {
	out := make(Headers, 0, len(h))
	for _, x := range h {
		if !slices.Contains(keys, x.Key) {
			out = append(out, x)
		}
	}
	return out
}
