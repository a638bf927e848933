// Command broker is `make bench`: it runs one franz-go workload against
// Tributary's broker, franz-go's kfake and the client's own ceiling (a kfake
// that stores nothing and serves canned fetches), in one run and one after
// the other, and prints each target's throughput, the ratios against our
// targets, produce latency at half load, and the broker's memory with 1,000
// idle partitions. Then, against Tributary and kfake, the time a consumer
// group of 10 takes to form over 60 partitions, and the throughput of an
// exactly-once consume-transform-produce loop. Last, Tributary's own
// startup: the time to /healthz 200 after a clean stop and after kill -9
// with 10,000 partitions, and memory and descriptors with 50,000 idle ones.
//
// It is a report: a missed target prints MISS and still exits 0. It exits
// non-zero only when the benchmark itself fails (a target errors, returns
// wrong records, or the broker binary does not build or start).
//
//	go run ./internal/bench/broker [-quick] [-sections eos] [-cpuprofile tributary.pprof] [-eos-cpuprofile eos.pprof]
//	    [-startup-partitions 10000] [-idle-partitions 50000]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// latencyRecordBytes is the record size of the latency run; its rate comes
// from the throughput run of the same size.
const latencyRecordBytes = 1024

// recordSize is one record size of the workload and how many records to
// move at it.
type recordSize struct {
	bytes int
	n     int64
}

// options configure a run; flags fill them, and the test sets them directly.
type options struct {
	sizes []recordSize
	// warmupDiv sizes each instance's unmeasured warm-up run: n/warmupDiv
	// records.
	warmupDiv int64
	// latency is how long the latency run measures, after its warm-up.
	latency time.Duration
	// rssTopics x rssPerTopic idle partitions for the memory check.
	rssTopics, rssPerTopic int
	// groupMembers join one group over a groupPartitions topic,
	// groupRuns times per target.
	groupMembers    int
	groupPartitions int32
	groupRuns       int
	// startupPartitions partitions are restarted after a clean stop and
	// after kill -9; idlePartitions are created to read memory and
	// descriptors.
	startupPartitions, idlePartitions int
	// eosN records go through the exactly-once loop, at most eosPollMax
	// per transaction.
	eosN       int64
	eosPollMax int
	// sections are the parts of the benchmark to run; see allSections.
	sections []string
	// cpuProfile, if set, is where the CPU profile of the Tributary
	// throughput runs goes (the in-process broker and its clients), and
	// eosCPUProfile that of the Tributary exactly-once run.
	cpuProfile, eosCPUProfile string
	// progress receives a line per finished step while the run goes.
	progress io.Writer
}

// N is chosen so the fastest target's phases take a few seconds each on a
// 2-core machine; -quick is a smoke run for CI.
func defaultOptions(quick bool) options {
	o := options{
		sizes:     []recordSize{{bytes: 1024, n: 3_000_000}, {bytes: 100, n: 12_000_000}},
		warmupDiv: 10,
		latency:   3 * time.Second,
		rssTopics: 100, rssPerTopic: 10,
		groupMembers: 10, groupPartitions: 60, groupRuns: 3,
		eosN: 200_000, eosPollMax: 10_000,
		startupPartitions: 10_000, idlePartitions: 50_000,
		sections: allSections,
		progress: io.Discard,
	}
	if quick {
		o.sizes = []recordSize{{bytes: 1024, n: 100_000}, {bytes: 100, n: 300_000}}
		o.latency = time.Second
		o.groupRuns = 1
		o.eosN = 20_000
		o.startupPartitions, o.idlePartitions = 500, 2_000
	}
	return o
}

// allSections are the parts of the benchmark, in the order they run.
// latency takes its rate from the throughput run.
var allSections = []string{"throughput", "latency", "rss", "groups", "eos", "startup"}

func (o options) runs(section string) bool { return slices.Contains(o.sections, section) }

