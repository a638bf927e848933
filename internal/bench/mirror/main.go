// Command mirror is the mirror part of `make bench`: with brokers A and B
// and `tributary mirror run` as separate processes, it measures in one run
//
//  1. raw produce: a franz-go producer writes N 1 KB records to a
//     12-partition topic on B (acks=all, idempotent, no compression): the
//     target broker's own produce throughput, the peer;
//  2. mirror: N 1 KB records prefilled on a 12-partition topic of A are
//     copied A->B by a mirror process (at-least-once, the default), timed
//     from the first copied record on B to the last; once with tasks.max=1
//     (MM2's default) and once with tasks.max=2 (a task per core here),
//     each on its own topic;
//  3. latency: records produced to A at half the faster mirror's rate, each
//     timed from its produce to its arrival in a consumer of B (the mirror
//     keeps record timestamps, so the consumer reads the produce time back).
//
// and prints MB/s, the mirror/raw ratio against the target (>= 80%), the
// latency p50/p99 against the target (p99 < 1 s), and each process's
// CPU-seconds from /proc, which are steadier on a shared machine than MB/s.
// It is a report: a missed target prints MISS and exits 0; it exits non-zero
// only when the benchmark itself fails (wrong record counts, a process that
// does not start).
//
//	go run ./internal/bench/mirror [-quick] [-records N] [-latency 5s] [-latency-rate R] [-tasks 1,2] [-mirror-log info]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	partitions  = 12
	recordBytes = 1024
	// Targets, from the issue.
	minThroughputRatio = 0.8
	maxLatencyP99      = time.Second
	phaseTimeout       = 5 * time.Minute
	pollInterval       = 20 * time.Millisecond
)

type options struct {
	records     int64
	latency     time.Duration
	latencyRate float64 // 0: half the fastest mirror's rate
	tasks       []int   // a mirror run per value of tasks.max
	progress    io.Writer
	// mirrorLog is the mirror's --log-level; its log is printed with the
	// report when it is info or debug.
	mirrorLog string
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("mirror", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "a smoke run: few records, short latency run")
	o := options{progress: io.Discard}
	fs.Int64Var(&o.records, "records", 1_000_000, "1 KB records per throughput phase")
	fs.DurationVar(&o.latency, "latency", 5*time.Second, "how long the latency run measures")
	fs.Float64Var(&o.latencyRate, "latency-rate", 0, "records/s of the latency run instead of half the fastest mirror's rate")
	tasks := fs.String("tasks", "1,2", "tasks.max of each mirror run, comma-separated")
	fs.StringVar(&o.mirrorLog, "mirror-log", "warn", "the mirror process's --log-level; info or debug prints its log after the report")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if *quick {
		o.records, o.latency = 20_000, time.Second
	}
	for _, t := range strings.Split(*tasks, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(t))
		if err != nil || n <= 0 {
			return o, fmt.Errorf("-tasks %q: want positive numbers, comma-separated", *tasks)
		}
		o.tasks = append(o.tasks, n)
	}
	if o.records <= 0 || o.latency <= 0 {
		return o, fmt.Errorf("-records and -latency must be positive")
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	o.progress = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	rep, err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	rep.print(os.Stdout)
}

// mirrorRun is one measured mirror copy.
type mirrorRun struct {
	tasks   int
	copy    throughput
	startup time.Duration // mirror start to first record on B
}

// cpuTimes are CPU-seconds per part over one phase.
type cpuTimes map[string]time.Duration

// throughput is one measured copy or produce.
type throughput struct {
	records int64
	elapsed time.Duration
	cpu     cpuTimes
}

func (t throughput) mbPerSec() float64 {
	return float64(t.records*recordBytes) / 1e6 / t.elapsed.Seconds()
}

type latency struct {
	rate          float64 // records/s offered
	samples       int
	p50, p99, max time.Duration
	elapsed       time.Duration
	cpu           cpuTimes
}

