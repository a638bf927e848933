package testkit

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/cli"
)

// childEnv carries the command line of a broker child process: the test
// binary re-executes itself, and TestMain hands over to RunChildIfRequested.
const childEnv = "TRIBUTARY_TESTKIT_CHILD_ARGS"

// RunChildIfRequested runs the tributary command line and exits when this
// process is a child started by StartBrokerProcess. Call it first in TestMain.
func RunChildIfRequested() {
	args := os.Getenv(childEnv)
	if args == "" {
		return
	}
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		panic("testkit: bad child args: " + err.Error())
	}
	os.Exit(cli.Main(argv, os.Stdin, os.Stdout, os.Stderr))
}

// Process is a `tributary broker` child process.
type Process struct {
	Addr    string
	DataDir string
	cmd     *exec.Cmd
	stderr  *syncBuffer
	done    chan struct{}
}

// StartBrokerProcess starts `tributary broker` as a child process of the
// test binary (whose TestMain must call RunChildIfRequested), listening on
// addr ("" picks a free port), and kills it on cleanup.
func StartBrokerProcess(t testing.TB, dataDir, addr string, extraArgs ...string) *Process {
	t.Helper()
	if addr == "" {
		addr = FreePort(t)
	}
	args := append([]string{"broker", "--listen", addr, "--data-dir", dataDir, "--metrics-listen", "",
		"--set", "group.initial.rebalance.delay.ms=0"}, extraArgs...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	argv, _ := json.Marshal(args)
	cmd.Env = append(os.Environ(), childEnv+"="+string(argv))
	p := &Process{Addr: addr, DataDir: dataDir, cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("testkit: start broker process: %v", err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Kill)
	deadline := time.Now().Add(30 * time.Second)
	for !portOpen(addr) {
		select {
		case <-p.done:
			t.Fatalf("testkit: broker process exited early: %s", p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("testkit: broker process not listening on %s after 30s: %s", addr, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// Kill sends SIGKILL and waits for the process to exit: an unclean stop.
func (p *Process) Kill() {
	if p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM and waits: a clean shutdown.
func (p *Process) Stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
}

// Pid is the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Logs returns what the process wrote to stderr.
func (p *Process) Logs() string { return p.stderr.String() }

// syncBuffer is a bytes.Buffer safe for the exec copier and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
