// Command streams is the streams part of `make bench`: the same workloads
// written with Tributary streams and with lovoo/goka, one after the other,
// each against a fresh in-process broker, with the ratios against the
// issue's targets:
//
//   - stateless: filter + map of N pre-filled records into an output topic;
//     target >= 300k records/s per CPU-second (one core);
//   - wordcount: lines in, a running count per word out; target >= 3x goka;
//   - restore: a task restoring its store from a pre-filled changelog;
//     target >= 100 MB/s.
//
// The clock runs from starting the application to the moment its
// consumer group has committed every input (and repartition) record;
// outputs are then checked outside the clock. CPU-seconds are this
// process's (application and broker both, as the broker is in-process),
// read from /proc/self/stat.
//
// It is a report: a missed target prints MISS and still exits 0; it exits
// 1 only when a workload fails or gives a wrong result.
//
//	go run ./internal/bench/streams [-quick] [-sections stateless,wordcount,restore]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

type options struct {
	statelessN   int
	words        int
	restoreBytes int64
	sections     []string
	cpuProfile   string
	progress     io.Writer
}

var allSections = []string{"stateless", "wordcount", "restore"}

func defaultOptions(quick bool) options {
	o := options{statelessN: 2_000_000, words: 1_000_000, restoreBytes: 256 << 20, sections: allSections, progress: io.Discard}
	if quick {
		o.statelessN, o.words, o.restoreBytes = 200_000, 200_000, 32<<20
	}
	return o
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("bench-streams", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "small workloads, for a smoke run")
	sections := fs.String("sections", strings.Join(allSections, ","), "comma-separated parts to run")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	o := defaultOptions(*quick)
	o.sections = strings.Split(*sections, ",")
	o.cpuProfile = *cpuProfile
	for _, s := range o.sections {
		if !slices.Contains(allSections, s) {
			return o, fmt.Errorf("-sections: unknown section %q; want some of %s", s, strings.Join(allSections, ","))
		}
	}
	return o, nil
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
	defer stop()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// result is one measured run.
type result struct {
	records int64
	bytes   int64
	elapsed time.Duration
	cpu     time.Duration
	// startup is the time before the measured part (restore: joining the
	// group and starting the restorations).
	startup time.Duration
}

func (r result) perSecond() float64 { return float64(r.records) / r.elapsed.Seconds() }
func (r result) perCPUSecond() float64 {
	if r.cpu <= 0 {
		return 0
	}
	return float64(r.records) / r.cpu.Seconds()
}
func (r result) mbPerSecond() float64 { return float64(r.bytes) / 1e6 / r.elapsed.Seconds() }

func run(ctx context.Context, o options, out io.Writer) error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	slog.SetDefault(quiet)
	has := func(s string) bool { return slices.Contains(o.sections, s) }
	res := map[string]result{}
	step := func(name string, fn func() (result, error)) error {
		fmt.Fprintf(o.progress, "bench: %s ...\n", name)
		r, err := fn()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		res[name] = r
		fmt.Fprintf(o.progress, "bench: %s: %d records in %s (%.0f/s, %.1f CPU-s)\n", name, r.records, r.elapsed.Round(time.Millisecond), r.perSecond(), r.cpu.Seconds())
		return nil
	}
	if has("stateless") {
		if err := step("stateless/tributary", func() (result, error) { return statelessTributary(ctx, o.statelessN) }); err != nil {
			return err
		}
		if err := step("stateless/goka", func() (result, error) { return statelessGoka(ctx, o.statelessN) }); err != nil {
			return err
		}
	}
	if has("wordcount") {
		if err := step("wordcount/tributary", func() (result, error) { return wordCountTributary(ctx, o.words) }); err != nil {
			return err
		}
		if err := step("wordcount/goka", func() (result, error) { return wordCountGoka(ctx, o.words) }); err != nil {
			return err
		}
	}
	if has("restore") {
		if err := step("restore/tributary", func() (result, error) { return restoreTributary(ctx, o.restoreBytes) }); err != nil {
			return err
		}
	}
	report(out, o, res)
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func report(out io.Writer, o options, res map[string]result) {
	fmt.Fprintln(out, "Tributary streams benchmark")
	fmt.Fprintln(out, "each run against a fresh in-process broker (durable log in a temp dir); at-least-once, commit.interval 1s (goka: sarama's 1s autocommit)")
	fmt.Fprintln(out, "CPU-s = this process's CPU time from /proc/self/stat: the application and the broker together")
	load := loadAverage()
	fmt.Fprintf(out, "host: %d CPUs, %s, 1-minute load average %.2f at the end\n", runtime.NumCPU(), runtime.Version(), load)
	if load > 0.5*float64(runtime.NumCPU()) {
		fmt.Fprintln(out, "WARNING: the host is busy; wall-clock rates suffer, the per-CPU-second ones much less")
	}
	fmt.Fprintln(out)
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "workload\ttarget\trecords\ttime\trecords/s\tCPU-s\trecords per CPU-s")
	for _, name := range []string{"stateless/tributary", "stateless/goka", "wordcount/tributary", "wordcount/goka"} {
		r, ok := res[name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "%s\t\t%d\t%s\t%.0f\t%.2f\t%.0f\n", name, r.records, r.elapsed.Round(time.Millisecond), r.perSecond(), r.cpu.Seconds(), r.perCPUSecond())
	}
	w.Flush()
	fmt.Fprintln(out)
	if t, ok := res["stateless/tributary"]; ok {
		fmt.Fprintf(out, "stateless filter+map: %.0f records per CPU-second (broker included); target >= 300000: %s\n", t.perCPUSecond(), verdict(t.perCPUSecond() >= 300_000))
		if g, ok := res["stateless/goka"]; ok {
			fmt.Fprintf(out, "stateless vs goka: %.2fx the records/s, %.2fx the records per CPU-second\n", t.perSecond()/g.perSecond(), t.perCPUSecond()/g.perCPUSecond())
		}
	}
	if t, ok := res["wordcount/tributary"]; ok {
		if g, ok := res["wordcount/goka"]; ok {
			ratio := t.perSecond() / g.perSecond()
			fmt.Fprintf(out, "wordcount vs goka: %.2fx the words/s (%.2fx per CPU-second); target >= 3x: %s\n", ratio, t.perCPUSecond()/g.perCPUSecond(), verdict(ratio >= 3))
		}
	}
	if r, ok := res["restore/tributary"]; ok {
		fmt.Fprintf(out, "changelog restore: %.0f MB (%d records of 1 KB, %d partitions) in %s = %.0f MB/s, after %s of start-up; %.2f CPU-s in all = %.0f MB per CPU-second; target >= 100 MB/s: %s\n",
			float64(r.bytes)/1e6, r.records, partitions, r.elapsed.Round(time.Millisecond), r.mbPerSecond(), r.startup.Round(time.Millisecond),
			r.cpu.Seconds(), float64(r.bytes)/1e6/r.cpu.Seconds(), verdict(r.mbPerSecond() >= 100))
	}
}

// loadAverage is the host's 1-minute load average, or -1.
func loadAverage() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	var l float64
	if _, err := fmt.Sscanf(string(raw), "%f", &l); err != nil {
		return -1
	}
	return l
}
