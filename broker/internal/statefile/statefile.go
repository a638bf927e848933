// Package statefile is a small durable key-value file for coordinator state
// (groups, transactions): an append-only, CRC-framed log of records where a
// later Record with the same kind and key replaces an earlier one and a
// tombstone deletes it, like a compacted Kafka topic. A frame is applied
// whole or not at all, so an operation written as one Append is atomic.
package statefile

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/tributary-streams/tributary/internal/fsutil"
)

// A state file is a fixed header (chosen by the owner, e.g. "TRBGRP01")
// followed by frames:
//
//	u32 payload length | u32 CRC-32C of payload | payload
//	payload: u8 version (1) | uvarint record count | records
//	record:  u8 kind | u8 tombstone | bytes key | bytes value (absent for tombstones)
//
// One append is one write(2) of one frame (large appends are split), done
// before the request is answered. On open, frames are replayed; a frame is
// applied whole or not at all, so an operation written as one frame (e.g. a
// transaction's offsets plus the tombstones of its staged offsets) is atomic.
// A bad frame at the end (short, or failing its CRC) is a torn write and is
// cut off. A bad frame followed by intact ones was damaged in place: it is
// skipped, what it held is logged as lost, replay resumes at the next intact
// frame, and the file is rewritten without it.
// When the file holds mostly overwritten records it is rewritten as a
// snapshot of the live records and atomically renamed over the old one.

const (
	frameVersion  = 1
	frameOverhead = 8
	// maxFrame bounds a frame: a longer length field is corruption.
	maxFrame = 32 << 20
	// compactMinBytes is the smallest file worth rewriting.
	compactMinBytes = 4 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("state file closed")

type liveEntry struct {
	seq uint64
	rec Record
}

// File is the append-only state file plus the live (compacted) view of it.
// Its mutex is a leaf lock: nothing else is locked while it is held.
type File struct {
	mu         sync.Mutex
	dir, path  string
	header     string
	f          *os.File
	size       int64
	syncWrites bool
	live       map[string]liveEntry
	liveBytes  int64
	seq        uint64
	err        error // sticky: set when the file may be in an unknown state
	compactMin int64
}

// Open opens (creating if needed) the state file dir/name, checks that it
// starts with header, replays it and truncates a torn tail. It returns the
// live records in write order. warn, if not nil, is told about a truncation.
func Open(dir, name, header string, syncWrites bool, warn func(msg string, args ...any)) (*File, []Record, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("create state dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, name)
	_ = os.Remove(path + ".tmp") // leftover of an interrupted snapshot
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read state file %s: %w", path, err)
	}
	s := &File{dir: dir, path: path, header: header, syncWrites: syncWrites, live: make(map[string]liveEntry), compactMin: compactMinBytes}
	var valid int64
	var damaged []damage
	switch {
	case len(data) >= len(s.header) && string(data[:len(s.header)]) == s.header:
		var n int
		n, damaged = scanFrames(data[len(s.header):], func(recs []Record) {
			for _, r := range recs {
				s.applyLive(r)
			}
		})
		valid = int64(len(s.header) + n)
	case len(data) < len(s.header) && bytes.HasPrefix([]byte(s.header), data):
		// Empty, or a header torn by a crash during creation.
		valid = 0
	default:
		f.Close()
		return nil, nil, fmt.Errorf("state file %s: bad header (want %q)", path, s.header)
	}
	if valid != int64(len(data)) {
		if warn != nil {
			warn("state file has a torn or corrupt tail; truncating", "path", path, "valid_bytes", valid, "file_bytes", len(data))
		}
		if err := f.Truncate(valid); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("truncate state file %s: %w", path, err)
		}
	}
	if valid == 0 {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("truncate state file %s: %w", path, err)
		}
		if _, err := f.WriteAt([]byte(s.header), 0); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("write state file header %s: %w", path, err)
		}
		// Make the new file's directory entry durable once (best effort:
		// the data written later is what matters, and it is not lost by
		// a failure here).
		if f.Sync() == nil {
			_ = fsutil.SyncDir(dir)
		}
		valid = int64(len(s.header))
	}
	if _, err := f.Seek(valid, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("seek state file %s: %w", path, err)
	}
	s.f = f
	s.size = valid
	if len(damaged) > 0 {
		for _, d := range damaged {
			if warn != nil {
				warn("state file frame damaged (a checksum mismatch between intact frames); skipped, and the records it held are lost",
					"path", path, "at_byte", len(s.header)+d.from, "bytes", d.to-d.from, "lost", describeLost(d.lost))
			}
		}
		// Rewrite the file without the damage, so it is reported once.
		if err := s.Compact(); err != nil && warn != nil {
			warn("state file: rewriting without the damaged frames failed; they will be skipped again at the next start", "path", path, "err", err)
		}
	}
	return s, s.liveRecords(), nil
}

