package statefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	testName   = "test.log"
	testHeader = "TRBTST01"
)

func rec(kind uint8, key, value string) Record {
	return Record{Kind: kind, Key: []byte(key), Value: []byte(value)}
}

func tomb(kind uint8, key string) Record {
	return Record{Kind: kind, Tombstone: true, Key: []byte(key)}
}

func open(t *testing.T, dir string) (*File, []Record) {
	t.Helper()
	f, recs, err := Open(dir, testName, testHeader, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, recs
}

func appendOK(t *testing.T, f *File, recs ...Record) {
	t.Helper()
	if err := f.Append(recs...); err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// wantRecords compares records; an empty key or value may come back nil or
// empty, but a live record's value is never nil.
func wantRecords(t *testing.T, what string, got []Record, want ...Record) {
	t.Helper()
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		g, w := got[i], want[i]
		same = g.Kind == w.Kind && g.Tombstone == w.Tombstone && bytes.Equal(g.Key, w.Key) &&
			bytes.Equal(g.Value, w.Value) && (g.Value == nil) == g.Tombstone
	}
	if !same {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// TestLiveRecords checks replacement by kind and key, tombstones and the
// write order of the live records across a reopen.
func TestLiveRecords(t *testing.T) {
	dir := t.TempDir()
	f, recs := open(t, dir)
	wantRecords(t, "new file", recs)
	if got := fileSize(t, filepath.Join(dir, testName)); got != int64(len(testHeader)) {
		t.Fatalf("new file is %d bytes", got)
	}
	appendOK(t, f, rec(1, "a", "1"), rec(1, "b", "2"), rec(2, "a", "other kind"))
	appendOK(t, f, rec(1, "a", "3"), tomb(1, "b"), tomb(1, "never written"))
	appendOK(t, f, rec(1, "c", ""))
	appendOK(t, f) // nothing to write
	f.Close()
	if err := f.Append(rec(1, "x", "")); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	_, recs = open(t, dir)
	wantRecords(t, "after reopen", recs, rec(2, "a", "other kind"), rec(1, "a", "3"), rec(1, "c", ""))
}

// TestTornTail simulates a crash in the middle of a write (kill -9, power
// loss): the file is cut back to the last intact frame and works on.
func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, testName)
	f, _ := open(t, dir)
	appendOK(t, f, rec(1, "a", "first"))
	appendOK(t, f, rec(1, "b", "second"))
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	appendOK(t, f, rec(1, "c", "torn"))
	f.Close()
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	last := full[len(good):]
	flipped := append([]byte{}, full...)
	flipped[len(flipped)-1] ^= 0xff // payload byte: the CRC fails
	badLen := append([]byte{}, full...)
	binary.BigEndian.PutUint32(badLen[len(good):], maxFrame+1)

	for name, data := range map[string][]byte{
		"torn frame":      full[:len(good)+len(last)/2],
		"torn length":     full[:len(good)+3],
		"garbage":         append(append([]byte{}, good...), bytes.Repeat([]byte{0xab}, 100)...),
		"crc mismatch":    flipped,
		"zeroed tail":     append(append([]byte{}, good...), make([]byte, 64)...),
		"oversized frame": badLen,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, testName)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			var warned []string
			f, recs, err := Open(dir, testName, testHeader, false, func(msg string, _ ...any) { warned = append(warned, msg) })
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			wantRecords(t, "replayed", recs, rec(1, "a", "first"), rec(1, "b", "second"))
			if len(warned) != 1 {
				t.Fatalf("warnings: %q", warned)
			}
			if got := fileSize(t, path); got != int64(len(good)) {
				t.Fatalf("file not truncated to the last good frame: %d != %d", got, len(good))
			}
			// Writing after recovery works and survives another restart.
			appendOK(t, f, rec(1, "d", "after"))
			f.Close()
			_, recs = open(t, dir)
			wantRecords(t, "after second restart", recs, rec(1, "a", "first"), rec(1, "b", "second"), rec(1, "d", "after"))
		})
	}
}

