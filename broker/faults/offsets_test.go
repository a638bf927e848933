package faults

// A damaged frame in the group state file loses what that frame held, not
// every committed offset after it, and the log says what was lost.

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/tributary-streams/tributary/internal/testkit"
)

func commit(t *testing.T, adm *kadm.Client, group, topic string, from, to int32, offset int64) {
	t.Helper()
	var os kadm.Offsets
	for p := from; p < to; p++ {
		os.AddOffset(topic, p, offset, -1)
	}
	resps, err := adm.CommitOffsets(ctxT(t, 30*time.Second), group, os)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func TestGroupStateFileBadFirstFrame(t *testing.T) {
	b := testkit.StartBroker(t)
	testkit.CreateTopic(t, b.Addr, "tracked", 300)
	adm := testkit.Admin(t, b.Addr)
	commit(t, adm, "g", "tracked", 0, 100, 1) // the first frame: superseded below
	for p := int32(0); p < 300; p += 30 {
		commit(t, adm, "g", "tracked", p, p+30, 5)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(b.DataDir, "__groups", "groups.log")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[8+8+4] ^= 0x08 // header, first frame's length and CRC, then its payload
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs testkit.SyncBuffer
	b2 := testkit.StartBroker(t, testkit.WithDataDir(b.DataDir), testkit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	fetched, err := testkit.Admin(t, b2.Addr).FetchOffsets(ctxT(t, 30*time.Second), "g")
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for p := int32(0); p < 300; p++ {
		if o, ok := fetched.Lookup("tracked", p); !ok || o.At != 5 {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of 300 committed offsets lost to one damaged frame", lost)
	}
	if !strings.Contains(logs.String(), "lost") || !strings.Contains(logs.String(), "groups.log") {
		t.Fatalf("the broker did not say what the damaged frame cost:\n%s", logs.String())
	}
	// The damage is gone from the file: a second restart is silent.
	b2.Restart()
}
