package group

// The __consumer_offsets topic: the coordinator's state in Kafka's own
// record format, for the tools that read that topic (lag monitors, Kafka's
// kafka-console-consumer with the offsets formatter, Burrow...).
//
// Design. The state file (groups.log) stays the source of truth; the topic
// is a view of it, written by the coordinator and by nothing else (the
// broker refuses produce and admin changes to it). Every record the state
// file gets is translated (viewRecord), queued right after the state-file
// write under the same group lock, and appended to the group's partition of
// the topic by a goroutine of the coordinator's (viewWriter), so each
// group's records reach the topic in the order they reach the file, a
// reader sees a commit within moments of its OffsetCommit, and no group
// operation waits for the topic (created, with its partitions, by the first
// append). On startup, and after an append to the topic failed, the view
// is reconciled with the file: each partition is read and the latest value
// of each key compared with what the live state says, and only the
// differences are appended (new values, and tombstones for keys the state no
// longer has). A kill -9 between the two writes therefore costs nothing: the
// record the topic missed is appended on the next start. The topic is
// compacted, so reading it stays proportional to the number of keys.
//
// Records, as Kafka writes them (kmsg encodes them):
//
//   - an offset commit: key version 1 (group, topic, partition), value
//     version 3 (offset, leader epoch, metadata, commit timestamp), or
//     version 1 (with an expire timestamp) for a commit that set an
//     explicit retention (OffsetCommit v1-v4), with the commit time as the
//     record timestamp;
//   - a classic group's metadata: key version 2 (group), value version 3
//     (protocol type, generation, protocol, leader, state timestamp,
//     members with their instance ids, subscriptions and assignments);
//   - a tombstone (null value) for a deleted or expired offset and a
//     deleted group.
//
// A group's records go to partition abs(hash(group)) % partitions, with
// Java's String.hashCode, as Kafka places them.
//
// Differences from Kafka: the group metadata record is also written when a
// join round completes (members without assignments), not only after the
// leader's SyncGroup and when the group empties; KIP-848 groups appear
// through their offset commits only (Kafka writes their state under key
// versions 3 and up, which the classic tools cannot decode), so a group
// converted to KIP-848 gets a tombstone for its classic metadata; offsets
// committed in a transaction appear as plain commits when the transaction
// commits, not as transactional batches followed by markers; and the
// record batches are written by the coordinator directly, with no producer
// id.

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/statefile"
)

// OffsetsTopicName is the name of Kafka's offsets topic.
const OffsetsTopicName = "__consumer_offsets"

// OffsetsLog is the __consumer_offsets topic as the coordinator writes it:
// the broker's internal topic with Config.OffsetsTopicPartitions partitions.
// Its methods are called from one goroutine (the view writer), which holds
// no coordinator lock meanwhile; they must not call back into the
// coordinator.
type OffsetsLog interface {
	// Append appends recs, in order, to one partition. When it returns nil
	// the records are readable by consumers of the topic.
	Append(partition int32, recs []OffsetsRecord) error
	// Scan calls fn with every record of the partition, oldest first; a
	// nil value is a tombstone. key and value are valid only during fn.
	// A partition (or topic) that does not exist yet has no records.
	Scan(partition int32, fn func(key, value []byte)) error
}

// OffsetsRecord is one record of __consumer_offsets. A nil Value is a
// tombstone.
type OffsetsRecord struct {
	Key, Value  []byte
	TimestampMs int64
}

// maxViewBatch bounds the record bytes of one appended batch (reconcile
// appends can be large), well under the default max.message.bytes.
const maxViewBatch = 512 << 10

// OffsetsPartition is the __consumer_offsets partition of group, out of n:
// abs(group.hashCode()) % n with Java's String.hashCode over UTF-16 code
// units, as Kafka computes it (Utils.abs maps MinInt32 to 0).
func OffsetsPartition(group string, n int32) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(group)) {
		h = 31*h + int32(u)
	}
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % n
}

