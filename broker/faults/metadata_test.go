package faults

// Damaged metadata and checkpoint files: a flipped bit is detected, never
// believed. The broker refuses to start naming a damaged topics.json, falls
// back safely for a damaged checkpoint, and never deletes a directory whose
// topic it does not know.

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/broker"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// flipBit flips one bit of the first occurrence of what in path (or of the
// byte at offset 0 when what is "").
func flipBit(t testing.TB, path, what string, bit uint) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(raw), what)
	if i < 0 {
		t.Fatalf("%s has no %q", path, what)
	}
	raw[i] ^= 1 << bit
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func startErr(dir string) error {
	b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		b.Close()
	}
	return err
}

// A flipped bit in a topic name in topics.json: the broker refuses to start
// and names the file, rather than start with an empty topic of the new name
// (after which an auto-created produce to the old name deleted its data).
func TestTopicsFileBitFlip(t *testing.T) {
	b := testkit.StartBroker(t)
	testkit.CreateTopic(t, b.Addr, "orders", 1)
	acks := produce(t, b.Addr, "orders", 5000, "o")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(b.DataDir, "topics.json")
	flipBit(t, path, "orders", 0) // orders -> nrders: still valid JSON
	err := startErr(b.DataDir)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("start with a damaged %s: %v; want a refusal naming the file", path, err)
	}
	t.Logf("refused: %v", err)
	// Undo the damage: everything is there.
	flipBit(t, path, "nrders", 0)
	b2 := testkit.StartBroker(t, testkit.WithDataDir(b.DataDir))
	verifyAcked(t, b2.Addr, acks)
}

// A directory of a topic the broker does not know (restored by an
// operator, or left by metadata damage) is kept, never deleted by the
// auto-creation of a topic of that name.
func TestUnknownTopicDirectoryKept(t *testing.T) {
	src := testkit.StartBroker(t)
	testkit.CreateTopic(t, src.Addr, "orders", 1)
	produce(t, src.Addr, "orders", 5000, "o")
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	seg, err := os.ReadFile(filepath.Join(src.DataDir, "orders-0", "00000000000000000000.log"))
	if err != nil {
		t.Fatal(err)
	}

	dst := t.TempDir()
	b := testkit.StartBroker(t, testkit.WithDataDir(dst))
	b.Close()
	copyDir(t, filepath.Join(src.DataDir, "orders-0"), filepath.Join(dst, "orders-0"))
	b = testkit.StartBroker(t, testkit.WithDataDir(dst))
	cl := testkit.Client(t, b.Addr, kgo.AllowAutoTopicCreation())
	if err := cl.ProduceSync(ctxT(t, 30e9), &kgo.Record{Topic: "orders", Value: []byte("new")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	found := false
	filepath.WalkDir(dst, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "00000000000000000000.log" {
			if raw, _ := os.ReadFile(path); string(raw) == string(seg) {
				found = true
				t.Logf("the unknown directory's records are kept in %s", filepath.Dir(path))
			}
		}
		return nil
	})
	if !found {
		t.Fatal("the 5000 records of the unknown orders-0 directory are gone after auto-creating orders")
	}
}

func copyDir(t testing.TB, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// A flipped bit in a log-start-offset checkpoint makes it a plausible
// other offset: the broker must not hide or delete records for it (it
// falls back to the checkpoint's previous version).
func TestLogStartOffsetBitFlip(t *testing.T) {
	b := testkit.StartBroker(t)
	testkit.CreateTopic(t, b.Addr, "ledger", 1, "segment.bytes=4096")
	acks := produce(t, b.Addr, "ledger", 3000, "l", kgo.ProducerBatchMaxBytes(1024))
	adm := testkit.Admin(t, b.Addr)
	for _, before := range []int64{500, 1000} {
		var os kadm.Offsets
		os.AddOffset("ledger", 0, before, -1)
		resp, err := adm.DeleteRecords(ctxT(t, 30*time.Second), os)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	flipBit(t, filepath.Join(b.DataDir, "ledger-0", "log-start-offset"), "1000", 3) // 1000 -> 9000
	b2 := testkit.StartBroker(t, testkit.WithDataDir(b.DataDir))
	var kept []acked
	for _, a := range acks {
		if a.offset >= 1000 {
			kept = append(kept, a)
		}
	}
	verifyAcked(t, b2.Addr, kept)
	starts, err := testkit.Admin(t, b2.Addr).ListStartOffsets(ctxT(t, 30*time.Second), "ledger")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := starts.Lookup("ledger", 0); o.Offset > 1000 {
		t.Fatalf("log start offset %d after a damaged checkpoint, want at most 1000", o.Offset)
	}
}
