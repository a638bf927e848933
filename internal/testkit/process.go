package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A child is a program a test runs as a real process, so that it can be
// killed with SIGKILL: the test binary re-executes itself with the child's
// name and arguments in childEnv, and TestMain hands over to
// RunChildIfRequested, which runs the registered main and exits.
const childEnv = "TRIBUTARY_TESTKIT_CHILD"

type childCall struct {
	Name string   `json:"name"`
	Args []string `json:"args"`
}

var children = map[string]func(ctx context.Context, args []string) int{
	brokerChild: runBrokerChild,
}

// RegisterChild makes main runnable as a child process under name. Call it
// from TestMain (or an init function) before RunChildIfRequested. main's
// context is cancelled by SIGTERM or SIGINT; its return value is the exit
// code.
func RegisterChild(name string, main func(ctx context.Context, args []string) int) {
	if _, dup := children[name]; dup {
		panic("testkit: child " + name + " registered twice")
	}
	children[name] = main
}

// RunChildIfRequested runs the requested child and exits when this process
// is a child started by StartProcess; otherwise it returns at once. Call it
// first in TestMain, after any RegisterChild.
func RunChildIfRequested() {
	raw := os.Getenv(childEnv)
	if raw == "" {
		return
	}
	var call childCall
	if err := json.Unmarshal([]byte(raw), &call); err != nil {
		fmt.Fprintf(os.Stderr, "testkit: bad %s: %v\n", childEnv, err)
		os.Exit(2)
	}
	main, ok := children[call.Name]
	if !ok {
		fmt.Fprintf(os.Stderr, "testkit: no child %q registered in this test binary\n", call.Name)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := main(ctx, call.Args)
	stop()
	os.Exit(code)
}

// Process is a child process started by StartProcess or
// StartBrokerProcess.
type Process struct {
	// Addr and DataDir are set for a broker started by StartBrokerProcess.
	Addr    string
	DataDir string

	cmd      *exec.Cmd
	stdout   *SyncBuffer
	stderr   *SyncBuffer
	done     chan struct{}
	exitCode int
}

// StartProcess runs the child registered under name with args, and kills
// it on cleanup. The test binary's TestMain must call RunChildIfRequested.
func StartProcess(t testing.TB, name string, args ...string) *Process {
	t.Helper()
	raw, err := json.Marshal(childCall{Name: name, Args: args})
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	p := &Process{cmd: cmd, stdout: &SyncBuffer{}, stderr: &SyncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("testkit: start child %s: %v", name, err)
	}
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			p.exitCode = ee.ExitCode() // -1 when killed by a signal
		default:
			p.exitCode = -1
		}
		close(p.done)
	}()
	t.Cleanup(p.Kill)
	return p
}

// Pid is the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

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

// Wait waits up to timeout for the process to exit by itself and returns
// its exit code (-1 if a signal ended it). After timeout it is an error.
func (p *Process) Wait(timeout time.Duration) (int, error) {
	select {
	case <-p.done:
		return p.exitCode, nil
	case <-time.After(timeout):
		return 0, fmt.Errorf("child %d still running after %s", p.Pid(), timeout)
	}
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Logs returns what the process wrote to stderr.
func (p *Process) Logs() string { return p.stderr.String() }

// Output returns what the process wrote to stdout.
func (p *Process) Output() string { return p.stdout.String() }

// SyncBuffer is a bytes.Buffer that one goroutine may write (a process's
// output, a logger) while another reads it; the zero value is ready.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
