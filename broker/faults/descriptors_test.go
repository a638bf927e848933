package faults

// File descriptors: partitions do not each hold descriptors for as long as
// the broker runs, so a broker under a descriptor limit serves far more
// partitions than the limit, and when it does run out, the failure is
// logged with the limit and the remedy and leaves nothing half created.

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// Under a limit of 1024 descriptors (the segment file cache defaults to a
// quarter of it), 600 partitions are created, written and read back; three
// descriptors per partition would need 1800.
func TestManyPartitionsUnderDescriptorLimit(t *testing.T) {
	b := startBroker(t, t.TempDir(), 1024)
	b.waitKafka(t)
	testkit.CreateTopic(t, b.addr, "wide", 600)
	var acks []acked
	for p := int32(0); p < 600; p += 7 {
		acks = append(acks, produceTo(t, b.addr, "wide", p, 3, fmt.Sprintf("p%d", p))...)
	}
	verifyAcked(t, b.addr, acks)
	if n, files := b.openFDs(t), b.openSegmentFiles(t); files > 256+8 {
		out, _ := exec.Command("sh", "-c", fmt.Sprintf("ls -l /proc/%d/fd | awk '{print $NF}' | sed 's/[0-9]*$//' | sort | uniq -c | sort -rn | head", b.Pid())).Output()
		t.Logf("%s", out)
		t.Fatalf("the broker holds %d segment files open (%d descriptors in all) with 600 partitions, want at most 256 (the segment file cache)", files, n)
	}
}

// Out of descriptors (connections took them all), CreateTopics fails with
// a log line naming the limit and the remedy, and leaves no directory and
// no topic behind; once descriptors are free again it works.
func TestOutOfDescriptorsLeavesNothingHalfCreated(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir, 300)
	b.waitKafka(t)
	// The admin client's connections are open before the flood.
	adm := testkit.Admin(t, b.addr)
	if resp, err := adm.CreateTopic(ctxT(t, 10*time.Second), 1, 1, nil, "warm"); err != nil || resp.Err != nil {
		t.Fatal(err, resp.Err)
	}
	var flood []net.Conn
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	testkit.Eventually(t, 30*time.Second, func() error {
		for i := 0; i < 50; i++ {
			c, err := net.Dial("tcp", b.addr)
			if err != nil {
				break
			}
			flood = append(flood, c)
		}
		if !strings.Contains(b.Logs(), "too many open files") {
			return fmt.Errorf("%d connections and the broker still has descriptors", len(flood))
		}
		return nil
	})
	resp, err := adm.CreateTopic(ctxT(t, 30*time.Second), 40, 1, nil, "starved")
	if err == nil {
		err = resp.Err
	}
	if err == nil {
		t.Fatal("CreateTopics succeeded with no descriptors left")
	}
	if !errors.Is(err, kerr.KafkaStorageError) {
		t.Logf("CreateTopics failed with %v", err)
	}
	// The child's log reaches us through a pipe, possibly after the
	// response did.
	testkit.Eventually(t, 10*time.Second, func() error {
		logs := b.Logs()
		for _, want := range []string{"out of file descriptors", "open_files_limit=300", "remedy="} {
			if !strings.Contains(logs, want) {
				return fmt.Errorf("the failure's log lacks %q:\n%s", want, logs)
			}
		}
		return nil
	})
	if d := topicDirs(t, dir, "starved"); len(d) > 0 {
		t.Fatalf("a failed CreateTopics left %d partition directories", len(d))
	}
	for _, c := range flood {
		c.Close()
	}
	flood = nil
	testkit.Eventually(t, 30*time.Second, func() error {
		if n := partitionCount(t, b.addr, "starved"); n != 0 {
			t.Fatalf("the failed topic exists with %d partitions", n)
		}
		resp, err := adm.CreateTopic(ctxT(t, 30*time.Second), 40, 1, nil, "starved")
		if err == nil {
			err = resp.Err
		}
		return err
	})
	verifyAcked(t, b.addr, produceTo(t, b.addr, "starved", 39, 10, "s"))
}
