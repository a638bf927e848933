package group

import (
	"fmt"

	"github.com/tributary-streams/tributary/broker/internal/statefile"
)

// Durable records, stored as statefile.Records in the state file
// (<Dir>/groups.log). Each record has a kind, a key and a value; a later
// record with the same kind and key replaces an earlier one, and a tombstone
// deletes it, like a compacted __consumer_offsets topic.

// The state file's name and header; existing data dirs depend on both.
const (
	stateFileName = "groups.log"
	stateHeader   = "TRBGRP01"
)

const (
	kindOffset  uint8 = 1 // key: group, topic, partition; value: offsetValue
	kindGroup   uint8 = 2 // key: group; value: groupMeta
	kindPending uint8 = 3 // key: group, producer id, topic, partition; value: pendingValue
)

// offsetValue is a committed offset.
type offsetValue struct {
	Offset      int64
	LeaderEpoch int32
	Metadata    string
	CommitMs    int64
	ExpireMs    int64 // -1: expires by the group's retention rule; else an explicit (v1-v4) expiry
}

func (v offsetValue) encode(e statefile.Enc) statefile.Enc {
	return e.Varint(v.Offset).Varint(int64(v.LeaderEpoch)).Str(v.Metadata).Varint(v.CommitMs).Varint(v.ExpireMs)
}

func decodeOffsetValue(d *statefile.Dec) offsetValue {
	return offsetValue{
		Offset:      d.Varint(),
		LeaderEpoch: d.I32(),
		Metadata:    d.Str(),
		CommitMs:    d.Varint(),
		ExpireMs:    d.Varint(),
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

// groupMeta is the durable part of a group. After a restart a classic
// group whose record was written Stable with a static member comes back
// Stable with its members (see restore in static_members.go); every other
// group comes back Empty, Members then being a record of the last
// generation's assignment.
type groupMeta struct {
	Kind         groupKind
	ProtocolType string
	Protocol     string
	Generation   int32 // classic generation, or the consumer group epoch
	Leader       string
	StateMs      int64 // when this record was written
	Members      []memberMeta
	// State is the classic group's state when the record was written
	// (version 1 on). Version 0 records decode as stateEmpty: they come
	// back Empty, as they always did.
	State groupState
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

// groupMetaVersion is the version groupMeta.encode writes. Version 1
// appends State to version 0's fields; both decode.
const groupMetaVersion = 1

func (m groupMeta) encode() []byte {
	e := statefile.Enc(nil).U8(groupMetaVersion).U8(uint8(m.Kind)).Str(m.ProtocolType).Str(m.Protocol).
		Varint(int64(m.Generation)).Str(m.Leader).Varint(m.StateMs).Uvarint(uint64(len(m.Members)))
	for _, mm := range m.Members {
		e = e.Str(mm.MemberID).Nstr(mm.InstanceID).Str(mm.ClientID).Str(mm.ClientHost).
			Varint(int64(mm.RebalanceTimeout)).Varint(int64(mm.SessionTimeout)).Bytes(mm.Metadata).Bytes(mm.Assignment)
	}
	return e.U8(uint8(m.State))
}

func decodeGroupMeta(b []byte) (groupMeta, error) {
	d := &statefile.Dec{B: b}
	var m groupMeta
	version := d.U8()
	if d.Err == nil && version > groupMetaVersion {
		return m, fmt.Errorf("group state: unknown group record version %d", version)
	}
	m.Kind = groupKind(d.U8())
	if m.Kind != kindClassic && m.Kind != kindConsumer {
		d.Fail()
	}
	m.ProtocolType = d.Str()
	m.Protocol = d.Str()
	m.Generation = d.I32()
	m.Leader = d.Str()
	m.StateMs = d.Varint()
	n := d.Count(9)
	for i := 0; i < n && d.Err == nil; i++ {
		m.Members = append(m.Members, memberMeta{
			MemberID:         d.Str(),
			InstanceID:       d.Nstr(),
			ClientID:         d.Str(),
			ClientHost:       d.Str(),
			RebalanceTimeout: d.I32(),
			SessionTimeout:   d.I32(),
			Metadata:         d.Bytes(),
			Assignment:       d.Bytes(),
		})
	}
	if version >= 1 {
		if m.State = groupState(d.U8()); m.State > stateStable {
			d.Fail()
		}
	}
	return m, d.Finish()
}

func offsetRecord(k offsetKey, v offsetValue) statefile.Record {
	return statefile.Record{Kind: kindOffset, Key: encodeOffsetKey(k), Value: v.encode(nil)}
}

func offsetTombstone(k offsetKey) statefile.Record {
	return statefile.Record{Kind: kindOffset, Tombstone: true, Key: encodeOffsetKey(k)}
}

func encodeOffsetKey(k offsetKey) []byte {
	return statefile.Enc(nil).Str(k.Group).Str(k.Topic).Varint(int64(k.Partition))
}

func decodeOffsetKey(b []byte) (offsetKey, error) {
	d := &statefile.Dec{B: b}
	k := offsetKey{Group: d.Str(), Topic: d.Str(), Partition: d.I32()}
	return k, d.Finish()
}

func decodeOffsetRecordValue(b []byte) (offsetValue, error) {
	d := &statefile.Dec{B: b}
	v := decodeOffsetValue(d)
	return v, d.Finish()
}

func pendingRecord(k pendingKey, v pendingValue) statefile.Record {
	return statefile.Record{Kind: kindPending, Key: encodePendingKey(k), Value: v.offsetValue.encode(statefile.Enc(nil).Varint(int64(v.ProducerEpoch)))}
}

func pendingTombstone(k pendingKey) statefile.Record {
	return statefile.Record{Kind: kindPending, Tombstone: true, Key: encodePendingKey(k)}
}

func encodePendingKey(k pendingKey) []byte {
	return statefile.Enc(nil).Str(k.Group).Varint(k.ProducerID).Str(k.Topic).Varint(int64(k.Partition))
}

func decodePendingKey(b []byte) (pendingKey, error) {
	d := &statefile.Dec{B: b}
	k := pendingKey{Group: d.Str(), ProducerID: d.Varint(), Topic: d.Str(), Partition: d.I32()}
	return k, d.Finish()
}

func decodePendingValue(b []byte) (pendingValue, error) {
	d := &statefile.Dec{B: b}
	v := pendingValue{ProducerEpoch: d.I16()}
	v.offsetValue = decodeOffsetValue(d)
	return v, d.Finish()
}

func groupRecord(id string, m groupMeta) statefile.Record {
	return statefile.Record{Kind: kindGroup, Key: statefile.Enc(nil).Str(id), Value: m.encode()}
}

func groupTombstone(id string) statefile.Record {
	return statefile.Record{Kind: kindGroup, Tombstone: true, Key: statefile.Enc(nil).Str(id)}
}

func decodeGroupKey(b []byte) (string, error) {
	d := &statefile.Dec{B: b}
	s := d.Str()
	return s, d.Finish()
}
