package main

// Every target runs as a process of its own: this binary re-executed with
// targetEnv naming what to serve (the way internal/testkit's children work).
// So the broker's CPU time can be read from /proc/<pid>/stat, apart from the
// clients', and the broker shares neither a scheduler nor a garbage
// collector with them. kfake is a library, so its process is this binary
// running kfake.
//
// The child prints its address as the first line of its stdout, serves
// until SIGTERM (or until its parent dies: Pdeathsig), then stops and exits
// 0. A child that fails prints why on stderr and exits 1.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tributary-streams/tributary/broker"
)

// targetEnv carries a childSpec, as JSON, to a child process.
const targetEnv = "TRIBUTARY_BENCH_TARGET"

// childSpec is what a child process serves.
type childSpec struct {
	// Kind is tributary, kfake or ceiling.
	Kind string `json:"kind"`
	// RecordBytes sizes the ceiling's canned batch.
	RecordBytes int `json:"recordBytes,omitempty"`
	// FsyncAlways is tributary's --fsync always.
	FsyncAlways bool `json:"fsyncAlways,omitempty"`
	// CPUProfile, if set, is where the child writes the CPU profile of
	// its whole life.
	CPUProfile string `json:"cpuProfile,omitempty"`
}

// runChildIfRequested serves the target named in targetEnv and exits when
// this process is a child; otherwise it returns at once. main and TestMain
// call it first.
func runChildIfRequested() {
	raw := os.Getenv(targetEnv)
	if raw == "" {
		return
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Fprintf(os.Stderr, "bench child: bad %s %q: %v\n", targetEnv, raw, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := serveChild(ctx, spec)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench child %s: %v\n", spec.Kind, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serveChild runs spec's target until ctx ends.
func serveChild(ctx context.Context, spec childSpec) (err error) {
	if spec.CPUProfile != "" {
		f, err := os.Create(spec.CPUProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("cpu profile: %w", cerr)
			}
		}()
	}
	var (
		addr  string
		close func() error
	)
	switch spec.Kind {
	case "tributary":
		addr, close, err = serveTributary(ctx, spec.FsyncAlways)
	case "kfake":
		addr, close, err = serveKfake(kfake.NumBrokers(1))
	case "ceiling":
		addr, close, err = serveKfake(kfake.NumBrokers(1), kfake.BlackholeProduce(),
			kfake.SyntheticFetch(kfake.SyntheticBatch{RecordBytes: spec.RecordBytes}))
	default:
		return fmt.Errorf("unknown target kind %q; want tributary, kfake or ceiling", spec.Kind)
	}
	if err != nil {
		return err
	}
	if _, err := fmt.Println(addr); err != nil {
		close()
		return fmt.Errorf("announce address: %w", err)
	}
	<-ctx.Done()
	return close()
}

// serveTributary starts our broker with a durable log in a fresh temp dir,
// removed on close, and group.initial.rebalance.delay.ms=0.
func serveTributary(ctx context.Context, fsyncAlways bool) (string, func() error, error) {
	dir, err := os.MkdirTemp("", "tributary-bench-")
	if err != nil {
		return "", nil, fmt.Errorf("tributary data dir: %w", err)
	}
	cfg := broker.Config{Listen: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.DiscardHandler), FsyncAlways: fsyncAlways}
	// kfake has no initial rebalance delay: a new group's first join
	// completes at once. Ours would hold it 3 s, which is all a group
	// benchmark would measure.
	cfg.GroupInitialRebalanceDelayMs = -1
	// The broker outlives ctx (cancelled by SIGTERM) until close.
	b, err := broker.Start(context.WithoutCancel(ctx), cfg)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("start tributary: %w", err)
	}
	return b.Addr(), func() error {
		err := b.Close()
		if rmErr := os.RemoveAll(dir); err == nil && rmErr != nil {
			err = fmt.Errorf("remove %s: %w", dir, rmErr)
		}
		return err
	}, nil
}

func serveKfake(opts ...kfake.Opt) (string, func() error, error) {
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return "", nil, fmt.Errorf("start kfake: %w", err)
	}
	return c.ListenAddrs()[0], func() error { c.Close(); return nil }, nil
}

// startChild runs spec in a child process and returns once it listens.
func startChild(ctx context.Context, spec childSpec) (*instance, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this binary: %w", err)
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	// A file, not a buffer: it can be read while the child writes it.
	logFile, err := os.CreateTemp("", "tributary-bench-"+spec.Kind+"-*.log")
	if err != nil {
		return nil, fmt.Errorf("child log: %w", err)
	}
	logs := func() string { b, _ := os.ReadFile(logFile.Name()); return string(b) }
	cleanup := func() { logFile.Close(); os.Remove(logFile.Name()) }
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), targetEnv+"="+string(raw))
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cleanup()
		return nil, err
	}
	// Backstop for a benchmark killed before its defers run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		cleanup()
		return nil, fmt.Errorf("start %s child: %w", spec.Kind, err)
	}
	exited := make(chan struct{})
	var waitErr error
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		// Drain the rest so the child never blocks on a full pipe, then
		// reap it (Wait must follow the pipe's last read).
		for sc.Scan() {
		}
		waitErr = cmd.Wait()
		close(exited)
	}()
	inst := &instance{pid: cmd.Process.Pid}
	inst.close = func() error {
		stopProcess(cmd, exited)
		defer cleanup()
		if waitErr != nil {
			return fmt.Errorf("%s child: %w; stderr: %s", spec.Kind, waitErr, logs())
		}
		return nil
	}
	timer := time.NewTimer(processTimeout)
	defer timer.Stop()
	select {
	case addr, ok := <-lines:
		if ok {
			inst.addr = addr
			return inst, nil
		}
		<-exited
		err = fmt.Errorf("%s child exited before listening: %v; stderr: %s", spec.Kind, waitErr, logs())
	case <-timer.C:
		err = fmt.Errorf("%s child not listening after %s; stderr: %s", spec.Kind, processTimeout, logs())
	case <-ctx.Done():
		err = ctx.Err()
	}
	stopProcess(cmd, exited)
	cleanup()
	return nil, err
}

// stopProcess asks a child to stop, and kills it if it has not within
// processTimeout.
func stopProcess(cmd *exec.Cmd, exited <-chan struct{}) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(processTimeout):
		cmd.Process.Kill()
		<-exited
	}
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// pidCPU is the user plus system time process pid has used, from
// /proc/<pid>/stat (all its threads, in clock ticks).
func pidCPU(pid int) (time.Duration, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("broker CPU: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, the 12th and 13th after it.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, fmt.Errorf("broker CPU: %s: no command name in %q", path, raw)
	}
	fields := strings.Fields(string(raw[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("broker CPU: %s: %d fields after the command name, want at least 13", path, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("broker CPU: %s: %w", path, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