// damage is a stretch of a state file that is not a valid frame but is
// followed by valid ones: a frame damaged in place.
type damage struct {
	from, to int      // byte range, relative to the frames' start
	lost     []Record // the damaged frame's records, when its payload still decodes
}

// scanFrames calls fn with the records of each intact frame in data and
// returns the length of the prefix that ends with the last intact frame.
// A bad frame followed by intact ones (a bit flipped on disk) is skipped,
// resynchronising on the next position where an intact frame starts, and
// reported in damaged; a bad frame with no intact frame after it is a torn
// tail, cut off by the caller. Frames are independent records (each
// replaces whole values), so the frames after a damaged one are as good as
// ever. It never panics on any input.
func scanFrames(data []byte, fn func([]Record)) (valid int, damaged []damage) {
	off := 0
	for off < len(data) {
		if recs, n, ok := frameAt(data, off); ok {
			fn(recs)
			off += n
			valid = off
			continue
		}
		next := -1
		for q := off + 1; q+frameOverhead <= len(data); q++ {
			if _, _, ok := frameAt(data, q); ok {
				next = q
				break
			}
		}
		if next < 0 {
			return valid, damaged
		}
		damaged = append(damaged, damage{from: off, to: next, lost: decodeDamaged(data[off:next])})
		off = next
	}
	return valid, damaged
}

// frameAt decodes the frame at off: its records and length, ok=false if
// there is no intact frame there.
func frameAt(data []byte, off int) ([]Record, int, bool) {
	rest := data[off:]
	if len(rest) < frameOverhead {
		return nil, 0, false
	}
	n := binary.BigEndian.Uint32(rest)
	if n == 0 || n > maxFrame || uint64(len(rest)-frameOverhead) < uint64(n) || rest[frameOverhead] != frameVersion {
		return nil, 0, false
	}
	payload := rest[frameOverhead : frameOverhead+int(n)]
	if crc32.Checksum(payload, crcTable) != binary.BigEndian.Uint32(rest[4:]) {
		return nil, 0, false
	}
	recs, err := decodeFrame(payload)
	if err != nil {
		return nil, 0, false
	}
	return recs, frameOverhead + int(n), true
}

// decodeDamaged decodes a damaged frame's payload without its CRC, to say
// what was lost; nil if it does not decode.
func decodeDamaged(b []byte) []Record {
	if len(b) < frameOverhead {
		return nil
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-frameOverhead) {
		n = uint32(len(b) - frameOverhead)
	}
	recs, err := decodeFrame(b[frameOverhead : frameOverhead+int(n)])
	if err != nil {
		return nil
	}
	return recs
}

// describeLost renders what a damaged frame held, for the log.
func describeLost(recs []Record) string {
	if recs == nil {
		return "undecodable"
	}
	var parts []string
	for i, r := range recs {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(recs)-10))
			break
		}
		what := "record"
		if r.Tombstone {
			what = "deletion"
		}
		parts = append(parts, fmt.Sprintf("%s of kind %d key %q", what, r.Kind, r.Key))
	}
	return fmt.Sprintf("%d records: %s", len(recs), strings.Join(parts, "; "))
}

func decodeFrame(payload []byte) ([]Record, error) {
	d := &Dec{B: payload}
	if v := d.U8(); d.Err == nil && v != frameVersion {
		return nil, fmt.Errorf("state file: unknown frame version %d", v)
	}
	n := d.Count(3)
	recs := make([]Record, 0, n)
	for i := 0; i < n && d.Err == nil; i++ {
		r := Record{Kind: d.U8(), Tombstone: d.Bool()}
		r.Key = d.Bytes()
		if !r.Tombstone {
			r.Value = d.Bytes()
			if r.Value == nil {
				r.Value = []byte{}
			}
		}
		recs = append(recs, r)
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return recs, nil
}

func encodeRecords(e Enc, recs []Record) Enc {
	e = e.U8(frameVersion).Uvarint(uint64(len(recs)))
	for _, r := range recs {
		e = e.U8(r.Kind).Bool(r.Tombstone).Bytes(r.Key)
		if !r.Tombstone {
			e = e.Bytes(r.Value)
		}
	}
	return e
}

func recordSize(r Record) int { return len(r.Key) + len(r.Value) + 24 }

// encodeFrames encodes recs as frames of at most maxFrame/2 payload bytes.
func encodeFrames(dst []byte, recs []Record) []byte {
	for len(recs) > 0 {
		n, size := 0, 0
		for n < len(recs) && (n == 0 || size+recordSize(recs[n]) < maxFrame/2) {
			size += recordSize(recs[n])
			n++
		}
		start := len(dst)
		dst = append(dst, make([]byte, frameOverhead)...)
		dst = encodeRecords(Enc(dst), recs[:n])
		payload := dst[start+frameOverhead:]
		binary.BigEndian.PutUint32(dst[start:], uint32(len(payload)))
		binary.BigEndian.PutUint32(dst[start+4:], crc32.Checksum(payload, crcTable))
		recs = recs[n:]
	}
	return dst
}

func (s *File) applyLive(r Record) {
	k := string(append([]byte{r.Kind}, r.Key...))
	if old, ok := s.live[k]; ok {
		s.liveBytes -= int64(recordSize(old.rec))
	}
	if r.Tombstone {
		delete(s.live, k)
		return
	}
	s.seq++
	s.live[k] = liveEntry{seq: s.seq, rec: r}
	s.liveBytes += int64(recordSize(r))
}

func (s *File) liveRecords() []Record {
	es := make([]liveEntry, 0, len(s.live))
	for _, e := range s.live {
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b liveEntry) int { return cmp.Compare(a.seq, b.seq) })
	recs := make([]Record, len(es))
	for i, e := range es {
		recs[i] = e.rec
	}
	return recs
}