// validate checks the rules that cross options.
func (o options) validate() error {
	var errs []error
	for _, s := range o.sections {
		if !slices.Contains(allSections, s) {
			errs = append(errs, fmt.Errorf("-sections: unknown section %q; want some of %s", s, strings.Join(allSections, ",")))
		}
	}
	if o.runs("latency") && !o.runs("throughput") {
		errs = append(errs, errors.New("-sections: latency needs throughput, which sets its rate"))
	}
	if o.eosN <= 0 || o.eosPollMax <= 0 || o.groupRuns <= 0 || o.groupMembers <= 0 || o.groupPartitions < int32(o.groupMembers) {
		errs = append(errs, fmt.Errorf("-neos %d, -rebalance-runs %d, %d members over %d partitions: want positive counts and a partition per member at least",
			o.eosN, o.groupRuns, o.groupMembers, o.groupPartitions))
	}
	return errors.Join(errs...)
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "small N and a short latency run, for a CI smoke run")
	n1k := fs.Int64("n1k", 0, "records in the 1 KB run (0: the default for the mode)")
	n100 := fs.Int64("n100", 0, "records in the 100 B run (0: the default for the mode)")
	latency := fs.Duration("latency", 0, "how long the latency run measures (0: the default for the mode)")
	neos := fs.Int64("neos", 0, "records in the exactly-once run (0: the default for the mode)")
	rebalanceRuns := fs.Int("rebalance-runs", 0, "group rebalance runs per target (0: the default for the mode)")
	startupPartitions := fs.Int("startup-partitions", 0, "partitions restarted in the startup section (0: the default for the mode)")
	idlePartitions := fs.Int("idle-partitions", 0, "idle partitions measured in the startup section (0: the default for the mode)")
	sections := fs.String("sections", strings.Join(allSections, ","), "comma-separated parts of the benchmark to run")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the Tributary throughput runs to this file")
	eosCPUProfile := fs.String("eos-cpuprofile", "", "write a CPU profile of the Tributary exactly-once run to this file")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o := defaultOptions(*quick)
	for i, n := range []int64{*n1k, *n100} {
		switch {
		case n < 0:
			return options{}, fmt.Errorf("-n1k and -n100 take a record count, got %d", n)
		case n > 0:
			o.sizes[i].n = n
		}
	}
	if *latency > 0 {
		o.latency = *latency
	}
	if *neos != 0 {
		o.eosN = *neos
	}
	if *rebalanceRuns != 0 {
		o.groupRuns = *rebalanceRuns
	}
	if *startupPartitions > 0 {
		o.startupPartitions = *startupPartitions
	}
	if *idlePartitions > 0 {
		o.idlePartitions = *idlePartitions
	}
	o.sections = strings.Split(*sections, ",")
	o.cpuProfile, o.eosCPUProfile = *cpuProfile, *eosCPUProfile
	return o, o.validate()
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	o.progress = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	_, err = run(ctx, o, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run measures every target, one at a time so they never share the CPUs,
// then prints the report to out.
func run(ctx context.Context, o options, out io.Writer) (*report, error) {
	start := time.Now()
	rep := newReport(o)
	rep.loadAtStart = loadAverage()
	for _, section := range []struct {
		name string
		fn   func(context.Context, options, *report) error
	}{
		{"throughput", runThroughput},
		{"latency", runLatency},
		{"rss", runRSS},
		{"groups", runGroups},
		{"eos", runEOS},
		{"startup", runStartup},
	} {
		if !o.runs(section.name) {
			continue
		}
		if err := section.fn(ctx, o, rep); err != nil {
			return nil, err
		}
	}
	rep.elapsed = time.Since(start)
	rep.print(out)
	return rep, nil
}

func runThroughput(ctx context.Context, o options, rep *report) error {
	for _, t := range targets() {
		measure := func() error {
			for _, size := range o.sizes {
				res, err := measureTarget(ctx, t, size, o.warmupDiv)
				if err != nil {
					return fmt.Errorf("%s, %d B records: %w", t.name, size.bytes, err)
				}
				rep.throughput[t.name][size.bytes] = res
				fmt.Fprintf(o.progress, "%-9s %5d B: produce %8.1f MB/s, consume %8.1f MB/s\n",
					t.name, size.bytes, res.produce.mbPerSec(), res.consume.mbPerSec())
			}
			return nil
		}
		if t.name == "tributary" && o.cpuProfile != "" {
			measure = profiled(o.cpuProfile, measure)
		}
		if err := measure(); err != nil {
			return err
		}
	}
	return nil
}

func runLatency(ctx context.Context, o options, rep *report) error {
	for _, t := range storingTargets() {
		res, err := latencyOf(ctx, t, rep, o.latency)
		if err != nil {
			return fmt.Errorf("%s, latency: %w", t.name, err)
		}
		rep.latency[t.name] = res
		fmt.Fprintf(o.progress, "%-9s latency at %s records/s: p50 %s, p99 %s\n", t.name, thousands(res.offered), ms(res.p50), ms(res.p99))
	}
	return nil
}

func runRSS(ctx context.Context, o options, rep *report) error {
	var err error
	if rep.rss, err = measureRSS(ctx, o.rssTopics, o.rssPerTopic); err != nil {
		return fmt.Errorf("broker RSS: %w", err)
	}
	return nil
}

func runGroups(ctx context.Context, o options, rep *report) error {
	for _, t := range storingTargets() {
		res, err := measureRebalance(ctx, t, o.groupMembers, o.groupPartitions, o.groupRuns, func(run int, took time.Duration, gen int32) {
			fmt.Fprintf(o.progress, "%-9s rebalance run %d: %s, generation %d\n", t.name, run, ms(took), gen)
		})
		if err != nil {
			return fmt.Errorf("%s, group rebalance: %w", t.name, err)
		}
		rep.rebalance[t.name] = res
	}
	return nil
}

func runStartup(ctx context.Context, o options, rep *report) error {
	var err error
	rep.startup, err = measureStartup(ctx, o.startupPartitions, o.idlePartitions, func(format string, args ...any) {
		fmt.Fprintf(o.progress, format+"\n", args...)
	})
	if err != nil {
		return fmt.Errorf("broker startup: %w", err)
	}
	return nil
}

func runEOS(ctx context.Context, o options, rep *report) error {
	for _, t := range storingTargets() {
		profile := ""
		if t.name == "tributary" {
			profile = o.eosCPUProfile
		}
		res, err := measureEOS(ctx, t, o.eosN, o.eosPollMax, profile)
		if err != nil {
			return fmt.Errorf("%s, exactly-once: %w", t.name, err)
		}
		rep.eos[t.name] = res
		fmt.Fprintf(o.progress, "%-9s exactly-once: %8.1f MB/s, %d transactions\n", t.name, res.mbPerSec(), res.transactions)
	}
	return nil
}

// measureTarget runs the workload for one record size on a fresh instance:
// an unmeasured warm-up on its own topic first, then the measured run.
func measureTarget(ctx context.Context, t target, size recordSize, warmupDiv int64) (res sizeResult, err error) {
	settleHeap()
	inst, err := t.start(ctx, size.bytes)
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := inst.close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close %s: %w", t.name, cerr))
		}
	}()
	if _, err := runWorkload(ctx, t, inst, "warmup", size.bytes, max(size.n/warmupDiv, 1)); err != nil {
		return res, fmt.Errorf("warm-up: %w", err)
	}
	return runWorkload(ctx, t, inst, "bench", size.bytes, size.n)
}