// viewRecord translates a state-file record into its __consumer_offsets
// form and names its group. ok is false for records the topic has no form
// for (offsets staged by an open transaction).
func viewRecord(r statefile.Record, nowMs int64) (group string, rec OffsetsRecord, ok bool, err error) {
	switch r.Kind {
	case kindOffset:
		k, err := decodeOffsetKey(r.Key)
		if err != nil {
			return "", rec, false, err
		}
		key := kmsg.OffsetCommitKey{Version: 1, Group: k.Group, Topic: k.Topic, Partition: k.Partition}
		rec = OffsetsRecord{Key: key.AppendTo(nil), TimestampMs: nowMs}
		if !r.Tombstone {
			v, err := decodeOffsetRecordValue(r.Value)
			if err != nil {
				return "", rec, false, err
			}
			val := kmsg.NewOffsetCommitValue()
			val.Version = 3
			val.Offset, val.LeaderEpoch, val.Metadata, val.CommitTimestamp = v.Offset, v.LeaderEpoch, v.Metadata, v.CommitMs
			if v.ExpireMs >= 0 {
				val.Version, val.ExpireTimestamp = 1, v.ExpireMs
			}
			rec.Value, rec.TimestampMs = val.AppendTo(nil), v.CommitMs
		}
		return k.Group, rec, true, nil
	case kindGroup:
		id, err := decodeGroupKey(r.Key)
		if err != nil {
			return "", rec, false, err
		}
		key := kmsg.GroupMetadataKey{Version: 2, Group: id}
		rec = OffsetsRecord{Key: key.AppendTo(nil), TimestampMs: nowMs}
		if r.Tombstone {
			return id, rec, true, nil
		}
		m, err := decodeGroupMeta(r.Value)
		if err != nil {
			return "", rec, false, err
		}
		if m.Kind == kindConsumer {
			return id, rec, true, nil // no classic metadata: a tombstone
		}
		rec.Value, rec.TimestampMs = groupMetadataValue(m), m.StateMs
		return id, rec, true, nil
	}
	return "", rec, false, nil
}

func groupMetadataValue(m groupMeta) []byte {
	v := kmsg.NewGroupMetadataValue()
	v.Version = 3
	v.ProtocolType = m.ProtocolType
	v.Generation = m.Generation
	if m.Protocol != "" {
		v.Protocol = kmsg.StringPtr(m.Protocol)
	}
	if m.Leader != "" {
		v.Leader = kmsg.StringPtr(m.Leader)
	}
	v.CurrentStateTimestamp = m.StateMs
	for _, mm := range m.Members {
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID, vm.InstanceID = mm.MemberID, mm.InstanceID
		vm.ClientID, vm.ClientHost = mm.ClientID, mm.ClientHost
		vm.RebalanceTimeoutMillis, vm.SessionTimeoutMillis = mm.RebalanceTimeout, mm.SessionTimeout
		vm.Subscription, vm.Assignment = nonNil(mm.Metadata), nonNil(mm.Assignment)
		v.Members = append(v.Members, vm)
	}
	return v.AppendTo(nil)
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// viewWriter appends the view to the topic from a goroutine of its own, so
// that no group operation waits on the topic (whose partitions are created
// on first use) or fails with it.
//
// Order of events: append writes a state-file record and enqueues its view
// with c.viewMu read-held, so records reach the queue in state-file order
// for each group. resync takes c.viewMu for writing, snapshots the live
// state and empties the queue at that one instant: every record written
// before it is in the snapshot, every record written after it is queued
// and appended after the reconcile's own appends. The writer goroutine is
// the only one that appends to the topic.
type viewWriter struct {
	c    *Coordinator
	wake chan struct{} // cap 1: the queue has something
	done chan struct{} // closed when run returns

	mu    sync.Mutex // a leaf; guards queue and busy
	queue []viewBatch
	busy  bool // run holds batches taken from the queue

	stale atomic.Bool // the topic is behind the state until a resync succeeds
}

type viewBatch struct {
	partition int32
	recs      []OffsetsRecord
}

func newViewWriter(c *Coordinator) *viewWriter {
	w := &viewWriter{c: c, wake: make(chan struct{}, 1), done: make(chan struct{})}
	w.stale.Store(true) // the first pass reconciles the topic with the state
	return w
}

// enqueue queues the view of recs, just written to the state file. The
// caller holds c.viewMu for reading.
func (w *viewWriter) enqueue(recs []statefile.Record) {
	now := time.Now().UnixMilli()
	var batches []viewBatch
	at := make(map[int32]int)
	for _, r := range recs {
		id, rec, ok, err := viewRecord(r, now)
		if err != nil {
			w.c.log.Warn("group state record has no __consumer_offsets form", "kind", r.Kind, "err", err)
			continue
		}
		if !ok {
			continue
		}
		p := OffsetsPartition(id, w.c.cfg.OffsetsTopicPartitions)
		i, seen := at[p]
		if !seen {
			i = len(batches)
			at[p] = i
			batches = append(batches, viewBatch{partition: p})
		}
		batches[i].recs = append(batches[i].recs, rec)
	}
	if len(batches) == 0 {
		return
	}
	w.mu.Lock()
	w.queue = append(w.queue, batches...)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *viewWriter) take() []viewBatch {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queue
	w.queue = nil
	w.busy = len(q) > 0
	return q
}

// caughtUp reports whether everything written to the state file so far is
// in the topic.
func (w *viewWriter) caughtUp() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue) == 0 && !w.busy && !w.stale.Load()
}

