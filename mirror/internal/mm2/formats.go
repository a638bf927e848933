// Package mm2 holds MirrorMaker 2's record formats, so that topics the
// mirror writes can be read by MM2's own tools (RemoteClusterUtils,
// MirrorClient, the checkpoint and heartbeat formatters) and the other way
// round, and MM2's offset translation store.
//
// Layouts, all big-endian, strings as an int16 length and UTF-8 bytes (Kafka's
// protocol types, as MM2 writes them with its Schema/Struct classes):
//
//	offset sync  key   topic string, partition int32
//	             value upstreamOffset int64, offset int64
//	checkpoint   key   group string, topic string, partition int32
//	             value version int16 (0), upstreamOffset int64, offset int64, metadata string
//	heartbeat    key   sourceClusterAlias string, targetClusterAlias string
//	             value version int16 (0), timestamp int64
//
// Source positions use Kafka Connect's offsets-topic layout, JSON:
//
//	key   ["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"orders"}]
//	value {"offset":41}    (the last offset copied; copying resumes at 42)
package mm2

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// ErrFormat is wrapped by every decoding error.
var ErrFormat = errors.New("mm2: malformed record")

// OffsetSync says that upstream offset Upstream of a source partition was
// copied to downstream offset Downstream on the target.
type OffsetSync struct {
	Topic      string // the source topic
	Partition  int32
	Upstream   int64
	Downstream int64
}

// Key encodes the record key.
func (s OffsetSync) Key() []byte {
	b := appendString(nil, s.Topic)
	return binary.BigEndian.AppendUint32(b, uint32(s.Partition))
}

// Value encodes the record value.
func (s OffsetSync) Value() []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(s.Upstream))
	return binary.BigEndian.AppendUint64(b, uint64(s.Downstream))
}

// DecodeOffsetSync decodes an offset-syncs record.
func DecodeOffsetSync(key, value []byte) (OffsetSync, error) {
	var s OffsetSync
	k := reader{b: key}
	s.Topic = k.string()
	s.Partition = k.int32()
	v := reader{b: value}
	s.Upstream = v.int64()
	s.Downstream = v.int64()
	if err := firstErr(k.done("offset sync key"), v.done("offset sync value")); err != nil {
		return OffsetSync{}, err
	}
	return s, nil
}

// Checkpoint is a consumer group's committed offset on the source, with
// its translation on the target.
type Checkpoint struct {
	Group      string
	Topic      string // the remote topic, on the target
	Partition  int32
	Upstream   int64
	Downstream int64
	Metadata   string
}

// Key encodes the record key.
func (c Checkpoint) Key() []byte {
	b := appendString(nil, c.Group)
	b = appendString(b, c.Topic)
	return binary.BigEndian.AppendUint32(b, uint32(c.Partition))
}

// Value encodes the record value, version 0.
func (c Checkpoint) Value() []byte {
	b := binary.BigEndian.AppendUint16(nil, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Upstream))
	b = binary.BigEndian.AppendUint64(b, uint64(c.Downstream))
	return appendString(b, c.Metadata)
}

// DecodeCheckpoint decodes a checkpoints record.
func DecodeCheckpoint(key, value []byte) (Checkpoint, error) {
	var c Checkpoint
	k := reader{b: key}
	c.Group = k.string()
	c.Topic = k.string()
	c.Partition = k.int32()
	v := reader{b: value}
	if ver := v.int16(); v.err == nil && ver != 0 {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint value version %d, only 0 is known", ErrFormat, ver)
	}
	c.Upstream = v.int64()
	c.Downstream = v.int64()
	c.Metadata = v.string()
	if err := firstErr(k.done("checkpoint key"), v.done("checkpoint value")); err != nil {
		return Checkpoint{}, err
	}
	return c, nil
}

// Heartbeat is emitted by a flow on its target, and copied onward by flows
// out of that cluster.
type Heartbeat struct {
	Source, Target string
	Timestamp      int64 // milliseconds since the epoch
}

// Key encodes the record key.
func (h Heartbeat) Key() []byte {
	return appendString(appendString(nil, h.Source), h.Target)
}

// Value encodes the record value, version 0.
func (h Heartbeat) Value() []byte {
	b := binary.BigEndian.AppendUint16(nil, 0)
	return binary.BigEndian.AppendUint64(b, uint64(h.Timestamp))
}

