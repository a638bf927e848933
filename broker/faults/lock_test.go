package faults

// Two brokers on one data dir: the second must refuse to start (exit 1)
// naming the directory and the pid holding it, and the first broker's
// acknowledged records must be untouched.

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/cli"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestSecondBrokerOnDataDirExits(t *testing.T) {
	dir := t.TempDir()
	first := testkit.StartBrokerProcess(t, dir, "")
	testkit.CreateTopic(t, first.Addr, "locked", 1)
	acks := produce(t, first.Addr, "locked", 200, "first")

	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	ctx := ctxT(t, 15*time.Second)
	go func() {
		done <- cli.Execute(ctx, []string{"broker", "--listen", "127.0.0.1:0", "--data-dir", dir, "--metrics-listen", ""},
			strings.NewReader(""), &stdout, &stderr)
	}()
	var code int
	select {
	case code = <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("a second broker on %s is still running after 10s; stdout: %s", dir, stdout.String())
	}
	if code != 1 {
		t.Fatalf("second broker exit code %d, want 1; stderr: %s", code, stderr.String())
	}
	msg := stderr.String()
	for _, want := range []string{dir, "pid " + strconv.Itoa(first.Pid())} {
		if !strings.Contains(msg, want) {
			t.Fatalf("second broker's error lacks %q: %s", want, msg)
		}
	}
	t.Logf("second broker: %s", strings.TrimSpace(msg))
	verifyAcked(t, first.Addr, acks)
	if more := produce(t, first.Addr, "locked", 10, "after"); more[0].offset != 200 {
		t.Fatalf("first broker's next offset is %d, want 200", more[0].offset)
	}
}
