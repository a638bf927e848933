package txn

import (
	"fmt"

	"github.com/tributary-streams/tributary/broker/internal/statefile"
)

const stateVersion = 1

func encodeState(t *txnState) []byte {
	e := statefile.Enc(nil).U8(stateVersion).Varint(t.producerID).Varint(int64(t.epoch)).Varint(int64(t.timeoutMs)).
		U8(uint8(t.state)).Varint(t.startMs).Varint(t.updateMs).Uvarint(uint64(len(t.partitions)))
	for tp := range t.partitions {
		e = e.Str(tp.Topic).Varint(int64(tp.Partition))
	}
	e = e.Uvarint(uint64(len(t.groups)))
	for g := range t.groups {
		e = e.Str(g)
	}
	return e
}

func decodeState(key, value []byte) (*txnState, error) {
	d := &statefile.Dec{B: value}
	if v := d.U8(); d.Err == nil && v != stateVersion {
		return nil, fmt.Errorf("transaction %q: unknown state version %d", key, v)
	}
	t := &txnState{id: string(key), partitions: map[TopicPartition]struct{}{}, groups: map[string]struct{}{}}
	t.producerID = d.Varint()
	t.epoch = int16(d.Varint())
	t.timeoutMs = int32(d.Varint())
	t.state = State(d.U8())
	t.startMs = d.Varint()
	t.updateMs = d.Varint()
	for n := d.Count(2); n > 0 && d.Err == nil; n-- {
		tp := TopicPartition{Topic: d.Str(), Partition: int32(d.Varint())}
		t.partitions[tp] = struct{}{}
	}
	for n := d.Count(1); n > 0 && d.Err == nil; n-- {
		t.groups[d.Str()] = struct{}{}
	}
	if d.Err != nil {
		return nil, fmt.Errorf("transaction %q: %w", key, d.Err)
	}
	if t.state > CompleteAbort {
		return nil, fmt.Errorf("transaction %q: unknown state %d", key, t.state)
	}
	return t, nil
}
