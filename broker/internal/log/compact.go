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
//     is at least min.cleanable.dirty.ratio, or a tombstone's or marker's
//     delete horizon has passed.
//   - The key map (cleaner.go) has bounded memory, Kafka's
//     log.cleaner.dedupe.buffer.size. A pass records the newest offset of
//     each key from the dirty start (the cleaner offset) onward, committed
//     and non-transactional records only, until the map is full or the log
//     ends; it then rewrites the closed segments up to what the map
//     covered, and the next pass carries on from there. Everything below
//     the cleaner offset already holds one record per key, so comparing it
//     with the newer keys alone is enough. A record is dropped when the map
//     holds a newer offset for its key, when its key is null, or when it
//     belongs to an aborted transaction.
//   - Transactions are decided from batch headers and markers over the
//     whole log (memory grows with aborted and open transactional batches,
//     not with keys).
//   - Tombstones (null value) use Kafka's KIP-534 scheme: the first cleaning
//     that keeps a tombstone sets the batch's delete-horizon attribute bit
//     and stores now + delete.retention.ms in BaseTimestamp (record
//     timestamp deltas are rebased so record timestamps do not change);
//     a later cleaning at or after the horizon drops the tombstone.
//   - A transaction marker (control batch) stays while any batch of its
//     transaction remains; once none does, it gets a delete horizon the
//     same way and is removed past it, as Kafka does.
//   - A batch that loses all its records is dropped, except the last data
//     batch of each producer id, which is kept as an empty batch so the
//     producer's sequence state survives (as Kafka does).
//   - A rewritten batch keeps its base offset, last offset delta, producer
//     fields, codec, attributes and max timestamp; only records inside it
//     are dropped. Unchanged batches are copied byte for byte.
//   - Neighbouring segments whose sizes add up to at most segment.bytes are
//     cleaned into one (Kafka's grouping by size); since groups are sized
//     before cleaning, segments that cleaning shrank are merged by one more
//     pass. A merge is made crash-safe by a .merged file (see swapMerged).

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
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/record"
	"github.com/tributary-streams/tributary/internal/fsutil"
)