// Live returns the live records (what a replay of the file would give), in
// write order.
func (s *File) Live() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.liveRecords()
}

// Append writes recs durably (to the OS, or to disk with SyncWrites) as one
// write. On a failed write the file is cut back to its previous length so a
// partial frame never hides later frames.
func (s *File) Append(recs ...Record) error {
	if len(recs) == 0 {
		return nil
	}
	buf := encodeFrames(nil, recs)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.f == nil {
		return ErrClosed
	}
	if _, err := s.f.Write(buf); err != nil {
		if terr := s.f.Truncate(s.size); terr != nil {
			s.err = fmt.Errorf("state file %s unusable after failed write (%v): truncate: %w", s.path, err, terr)
		} else if _, serr := s.f.Seek(s.size, io.SeekStart); serr != nil {
			s.err = fmt.Errorf("state file %s unusable after failed write (%v): seek: %w", s.path, err, serr)
		}
		return fmt.Errorf("write state file %s: %w", s.path, err)
	}
	s.size += int64(len(buf))
	if s.syncWrites {
		if err := s.f.Sync(); err != nil {
			// After a failed fsync the page cache state is unknown; stop
			// accepting writes rather than acknowledge unsynced data.
			s.err = fmt.Errorf("fsync state file %s: %w", s.path, err)
			return s.err
		}
	}
	for _, r := range recs {
		s.applyLive(r)
	}
	return nil
}

// NeedsCompact reports whether the file is large and holds mostly
// overwritten or deleted records, so that Compact would be worth it.
func (s *File) NeedsCompact() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f != nil && s.err == nil && s.size > s.compactMin && s.size > 2*s.liveBytes+int64(len(s.header))
}

// Compact rewrites the file as a snapshot of the live records: write a temp
// file, fsync it, rename it over the state file, fsync the directory. A crash
// at any point leaves either the old or the new file complete.
func (s *File) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return ErrClosed
	}
	if s.err != nil {
		return s.err
	}
	tmp := s.path + ".tmp"
	buf := encodeFrames([]byte(s.header), s.liveRecords())
	if err := fsutil.WriteFileSync(tmp, buf); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("snapshot state file: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("snapshot state file: rename: %w", err)
	}
	if err := fsutil.SyncDir(s.dir); err != nil {
		s.err = fmt.Errorf("snapshot state file: sync dir: %w", err)
		return s.err
	}
	f, err := os.OpenFile(s.path, os.O_RDWR, 0o644)
	if err == nil {
		_, err = f.Seek(int64(len(buf)), io.SeekStart)
	}
	if err != nil {
		s.err = fmt.Errorf("snapshot state file: reopen: %w", err)
		return s.err
	}
	s.f.Close()
	s.f = f
	s.size = int64(len(buf))
	// Re-number so sequence order matches the new file.
	s.seq = 0
	old := s.live
	s.live = make(map[string]liveEntry, len(old))
	s.liveBytes = 0
	for _, r := range liveOrder(old) {
		s.applyLive(r)
	}
	return nil
}

func liveOrder(m map[string]liveEntry) []Record {
	s := File{live: m}
	return s.liveRecords()
}

// Close closes the file. Later writes return ErrClosed.
func (s *File) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// Record is one durable record. A later record with the same Kind and Key
// replaces an earlier one; a Tombstone deletes it.
type Record struct {
	Kind      uint8
	Tombstone bool
	Key       []byte
	Value     []byte // nil for tombstones
}
