// Log compaction: keep only the newest record per key in closed segments,
// preserving offsets.
//
// Rules implemented (compare Kafka's LogCleaner):
//
//   - Only closed segments are cleaned, and only a prefix of them: cleaning
//     stops at the first segment holding a record newer than
//     min.compaction.lag.ms, and before any segment reaching the first
//     offset of a transaction that has no marker yet (its outcome is
//     unknown).
//   - A pass runs only when the dirty ratio (bytes of cleanable segments not
//     wholly below the persisted cleaner offset, over all cleanable bytes)
//     is at least min.cleanable.dirty.ratio, or a tombstone's delete horizon
//     has passed.
//   - The newest offset per key is taken over the whole log, active segment
//     included, counting committed and non-transactional records only. A
//     record is dropped when a newer record has the same key, when its key
//     is null, or when it belongs to an aborted transaction.
//   - Tombstones (null value) use Kafka's KIP-534 scheme: the first cleaning
//     that keeps a tombstone sets the batch's delete-horizon attribute bit
//     and stores now + delete.retention.ms in BaseTimestamp (record
//     timestamp deltas are rebased so record timestamps do not change);
//     a later cleaning at or after the horizon drops the tombstone.
//   - Every control batch (transaction marker) is kept, always. This is
//     safe but never reclaims markers, unlike Kafka.
//   - A batch that loses all its records is dropped, except the last data
//     batch of each producer id, which is kept as an empty batch so the
//     producer's sequence state survives (as Kafka does).
//   - A rewritten batch keeps its base offset, last offset delta, producer
//     fields, codec, attributes and max timestamp; only records inside it
//     are dropped. Unchanged batches are copied byte for byte.
//   - Segments are rewritten one for one (never merged); a segment that
//     ends up empty stays as an empty file.
//
// The key map lives in memory (map[string]int64), so a pass needs memory
// proportional to the number of distinct keys in the log.

package log

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/record"
	"github.com/tributary-streams/tributary/internal/fsutil"
)

// CompactStats describes one Compact call. Byte counts cover the cleanable
// segments that were examined; SegmentsCleaned counts those rewritten.
type CompactStats struct {
	SegmentsCleaned int
	RecordsRemoved  int64
	BytesBefore     int64
	BytesAfter      int64
}

// Control record types (the second int16 of a control record's key).
const (
	controlAbort  = 0
	controlCommit = 1
)

// Compact cleans the closed segments as described in the file comment. It
// does nothing unless cleanup.policy includes "compact". Appends and reads
// continue during a pass; each segment swap holds the write lock briefly.
func (l *Log) Compact(now time.Time) (CompactStats, error) {
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	var st CompactStats
	if l.closed.Load() {
		return st, ErrClosed
	}
	cfg := l.cfg.Load()
	if !cfg.compacts() {
		return st, nil
	}
	nowMs := now.UnixMilli()

	l.mu.RLock()
	views := make([]*view, len(l.segs))
	for i, s := range l.segs {
		v := takeView(s)
		views[i] = &v
	}
	end := l.end.Load()
	l.mu.RUnlock()
	defer func() {
		for _, v := range views {
			v.release()
		}
	}()

	// Cleanable prefix by min.compaction.lag.ms, at segment granularity.
	nClean := len(views) - 1
	if cfg.MinCompactionLagMs > 0 {
		for i, v := range views[:nClean] {
			if v.maxTs > nowMs-cfg.MinCompactionLagMs {
				nClean = i
				break
			}
		}
	}
	if nClean == 0 {
		return st, nil
	}
	if !l.worthCleaning(views, nClean, cfg, nowMs) {
		return st, nil
	}

	km, err := l.buildKeyMap(views, end)
	if err != nil {
		return st, err
	}
	// Never clean up to an undecided transaction.
	for nClean > 0 && views[nClean].s.base > km.firstUnstable {
		nClean--
	}
	if nClean == 0 {
		return st, nil
	}

	horizon := int64(math.MaxInt64)
	for _, v := range views[:nClean] {
		res, err := l.cleanSegment(v, km, cfg, nowMs)
		if err != nil {
			return st, err
		}
		st.BytesBefore += v.size
		st.BytesAfter += res.size
		st.RecordsRemoved += res.removed
		horizon = min(horizon, res.horizon)
		if res.seg == nil {
			continue // nothing changed
		}
		if err := l.swapSegment(v.s, res.seg); err != nil {
			res.seg.release()
			return st, err
		}
		st.SegmentsCleaned++
	}

	l.cleanedUpTo = views[nClean].s.base
	l.horizonKnown, l.nextHorizon = true, horizon
	l.ckMu.Lock()
	err = l.checkpoint(cleanerOffsetFile, l.cleanedUpTo)
	l.ckMu.Unlock()
	if st.SegmentsCleaned > 0 {
		l.logger.Info("compacted log", "segments", st.SegmentsCleaned, "records_removed", st.RecordsRemoved,
			"bytes_before", st.BytesBefore, "bytes_after", st.BytesAfter)
	}
	return st, err
}

