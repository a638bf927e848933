package faults

// A full disk: produce answers KAFKA_STORAGE_ERROR while reads and deletes
// go on, /healthz and the metrics say the disk is full, the broker starts
// at exactly 0 bytes free, and writes resume when space returns. The disk
// is a small tmpfs mounted for the test and unmounted on every path.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// smallDisk mounts a tmpfs of size bytes on a fresh directory and
// unmounts it on cleanup. It skips the test where mounting is not allowed.
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		t.Skipf("cannot mount a %d-byte tmpfs for the full-disk test (%v): it needs root (CAP_SYS_ADMIN)", size, err)
	}
	// Runs after the broker's cleanup (registered later), before
	// TempDir's removal (registered earlier).
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Logf("unmount %s: %v; detaching it", dir, err)
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return dir
}

// fillDisk writes a filler file until the device has no byte left.
func fillDisk(t *testing.T, dir string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "filler"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for _, n := range []int{4096, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
	var st syscall.Statfs_t
	syscall.Statfs(dir, &st)
	t.Logf("disk full: %d bytes available", st.Bavail*uint64(st.Bsize))
}

func TestFullDisk(t *testing.T) {
	dir := smallDisk(t, 8<<20)
	b := testkit.StartBroker(t, testkit.WithDataDir(dir), testkit.WithMetrics())
	testkit.CreateTopic(t, b.Addr, "kept", 1)
	testkit.CreateTopic(t, b.Addr, "bulk", 1)
	acks := produce(t, b.Addr, "kept", 200, "k")
	// Fill the disk through the broker: 1 KB records until produce fails.
	cl := testkit.Client(t, b.Addr, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordRetries(1),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	var storageErr error
	for i := 0; storageErr == nil && i < 20000; i++ {
		err := cl.ProduceSync(ctxT(t, 30*time.Second), &kgo.Record{Topic: "bulk", Value: []byte(fmt.Sprintf("%d-%01000d", i, 0))}).FirstErr()
		if err != nil {
			storageErr = err
		}
	}
	if !errors.Is(storageErr, kerr.KafkaStorageError) {
		t.Fatalf("producing to a full disk: %v, want KAFKA_STORAGE_ERROR", storageErr)
	}
	fillDisk(t, dir) // and the last bytes, so nothing can be written at all

	checkFull := func(t *testing.T, b *testkit.Broker) {
		t.Helper()
		testkit.Eventually(t, 10*time.Second, func() error {
			code, body := httpGet(t, b.MetricsAddr(), "/healthz")
			if code != 503 || !strings.Contains(body, "storage:") {
				return fmt.Errorf("/healthz on a full disk: %d %q", code, body)
			}
			if v := metricValue(t, b.MetricsAddr(), "tributary_storage_full"); v != 1 {
				return fmt.Errorf("tributary_storage_full %v on a full disk", v)
			}
			return nil
		})
	}
	checkFull(t, b)
	verifyAcked(t, b.Addr, acks) // reads go on

	// A restart at exactly 0 bytes free.
	if err := b.Close(); err != nil {
		t.Logf("close on a full disk: %v", err)
	}
	b = testkit.StartBroker(t, testkit.WithDataDir(dir), testkit.WithMetrics())
	checkFull(t, b)
	verifyAcked(t, b.Addr, acks)

	// A delete goes through on the full disk and frees the space; writes
	// resume and health returns.
	os.Remove(filepath.Join(dir, "filler"))
	fillDisk(t, dir)
	resp, err := testkit.Admin(t, b.Addr).DeleteTopic(ctxT(t, 30*time.Second), "bulk")
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("delete on a full disk: %v", err)
	}
	testkit.Eventually(t, 30*time.Second, func() error {
		if code, body := httpGet(t, b.MetricsAddr(), "/healthz"); code != 200 {
			return fmt.Errorf("/healthz after space returned: %d %q", code, body)
		}
		return nil
	})
	more := produce(t, b.Addr, "kept", 100, "after")
	if v := metricValue(t, b.MetricsAddr(), "tributary_storage_full"); v != 0 {
		t.Fatalf("tributary_storage_full %v after space returned", v)
	}
	verifyAcked(t, b.Addr, append(acks, more...))
}
