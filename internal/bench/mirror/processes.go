package main

// The parts under test run as separate processes of the tributary binary
// built from this module: broker A, broker B and `tributary mirror run`, so
// each one's CPU time can be read from /proc and none shares a Go runtime
// with the benchmark's own clients.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is a running tributary child.
type process struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// buildTributary builds the binary from this module's source, wherever the
// benchmark runs from (repo root under make, the package dir under go test).
func buildTributary(ctx context.Context, out string) error {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/tributary")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/tributary: %w: %s", err, msg)
	}
	return nil
}

func start(bin, name string, args ...string) (*process, error) {
	p := &process{name: name, cmd: exec.Command(bin, args...), exited: make(chan struct{}), stderr: &lockedBuffer{}}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	return p, nil
}

// startBroker starts `tributary broker` on a free port and waits until it
// listens.
func startBroker(ctx context.Context, bin, name, dir string) (*process, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	p, err := start(bin, name, "broker", "--listen", addr, "--data-dir", dir, "--metrics-listen", "",
		"--log-level", "warn", "--set", "group.initial.rebalance.delay.ms=0")
	if err != nil {
		return nil, "", err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return p, addr, nil
		}
		select {
		case <-p.exited:
			return nil, "", fmt.Errorf("%s exited: %s", name, p.stderr.String())
		case <-ctx.Done():
			p.stop()
			return nil, "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, "", fmt.Errorf("%s not listening on %s after 30s", name, addr)
		}
	}
}

// stop asks the process to stop and kills it if it has not within 10 s.
func (p *process) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// cpu is the user plus system time the process has used, from
// /proc/<pid>/stat (0 where /proc is not there).
func (p *process) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; fields after it are
	// plain. utime and stime are fields 14 and 15, in clock ticks.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticksPerSecond
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// selfCPU is the benchmark process's own user plus system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