// worthCleaning applies min.cleanable.dirty.ratio, overridden when a
// tombstone delete horizon has passed.
func (l *Log) worthCleaning(views []*view, nClean int, cfg *Config, nowMs int64) bool {
	var clean, dirty int64
	for i, v := range views[:nClean] {
		if views[i+1].s.base <= l.cleanedUpTo {
			clean += v.size
		} else {
			dirty += v.size
		}
	}
	if clean+dirty == 0 {
		return false
	}
	if dirty > 0 && float64(dirty)/float64(clean+dirty) >= cfg.MinCleanableDirtyRatio {
		return true
	}
	if !l.horizonKnown {
		l.nextHorizon = l.scanHorizons(views[:nClean])
		l.horizonKnown = true
	}
	return l.nextHorizon <= nowMs
}

// scanHorizons finds the earliest delete horizon among batches that carry
// one (used once after open, when it is not known from a previous pass).
func (l *Log) scanHorizons(views []*view) int64 {
	h := int64(math.MaxInt64)
	for _, v := range views {
		br := batchReader{r: v.s.f, lim: v.size, chunk: recoveryChunk}
		for {
			bh, err := br.header()
			if err != nil {
				break
			}
			if bh.HasDeleteHorizon() {
				h = min(h, bh.BaseTimestamp)
			}
			br.skip(bh)
		}
	}
	return h
}

// keyMap is the result of the scan over the whole log.
type keyMap struct {
	newest        map[string]int64 // key -> newest committed offset
	aborted       map[int64]bool   // base offsets of aborted transactional batches
	lastOfPID     map[int64]int64  // producer id -> base offset of its last data batch
	firstUnstable int64            // first offset of an undecided transaction, or MaxInt64
}

type pendingTxn struct {
	batches []int64
	keys    []keyOffset
}

type keyOffset struct {
	key string
	off int64
}

func (km *keyMap) put(key string, off int64) {
	if old, ok := km.newest[key]; !ok || off > old {
		km.newest[key] = off
	}
}

// buildKeyMap scans every batch below end. Transactional records are held
// per producer until their marker: a commit publishes their keys, an abort
// marks their batches aborted, and no marker leaves them undecided.
func (l *Log) buildKeyMap(views []*view, end int64) (*keyMap, error) {
	km := &keyMap{
		newest:        map[string]int64{},
		aborted:       map[int64]bool{},
		lastOfPID:     map[int64]int64{},
		firstUnstable: math.MaxInt64,
	}
	pending := map[int64]*pendingTxn{}
	for _, v := range views {
		br := batchReader{r: v.s.f, lim: v.size, chunk: recoveryChunk}
		for {
			h, err := br.header()
			if errors.Is(err, io.EOF) || (err == nil && h.BaseOffset >= end) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("compact: read %s: %w", v.s.path, err)
			}
			b, err := br.batch(h)
			if err != nil {
				return nil, fmt.Errorf("compact: read %s: %w", v.s.path, err)
			}
			br.skip(h)
			recs, err := record.Records(b)
			if err != nil {
				// Stored batches were validated; a failure here means the
				// payload cannot be decoded. Leave its keys out: cleaning
				// copies such batches unchanged.
				l.logger.Warn("compact: cannot decode batch; keeping it unchanged", "path", v.s.path, "offset", h.BaseOffset, "err", err)
				continue
			}
			if h.IsControl() {
				if p := pending[h.ProducerID]; p != nil && len(recs) > 0 {
					switch controlType(recs[0].Key) {
					case controlCommit:
						for _, k := range p.keys {
							km.put(k.key, k.off)
						}
					case controlAbort:
						for _, off := range p.batches {
							km.aborted[off] = true
						}
					}
					delete(pending, h.ProducerID)
				}
				continue
			}
			if h.ProducerID >= 0 {
				km.lastOfPID[h.ProducerID] = h.BaseOffset
			}
			var p *pendingTxn
			if h.IsTransactional() {
				if p = pending[h.ProducerID]; p == nil {
					p = &pendingTxn{}
					pending[h.ProducerID] = p
				}
				p.batches = append(p.batches, h.BaseOffset)
			}
			for _, r := range recs {
				if r.Key == nil {
					continue
				}
				off := h.BaseOffset + int64(r.OffsetDelta)
				if p != nil {
					p.keys = append(p.keys, keyOffset{string(r.Key), off})
				} else {
					km.put(string(r.Key), off)
				}
			}
		}
	}
	for _, p := range pending {
		km.firstUnstable = min(km.firstUnstable, p.batches[0])
	}
	return km, nil
}