// DecodeHeartbeat decodes a heartbeats record.
func DecodeHeartbeat(key, value []byte) (Heartbeat, error) {
	var h Heartbeat
	k := reader{b: key}
	h.Source = k.string()
	h.Target = k.string()
	v := reader{b: value}
	if ver := v.int16(); v.err == nil && ver != 0 {
		return Heartbeat{}, fmt.Errorf("%w: heartbeat value version %d, only 0 is known", ErrFormat, ver)
	}
	h.Timestamp = v.int64()
	if err := firstErr(k.done("heartbeat key"), v.done("heartbeat value")); err != nil {
		return Heartbeat{}, err
	}
	return h, nil
}

// SourceConnector is the connector name MM2 uses in its offsets topic.
const SourceConnector = "MirrorSourceConnector"

// Position is a source partition's last copied offset, as Connect stores
// a MirrorSourceTask's offset.
type Position struct {
	Cluster   string // the source cluster alias
	Topic     string // the source topic
	Partition int32
	Offset    int64 // the last offset copied
}

type positionPartition struct {
	Cluster   string `json:"cluster"`
	Partition int32  `json:"partition"`
	Topic     string `json:"topic"`
}

type positionOffset struct {
	Offset *int64 `json:"offset"`
}

// Key encodes the Connect offsets key.
func (p Position) Key() []byte {
	b, _ := json.Marshal([]any{SourceConnector, positionPartition{p.Cluster, p.Partition, p.Topic}})
	return b
}

// Value encodes the Connect offsets value.
func (p Position) Value() []byte {
	b, _ := json.Marshal(positionOffset{&p.Offset})
	return b
}

// DecodePosition decodes a Connect offsets record of MirrorSourceConnector.
// A nil value is a tombstone: ok is true and Offset is -1.
func DecodePosition(key, value []byte) (Position, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(key, &parts); err != nil || len(parts) != 2 {
		return Position{}, fmt.Errorf("%w: position key %q is not [connector, partition]", ErrFormat, key)
	}
	var connector string
	if err := json.Unmarshal(parts[0], &connector); err != nil {
		return Position{}, fmt.Errorf("%w: position key connector: %v", ErrFormat, err)
	}
	if connector != SourceConnector {
		return Position{}, fmt.Errorf("%w: position of connector %q, not %s", ErrFormat, connector, SourceConnector)
	}
	var pp positionPartition
	if err := json.Unmarshal(parts[1], &pp); err != nil || pp.Topic == "" {
		return Position{}, fmt.Errorf("%w: position key partition %s", ErrFormat, parts[1])
	}
	p := Position{Cluster: pp.Cluster, Topic: pp.Topic, Partition: pp.Partition, Offset: -1}
	if value == nil {
		return p, nil
	}
	var po positionOffset
	if err := json.Unmarshal(value, &po); err != nil || po.Offset == nil {
		return Position{}, fmt.Errorf("%w: position value %q is not {\"offset\": N}", ErrFormat, value)
	}
	p.Offset = *po.Offset
	return p, nil
}

func appendString(b []byte, s string) []byte {
	if len(s) > math.MaxInt16 {
		s = s[:math.MaxInt16] // Kafka names are far shorter; never reached
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// reader decodes Kafka protocol primitives, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) need(n int, what string) bool {
	if r.err != nil {
		return false
	}
	if len(r.b) < n {
		r.err = fmt.Errorf("%w: %s needs %d bytes, %d left", ErrFormat, what, n, len(r.b))
		return false
	}
	return true
}

func (r *reader) int16() int16 {
	if !r.need(2, "int16") {
		return 0
	}
	v := int16(binary.BigEndian.Uint16(r.b))
	r.b = r.b[2:]
	return v
}

func (r *reader) int32() int32 {
	if !r.need(4, "int32") {
		return 0
	}
	v := int32(binary.BigEndian.Uint32(r.b))
	r.b = r.b[4:]
	return v
}

func (r *reader) int64() int64 {
	if !r.need(8, "int64") {
		return 0
	}
	v := int64(binary.BigEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *reader) string() string {
	n := r.int16()
	if r.err == nil && n < 0 {
		r.err = fmt.Errorf("%w: negative string length %d", ErrFormat, n)
	}
	if !r.need(int(n), "string") {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) done(what string) error {
	if r.err != nil {
		return fmt.Errorf("%s: %w", what, r.err)
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%w: %s has %d trailing bytes", ErrFormat, what, len(r.b))
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
