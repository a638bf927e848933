package faults

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// brokerProc is a `tributary broker` child with its addresses.
type brokerProc struct {
	*testkit.Process
	addr, metrics, dir string
}

// startBroker starts `tributary broker` on dir as a child process under a
// descriptor limit (0: unchanged), serving /healthz, and returns at once:
// waitKafka waits for the Kafka port.
func startBroker(t *testing.T, dir string, fdLimit int, extra ...string) *brokerProc {
	t.Helper()
	addr, metrics := testkit.FreePort(t), testkit.FreePort(t)
	args := append([]string{strconv.Itoa(fdLimit), "broker", "--listen", addr, "--data-dir", dir, "--metrics-listen", metrics,
		"--set", "group.initial.rebalance.delay.ms=0"}, extra...)
	return &brokerProc{Process: testkit.StartProcess(t, limitedBroker, args...), addr: addr, metrics: metrics, dir: dir}
}

func (b *brokerProc) waitKafka(t *testing.T) {
	t.Helper()
	testkit.Eventually(t, 60*time.Second, func() error {
		select {
		case <-b.Done():
			t.Fatalf("broker exited: %s", b.Logs())
		default:
		}
		if !portAnswers(b.addr) {
			return fmt.Errorf("broker not listening on %s", b.addr)
		}
		return nil
	})
}

// healthz returns /healthz's status and body, or 0 if it does not answer.
func (b *brokerProc) healthz() (int, string) {
	cl := http.Client{Timeout: time.Second}
	resp, err := cl.Get("http://" + b.metrics + "/healthz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// openFDs counts the child's open descriptors.
func (b *brokerProc) openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", b.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func portAnswers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// openSegmentFiles counts the child's open descriptors of .log files.
func (b *brokerProc) openSegmentFiles(t *testing.T) int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", b.Pid())
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasSuffix(target, ".log") {
			n++
		}
	}
	return n
}