// controlType reads the type from a control record key (version int16,
// type int16); -1 if malformed.
func controlType(key []byte) int {
	if len(key) < 4 {
		return -1
	}
	return int(int16(binary.BigEndian.Uint16(key[2:])))
}

type cleanResult struct {
	seg     *segment // rewritten segment, nil if unchanged
	size    int64
	removed int64
	horizon int64 // earliest delete horizon kept, MaxInt64 if none
}

// cleanSegment writes the cleaned copy of v to <base>.log.cleaned with its
// index files, fsynced, and returns it opened. Nothing is written while
// batches come out unchanged; at the first change the unchanged prefix is
// copied over and the rest streamed, so memory stays at one batch.
func (l *Log) cleanSegment(v *view, km *keyMap, cfg *Config, nowMs int64) (res cleanResult, err error) {
	res.horizon = math.MaxInt64
	logPath := v.s.path + cleanedSuffix
	var (
		ns  *segment
		w   *bufio.Writer
		pos int64 // write position in the new file
	)
	defer func() {
		if err != nil && ns != nil {
			ns.release()
			os.Remove(logPath)
			os.Remove(ns.indexPath() + cleanedSuffix)
			os.Remove(ns.timeIndexPath() + cleanedSuffix)
		}
	}()
	// startRewrite creates the new file holding the old [0, prefix).
	startRewrite := func(prefix int64) error {
		if err := l.touch(); err != nil {
			return err
		}
		f, err := os.OpenFile(logPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		// The descriptor is of the .cleaned file, but the path is the one
		// it is renamed to: pinned, it is never reopened by path before
		// the swap (files.go).
		ns = newSegment(l.files, l.dir, v.s.base, f)
		if err := ns.f.pin(); err != nil {
			return err
		}
		ns.synced.Store(true)
		w = bufio.NewWriterSize(f, 1<<20)
		if _, err := io.Copy(w, io.NewSectionReader(v.s.f, 0, prefix)); err != nil {
			return err
		}
		br := batchReader{r: v.s.f, lim: prefix, chunk: recoveryChunk}
		for {
			h, err := br.header()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			ns.observe(h, br.pos, cfg.IndexIntervalBytes)
			br.skip(h)
		}
		pos = prefix
		return nil
	}

	br := batchReader{r: v.s.f, lim: v.size, chunk: recoveryChunk}
	for {
		h, err := br.header()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("compact: read %s: %w", v.s.path, err)
		}
		b, err := br.batch(h)
		if err != nil {
			return res, fmt.Errorf("compact: read %s: %w", v.s.path, err)
		}
		nb, removed, cerr := cleanBatch(b, h, km, cfg, nowMs)
		if cerr != nil {
			l.logger.Warn("compact: keeping batch unchanged", "path", v.s.path, "offset", h.BaseOffset, "err", cerr)
			nb, removed = b, 0
		}
		res.removed += removed
		unchanged := nb != nil && &nb[0] == &b[0]
		if !unchanged && ns == nil {
			if err := startRewrite(br.pos); err != nil {
				return res, fmt.Errorf("compact %s: %w", v.s.path, err)
			}
		}
		if nb != nil {
			nh, _ := record.ParseHeader(nb)
			if nh.HasDeleteHorizon() {
				res.horizon = min(res.horizon, nh.BaseTimestamp)
			}
			if ns != nil {
				if _, err := w.Write(nb); err != nil {
					return res, fmt.Errorf("compact %s: %w", v.s.path, err)
				}
				ns.observe(nh, pos, cfg.IndexIntervalBytes)
				pos += int64(len(nb))
			}
		}
		br.skip(h)
	}
	if ns == nil {
		res.size = v.size
		return res, nil
	}
	ns.addTimeEntry()
	if err := w.Flush(); err != nil {
		return res, fmt.Errorf("compact %s: %w", v.s.path, err)
	}
	if err := ns.f.Sync(); err != nil {
		return res, fmt.Errorf("compact %s: %w", v.s.path, err)
	}
	idx, tidx := ns.encodeIndexes()
	if err := fsutil.WriteFileSync(ns.indexPath()+cleanedSuffix, idx); err != nil {
		return res, fmt.Errorf("compact %s: %w", v.s.path, err)
	}
	if err := fsutil.WriteFileSync(ns.timeIndexPath()+cleanedSuffix, tidx); err != nil {
		return res, fmt.Errorf("compact %s: %w", v.s.path, err)
	}
	res.seg, res.size = ns, ns.size
	return res, nil
}

