package group

import "fmt"

// Durable records. Each record has a kind, a key and a value; a later record
// with the same kind and key replaces an earlier one, and a tombstone deletes
// it, like a compacted __consumer_offsets topic.

const (
	kindOffset  uint8 = 1 // key: group, topic, partition; value: offsetValue
	kindGroup   uint8 = 2 // key: group; value: groupMeta
	kindPending uint8 = 3 // key: group, producer id, topic, partition; value: pendingValue
)

// record is one durable record as stored.
type record struct {
	kind      uint8
	tombstone bool
	key       []byte
	value     []byte // nil for tombstones
}

func (r record) liveKey() string { return string(append([]byte{r.kind}, r.key...)) }

// offsetValue is a committed offset.
type offsetValue struct {
	Offset      int64
	LeaderEpoch int32
	Metadata    string
	CommitMs    int64
	ExpireMs    int64 // -1: expires by the group's retention rule; else an explicit (v1-v4) expiry
}

func (v offsetValue) encode(e enc) enc {
	return e.varint(v.Offset).varint(int64(v.LeaderEpoch)).str(v.Metadata).varint(v.CommitMs).varint(v.ExpireMs)
}

func decodeOffsetValue(d *dec) offsetValue {
	return offsetValue{
		Offset:      d.varint(),
		LeaderEpoch: d.i32(),
		Metadata:    d.str(),
		CommitMs:    d.varint(),
		ExpireMs:    d.varint(),
	}
}

// pendingValue is an offset staged by TxnOffsetCommit.
type pendingValue struct {
	ProducerEpoch int16
	offsetValue
}

type offsetKey struct {
	Group     string
	Topic     string
	Partition int32
}

type pendingKey struct {
	Group      string
	ProducerID int64
	Topic      string
	Partition  int32
}

// groupKind says which protocol a group uses.
type groupKind uint8

const (
	kindClassic  groupKind = 0
	kindConsumer groupKind = 1 // KIP-848
)

func (k groupKind) String() string {
	if k == kindConsumer {
		return "consumer"
	}
	return "classic"
}

// groupMeta is the durable part of a group. After a restart groups come
// back Empty: Members is kept for inspection and as a record of the last
// generation's assignment, not to resurrect sessions.
type groupMeta struct {
	Kind         groupKind
	ProtocolType string
	Protocol     string
	Generation   int32 // classic generation, or the consumer group epoch
	Leader       string
	StateMs      int64 // when this record was written
	Members      []memberMeta
}

type memberMeta struct {
	MemberID         string
	InstanceID       *string
	ClientID         string
	ClientHost       string
	RebalanceTimeout int32
	SessionTimeout   int32
	Metadata         []byte
	Assignment       []byte
}

const groupMetaVersion = 0

func (m groupMeta) encode() []byte {
	e := enc(nil).u8(groupMetaVersion).u8(uint8(m.Kind)).str(m.ProtocolType).str(m.Protocol).
		varint(int64(m.Generation)).str(m.Leader).varint(m.StateMs).uvarint(uint64(len(m.Members)))
	for _, mm := range m.Members {
		e = e.str(mm.MemberID).nstr(mm.InstanceID).str(mm.ClientID).str(mm.ClientHost).
			varint(int64(mm.RebalanceTimeout)).varint(int64(mm.SessionTimeout)).bytes(mm.Metadata).bytes(mm.Assignment)
	}
	return e
}

func decodeGroupMeta(b []byte) (groupMeta, error) {
	d := &dec{b: b}
	var m groupMeta
	if v := d.u8(); d.err == nil && v != groupMetaVersion {
		return m, fmt.Errorf("group state: unknown group record version %d", v)
	}
	m.Kind = groupKind(d.u8())
	if m.Kind != kindClassic && m.Kind != kindConsumer {
		d.fail()
	}
	m.ProtocolType = d.str()
	m.Protocol = d.str()
	m.Generation = d.i32()
	m.Leader = d.str()
	m.StateMs = d.varint()
	n := d.count(9)
	for i := 0; i < n && d.err == nil; i++ {
		m.Members = append(m.Members, memberMeta{
			MemberID:         d.str(),
			InstanceID:       d.nstr(),
			ClientID:         d.str(),
			ClientHost:       d.str(),
			RebalanceTimeout: d.i32(),
			SessionTimeout:   d.i32(),
			Metadata:         d.bytes(),
			Assignment:       d.bytes(),
		})
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return m, d.err
}

func offsetRecord(k offsetKey, v offsetValue) record {
	return record{kind: kindOffset, key: encodeOffsetKey(k), value: v.encode(nil)}
}

func offsetTombstone(k offsetKey) record {
	return record{kind: kindOffset, tombstone: true, key: encodeOffsetKey(k)}
}

func encodeOffsetKey(k offsetKey) []byte {
	return enc(nil).str(k.Group).str(k.Topic).varint(int64(k.Partition))
}

func decodeOffsetKey(b []byte) (offsetKey, error) {
	d := &dec{b: b}
	k := offsetKey{Group: d.str(), Topic: d.str(), Partition: d.i32()}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return k, d.err
}

func decodeOffsetRecordValue(b []byte) (offsetValue, error) {
	d := &dec{b: b}
	v := decodeOffsetValue(d)
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return v, d.err
}

func pendingRecord(k pendingKey, v pendingValue) record {
	return record{kind: kindPending, key: encodePendingKey(k), value: v.offsetValue.encode(enc(nil).varint(int64(v.ProducerEpoch)))}
}

func pendingTombstone(k pendingKey) record {
	return record{kind: kindPending, tombstone: true, key: encodePendingKey(k)}
}

func encodePendingKey(k pendingKey) []byte {
	return enc(nil).str(k.Group).varint(k.ProducerID).str(k.Topic).varint(int64(k.Partition))
}

func decodePendingKey(b []byte) (pendingKey, error) {
	d := &dec{b: b}
	k := pendingKey{Group: d.str(), ProducerID: d.varint(), Topic: d.str(), Partition: d.i32()}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return k, d.err
}

func decodePendingValue(b []byte) (pendingValue, error) {
	d := &dec{b: b}
	v := pendingValue{ProducerEpoch: d.i16()}
	v.offsetValue = decodeOffsetValue(d)
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return v, d.err
}

func groupRecord(id string, m groupMeta) record {
	return record{kind: kindGroup, key: enc(nil).str(id), value: m.encode()}
}

func groupTombstone(id string) record {
	return record{kind: kindGroup, tombstone: true, key: enc(nil).str(id)}
}

func decodeGroupKey(b []byte) (string, error) {
	d := &dec{b: b}
	s := d.str()
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return s, d.err
}
