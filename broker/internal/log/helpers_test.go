// Shared helpers for the log tests: building batches, opening logs in
// temp dirs, simulating crashes and reading everything back.

package log

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-streams/tributary/broker/internal/record"
)

// tlogWriter routes slog output to t.Log so warnings show up with -v.
type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tlogWriter{t}, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func smallConfig() Config {
	c := DefaultConfig()
	c.SegmentBytes = 1024
	c.IndexIntervalBytes = 128
	return c
}

func openT(t testing.TB, dir string, cfg Config) *Log {
	t.Helper()
	l, err := Open(dir, cfg, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.crash() })
	return l
}

// crash drops the log without Close: no flush, no checkpoints, no marker,
// as after kill -9 (the OS keeps what was written).
func (l *Log) crash() {
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if l.closed.Load() {
		return
	}
	l.bg.Wait()
	l.shut()
}

// rec makes a keyed record; value nil is a tombstone.
type rec struct {
	key, value string
	tombstone  bool
	tsDelta    int64
}

// batchOf builds an uncompressed batch of n records with the given base
// timestamp; record i has key "k<i>" and a value of valueSize bytes
// starting with tag.
func batchOf(t testing.TB, n int, ts int64, tag string, valueSize int) []byte {
	t.Helper()
	recs := make([]rec, n)
	for i := range recs {
		v := fmt.Sprintf("%s/%d/", tag, i)
		if len(v) < valueSize {
			v += strings.Repeat("x", valueSize-len(v))
		}
		recs[i] = rec{key: fmt.Sprintf("k%d", i), value: v, tsDelta: int64(i)}
	}
	return buildBatch(t, record.Header{BaseTimestamp: ts, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, recs, record.None)
}

func buildBatch(t testing.TB, h record.Header, recs []rec, codec record.Codec) []byte {
	t.Helper()
	rs := make([]record.Record, len(recs))
	for i, r := range recs {
		rs[i] = record.Record{OffsetDelta: int32(i), TimestampDelta: r.tsDelta, Key: []byte(r.key)}
		if r.key == "" {
			rs[i].Key = nil
		}
		if !r.tombstone {
			rs[i].Value = []byte(r.value)
		}
	}
	b, err := record.Build(h, rs, codec)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return b
}

func mustAppend(t testing.TB, l *Log, b []byte) int64 {
	t.Helper()
	off, err := l.Append(b)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return off
}

// readRec is a record read back with its absolute offset.
type readRec struct {
	off        int64
	key, value string
	tombstone  bool
	ts         int64
	h          record.Header
}

// readAll fetches everything from the start offset with small fetches,
// validating every batch and checking batches are in offset order.
func readAll(t testing.TB, l *Log) []readRec {
	t.Helper()
	var out []readRec
	off := l.StartOffset()
	for off < l.EndOffset() {
		b, err := l.Read(off, 700, l.EndOffset())
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		if len(b) == 0 {
			t.Fatalf("Read(%d) returned nothing before the end %d", off, l.EndOffset())
		}
		next := off
		err = record.Split(b, func(batch []byte, h record.Header) error {
			if h.LastOffset() < off {
				t.Fatalf("Read(%d) returned batch ending at %d", off, h.LastOffset())
			}
			recs, err := record.Records(batch)
			if err != nil {
				return err
			}
			for _, r := range recs {
				o := h.BaseOffset + int64(r.OffsetDelta)
				if o < off {
					continue
				}
				if len(out) > 0 && o <= out[len(out)-1].off {
					t.Fatalf("offset %d after %d", o, out[len(out)-1].off)
				}
				out = append(out, readRec{off: o, key: string(r.Key), value: string(r.Value), tombstone: r.Value == nil, ts: h.RecordTimestamp(r), h: h})
			}
			next = h.LastOffset() + 1
			return nil
		})
		if err != nil {
			t.Fatalf("Read(%d) returned bad batches: %v", off, err)
		}
		off = next
	}
	return out
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