// cleanBatch returns the cleaned form of batch b: b itself if unchanged,
// new bytes if rebuilt, nil if dropped; and the number of records removed.
func cleanBatch(b []byte, h record.Header, km *keyMap, cfg *Config, nowMs int64) ([]byte, int64, error) {
	if h.IsControl() {
		return b, 0, nil
	}
	recs, err := record.Records(b)
	if err != nil {
		return nil, 0, err
	}
	aborted := h.IsTransactional() && km.aborted[h.BaseOffset]
	keep := recs[:0:0]
	tombstones := false
	for _, r := range recs {
		off := h.BaseOffset + int64(r.OffsetDelta)
		switch {
		case aborted, r.Key == nil:
			continue
		case km.newest[string(r.Key)] > off:
			continue
		case r.Value == nil && h.HasDeleteHorizon() && nowMs >= h.BaseTimestamp:
			continue
		}
		if r.Value == nil {
			tombstones = true
		}
		keep = append(keep, r)
	}
	removed := int64(len(recs) - len(keep))
	if len(keep) == 0 {
		if h.ProducerID >= 0 && km.lastOfPID[h.ProducerID] == h.BaseOffset {
			if len(recs) == 0 {
				return b, 0, nil // already the empty placeholder
			}
			nh := h
			nh.Attributes &^= record.AttrDeleteHorizon
			nb, err := record.Build(nh, nil, record.None)
			return nb, removed, err
		}
		return nil, removed, nil
	}
	if removed == 0 && tombstones == h.HasDeleteHorizon() {
		return b, 0, nil
	}

	// Rebuild. Rebase timestamp deltas so each record keeps its timestamp
	// whatever BaseTimestamp becomes.
	nh := h
	switch {
	case tombstones && !h.HasDeleteHorizon():
		nh.Attributes |= record.AttrDeleteHorizon
		nh.BaseTimestamp = nowMs + cfg.DeleteRetentionMs
	case !tombstones && h.HasDeleteHorizon():
		nh.Attributes &^= record.AttrDeleteHorizon
		if !h.LogAppendTime() {
			nh.BaseTimestamp = h.BaseTimestamp + keep[0].TimestampDelta
		}
	}
	if !h.LogAppendTime() {
		for i := range keep {
			keep[i].TimestampDelta = h.BaseTimestamp + keep[i].TimestampDelta - nh.BaseTimestamp
		}
	}
	nb, err := record.Build(nh, keep, h.Codec())
	return nb, removed, err
}

// swapSegment replaces old with its cleaned copy ns: the rename of the .log
// is the commit point (see cleanupTempFiles for crash handling). The write
// lock is held across the renames so no reader can take a view of the old
// segment object after its file was replaced; readers already holding one
// keep reading the old inode.
func (l *Log) swapSegment(old, ns *segment) error {
	l.mu.Lock()
	i := -1
	for j, s := range l.segs {
		if s == old {
			i = j
			break
		}
	}
	if i < 0 || i == len(l.segs)-1 {
		l.mu.Unlock()
		return fmt.Errorf("compact: segment %s is no longer a closed segment", old.path)
	}
	// The rename replaces the old inode: readers still holding the old
	// segment keep its descriptor (files.go).
	if err := old.f.pin(); err != nil {
		l.mu.Unlock()
		return fmt.Errorf("compact: swap %s: %w", old.path, err)
	}
	if err := os.Rename(old.path+cleanedSuffix, old.path); err != nil {
		l.mu.Unlock()
		return fmt.Errorf("compact: swap %s: %w", old.path, err)
	}
	l.segs[i] = ns
	l.size.Add(ns.size - old.size)
	l.mu.Unlock()
	ns.f.unpin() // its path now names its file

	// Committed. The index renames finish the swap; if they fail, Open
	// finishes them.
	var errs []error
	for _, p := range []string{ns.indexPath(), ns.timeIndexPath()} {
		if err := os.Rename(p+cleanedSuffix, p); err != nil {
			errs = append(errs, err)
		}
	}
	if err := fsutil.SyncDir(l.dir); err != nil {
		errs = append(errs, err)
	}
	old.release()
	if len(errs) > 0 {
		return fmt.Errorf("compact: finish swap of %s: %w", filepath.Base(old.path), errors.Join(errs...))
	}
	return nil
}
