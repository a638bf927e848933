package log

import (
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/record"
)

// syncBuffer collects log output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The indexes a log writes itself (appends, rolls, compaction) pass the
// load-time checks: a clean reopen rebuilds nothing.
func TestOwnIndexesPassChecks(t *testing.T) {
	dir := t.TempDir()
	cfg := compactConfig()
	l := openT(t, dir, cfg)
	for i := range 150 {
		recs := []rec{{key: fmt.Sprintf("key%d", i%7), value: strings.Repeat("v", i%40), tsDelta: int64(i % 3)}}
		if i%11 == 0 {
			recs[0].tombstone = true
		}
		mustAppend(t, l, buildBatch(t, record.Header{BaseTimestamp: int64(1000 + (i*37)%500), ProducerID: -1}, recs, record.None))
	}
	if _, err := l.Compact(time.UnixMilli(1e6), nil); err != nil {
		t.Fatal(err)
	}
	before := readAll(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	l2, err := Open(dir, cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l2.crash() })
	if strings.Contains(logs.String(), "index") || strings.Contains(logs.String(), "rescan") {
		t.Fatalf("a clean reopen distrusted the log's own indexes:\n%s", logs.String())
	}
	if after := readAll(t, l2); len(after) != len(before) {
		t.Fatalf("%d records after reopen, %d before", len(after), len(before))
	}
}

// A damaged entry in the middle of the index is caught by the lookup that
// uses it; Tick rebuilds the index.
func TestLookupMismatchRebuildsIndex(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.SegmentBytes = 1 << 20
	l := openT(t, dir, cfg)
	for i := range 200 {
		mustAppend(t, l, batchOf(t, 2, int64(i), fmt.Sprintf("b%d", i), 30))
	}
	want := readAll(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	path := dir + "/00000000000000000000.index"
	whole, err := os.ReadFile(path)
	if err != nil || len(whole) < 40 {
		t.Fatalf("index: %d bytes, %v", len(whole), err)
	}
	damaged := append([]byte(nil), whole...)
	damaged[2*8+7] ^= 0x10 // entry 2's position
	os.WriteFile(path, damaged, 0o644)
	var logs syncBuffer
	l2, err := Open(dir, cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l2.crash() })
	// Every offset reads from the batch holding it.
	for off := int64(0); off < l2.EndOffset(); off++ {
		b, err := l2.Read(off, 1, l2.EndOffset())
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		h, err := record.ParseHeader(b)
		if err != nil || h.BaseOffset > off || h.LastOffset() < off {
			t.Fatalf("Read(%d) returned batch %d..%d (%v)", off, h.BaseOffset, h.LastOffset(), err)
		}
	}
	if got := readAll(t, l2); len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	if !strings.Contains(logs.String(), "index does not match the log") {
		t.Fatalf("no warning about the damaged index:\n%s", logs.String())
	}
	if err := l2.Tick(time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, whole) {
		t.Fatal("Tick did not rebuild the index")
	}
	if !strings.Contains(logs.String(), "index rebuilt") {
		t.Fatalf("no log of the rebuild:\n%s", logs.String())
	}
}

// CloseAll closes many logs with one file system sync: each reopens clean
// (no rescan, same records), and logs untouched since then close again
// without writing.
func TestCloseAll(t *testing.T) {
	data := t.TempDir()
	cfg := smallConfig()
	var logs []*Log
	var want [][]readRec
	for i := range 4 {
		dir := fmt.Sprintf("%s/p-%d", data, i)
		l := openT(t, dir, cfg)
		for j := range 20 * (i + 1) {
			mustAppend(t, l, batchOf(t, 2, int64(j), fmt.Sprintf("l%d-%d", i, j), 40))
		}
		want = append(want, readAll(t, l))
		logs = append(logs, l)
	}
	if err := CloseAll(logs); err != nil {
		t.Fatal(err)
	}
	var reopened []*Log
	for i := range logs {
		var out syncBuffer
		l, err := Open(logs[i].dir, cfg, Options{Logger: slog.New(slog.NewTextHandler(&out, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.crash() })
		if !l.marker.Load() || out.String() != "" {
			t.Fatalf("log %d did not reopen clean: marker %v, logs %q", i, l.marker.Load(), out.String())
		}
		if got := readAll(t, l); len(got) != len(want[i]) || got[len(got)-1].value != want[i][len(want[i])-1].value {
			t.Fatalf("log %d: %d records after CloseAll, want %d", i, len(got), len(want[i]))
		}
		reopened = append(reopened, l)
	}
	before := map[string]time.Time{}
	filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if fi, ierr := d.Info(); err == nil && ierr == nil && !d.IsDir() {
			before[path] = fi.ModTime()
		}
		return nil
	})
	if err := CloseAll(reopened); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if fi, ierr := d.Info(); err == nil && ierr == nil && !d.IsDir() && !fi.ModTime().Equal(before[path]) {
			t.Errorf("%s written by closing an untouched log", path)
		}
		return nil
	})
}