// CompactStats describes one Compact call. Byte counts cover the cleaned
// range of the log, before the call and after it; SegmentsCleaned counts
// segments rewritten (a merge counts each segment it replaced).
type CompactStats struct {
	Passes          int // key-map passes (more than one when the map filled)
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

// defaultCleaner serves Compact calls given no Cleaner.
var defaultCleaner Cleaner

// Compact cleans the closed segments as described in the file comment,
// with c's key map (nil: a shared one with Kafka's defaults). It does
// nothing unless cleanup.policy includes "compact". When the key map fills
// before the whole dirty section is covered, the pass cleans what it
// covered and another pass carries on from there, until the log is clean.
// Appends and reads continue during a pass; each segment swap holds the
// write lock briefly.
func (l *Log) Compact(now time.Time, c *Cleaner) (CompactStats, error) {
	if c == nil {
		c = &defaultCleaner
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	// Segment sizes before any pass, to report what the cleaned range
	// weighed before the call (later passes see earlier passes' output).
	type segSize struct{ base, size int64 }
	l.mu.RLock()
	sizes := make([]segSize, 0, len(l.segs))
	for _, s := range l.segs {
		sizes = append(sizes, segSize{s.base, s.size})
	}
	l.mu.RUnlock()
	var total CompactStats
	merged := false
	for pass := 0; ; pass++ {
		if l.closed.Load() {
			return total, ErrClosed
		}
		st, more, err := l.compactPass(now, c, pass == 0)
		if err == nil && !more && !merged && st.SegmentsCleaned > 0 && l.hasMergeable() {
			// Groups are sized before cleaning (so none outgrows
			// segment.bytes); neighbours that cleaning made small are
			// merged by one more pass, as Kafka's next cleaning would.
			more, merged = true, true
		}
		if st.Passes > 0 {
			total.BytesBefore = 0
			for _, sz := range sizes {
				if sz.base < l.cleanedUpTo {
					total.BytesBefore += sz.size
				}
			}
			total.BytesAfter = st.BytesAfter
		}
		total.SegmentsCleaned += st.SegmentsCleaned
		total.RecordsRemoved += st.RecordsRemoved
		total.Passes += st.Passes
		if err != nil || !more {
			if total.SegmentsCleaned > 0 {
				l.logger.Info("compacted log", "passes", total.Passes, "segments", total.SegmentsCleaned,
					"records_removed", total.RecordsRemoved, "bytes_before", total.BytesBefore, "bytes_after", total.BytesAfter)
			}
			return total, err
		}
	}
}

// compactPass is one pass: build the key map from the dirty section (from
// cleanedUpTo) until it is full or the log ends, then rewrite the closed
// segments up to what it covered. more reports that the map filled before
// the cleanable end, so another pass has work. Caller holds maintMu.
func (l *Log) compactPass(now time.Time, c *Cleaner, checkRatio bool) (st CompactStats, more bool, err error) {
	cfg := l.cfg.Load()
	if !cfg.compacts() {
		return st, false, nil
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
		return st, false, nil
	}
	if checkRatio && !l.worthCleaning(views, nClean, cfg, nowMs) {
		return st, false, nil
	}

	txns, err := l.scanTransactions(views, end, l.cleanedUpTo)
	if err != nil {
		return st, false, err
	}
	// Never clean up to an undecided transaction.
	for nClean > 0 && views[nClean].s.base > txns.firstUnstable {
		nClean--
	}
	if nClean == 0 {
		return st, false, nil
	}

	km := c.keyMap(txns.dirtyRecords)
	covered, err := l.fillKeyMap(km, views, l.cleanedUpTo, end, txns)
	if err != nil {
		return st, false, err
	}
	cleanEnd := views[nClean].s.base
	if covered < cleanEnd {
		// The map filled: clean up to what it covers. Records at or
		// after covered are compared against offsets below it only, so
		// none of them is dropped for a newer copy.
		cleanEnd, more = covered, true
		nClean = sort.Search(nClean, func(i int) bool { return views[i].s.base >= cleanEnd })
	}

	p := &cleanPass{keys: km, txns: txns, cfg: cfg, nowMs: nowMs, txnData: map[int64]bool{}, horizon: math.MaxInt64}
	for _, g := range groupBySize(views[:nClean+1], cfg.SegmentBytes) {
		res, err := l.cleanGroup(g, p)
		if err != nil {
			return st, false, err
		}
		for _, v := range g {
			st.BytesBefore += v.size
		}
		st.BytesAfter += res.size
		st.RecordsRemoved += res.removed
		if res.seg == nil {
			continue // nothing changed
		}
		if len(g) == 1 {
			err = l.swapSegment(g[0].s, res.seg)
		} else {
			err = l.swapMerged(g, res.seg)
		}
		if err != nil {
			res.seg.release()
			return st, false, err
		}
		st.SegmentsCleaned += len(g)
	}
	st.Passes = 1

	l.cleanedUpTo = cleanEnd
	l.horizonKnown, l.nextHorizon = true, p.horizon
	l.ckMu.Lock()
	err = l.checkpoint(cleanerOffsetFile, l.cleanedUpTo)
	l.ckMu.Unlock()
	return st, more && err == nil, err
}

// groupBySize splits the segments to clean, views[:len(views)-1] (the last
// view is the first segment not cleaned, which bounds the last group's
// offsets), into runs whose sizes add up to at most segmentBytes and whose
// offsets fit the 32-bit relative offsets of an index, so that small
// cleaned segments are merged into one (Kafka's groupSegmentsBySize). A
// segment over the bound on its own makes a group of one.
func groupBySize(views []*view, segmentBytes int64) [][]*view {
	var groups [][]*view
	for i := 0; i < len(views)-1; {
		j, size := i+1, views[i].size
		for j < len(views)-1 && size+views[j].size <= segmentBytes &&
			views[j+1].s.base-views[i].s.base <= math.MaxInt32 {
			size += views[j].size
			j++
		}
		groups = append(groups, views[i:j])
		i = j
	}
	return groups
}

// hasMergeable reports whether neighbouring segments of the cleaned part of
// the log would now fit together in one. Caller holds maintMu.
func (l *Log) hasMergeable() bool {
	cfg := l.cfg.Load()
	l.mu.RLock()
	defer l.mu.RUnlock()
	var views []*view
	for _, s := range l.segs[:len(l.segs)-1] {
		if s.base >= l.cleanedUpTo {
			break
		}
		views = append(views, &view{s: s, size: s.size})
	}
	if len(views) < 2 {
		return false
	}
	// The next segment bounds the last group's offsets.
	views = append(views, &view{s: l.segs[len(views)], size: l.segs[len(views)].size})
	for _, g := range groupBySize(views, cfg.SegmentBytes) {
		if len(g) > 1 {
			return true
		}
	}
	return false
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

// txnScan is what a pass knows of transactions, from batch headers and
// markers over the whole log. Its memory grows with aborted and open
// transactional batches and producer ids, not with keys.
type txnScan struct {
	aborted       map[int64]bool  // base offsets of aborted transactional batches
	undecided     map[int64]bool  // base offsets of batches whose transaction has no marker yet
	lastOfPID     map[int64]int64 // producer id -> base offset of its last data batch
	firstUnstable int64           // first offset of an undecided transaction, or MaxInt64
	dirtyRecords  int64           // records at or after the dirty start: sizes the key map
}

// scanTransactions reads every batch header below end (and the records of
// control batches) to learn each transaction's outcome.
func (l *Log) scanTransactions(views []*view, end, dirtyFrom int64) (*txnScan, error) {
	ts := &txnScan{
		aborted:       map[int64]bool{},
		undecided:     map[int64]bool{},
		lastOfPID:     map[int64]int64{},
		firstUnstable: math.MaxInt64,
	}
	open := map[int64][]int64{} // producer id -> batches of its open transaction
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
			if h.LastOffset() >= dirtyFrom {
				ts.dirtyRecords += int64(h.NumRecords)
			}
			switch {
			case h.IsControl():
				b, err := br.batch(h)
				if err != nil {
					return nil, fmt.Errorf("compact: read %s: %w", v.s.path, err)
				}
				recs, err := record.Records(b)
				if err == nil && len(recs) > 0 && controlType(recs[0].Key) == controlAbort {
					for _, off := range open[h.ProducerID] {
						ts.aborted[off] = true
					}
				}
				delete(open, h.ProducerID)
			default:
				if h.ProducerID >= 0 {
					ts.lastOfPID[h.ProducerID] = h.BaseOffset
				}
				if h.IsTransactional() {
					open[h.ProducerID] = append(open[h.ProducerID], h.BaseOffset)
				}
			}
			br.skip(h)
		}
	}
	for _, batches := range open {
		for _, off := range batches {
			ts.undecided[off] = true
		}
		ts.firstUnstable = min(ts.firstUnstable, batches[0])
	}
	return ts, nil
}

// fillKeyMap records the newest offset of every key from offset from to
// end, skipping control batches, aborted batches and undecided ones (their
// records may yet be aborted). It returns the first offset it could not
// record because the map was full, or end.
func (l *Log) fillKeyMap(km *offsetMap, views []*view, from, end int64, txns *txnScan) (int64, error) {
	for i, v := range views {
		if i+1 < len(views) && views[i+1].s.base <= from {
			continue // wholly below the dirty section
		}
		pos := v.indexPos(from)
		br := batchReader{r: v.s.f, pos: pos, lim: v.size, chunk: recoveryChunk}
		for {
			h, err := br.header()
			if errors.Is(err, io.EOF) || (err == nil && h.BaseOffset >= end) {
				break
			}
			if err != nil {
				return 0, fmt.Errorf("compact: read %s: %w", v.s.path, err)
			}
			if h.LastOffset() < from || h.IsControl() || txns.aborted[h.BaseOffset] || txns.undecided[h.BaseOffset] {
				br.skip(h)
				continue
			}
			b, err := br.batch(h)
			if err != nil {
				return 0, fmt.Errorf("compact: read %s: %w", v.s.path, err)
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
			for _, r := range recs {
				off := h.BaseOffset + int64(r.OffsetDelta)
				if r.Key == nil || off < from {
					continue
				}
				if !km.put(r.Key, off) {
					return off, nil
				}
			}
		}
	}
	return end, nil
}

// cleanPass is the state one pass carries from batch to batch, in offset
// order over the segments it cleans.
type cleanPass struct {
	keys  *offsetMap
	txns  *txnScan
	cfg   *Config
	nowMs int64
	// txnData records, per producer id, whether the transaction now being
	// walked keeps any batch; at its marker the entry is consumed to decide
	// whether the marker is still needed.
	txnData map[int64]bool
	horizon int64 // earliest delete horizon kept, MaxInt64 if none
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
}

// cleanGroup writes the cleaned copy of the segments g (one, or several to
// merge) to <first base>.log.cleaned with its index files, fsynced, and
// returns it opened. For a single segment nothing is written while batches
// come out unchanged; at the first change the unchanged prefix is copied
// over and the rest streamed, so memory stays at one batch.
func (l *Log) cleanGroup(g []*view, p *cleanPass) (res cleanResult, err error) {
	first := g[0]
	logPath := first.s.path + cleanedSuffix
	interval := p.cfg.IndexIntervalBytes
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
	// startRewrite creates the new file holding first's [0, prefix).
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
		ns = newSegment(l.files, l.dir, first.s.base, f)
		if err := ns.f.pin(); err != nil {
			return err
		}
		ns.synced.Store(true)
		w = bufio.NewWriterSize(f, 1<<20)
		if _, err := io.Copy(w, io.NewSectionReader(first.s.f, 0, prefix)); err != nil {
			return err
		}
		if _, err := ns.observeBatches(first.s.f, 0, prefix, interval); err != nil {
			return err
		}
		pos = prefix
		return nil
	}
	if len(g) > 1 {
		if err := startRewrite(0); err != nil {
			return res, fmt.Errorf("compact %s: %w", first.s.path, err)
		}
	}

	for _, v := range g {
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
			nb, removed, cerr := p.cleanBatch(b, h)
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
					p.horizon = min(p.horizon, nh.BaseTimestamp)
				}
				if ns != nil {
					if _, err := w.Write(nb); err != nil {
						return res, fmt.Errorf("compact %s: %w", v.s.path, err)
					}
					ns.observe(nh, pos, interval)
					pos += int64(len(nb))
				}
			}
			br.skip(h)
		}
	}
	if ns == nil {
		res.size = first.size
		return res, nil
	}
	ns.addTimeEntry()
	if err := w.Flush(); err != nil {
		return res, fmt.Errorf("compact %s: %w", first.s.path, err)
	}
	if err := ns.f.Sync(); err != nil {
		return res, fmt.Errorf("compact %s: %w", first.s.path, err)
	}
	idx, tidx := ns.encodeIndexes()
	if err := fsutil.WriteFileSync(ns.indexPath()+cleanedSuffix, idx); err != nil {
		return res, fmt.Errorf("compact %s: %w", first.s.path, err)
	}
	if err := fsutil.WriteFileSync(ns.timeIndexPath()+cleanedSuffix, tidx); err != nil {
		return res, fmt.Errorf("compact %s: %w", first.s.path, err)
	}
	res.seg, res.size = ns, ns.size
	return res, nil
}