// latencyOf runs the latency measurement on a fresh instance at half the
// target's own measured maximum produce rate for latencyRecordBytes.
func latencyOf(ctx context.Context, t target, rep *report, dur time.Duration) (res latencyResult, err error) {
	tp, ok := rep.throughput[t.name][latencyRecordBytes]
	if !ok {
		return res, fmt.Errorf("no %d B throughput run to take the rate from", latencyRecordBytes)
	}
	settleHeap()
	inst, err := t.start(ctx, latencyRecordBytes)
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := inst.close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close %s: %w", t.name, cerr))
		}
	}()
	if err := createTopic(ctx, inst.addr, "latency", partitions); err != nil {
		return res, err
	}
	return measureLatency(ctx, inst.addr, "latency", latencyRecordBytes, tp.produce.recPerSec()/2, dur)
}

// settleHeap collects and returns to the OS what earlier instances left
// behind (kfake holds gigabytes in memory), so that their collection and
// scavenging do not run during the next measurement.
func settleHeap() { debug.FreeOSMemory() }

// profiled wraps fn in a CPU profile written to path.
func profiled(path string, fn func() error) func() error {
	return func() (err error) {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("cpu profile: %w", cerr)
			}
		}()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
		return fn()
	}
}

// loadAverage is the host's 1-minute load average, or -1 where /proc does
// not say. Other work on the machine skews every figure, so the report
// shows it.
func loadAverage() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	first, _, _ := strings.Cut(string(raw), " ")
	v, err := strconv.ParseFloat(first, 64)
	if err != nil {
		return -1
	}
	return v
}