type report struct {
	o       options
	raw     throughput
	mirrors []mirrorRun
	latency latency
	// mirrorLog is the mirror process's log, if asked for.
	mirrorLog string
	// load is the machine's 1-minute load average at the start and the
	// end: MB/s on a shared machine depends on it, CPU-seconds much less.
	load [2]float64
}

func run(ctx context.Context, o options) (*report, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*phaseTimeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "tributary-bench-mirror-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "tributary")
	fmt.Fprintln(o.progress, "building tributary")
	if err := buildTributary(ctx, bin); err != nil {
		return nil, err
	}
	brokerA, addrA, err := startBroker(ctx, bin, "broker A", filepath.Join(dir, "a"))
	if err != nil {
		return nil, err
	}
	defer brokerA.stop()
	brokerB, addrB, err := startBroker(ctx, bin, "broker B", filepath.Join(dir, "b"))
	if err != nil {
		return nil, err
	}
	defer brokerB.stop()
	rep := &report{o: o}
	rep.load[0] = loadAverage()
	defer func() { rep.load[1] = loadAverage() }()

	// 1. Raw produce into B.
	if err := createTopic(ctx, addrB, "raw"); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.progress, "raw produce: %d records into broker B\n", o.records)
	before := snapshot(brokerB)
	self := selfCPU()
	began := time.Now()
	if err := produceN(ctx, addrB, "raw", o.records); err != nil {
		return nil, fmt.Errorf("raw produce: %w", err)
	}
	rep.raw = throughput{records: o.records, elapsed: time.Since(began), cpu: since(before, brokerB)}
	rep.raw.cpu["producer (bench)"] = selfCPU() - self
	if n, err := endOffsets(ctx, addrB, "raw"); err != nil || n != o.records {
		return nil, fmt.Errorf("raw produce: broker B holds %d records, want %d (%v)", n, o.records, err)
	}

	// 2. Mirror A->B of a prefilled topic, per tasks.max, one mirror
	// process at a time (processes of one flow must share a config).
	for _, tasks := range o.tasks {
		run, mirror, err := measureMirror(ctx, o, dir, bin, brokerA, brokerB, addrA, addrB, benchTopic(tasks), tasks)
		if err != nil {
			return nil, err
		}
		mirror.stop()
		rep.mirrors = append(rep.mirrors, run)
	}

	// 3. Latency at half the fastest mirror's rate, with that mirror's
	// configuration started again (it resumes at its positions; the
	// latency run's warm-up covers its start).
	best := rep.fastest()
	mirror, err := start(bin, "mirror", "mirror", "run", filepath.Join(dir, benchTopic(best.tasks)+".properties"), "--log-level", o.mirrorLog)
	if err != nil {
		return nil, err
	}
	defer mirror.stop()
	rate := best.copy.mbPerSec() * 1e6 / recordBytes / 2
	if o.latencyRate > 0 {
		rate = o.latencyRate
	}
	fmt.Fprintf(o.progress, "latency: %.0f records/s for %s\n", rate, o.latency)
	before = snapshot(brokerA, brokerB, mirror)
	self = selfCPU()
	if rep.latency, err = measureLatency(ctx, addrA, addrB, benchTopic(best.tasks), rate, o.latency); err != nil {
		return nil, err
	}
	rep.latency.cpu = since(before, brokerA, brokerB, mirror)
	rep.latency.cpu["producer and consumer (bench)"] = selfCPU() - self
	if o.mirrorLog == "info" || o.mirrorLog == "debug" {
		rep.mirrorLog = mirror.stderr.String()
	}
	return rep, nil
}

func benchTopic(tasks int) string { return fmt.Sprintf("bench-%dtasks", tasks) }

// fastest is the mirror run with the highest throughput.
func (r *report) fastest() mirrorRun {
	best := r.mirrors[0]
	for _, m := range r.mirrors[1:] {
		if m.copy.mbPerSec() > best.copy.mbPerSec() {
			best = m
		}
	}
	return best
}

