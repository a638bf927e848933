package faults

// Restart time and readiness: after a clean stop a restart reads the data
// dir without rewriting it (no scan of clean logs), and while logs recover
// /healthz answers 503 with the recovery's progress.

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// fileStates maps every file under dir (but the lock) to its size and
// modification time.
func fileStates(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == ".lock" {
			return nil
		}
		fi, err := d.Info()
		if err == nil {
			out[path] = fmt.Sprintf("%d %d", fi.Size(), fi.ModTime().UnixNano())
		}
		return nil
	})
	return out
}

// A clean stop, then a start and a stop with no traffic: no file in the
// data dir is written, created or removed.
func TestCleanRestartWritesNothing(t *testing.T) {
	b := testkit.StartBroker(t)
	testkit.CreateTopic(t, b.Addr, "idle", 300)
	var acks []acked
	for p := int32(0); p < 300; p += 30 {
		acks = append(acks, produceTo(t, b.Addr, "idle", p, 20, fmt.Sprintf("p%d", p))...)
	}
	adm := testkit.Admin(t, b.Addr)
	commit(t, adm, "g", "idle", 0, 300, 7)
	b.Restart()
	before := fileStates(t, b.DataDir)
	b.Restart()
	after := fileStates(t, b.DataDir)
	changed := 0
	for path, st := range before {
		if after[path] != st {
			if changed < 10 {
				t.Errorf("%s changed: %q -> %q", path, st, after[path])
			}
			changed++
		}
	}
	for path := range after {
		if _, ok := before[path]; !ok {
			t.Errorf("%s created", path)
			changed++
		}
	}
	if changed > 0 {
		t.Fatalf("an idle restart after a clean stop changed %d of %d files", changed, len(before))
	}
	verifyAcked(t, b.Addr, acks)
}

var progress = regexp.MustCompile(`^recovery: (starting|\d+ of \d+ partitions opened)\n`)

// /healthz answers while the logs recover after kill -9: 503 with the
// progress, then 200 once the broker serves.
func TestHealthzDuringRecovery(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir, 0)
	b.waitKafka(t)
	testkit.CreateTopic(t, b.addr, "busy", 2000)
	var acks []acked
	for p := int32(0); p < 2000; p += 100 {
		acks = append(acks, produceTo(t, b.addr, "busy", p, 50, "b")...)
	}
	b.Kill()

	b = startBroker(t, dir, 0)
	seen503 := 0
	testkit.Eventually(t, 60*time.Second, func() error {
		code, body := b.healthz()
		switch code {
		case 200:
			return nil
		case 503:
			seen503++
			if !progress.MatchString(body) {
				t.Fatalf("/healthz answered 503 %q during recovery, want the recovery's progress", body)
			}
		}
		return fmt.Errorf("/healthz %d %q", code, body)
	})
	if !portAnswers(b.addr) {
		t.Fatal("/healthz says 200 but the Kafka port does not answer")
	}
	t.Logf("%d answers of 503 with progress before 200", seen503)
	verifyAcked(t, b.addr, acks)
}