// TestDamagedFrameLosesOnlyItself: replay skips a damaged frame, resumes
// at the next intact one, says what was lost, and rewrites the file
// without the damage.
func TestDamagedFrameLosesOnlyItself(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, testName)
	f, _ := open(t, dir)
	appendOK(t, f, rec(1, "a", "1"))
	first := fileSize(t, path)
	appendOK(t, f, rec(1, "b", "2"))
	appendOK(t, f, rec(1, "c", "3"))
	f.Close()
	data, _ := os.ReadFile(path)
	data[first+frameOverhead+2] ^= 1 // inside the second frame's payload
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var warned []string
	f2, recs, err := Open(dir, testName, testHeader, false, func(msg string, args ...any) { warned = append(warned, fmt.Sprint(msg, args)) })
	if err != nil {
		t.Fatal(err)
	}
	wantRecords(t, "replayed", recs, rec(1, "a", "1"), rec(1, "c", "3"))
	if len(warned) != 1 || !strings.Contains(warned[0], "lost") || !strings.Contains(warned[0], `key "b"`) {
		t.Fatalf("warnings: %q", warned)
	}
	f2.Close()
	warned = nil
	_, recs, err = Open(dir, testName, testHeader, false, func(msg string, args ...any) { warned = append(warned, msg) })
	if err != nil {
		t.Fatal(err)
	}
	wantRecords(t, "after the rewrite", recs, rec(1, "a", "1"), rec(1, "c", "3"))
	if len(warned) != 0 {
		t.Fatalf("the damage is still in the file: %q", warned)
	}
}

func TestHeader(t *testing.T) {
	for name, content := range map[string]string{
		"empty":       "",
		"torn header": testHeader[:3],
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, testName)
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			f, recs := open(t, dir)
			wantRecords(t, "records", recs)
			appendOK(t, f, rec(1, "a", "1"))
			f.Close()
			if data, _ := os.ReadFile(path); !bytes.HasPrefix(data, []byte(testHeader)) {
				t.Fatalf("header not rewritten: %q", data)
			}
			_, recs = open(t, dir)
			wantRecords(t, "after reopen", recs, rec(1, "a", "1"))
		})
	}
	for name, content := range map[string]string{
		"foreign file":   "not a state file at all",
		"other header":   "TRBGRP01",
		"foreign prefix": "XY",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, testName)
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := Open(dir, testName, testHeader, false, nil)
			if err == nil || !strings.Contains(err.Error(), "state file") || !strings.Contains(err.Error(), "bad header") {
				t.Fatalf("opened a foreign file: %v", err)
			}
			if data, _ := os.ReadFile(path); string(data) != content {
				t.Fatalf("foreign file changed: %q", data)
			}
		})
	}
}

func TestCompact(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, testName)
	f, _ := open(t, dir)
	f.mu.Lock()
	f.compactMin = 1024
	f.mu.Unlock()
	value := strings.Repeat("v", 100)
	appendOK(t, f, rec(1, "first", "kept"), rec(1, "deleted", "x"))
	for range 200 {
		appendOK(t, f, rec(1, "hot", value))
	}
	appendOK(t, f, rec(2, "other", "kind"), tomb(1, "deleted"))
	before := fileSize(t, path)
	if !f.NeedsCompact() {
		t.Fatalf("no compaction wanted at %d bytes", before)
	}
	// A leftover of an interrupted snapshot is overwritten.
	if err := os.WriteFile(path+".tmp", []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.Compact(); err != nil {
		t.Fatal(err)
	}
	after := fileSize(t, path)
	if after > 512 {
		t.Fatalf("file not compacted: %d -> %d bytes", before, after)
	}
	if f.NeedsCompact() {
		t.Fatal("compaction still wanted after compacting")
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temp file left: %v", err)
	}
	// Appends after the snapshot land in the new file, and the live view
	// (its size and order) was rebuilt.
	appendOK(t, f, rec(1, "first", "replaced"), rec(3, "new", "after"))
	f.Close()
	if err := f.Compact(); !errors.Is(err, ErrClosed) {
		t.Fatalf("compact after close: %v", err)
	}
	if f.NeedsCompact() {
		t.Fatal("compaction wanted after close")
	}
	_, recs := open(t, dir)
	wantRecords(t, "after compaction and reopen", recs, rec(1, "hot", value), rec(2, "other", "kind"), rec(1, "first", "replaced"), rec(3, "new", "after"))
}