// cleanBatch returns the cleaned form of batch b: b itself if unchanged,
// new bytes if rebuilt, nil if dropped; and the number of records removed.
func (p *cleanPass) cleanBatch(b []byte, h record.Header) ([]byte, int64, error) {
	if h.IsControl() {
		return p.cleanMarker(b, h)
	}
	recs, err := record.Records(b)
	if err != nil {
		return nil, 0, err
	}
	aborted := h.IsTransactional() && p.txns.aborted[h.BaseOffset]
	keep := recs[:0:0]
	tombstones := false
	for _, r := range recs {
		off := h.BaseOffset + int64(r.OffsetDelta)
		switch {
		case aborted, r.Key == nil:
			continue
		case r.Value == nil && h.HasDeleteHorizon() && p.nowMs >= h.BaseTimestamp:
			continue
		}
		if newest, ok := p.keys.newest(r.Key); ok && newest > off {
			continue
		}
		if r.Value == nil {
			tombstones = true
		}
		keep = append(keep, r)
	}
	removed := int64(len(recs) - len(keep))
	if len(keep) == 0 {
		if h.ProducerID >= 0 && p.txns.lastOfPID[h.ProducerID] == h.BaseOffset {
			// The producer's last batch stays, empty, so its sequence
			// state survives; its transaction's marker then stays too.
			if h.IsTransactional() {
				p.txnData[h.ProducerID] = true
			}
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
	if h.IsTransactional() {
		p.txnData[h.ProducerID] = true
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
		nh.BaseTimestamp = p.nowMs + p.cfg.DeleteRetentionMs
	case !tombstones && h.HasDeleteHorizon():
		nh.Attributes &^= record.AttrDeleteHorizon
		if !h.LogAppendTime() {
			nh.BaseTimestamp = h.BaseTimestamp + keep[0].TimestampDelta
		}
	}
	rebaseTimestamps(h, nh, keep)
	nb, err := record.Build(nh, keep, h.Codec())
	return nb, removed, err
}

// cleanMarker handles a transaction marker. While any batch of its
// transaction remains, the marker stays unchanged. Once none does, the
// first cleaning sets its delete horizon (now + delete.retention.ms, as for
// tombstones, so a consumer reading the transaction still sees its end),
// and a cleaning past the horizon removes it, as Kafka does.
func (p *cleanPass) cleanMarker(b []byte, h record.Header) ([]byte, int64, error) {
	hasData := p.txnData[h.ProducerID]
	delete(p.txnData, h.ProducerID)
	if hasData {
		return b, 0, nil
	}
	if h.HasDeleteHorizon() {
		if p.nowMs >= h.BaseTimestamp {
			return nil, int64(h.NumRecords), nil
		}
		return b, 0, nil
	}
	recs, err := record.Records(b)
	if err != nil {
		return nil, 0, err
	}
	nh := h
	nh.Attributes |= record.AttrDeleteHorizon
	nh.BaseTimestamp = p.nowMs + p.cfg.DeleteRetentionMs
	rebaseTimestamps(h, nh, recs)
	nb, err := record.Build(nh, recs, h.Codec())
	return nb, 0, err
}

// rebaseTimestamps adjusts record timestamp deltas from header h to nh so
// every record keeps its timestamp (LogAppendTime batches carry none).
func rebaseTimestamps(h, nh record.Header, recs []record.Record) {
	if h.LogAppendTime() {
		return
	}
	for i := range recs {
		recs[i].TimestampDelta = h.BaseTimestamp + recs[i].TimestampDelta - nh.BaseTimestamp
	}
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

// mergeSuffix names the file that records, before a merge commits, which
// segments the merged one replaces: <first base>.merged holds their base
// offsets, one per line. Open uses it to finish or undo an interrupted
// merge (see cleanupTempFiles).
const mergeSuffix = ".merged"

// swapMerged replaces the segments of g with ns, their cleaned merge,
// which takes the first one's name. Steps, each durable before the next:
// the .merged file listing the other segments; the rename of the cleaned
// .log over the first one (the commit point); the index renames; the
// removal of the other segments' files; the removal of the .merged file.
func (l *Log) swapMerged(g []*view, ns *segment) error {
	var list strings.Builder
	for _, v := range g[1:] {
		list.WriteString(strconv.FormatInt(v.s.base, 10) + "\n")
	}
	marker := filepath.Join(l.dir, segmentName(g[0].s.base)+mergeSuffix)
	if err := fsutil.WriteFileAtomic(marker, []byte(list.String())); err != nil {
		return fmt.Errorf("compact: merge %s: %w", g[0].s.path, err)
	}
	if err := mergeStep("marker written"); err != nil {
		return err
	}

	l.mu.Lock()
	i := -1
	for j, s := range l.segs {
		if s == g[0].s {
			i = j
			break
		}
	}
	if i < 0 || i+len(g) > len(l.segs)-1 || !sameSegments(l.segs[i:i+len(g)], g) {
		l.mu.Unlock()
		os.Remove(marker)
		return fmt.Errorf("compact: segments from %s are no longer closed segments", g[0].s.path)
	}
	// The first file is replaced by the rename and the others unlinked:
	// readers still holding them keep their descriptors (files.go).
	for _, v := range g {
		if err := v.s.f.pin(); err != nil {
			l.mu.Unlock()
			os.Remove(marker)
			return fmt.Errorf("compact: merge %s: %w", g[0].s.path, err)
		}
	}
	if err := os.Rename(g[0].s.path+cleanedSuffix, g[0].s.path); err != nil {
		l.mu.Unlock()
		os.Remove(marker)
		return fmt.Errorf("compact: merge %s: %w", g[0].s.path, err)
	}
	var oldSize int64
	for _, v := range g {
		oldSize += v.s.size
	}
	l.segs = slices.Replace(l.segs, i, i+len(g), ns)
	l.size.Add(ns.size - oldSize)
	l.mu.Unlock()
	ns.f.unpin() // its path now names its file
	if err := mergeStep("committed"); err != nil {
		return err
	}

	// Committed. What is left, Open finishes from the .merged file. The
	// rename must be on disk before the old segments go.
	var errs []error
	for _, p := range []string{ns.indexPath(), ns.timeIndexPath()} {
		if err := os.Rename(p+cleanedSuffix, p); err != nil {
			errs = append(errs, err)
		}
	}
	if err := fsutil.SyncDir(l.dir); err != nil {
		errs = append(errs, err)
	}
	for _, v := range g[1:] {
		if err := v.s.removeFiles(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := fsutil.SyncDir(l.dir); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		if err := os.Remove(marker); err != nil {
			errs = append(errs, err)
		}
	}
	for _, v := range g {
		v.s.release() // the list's reference; readers keep theirs
	}
	if len(errs) > 0 {
		return fmt.Errorf("compact: finish merge of %s: %w", filepath.Base(g[0].s.path), errors.Join(errs...))
	}
	return nil
}

// mergeStep lets tests stop a merge after a step, as a crash would.
var mergeStep = func(step string) error { return nil }

func sameSegments(segs []*segment, g []*view) bool {
	for i, v := range g {
		if segs[i] != v.s {
			return false
		}
	}
	return true
}
