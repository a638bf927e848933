package broker

// Producer state snapshots. Rebuilding producer state by scanning a whole
// partition log makes start-up cost grow with the data, so, like Kafka, the
// state is saved to <partition dir>/producer-state.snapshot together with
// the log end offset it covers: on a clean stop, and periodically while the
// broker runs. On open the snapshot is loaded and only the log after its
// offset is scanned. A snapshot that is unreadable, fails its CRC, or covers
// offsets the log no longer has (cut by recovery after a crash) is ignored
// and the whole log is scanned, which is always correct.
//
// Producers idle for longer than producer.id.expiration.ms with no open
// transaction are forgotten, as in Kafka, so short-lived idempotent clients
// do not accumulate.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/tributary-streams/tributary/broker/internal/record"
	"github.com/tributary-streams/tributary/broker/internal/statefile"
	"github.com/tributary-streams/tributary/internal/fsutil"
)

const (
	producerSnapshotName    = "producer-state.snapshot"
	producerSnapshotVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (p *partition) snapshotPath() string {
	return filepath.Join(partitionDir(p.b.cfg.DataDir, p.topic.name, p.index), producerSnapshotName)
}

// encodeSnapshot encodes the state as of log end offset end.
func (s *producerState) encodeSnapshot(end int64) []byte {
	e := statefile.Enc(make([]byte, 4, 256)).U8(producerSnapshotVersion).Varint(end).Uvarint(uint64(len(s.producers)))
	for id, pe := range s.producers {
		e = e.Varint(id).Varint(int64(pe.epoch)).Varint(pe.txnFirstOffset).Varint(pe.lastTimestamp).Uvarint(uint64(len(pe.batches)))
		for _, b := range pe.batches {
			e = e.Varint(int64(b.firstSeq)).Varint(int64(b.lastSeq)).Varint(b.baseOffset)
		}
	}
	e = e.Uvarint(uint64(len(s.aborted)))
	for _, a := range s.aborted {
		e = e.Varint(a.producerID).Varint(a.firstOffset).Varint(a.lastOffset)
	}
	binary.BigEndian.PutUint32(e, crc32.Checksum(e[4:], castagnoli))
	return e
}

var errBadSnapshot = errors.New("bad producer state snapshot")

func decodeSnapshot(b []byte) (*producerState, int64, error) {
	if len(b) < 5 || binary.BigEndian.Uint32(b) != crc32.Checksum(b[4:], castagnoli) {
		return nil, 0, fmt.Errorf("%w: checksum", errBadSnapshot)
	}
	d := &statefile.Dec{B: b[4:]}
	if v := d.U8(); v != producerSnapshotVersion {
		return nil, 0, fmt.Errorf("%w: version %d", errBadSnapshot, v)
	}
	end := d.Varint()
	s := newProducerState()
	for n := d.Count(4); n > 0 && d.Err == nil; n-- {
		id := d.Varint()
		pe := &producerEntry{epoch: int16(d.Varint()), txnFirstOffset: d.Varint(), lastTimestamp: d.Varint()}
		for m := d.Count(3); m > 0 && d.Err == nil; m-- {
			pe.batches = append(pe.batches, cachedBatch{firstSeq: int32(d.Varint()), lastSeq: int32(d.Varint()), baseOffset: d.Varint()})
		}
		s.producers[id] = pe
	}
	for n := d.Count(3); n > 0 && d.Err == nil; n-- {
		s.aborted = append(s.aborted, abortedTxn{producerID: d.Varint(), firstOffset: d.Varint(), lastOffset: d.Varint()})
	}
	if d.Err != nil || len(d.B) != 0 {
		return nil, 0, fmt.Errorf("%w: malformed", errBadSnapshot)
	}
	return s, end, nil
}

// loadProducerState restores the partition's producer state from its
// snapshot and the log after it, or from the whole log.
func (p *partition) loadProducerState() error {
	from := p.log.StartOffset()
	state := newProducerState()
	if raw, err := os.ReadFile(p.snapshotPath()); err == nil {
		s, end, err := decodeSnapshot(raw)
		switch {
		case err != nil:
			p.b.logger.Warn("ignoring producer state snapshot", "topic", p.topic.name, "partition", p.index, "err", err)
		case end > p.log.EndOffset() || end < p.log.StartOffset():
			// The log was cut below the snapshot (recovery after a crash)
			// or has moved past it: only a full scan is right.
		default:
			state, from = s, end
		}
	}
	err := p.log.ForEachBatch(from, func(h record.Header, batch []byte) error {
		if h.BaseOffset >= from {
			state.record(h, h.BaseOffset, batch)
		}
		return nil
	})
	if err != nil {
		return err
	}
	state.truncateBefore(p.log.StartOffset())
	p.producers = state
	p.lso.Store(state.firstUnstableOffset())
	p.snapshotEnd = from
	return nil
}

// saveProducerState writes a snapshot if the log moved since the last one.
// Periodic snapshots are fsynced and renamed into place: the fsync costs
// little at this rate, and a snapshot that is always whole keeps restarts
// from rescanning the tail. At a clean stop (durable false) they are only
// renamed into place: the stop syncs the file system once for every file
// (log.CloseAll), and a snapshot torn by a crash before that fails its
// checksum and costs a scan, nothing more.
func (p *partition) saveProducerState(durable bool) error {
	p.snapMu.Lock()
	defer p.snapMu.Unlock()
	if p.gone {
		return nil
	}
	p.appendMu.Lock()
	end := p.log.EndOffset()
	if end == p.snapshotEnd {
		p.appendMu.Unlock()
		return nil
	}
	raw := p.producers.encodeSnapshot(end)
	p.appendMu.Unlock()
	path := p.snapshotPath()
	write := fsutil.WriteFileAtomic
	if !durable {
		write = writeFileRenamed
	}
	if err := write(path, raw); err != nil {
		return fmt.Errorf("write producer snapshot: %w", err)
	}
	p.appendMu.Lock()
	p.snapshotEnd = end
	p.appendMu.Unlock()
	return nil
}

// expireProducers forgets producers idle since before cutoffMs (by their
// last batch's timestamp) with no open transaction.
func (p *partition) expireProducers(cutoffMs int64) {
	p.appendMu.Lock()
	for id, e := range p.producers.producers {
		if e.txnFirstOffset < 0 && e.lastTimestamp < cutoffMs {
			delete(p.producers.producers, id)
		}
	}
	p.appendMu.Unlock()
}

// writeFileRenamed writes data to a temp file and renames it over path,
// syncing nothing.
func writeFileRenamed(path string, data []byte) error {
	tmp := path + fsutil.TempSuffix
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