// measureMirror prefills topic on A, starts a mirror process copying it
// with tasks.max = tasks, and times the copy; it returns the mirror still
// running. Its config is left in dir as <topic>.properties.
func measureMirror(ctx context.Context, o options, dir, bin string, brokerA, brokerB *process, addrA, addrB, topic string, tasks int) (mirrorRun, *process, error) {
	run := mirrorRun{tasks: tasks}
	if err := createTopic(ctx, addrA, topic); err != nil {
		return run, nil, err
	}
	fmt.Fprintf(o.progress, "prefill: %d records into broker A\n", o.records)
	if err := produceN(ctx, addrA, topic, o.records); err != nil {
		return run, nil, fmt.Errorf("prefill: %w", err)
	}
	cfg := filepath.Join(dir, topic+".properties")
	if err := os.WriteFile(cfg, []byte(mirrorConfig(addrA, addrB, topic, tasks)), 0o644); err != nil {
		return run, nil, err
	}
	fmt.Fprintf(o.progress, "mirror: copying A->B with tasks.max=%d\n", tasks)
	parts := []*process{brokerA, brokerB}
	before := snapshot(parts...)
	began := time.Now()
	mirror, err := start(bin, "mirror", "mirror", "run", cfg, "--log-level", o.mirrorLog)
	if err != nil {
		return run, nil, err
	}
	parts = append(parts, mirror)
	first, last, err := waitCopied(ctx, addrB, "A."+topic, o.records, mirror)
	if err != nil {
		mirror.stop()
		return run, nil, err
	}
	run.startup = first.Sub(began)
	// The first poll that saw records may have come late by up to one
	// poll interval.
	run.copy = throughput{records: o.records, elapsed: last.Sub(first) + pollInterval, cpu: since(before, parts...)}
	return run, mirror, nil
}

// mirrorConfig is the benchmark's mm2.properties: the defaults, except
// no compression (as the raw producer) and no checkpoints to wait for.
// (Fetch sizes stay franz-go's: the broker benchmark's 4 MiB per partition
// tripled the source broker's CPU here.)
func mirrorConfig(a, b, topic string, tasks int) string {
	return fmt.Sprintf(`clusters = A, B
A.bootstrap.servers = %s
B.bootstrap.servers = %s
A->B.enabled = true
A->B.topics = %s
tasks.max = %d
emit.checkpoints.enabled = false
B.producer.compression.type = none
`, a, b, topic, tasks)
}

// snapshot reads each process's CPU time now.
func snapshot(ps ...*process) map[*process]time.Duration {
	out := map[*process]time.Duration{}
	for _, p := range ps {
		out[p] = p.cpu()
	}
	return out
}

func since(before map[*process]time.Duration, ps ...*process) cpuTimes {
	out := cpuTimes{}
	for _, p := range ps {
		out[p.name] = p.cpu() - before[p]
	}
	return out
}

func adminFor(addr string) (*kadm.Client, func(), error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		return nil, nil, err
	}
	return kadm.NewClient(cl), cl.Close, nil
}