// TestNoCompactWhenMostlyLive: a large file is only worth rewriting when
// most of it is overwritten or deleted.
func TestNoCompactWhenMostlyLive(t *testing.T) {
	f, _ := open(t, t.TempDir())
	f.mu.Lock()
	f.compactMin = 1024
	f.mu.Unlock()
	value := strings.Repeat("v", 100)
	for i := range 40 {
		appendOK(t, f, rec(1, strings.Repeat("k", i+1), value))
	}
	if f.NeedsCompact() {
		t.Fatal("compaction wanted for a file of live records")
	}
	for i := range 40 {
		appendOK(t, f, tomb(1, strings.Repeat("k", i+1)))
	}
	if !f.NeedsCompact() {
		t.Fatal("no compaction wanted once the records are deleted")
	}
}

// TestOpenRemovesSnapshotLeftover: a crash during Compact leaves the temp
// file; the state file itself is complete and the leftover is removed.
func TestOpenRemovesSnapshotLeftover(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, testName)
	f, _ := open(t, dir)
	appendOK(t, f, rec(1, "a", "1"))
	f.Close()
	if err := os.WriteFile(path+".tmp", []byte(testHeader+"partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, recs := open(t, dir)
	wantRecords(t, "records", recs, rec(1, "a", "1"))
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temp file left: %v", err)
	}
}

// TestFailedWriteIsSticky: when a failed write cannot be undone, the file
// is in an unknown state and refuses every later write and snapshot rather
// than acknowledge data that may not be there. (A failed fsync with
// SyncWrites sets the same sticky error; this test cannot provoke one.)
func TestFailedWriteIsSticky(t *testing.T) {
	dir := t.TempDir()
	f, _ := open(t, dir)
	appendOK(t, f, rec(1, "a", "1"))
	// Pull the descriptor out from under the File: the write fails and so
	// does the truncate that would undo it.
	f.mu.Lock()
	f.f.Close()
	f.mu.Unlock()
	err := f.Append(rec(1, "b", "2"))
	if err == nil || !strings.Contains(err.Error(), "write state file") {
		t.Fatalf("append: %v", err)
	}
	err2 := f.Append(rec(1, "c", "3"))
	if err2 == nil || !strings.Contains(err2.Error(), "unusable after failed write") {
		t.Fatalf("append after a failed write: %v", err2)
	}
	if err := f.Compact(); err != err2 {
		t.Fatalf("compact after a failed write: %v", err)
	}
	if f.NeedsCompact() {
		t.Fatal("compaction wanted after a failed write")
	}
	f.mu.Lock()
	f.f = nil // already closed
	f.mu.Unlock()
	_, recs := open(t, dir)
	wantRecords(t, "after reopen", recs, rec(1, "a", "1"))
}

func TestFrameRoundTrip(t *testing.T) {
	recs := []Record{
		rec(1, "a", "value"),
		rec(2, "", ""),
		tomb(1, "b"),
		{Kind: 255, Key: bytes.Repeat([]byte{0}, 300), Value: bytes.Repeat([]byte{0xff}, 1000)},
	}
	var got []Record
	data := encodeFrames(nil, recs)
	if n, _ := scanFrames(data, func(r []Record) { got = append(got, r...) }); n != len(data) {
		t.Fatalf("scanned %d of %d", n, len(data))
	}
	wantRecords(t, "round trip", got, recs...)
}

// TestLargeAppendIsSplit: an append larger than a frame may be is written
// as several frames, each under maxFrame.
func TestLargeAppendIsSplit(t *testing.T) {
	big := bytes.Repeat([]byte{'x'}, maxFrame/4)
	recs := []Record{{Kind: 1, Key: []byte("1"), Value: big}, {Kind: 1, Key: []byte("2"), Value: big}, {Kind: 1, Key: []byte("3"), Value: big}}
	data := encodeFrames(nil, recs)
	frames := 0
	var got []Record
	if n, _ := scanFrames(data, func(r []Record) { frames++; got = append(got, r...) }); n != len(data) {
		t.Fatalf("scanned %d of %d", n, len(data))
	}
	if frames < 2 {
		t.Fatalf("%d frames", frames)
	}
	if len(got) != len(recs) || !bytes.Equal(got[2].Value, big) {
		t.Fatalf("got %d records", len(got))
	}
}