// run appends queued batches until the coordinator closes. An append that
// fails leaves the topic behind: it is resynced from the state file, retried
// every viewRetryInterval until that succeeds.
func (w *viewWriter) run() {
	defer close(w.done)
	for {
		if w.stale.Load() {
			if err := w.resync(); err != nil {
				if w.c.isClosed() {
					return
				}
				w.c.log.Warn("bringing __consumer_offsets up to date failed; will retry", "err", err)
				select {
				case <-w.c.closed:
					return
				case <-time.After(viewRetryInterval):
				}
				continue
			}
			w.stale.Store(false)
		}
		select {
		case <-w.c.closed:
			return
		case <-w.wake:
		}
		for _, b := range w.take() {
			if err := w.c.appendView(b.partition, b.recs); err != nil {
				w.c.log.Error("writing __consumer_offsets failed; it will be rebuilt from the group state", "err", err)
				w.stale.Store(true)
				break
			}
		}
		w.mu.Lock()
		w.busy = false
		w.mu.Unlock()
	}
}

// resync snapshots the state and empties the queue at one instant (see
// viewWriter), then reconciles the topic with the snapshot.
func (w *viewWriter) resync() error {
	w.c.viewMu.Lock()
	live := w.c.file.Live()
	w.mu.Lock()
	w.queue = nil
	w.mu.Unlock()
	w.c.viewMu.Unlock()
	return w.c.reconcileView(live)
}

// viewRetryInterval is how often a topic left behind by a failed append is
// retried.
const viewRetryInterval = time.Second

// appendView appends recs to partition p in batches of at most
// maxViewBatch record bytes.
func (c *Coordinator) appendView(p int32, recs []OffsetsRecord) error {
	for len(recs) > 0 {
		n, size := 0, 0
		for n < len(recs) && (n == 0 || size+len(recs[n].Key)+len(recs[n].Value) <= maxViewBatch) {
			size += len(recs[n].Key) + len(recs[n].Value)
			n++
		}
		if err := c.cfg.OffsetsLog.Append(p, recs[:n]); err != nil {
			return fmt.Errorf("append to %s-%d: %w", OffsetsTopicName, p, err)
		}
		recs = recs[n:]
	}
	return nil
}

// reconcileView brings the topic in line with live, a snapshot of the
// state file's live records: for each partition it appends the records
// whose latest value in the topic differs from the snapshot, and tombstones
// for keys the snapshot does not have. Only the view writer calls it.
func (c *Coordinator) reconcileView(live []statefile.Record) error {
	now := time.Now().UnixMilli()
	n := c.cfg.OffsetsTopicPartitions
	want := make([]map[string]OffsetsRecord, n)
	for _, r := range live {
		id, rec, ok, err := viewRecord(r, now)
		if err != nil || !ok || rec.Value == nil {
			continue
		}
		p := OffsetsPartition(id, n)
		if want[p] == nil {
			want[p] = make(map[string]OffsetsRecord)
		}
		want[p][string(rec.Key)] = rec
	}
	var errs []error
	appended := 0
	for p := range n {
		if c.isClosed() {
			return ErrStoreClosed
		}
		have := make(map[string][]byte)
		err := c.cfg.OffsetsLog.Scan(p, func(key, value []byte) {
			if key == nil {
				return // not a record of ours
			}
			if value == nil {
				delete(have, string(key))
			} else {
				have[string(key)] = bytes.Clone(value)
			}
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s-%d: %w", OffsetsTopicName, p, err))
			continue
		}
		var out []OffsetsRecord
		for k, rec := range want[p] {
			if v, ok := have[k]; !ok || !bytes.Equal(v, rec.Value) {
				out = append(out, rec)
			}
		}
		for k := range have {
			if _, ok := want[p][k]; !ok {
				out = append(out, OffsetsRecord{Key: []byte(k), TimestampMs: now})
			}
		}
		slices.SortFunc(out, func(a, b OffsetsRecord) int { return bytes.Compare(a.Key, b.Key) })
		if err := c.appendView(p, out); err != nil {
			errs = append(errs, err)
			continue
		}
		appended += len(out)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if appended > 0 {
		c.log.Info("__consumer_offsets brought up to date with the group state", "records", appended)
	}
	return nil
}
