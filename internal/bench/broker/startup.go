package main

// Broker startup and idle cost with many partitions (issue 11's targets).
// The broker runs as its own process (the real tributary binary): with
// startupPartitions partitions, each holding records, it is stopped
// cleanly and restarted, then written to, killed with SIGKILL and
// restarted; each restart is timed from exec to /healthz answering 200.
// Then a fresh broker creates idlePartitions partitions and its resident
// memory and open descriptors are read. Every acknowledged record must be
// there after the restarts, or the benchmark fails.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Targets: after a clean stop /healthz is 200 within 1 s, after kill -9
// within 5 s; with 50,000 idle partitions at most 512 MiB resident and
// 5,000 open descriptors.
const (
	cleanStartTarget   = time.Second
	uncleanStartTarget = 5 * time.Second
	idleRSSTargetKB    = 512 << 10
	idleFDTarget       = 5000
	topicPartitions    = 100 // partitions per topic
)

type startupResult struct {
	partitions               int
	cleanStop                time.Duration // SIGTERM to exit
	cleanStart, uncleanStart time.Duration // exec to /healthz 200
	idlePartitions           int
	idleCreate               time.Duration
	idleRSSKB                int64
	idleFDs                  int
}

// brokerProcess is a `tributary broker` child with its addresses.
type brokerProcess struct {
	cmd           *exec.Cmd
	exited        chan struct{}
	addr, metrics string
	started       time.Time
	logPath       string
	logFile       *os.File
}

func startBrokerProcess(bin, dir, addr, metrics, logPath string) (*brokerProcess, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("broker log: %w", err)
	}
	p := &brokerProcess{addr: addr, metrics: metrics, logPath: logPath, logFile: logFile, exited: make(chan struct{})}
	// metrics "" turns /metrics and /healthz off.
	p.cmd = exec.Command(bin, "broker", "--listen", addr, "--data-dir", dir, "--metrics-listen", metrics)
	p.cmd.Stderr = logFile
	// Backstop for a benchmark killed before its defers run.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	return p, nil
}

// waitHealthy polls /healthz until it answers 200 and returns the time
// since exec.
func (p *brokerProcess) waitHealthy(ctx context.Context) (time.Duration, error) {
	cl := http.Client{Timeout: time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if resp, err := cl.Get("http://" + p.metrics + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(p.started), nil
			}
		}
		select {
		case <-p.exited:
			raw, _ := os.ReadFile(p.logPath)
			return 0, fmt.Errorf("broker exited before /healthz said 200; its log:\n%s", raw)
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return 0, errors.New("/healthz not 200 after 2 minutes")
		}
	}
}

// stop sends SIGTERM and waits, returning how long the exit took.
func (p *brokerProcess) stop() time.Duration {
	t0 := time.Now()
	stopProcess(p.cmd, p.exited)
	p.logFile.Close()
	return time.Since(t0)
}

func (p *brokerProcess) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	p.logFile.Close()
}

func measureStartup(ctx context.Context, partitions, idle int, progress func(string, ...any)) (res startupResult, err error) {
	res.partitions, res.idlePartitions = partitions, idle
	tmp, bin, err := prepareBinary(ctx, "tributary-bench-startup-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(tmp)
	addr, err := freeAddr()
	if err != nil {
		return res, err
	}
	metrics, err := freeAddr()
	if err != nil {
		return res, err
	}
	dir := filepath.Join(tmp, "data")
	logPath := filepath.Join(tmp, "broker.log")
	var p *brokerProcess
	start := func() (time.Duration, error) {
		var err error
		if p, err = startBrokerProcess(bin, dir, addr, metrics, logPath); err != nil {
			return 0, err
		}
		return p.waitHealthy(ctx)
	}
	defer func() {
		if p != nil {
			select {
			case <-p.exited:
			default:
				p.stop()
			}
		}
	}()

	if _, err := start(); err != nil {
		return res, err
	}
	topics, err := createPartitions(ctx, addr, "busy", partitions)
	if err != nil {
		return res, err
	}
	if err := produceToEvery(ctx, addr, topics); err != nil {
		return res, err
	}
	res.cleanStop = p.stop()
	if res.cleanStart, err = start(); err != nil {
		return res, err
	}
	progress("startup: %d partitions, after a clean stop (%s): /healthz 200 after %s", partitions, ms(res.cleanStop), ms(res.cleanStart))
	if err := produceToEvery(ctx, addr, topics); err != nil {
		return res, err
	}
	p.kill()
	if res.uncleanStart, err = start(); err != nil {
		return res, err
	}
	progress("startup: %d partitions, after kill -9: /healthz 200 after %s", partitions, ms(res.uncleanStart))
	if err := checkEveryPartitionHolds(ctx, addr, topics, 2); err != nil {
		return res, err
	}
	p.stop()

	// Idle partitions on a fresh broker.
	dir = filepath.Join(tmp, "idle")
	if _, err := start(); err != nil {
		return res, err
	}
	t0 := time.Now()
	if _, err := createPartitions(ctx, addr, "idle", idle); err != nil {
		return res, err
	}
	res.idleCreate = time.Since(t0)
	select {
	case <-time.After(rssSettle):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	if res.idleRSSKB, err = vmRSS(p.cmd.Process.Pid); err != nil {
		return res, err
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid))
	if err != nil {
		return res, err
	}
	res.idleFDs = len(fds)
	progress("startup: %d idle partitions (created in %s): RSS %.1f MiB, %d descriptors", idle, ms(res.idleCreate), float64(res.idleRSSKB)/1024, res.idleFDs)
	return res, nil
}

// createPartitions creates n partitions as topics of topicPartitions
// (fewer for a small n), a few topics per request, and returns the topics.
func createPartitions(ctx context.Context, addr, prefix string, n int) ([]string, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	per := min(n, topicPartitions)
	var all []string
	for made := 0; made < n; {
		var names []string
		for i := 0; i < 10 && made < n; i++ {
			names = append(names, fmt.Sprintf("%s-%05d", prefix, len(all)))
			all = append(all, names[len(names)-1])
			made += per
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		resp, err := adm.CreateTopics(cctx, int32(per), 1, nil, names...)
		cancel()
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("create %d topics of %d partitions: %w", len(names), per, err)
		}
	}
	return all, nil
}

// produceToEvery writes one record to every partition of topics, acks=all.
func produceToEvery(ctx context.Context, addr string, topics []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer cl.Close()
	md, err := kadm.NewClient(cl).Metadata(ctx, topics...)
	if err != nil {
		return err
	}
	var rs []*kgo.Record
	for _, t := range topics {
		for p := range md.Topics[t].Partitions {
			rs = append(rs, &kgo.Record{Topic: t, Partition: p, Value: []byte("startup")})
		}
	}
	return cl.ProduceSync(ctx, rs...).FirstErr()
}

// checkEveryPartitionHolds checks that every partition of topics ends at
// offset want: no acknowledged record was lost.
func checkEveryPartitionHolds(ctx context.Context, addr string, topics []string, want int64) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	if err != nil {
		return err
	}
	bad := 0
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil || o.Offset != want {
			bad++
		}
	})
	if bad > 0 {
		return fmt.Errorf("after the restarts %d partitions do not end at offset %d: acknowledged records lost", bad, want)
	}
	return nil
}