func TestCodec(t *testing.T) {
	s := "nullable"
	b := Enc(nil).U8(7).Bool(true).Varint(-5).Uvarint(300).Bytes([]byte{1, 2}).Str("str").
		Nstr(nil).Nstr(&s).ID([16]byte{1, 15: 9}).Varint(1 << 40).Varint(70000)
	d := &Dec{B: b}
	if d.U8() != 7 || !d.Bool() || d.Varint() != -5 || d.Uvarint() != 300 || !bytes.Equal(d.Bytes(), []byte{1, 2}) ||
		d.Str() != "str" || d.Nstr() != nil || *d.Nstr() != s || d.ID() != [16]byte{1, 15: 9} {
		t.Fatalf("round trip failed: %v", d.Err)
	}
	if d.I32() != 0 || d.Err == nil {
		t.Fatal("I32 accepted 1<<40")
	}
	if d.I16() != 0 {
		t.Fatal("read after a failure returned a value")
	}

	d = &Dec{B: Enc(nil).Varint(70000).Varint(1)}
	if d.I16() != 0 || d.Err == nil {
		t.Fatal("I16 accepted 70000")
	}
	d = &Dec{B: Enc(nil).Uvarint(1000).U8(1)}
	if d.Count(1) != 0 || d.Err == nil {
		t.Fatal("Count accepted more elements than bytes")
	}
	d = &Dec{B: Enc(nil).Str("x").U8(0)}
	if d.Str() != "x" || d.Finish() == nil {
		t.Fatal("Finish accepted trailing bytes")
	}
	d = &Dec{B: Enc(nil).Str("x")}
	if d.Str() != "x" || d.Finish() != nil {
		t.Fatalf("Finish: %v", d.Err)
	}
	d.Fail()
	if d.Err == nil || d.U8() != 0 {
		t.Fatal("Fail")
	}
	// Bytes copies; RawBytes aliases.
	in := Enc(nil).Bytes([]byte("abc"))
	d = &Dec{B: in}
	out := d.Bytes()
	in[1] = 'X'
	if string(out) != "abc" {
		t.Fatal("Bytes aliases its input")
	}
}

// FuzzReplay feeds arbitrary bytes to the frame decoder: it must never
// panic, must report a valid prefix, and what it accepts must re-encode to
// frames that scan back.
func FuzzReplay(f *testing.F) {
	seed := encodeFrames(nil, []Record{
		rec(1, "offset key", "offset value"),
		rec(3, "pending key", ""),
		rec(2, "g", "group"),
		tomb(2, "h"),
	})
	f.Add(seed)
	f.Add(seed[:len(seed)-3])
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 5, 0, 0, 0, 0, 1, 2, 3, 4, 5})
	f.Add(seed[frameOverhead:]) // a payload: the fuzz body frames it
	f.Fuzz(func(t *testing.T, data []byte) {
		var recs []Record
		n, _ := scanFrames(data, func(r []Record) { recs = append(recs, r...) })
		if n < 0 || n > len(data) {
			t.Fatalf("valid prefix %d of %d", n, len(data))
		}
		// Random bytes rarely pass the CRC; also try them as the payload
		// of an intact frame, to exercise the record decoder.
		if len(data) > 0 && len(data) < maxFrame {
			framed := make([]byte, frameOverhead, frameOverhead+len(data))
			binary.BigEndian.PutUint32(framed, uint32(len(data)))
			binary.BigEndian.PutUint32(framed[4:], crc32.Checksum(data, crcTable))
			framed = append(framed, data...)
			scanFrames(framed, func(r []Record) { recs = append(recs, r...) })
		}
		var again []Record
		re := encodeFrames(nil, recs)
		if m, _ := scanFrames(re, func(r []Record) { again = append(again, r...) }); m != len(re) || len(again) != len(recs) {
			t.Fatalf("re-encoded records do not scan back: %d/%d, %d/%d", m, len(re), len(again), len(recs))
		}
	})
}