func createTopic(ctx context.Context, addr, topic string) error {
	adm, done, err := adminFor(addr)
	if err != nil {
		return err
	}
	defer done()
	resp, err := adm.CreateTopic(ctx, partitions, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

func endOffsets(ctx context.Context, addr, topic string) (int64, error) {
	adm, done, err := adminFor(addr)
	if err != nil {
		return 0, err
	}
	defer done()
	offs, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n, nil
}

// producerOpts are the raw producer's options: the broker benchmark's.
func producerOpts(addr string) []kgo.Opt {
	const maxBufferedBytes = 64 << 20
	return []kgo.Opt{kgo.SeedBrokers(addr), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MetadataMinAge(100 * time.Millisecond),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.MaxBufferedBytes(maxBufferedBytes),
		kgo.MaxBufferedRecords(maxBufferedBytes / recordBytes), kgo.RecordDeliveryTimeout(time.Minute),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner())}
}

// value is a 1 KB record value that does not compress.
var value = func() []byte {
	b := make([]byte, recordBytes)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}()

// produceN writes n records to topic as fast as the producer allows.
func produceN(ctx context.Context, addr, topic string, n int64) error {
	cl, err := kgo.NewClient(producerOpts(addr)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	var (
		mu    sync.Mutex
		first error
	)
	for i := int64(0); i < n; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	return first
}

// waitCopied polls B until topic holds n records, returning when the first
// and the last arrived (to one pollInterval).
func waitCopied(ctx context.Context, addr, topic string, n int64, mirror *process) (first, last time.Time, err error) {
	adm, done, err := adminFor(addr)
	if err != nil {
		return first, last, err
	}
	defer done()
	deadline := time.Now().Add(phaseTimeout)
	for {
		offs, err := adm.ListEndOffsets(ctx, topic)
		var have int64
		if err == nil {
			offs.Each(func(o kadm.ListedOffset) {
				if o.Err == nil {
					have += o.Offset
				}
			})
		}
		now := time.Now()
		if have > 0 && first.IsZero() {
			first = now
		}
		if have >= n {
			if have != n {
				return first, now, fmt.Errorf("%s holds %d records, want %d", topic, have, n)
			}
			return first, now, nil
		}
		select {
		case <-mirror.exited:
			return first, last, fmt.Errorf("mirror exited: %s", mirror.stderr.String())
		case <-ctx.Done():
			return first, last, ctx.Err()
		case <-time.After(pollInterval):
		}
		if now.After(deadline) {
			return first, last, fmt.Errorf("%s holds %d of %d records after %s: %s", topic, have, n, phaseTimeout, mirror.stderr.String())
		}
	}
}

// measureLatency produces to A at rate records/s for a warm-up plus dur
// and times each record from its produce call (its timestamp, which the
// mirror keeps) to its arrival in a consumer of B.
func measureLatency(ctx context.Context, addrA, addrB, topic string, rate float64, dur time.Duration) (latency, error) {
	res := latency{rate: rate}
	adm, done, err := adminFor(addrB)
	if err != nil {
		return res, err
	}
	ends, err := adm.ListEndOffsets(ctx, "A."+topic)
	done()
	if err != nil {
		return res, err
	}
	from := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) { from[o.Partition] = kgo.NewOffset().At(o.Offset) })
	consumer, err := kgo.NewClient(kgo.SeedBrokers(addrB), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"A." + topic: from}),
		kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		return res, err
	}
	defer consumer.Close()
	// A 5 ms linger (Kafka 4's default) lets batches form as in
	// production: without one, every millisecond's few records would go
	// out as a batch per partition. Latency still counts it, being
	// measured from the produce call.
	producer, err := kgo.NewClient(append(producerOpts(addrA), kgo.ProducerLinger(5*time.Millisecond))...)
	if err != nil {
		return res, err
	}
	defer producer.Close()

	const warmup = 2 * time.Second
	began := time.Now()
	measureFrom, end := began.Add(warmup), began.Add(warmup+dur)
	var sent int64
	produced := make(chan int64, 1)
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for now := time.Now(); now.Before(end); now = time.Now() {
			due := int64(now.Sub(began).Seconds()*rate) - sent
			for range due {
				producer.Produce(ctx, &kgo.Record{Topic: topic, Value: value}, nil)
			}
			sent += due
			select {
			case <-ctx.Done():
				produced <- sent
				return
			case <-tick.C:
			}
		}
		produced <- sent
	}()
	var samples []time.Duration
	var received int64
	total := int64(-1)
	stall := time.Now()
	for total < 0 || received < total {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fs := consumer.PollFetches(pctx)
		cancel()
		now := time.Now()
		fs.EachRecord(func(r *kgo.Record) {
			received++
			if r.Timestamp.After(measureFrom) {
				samples = append(samples, now.Sub(r.Timestamp))
			}
		})
		if fs.NumRecords() > 0 {
			stall = now
		}
		select {
		case total = <-produced:
		default:
		}
		if now.Sub(stall) > 30*time.Second {
			return res, fmt.Errorf("latency: %d of %d records arrived on B", received, total)
		}
	}
	if received != total {
		return res, fmt.Errorf("latency: %d records arrived on B, %d produced", received, total)
	}
	res.elapsed = time.Since(began)
	slices.Sort(samples)
	res.samples = len(samples)
	if len(samples) == 0 {
		return res, fmt.Errorf("latency: no samples")
	}
	res.p50 = samples[len(samples)/2]
	res.p99 = samples[min(len(samples)-1, len(samples)*99/100)]
	res.max = samples[len(samples)-1]
	return res, nil
}

