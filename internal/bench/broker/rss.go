package main

// Broker memory with many idle partitions. The broker runs as its own
// process (the real tributary binary) so that VmRSS is the broker's alone,
// not the benchmark's clients and the other targets. The process is stopped
// on every return path, and the kernel kills it if this process dies first.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	rssSettle      = 2 * time.Second
	processTimeout = 30 * time.Second
)

// rssResult is the broker's resident memory before and after creating the
// idle partitions.
type rssResult struct {
	topics, perTopic int
	idleKB, loadedKB int64
}

// measureRSS builds cmd/tributary, runs `tributary broker` on a free port
// with an empty data dir, creates topics × perTopic partitions, waits
// rssSettle and reads the broker's VmRSS.
func measureRSS(ctx context.Context, topics, perTopic int) (rssResult, error) {
	res := rssResult{topics: topics, perTopic: perTopic}
	tmp, bin, err := prepareBinary(ctx, "tributary-bench-rss-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(tmp)
	addr, err := freeAddr()
	if err != nil {
		return res, err
	}
	// A file, not a buffer: it can be read while the process writes it.
	logPath := filepath.Join(tmp, "broker.log")
	logs := func() string { raw, _ := os.ReadFile(logPath); return string(raw) }
	p, err := startBrokerProcess(bin, filepath.Join(tmp, "data"), addr, "", logPath)
	if err != nil {
		return res, err
	}
	defer p.stop()

	if err := waitForPort(ctx, addr, p.exited); err != nil {
		return res, fmt.Errorf("%w; broker stderr: %s", err, logs())
	}
	if res.idleKB, err = vmRSS(p.cmd.Process.Pid); err != nil {
		return res, err
	}
	if err := createIdleTopics(ctx, addr, topics, perTopic); err != nil {
		return res, err
	}
	select {
	case <-time.After(rssSettle):
	case <-p.exited:
		return res, fmt.Errorf("broker exited after creating topics; stderr: %s", logs())
	case <-ctx.Done():
		return res, ctx.Err()
	}
	if res.loadedKB, err = vmRSS(p.cmd.Process.Pid); err != nil {
		return res, err
	}
	return res, nil
}

// prepareBinary makes a temp dir (named from prefix) holding a freshly
// built tributary binary; the caller removes the dir.
func prepareBinary(ctx context.Context, prefix string) (tmp, bin string, err error) {
	tmp, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", "", fmt.Errorf("temp dir: %w", err)
	}
	bin = filepath.Join(tmp, "tributary")
	if err := buildTributary(ctx, bin); err != nil {
		os.RemoveAll(tmp)
		return "", "", err
	}
	return tmp, bin, nil
}

// buildTributary builds the binary from this module's source, wherever the
// benchmark runs from (repo root under make, the package dir under go test).
func buildTributary(ctx context.Context, out string) error {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/tributary")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/tributary: %w: %s", err, msg)
	}
	return nil
}

// stopProcess asks the broker to stop, and kills it if it has not within
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

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitForPort(ctx context.Context, addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(processTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("broker exited before listening")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("broker not listening on %s after %s", addr, processTimeout)
		}
	}
}

func createIdleTopics(ctx context.Context, addr string, topics, perTopic int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	adm := kadm.NewClient(cl)
	defer adm.Close()
	names := make([]string, topics)
	for i := range names {
		names[i] = fmt.Sprintf("idle-%03d", i)
	}
	resp, err := adm.CreateTopics(ctx, int32(perTopic), 1, nil, names...)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("create %d topics x %d partitions: %w", topics, perTopic, err)
	}
	return nil
}

// vmRSS reads a process's resident set size in kB from /proc.
func vmRSS(pid int) (int64, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS %q in %s: %w", v, path, err)
			}
			return kb, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in %s", path)
}
