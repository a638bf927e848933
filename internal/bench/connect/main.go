// Command connect is the connect part of `make bench`: it measures, against
// an in-process broker (durable on-disk log in a temp dir),
//
//   - source -> broker: the data generator writing 100-byte string records
//     through a standalone worker, next to the ceiling, a plain franz-go
//     producer writing the same records with the same client settings;
//     target >= 500,000 records/s;
//   - generator -> broker -> file sink: records/s and MB/s end to end;
//   - the per-record cost of a 3-transformation chain (Kafka's
//     InsertField$Value, ReplaceField$Value and MaskField$Value on struct
//     values): Chain.Apply alone, and source throughput with and without it.
//
// CPU figures are this process's CPU time (it holds the broker too) per
// record, steadier on a shared machine than rates. It is a report: a missed
// target prints MISS and still exits 0; it fails only when the benchmark
// itself fails.
//
//	go run ./internal/bench/connect [-quick] [-tasks 2]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

type options struct {
	sourceN, pipelineN, chainN, chainMicroN int64
	tasks                                   int
	// only, when set, runs just the steps whose name it matches (for
	// profiling one workload); the report then shows only those.
	only     *regexp.Regexp
	progress io.Writer
}

func defaultOptions(quick bool) options {
	if quick {
		return options{sourceN: 50_000, pipelineN: 20_000, chainN: 20_000, chainMicroN: 20_000, tasks: 2}
	}
	return options{sourceN: 4_000_000, pipelineN: 1_000_000, chainN: 1_000_000, chainMicroN: 1_000_000, tasks: 2}
}

// sourceTarget is the source-to-broker goal with 100-byte records.
const sourceTarget = 500_000

func main() {
	quick := flag.Bool("quick", false, "a short smoke run")
	tasks := flag.Int("tasks", 2, "generator tasks")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run here")
	only := flag.String("only", "", "run only the steps whose name matches this regexp (e.g. \"ceiling|source ->\")")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	o := defaultOptions(*quick)
	o.tasks = *tasks
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: -only:", err)
			os.Exit(2)
		}
		o.only = re
	}
	o.progress = os.Stderr
	r, err := run(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return
	}
	r.print(os.Stdout)
}

// measurement is one timed run.
type measurement struct {
	records int64
	bytes   int64
	wall    time.Duration
	cpu     time.Duration
}

func (m measurement) rate() float64 { return float64(m.records) / m.wall.Seconds() }
func (m measurement) mbps() float64 { return float64(m.bytes) / 1e6 / m.wall.Seconds() }
func (m measurement) cpuPerRecord() time.Duration {
	return time.Duration(float64(m.cpu) / float64(m.records))
}

type report struct {
	opts                     options
	loadAtStart              float64
	source, ceiling          measurement
	pipeline                 measurement
	chainBare, chainWith     measurement
	applyPerRecord, applyCPU time.Duration
}

func run(ctx context.Context, o options) (*report, error) {
	r := &report{opts: o, loadAtStart: loadAverage()}
	env, err := newEnv()
	if err != nil {
		return nil, err
	}
	defer env.close()
	steps := []struct {
		name string
		fn   func() error
	}{
		{"ceiling: franz-go producer", func() (err error) { r.ceiling, err = env.ceiling(ctx, o.sourceN); return }},
		{"source -> broker", func() (err error) { r.source, err = env.source(ctx, o.sourceN, o.tasks, false); return }},
		{"generator -> broker -> file sink", func() (err error) { r.pipeline, err = env.pipeline(ctx, o.pipelineN, o.tasks); return }},
		{"source with struct values, no chain", func() (err error) { r.chainBare, err = env.source(ctx, o.chainN, o.tasks, false, "struct"); return }},
		{"source with struct values, 3 transformations", func() (err error) { r.chainWith, err = env.source(ctx, o.chainN, o.tasks, true, "struct"); return }},
		{"Chain.Apply alone", func() (err error) { r.applyPerRecord, r.applyCPU, err = chainApply(o.chainMicroN); return }},
	}
	for _, s := range steps {
		if o.only != nil && !o.only.MatchString(s.name) {
			continue
		}
		start := time.Now()
		if err := s.fn(); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		if o.progress != nil {
			fmt.Fprintf(o.progress, "done: %s (%s)\n", s.name, time.Since(start).Round(time.Millisecond))
		}
	}
	return r, nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the host's 1-minute load average, or -1 where /proc does
// not tell.
func loadAverage() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f, err := strconv.ParseFloat(strings.Fields(string(raw))[0], 64)
	if err != nil {
		return -1
	}
	return f
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (r *report) print(out io.Writer) {
	fmt.Fprintln(out, "Tributary connect benchmark")
	fmt.Fprintf(out, "host: %d CPUs, %s; broker in-process, durable log in a temp dir; %d generator tasks\n",
		runtime.NumCPU(), runtime.Version(), r.opts.tasks)
	fmt.Fprintln(out, "MB/s counts record value bytes (1 MB = 10^6 bytes); CPU = this process's CPU time (broker included) per record")
	fmt.Fprintf(out, "1-minute load average at start: %.2f\n", r.loadAtStart)
	if r.loadAtStart > 0.5*float64(runtime.NumCPU()) {
		fmt.Fprintln(out, "WARNING: the host was busy when the run started; rates are depressed, CPU/record is the steadier figure")
	}
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "workload\trecords\trecords/s\tMB/s\tCPU/record\t")
	row := func(name string, m measurement) {
		if m.records == 0 {
			return // not run (-only)
		}
		fmt.Fprintf(w, "%s\t%d\t%.0f\t%.1f\t%s\t\n", name, m.records, m.rate(), m.mbps(), m.cpuPerRecord())
	}
	row("source -> broker, 100 B strings (connect)", r.source)
	row("franz-go producer, 100 B (ceiling)", r.ceiling)
	row("generator -> broker -> file sink, 100 B", r.pipeline)
	row("source, struct values as JSON, no chain", r.chainBare)
	row("source, struct values as JSON, 3 SMTs", r.chainWith)
	w.Flush()
	if r.source.records > 0 && r.ceiling.records > 0 {
		verdict := "PASS"
		if r.source.rate() < sourceTarget {
			verdict = "MISS"
		}
		fmt.Fprintf(out, "source -> broker: %.0f records/s, target >= %d: %s; %.2fx the ceiling; at %s of CPU per record, %d idle CPUs allow about %.0f records/s\n",
			r.source.rate(), sourceTarget, verdict, r.source.rate()/r.ceiling.rate(), r.source.cpuPerRecord(), runtime.NumCPU(),
			float64(runtime.NumCPU())/r.source.cpuPerRecord().Seconds())
	}
	if r.chainWith.records == 0 || r.chainBare.records == 0 || r.applyPerRecord == 0 {
		return // a partial run (-only)
	}
	perRecordWall := time.Duration((1/r.chainWith.rate() - 1/r.chainBare.rate()) * 1e9)
	perRecordCPU := r.chainWith.cpuPerRecord() - r.chainBare.cpuPerRecord()
	fmt.Fprintf(out, "3-transformation chain (InsertField$Value, ReplaceField$Value, MaskField$Value): Chain.Apply %s/record (%s CPU);\n",
		r.applyPerRecord, r.applyCPU)
	fmt.Fprintf(out, "  in the source pipeline it adds %s of wall time and %s of CPU per record\n", perRecordWall, perRecordCPU)
}