// loadAverage is the 1-minute load average (0 where /proc is missing).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return f
}

func (r *report) print(out io.Writer) {
	fmt.Fprintf(out, "\nmirror A->B, %d KB records, %d partitions, %d records per run (brokers and mirror as separate processes; "+
		"load average %.1f at start, %.1f at end on %d CPUs)\n\n",
		recordBytes/1024, partitions, r.o.records, r.load[0], r.load[1], runtime.NumCPU())
	fmt.Fprintf(out, "%-30s %8s %9s %11s %10s   %s\n", "", "MB/s", "seconds", "vs raw", "CPU-s/GB", "CPU-seconds by part")
	line := func(name string, t throughput, vs string) {
		names := make([]string, 0, len(t.cpu))
		var total time.Duration
		for n, d := range t.cpu {
			names = append(names, n)
			total += d
		}
		slices.Sort(names)
		cpu := ""
		for _, n := range names {
			cpu += fmt.Sprintf("%s %.2f  ", n, t.cpu[n].Seconds())
		}
		perGB := total.Seconds() / (float64(t.records*recordBytes) / 1e9)
		fmt.Fprintf(out, "%-30s %8.0f %9.2f %11s %10.2f   %s\n", name, t.mbPerSec(), t.elapsed.Seconds(), vs, perGB, cpu)
	}
	line("raw produce into B", r.raw, "")
	for _, m := range r.mirrors {
		ratio := m.copy.mbPerSec() / r.raw.mbPerSec()
		verdict := "PASS"
		if ratio < minThroughputRatio {
			verdict = "MISS"
		}
		line(fmt.Sprintf("mirror A->B, tasks.max=%d", m.tasks), m.copy, fmt.Sprintf("%.0f%% %s", 100*ratio, verdict))
	}
	fmt.Fprintf(out, "\ntarget: mirror >= %.0f%% of raw produce into the target broker (MB/s; CPU-s/GB, all parts summed, is steadier on a busy machine);\nmirror start to first copied record:", 100*minThroughputRatio)
	for _, m := range r.mirrors {
		fmt.Fprintf(out, " %s (tasks.max=%d)", m.startup.Round(time.Millisecond), m.tasks)
	}
	fmt.Fprintln(out)
	verdict := "PASS"
	if r.latency.p99 >= maxLatencyP99 {
		verdict = "MISS"
	}
	fmt.Fprintf(out, "replication latency at %.0f records/s (half the fastest mirror's rate), %d samples: p50 %s, p99 %s, max %s (target p99 < %s) %s\n",
		r.latency.rate, r.latency.samples, r.latency.p50.Round(100*time.Microsecond), r.latency.p99.Round(100*time.Microsecond),
		r.latency.max.Round(100*time.Microsecond), maxLatencyP99, verdict)
	var cpu string
	for _, n := range slices.Sorted(maps.Keys(r.latency.cpu)) {
		cpu += fmt.Sprintf("%s %.2f  ", n, r.latency.cpu[n].Seconds())
	}
	fmt.Fprintf(out, "CPU-seconds over the %.1f s latency run: %s\n", r.latency.elapsed.Seconds(), cpu)
	if r.mirrorLog != "" {
		fmt.Fprintf(out, "\nmirror log:\n%s", r.mirrorLog)
	}
}
