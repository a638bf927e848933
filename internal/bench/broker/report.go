package main

// The printed report: throughput per record size, the ratios against the
// targets with PASS/MISS, latency, and memory.

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"text/tabwriter"
	"time"
)

// rssTargetKB is the memory target with 1,000 idle partitions: 256 MiB.
const rssTargetKB = 256 << 10

// eosMinVsKfake is the exactly-once throughput target: at least 1.5x
// kfake's.
const eosMinVsKfake = 1.5

// check is one throughput target: Tributary against kfake and against the
// ceiling, for one record size and phase. A zero minimum is not a target.
type check struct {
	bytes                    int
	consume                  bool
	minVsKfake, minVsCeiling float64
}

var checks = []check{
	{bytes: 1024, minVsKfake: 1.5, minVsCeiling: 0.85},
	{bytes: 1024, consume: true, minVsKfake: 1.5, minVsCeiling: 0.85},
	{bytes: 100, minVsCeiling: 0.90},
	{bytes: 100, consume: true}, // reported, no target
}

// report holds everything a run measured.
type report struct {
	opts       options
	throughput map[string]map[int]sizeResult // target name → record bytes → result
	latency    map[string]latencyResult
	rss        rssResult
	rebalance  map[string]rebalanceResult
	eos        map[string]eosResult
	startup    startupResult
	elapsed    time.Duration
	// loadAtStart is the host's 1-minute load average before the run.
	loadAtStart float64
}

func newReport(o options) *report {
	r := &report{opts: o, throughput: map[string]map[int]sizeResult{}, latency: map[string]latencyResult{},
		rebalance: map[string]rebalanceResult{}, eos: map[string]eosResult{}}
	for _, t := range targets() {
		r.throughput[t.name] = map[int]sizeResult{}
	}
	return r
}

func (r *report) print(out io.Writer) {
	fmt.Fprintln(out, "Tributary broker benchmark")
	fmt.Fprintln(out, "workload: franz-go, 6 partitions, acks=all, idempotent, no compression; produce N records async,")
	fmt.Fprintln(out, "          then consume all N from the start (no group)")
	fmt.Fprintln(out, "targets:  tributary = our broker in-process, durable on-disk log in a temp dir")
	fmt.Fprintln(out, "          kfake     = franz-go kfake, in memory")
	fmt.Fprintln(out, "          ceiling   = kfake with BlackholeProduce + SyntheticFetch: the client's own limit")
	fmt.Fprintln(out, "MB/s counts record value bytes, 1 MB = 10^6 bytes; CPUs busy = this process's CPU time / wall time")
	fmt.Fprintf(out, "host: %d CPUs, %s, 1-minute load average %.2f at start\n", runtime.NumCPU(), runtime.Version(), r.loadAtStart)
	if r.loadAtStart > 0.5*float64(runtime.NumCPU()) {
		fmt.Fprintln(out, "WARNING: the host was busy when the run started; other work skews these figures")
	}

	if r.opts.runs("throughput") {
		r.printThroughput(out)
	}
	if r.opts.runs("latency") {
		r.printLatency(out)
	}
	if r.opts.runs("rss") {
		r.printRSS(out)
	}
	if r.opts.runs("groups") {
		r.printRebalance(out)
	}
	if r.opts.runs("eos") {
		r.printEOS(out)
	}
	if r.opts.runs("startup") {
		r.printStartup(out)
	}
	fmt.Fprintf(out, "\nbenchmark took %s\n", r.elapsed.Round(100*time.Millisecond))
}

func (r *report) printThroughput(out io.Writer) {
	for _, size := range r.opts.sizes {
		fmt.Fprintf(out, "\n%s records (%d-byte values), N = %s\n", sizeName(size.bytes), size.bytes, thousands(float64(size.n)))
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "target\tproduce MB/s\tproduce rec/s\tCPUs busy\tconsume MB/s\tconsume rec/s\tCPUs busy\t")
		for _, t := range targets() {
			res := r.throughput[t.name][size.bytes]
			fmt.Fprintf(tw, "%s\t%.1f\t%s\t%.2f\t%.1f\t%s\t%.2f\t\n", t.name,
				res.produce.mbPerSec(), thousands(res.produce.recPerSec()), res.produce.cores(),
				res.consume.mbPerSec(), thousands(res.consume.recPerSec()), res.consume.cores())
		}
		tw.Flush()
	}

	fmt.Fprintln(out, "\nratios (tributary / peer, by throughput)")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tvs kfake\tvs ceiling\ttarget\tresult")
	for _, c := range checks {
		trib, ok := r.throughput["tributary"][c.bytes]
		if !ok {
			continue
		}
		vsKfake := c.phase(trib).mbPerSec() / c.phase(r.throughput["kfake"][c.bytes]).mbPerSec()
		vsCeiling := c.phase(trib).mbPerSec() / c.phase(r.throughput["ceiling"][c.bytes]).mbPerSec()
		fmt.Fprintf(tw, "%s\t%.2fx\t%.0f%%\t%s\t%s\n", c.name(), vsKfake, 100*vsCeiling, c.target(), c.result(vsKfake, vsCeiling))
	}
	tw.Flush()
}

func (r *report) printLatency(out io.Writer) {
	fmt.Fprintf(out, "\nproduce latency: %s records, Produce call to promise, linger 0, at half each target's max %s produce rate, %s\n",
		sizeName(latencyRecordBytes), sizeName(latencyRecordBytes), r.opts.latency)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\toffered rec/s\tachieved rec/s\trecords\tp50\tp99\t")
	for _, t := range targets() {
		l, ok := r.latency[t.name]
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", t.name, thousands(l.offered), thousands(l.achieved),
			thousands(float64(l.samples)), ms(l.p50), ms(l.p99))
	}
	tw.Flush()
}

func (r *report) printRSS(out io.Writer) {
	result := "PASS"
	if r.rss.loadedKB > rssTargetKB {
		result = "MISS"
	}
	fmt.Fprintf(out, "\nbroker RSS (separate tributary process): idle %.1f MiB; with %d idle partitions (%d topics x %d) %.1f MiB; target <= %d MiB: %s\n",
		float64(r.rss.idleKB)/1024, r.rss.topics*r.rss.perTopic, r.rss.topics, r.rss.perTopic,
		float64(r.rss.loadedKB)/1024, rssTargetKB>>10, result)
}

func (r *report) printRebalance(out io.Writer) {
	o := r.opts
	fmt.Fprintf(out, "\ngroup rebalance: %d franz-go members over %d partitions, each a client created right after the one before;\n", o.groupMembers, o.groupPartitions)
	fmt.Fprintf(out, "                 time from the first client's creation until every partition has exactly one member\n")
	fmt.Fprintf(out, "                 and each member holds its share (%d); each run on a fresh instance\n", int(o.groupPartitions)/o.groupMembers)
	fmt.Fprintln(out, "members:         kgo defaults: cooperative-sticky (the default balancer list), classic protocol; a member")
	fmt.Fprintln(out, "                 learns of a rebalance from a heartbeat, sent 500 ms into each cooperative session and every 3 s")
	fmt.Fprintln(out, "                 after, so a run takes ~10 ms, or 500 ms steps more, by how the joins fall against the rebalances")
	fmt.Fprintln(out, "initial delay:   tributary group.initial.rebalance.delay.ms=0; kfake has no initial delay (and no setting for one)")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "target\tmedian\t")
	for i := range o.groupRuns {
		fmt.Fprintf(tw, "run %d\t", i+1)
	}
	fmt.Fprintln(tw)
	for _, t := range storingTargets() {
		res, ok := r.rebalance[t.name]
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t", t.name, ms(res.median()))
		for i, d := range res.runs {
			fmt.Fprintf(tw, "%s (gen %d)\t", ms(d), res.generations[i])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	trib, kf := r.rebalance["tributary"].median(), r.rebalance["kfake"].median()
	if trib > 0 && kf > 0 {
		fmt.Fprintf(out, "ratio (kfake median / tributary median; above 1: tributary faster): %.2fx; target: none, a report\n",
			float64(kf)/float64(trib))
	}
}

func (r *report) printEOS(out io.Writer) {
	o := r.opts
	fmt.Fprintf(out, "\nexactly-once: %s records, N = %s, %d -> %d partitions; one kgo.GroupTransactSession reading with read_committed,\n",
		sizeName(eosRecordBytes), thousands(float64(o.eosN)), partitions, partitions)
	fmt.Fprintf(out, "              one output record per input record, a transaction per poll of up to %s records;\n", thousands(float64(o.eosPollMax)))
	fmt.Fprintln(out, "              clock from the first poll to the last commit; output then read with read_committed:")
	fmt.Fprintln(out, "              exactly N records, each input record once, group offsets at the input's end")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tMB/s\trec/s\tCPUs busy\ttransactions\taborted\t")
	for _, t := range storingTargets() {
		res, ok := r.eos[t.name]
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%.2f\t%d\t%d\t\n", t.name, res.mbPerSec(), thousands(res.recPerSec()), res.cores(),
			res.transactions, res.aborted)
	}
	tw.Flush()
	trib, tok := r.eos["tributary"]
	kf, kok := r.eos["kfake"]
	if !tok || !kok {
		return
	}
	vsKfake := trib.mbPerSec() / kf.mbPerSec()
	result := "PASS"
	if vsKfake < eosMinVsKfake {
		result = "MISS"
	}
	fmt.Fprintln(out, "ratio (tributary / kfake, by throughput)")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tvs kfake\ttarget\tresult")
	fmt.Fprintf(tw, "exactly-once\t%.2fx\t>= %.1fx kfake\t%s\n", vsKfake, eosMinVsKfake, result)
	tw.Flush()
}

func (c check) phase(res sizeResult) phase {
	if c.consume {
		return res.consume
	}
	return res.produce
}

func (c check) name() string {
	if c.consume {
		return sizeName(c.bytes) + " consume"
	}
	return sizeName(c.bytes) + " produce"
}

func (c check) target() string {
	switch {
	case c.minVsKfake > 0 && c.minVsCeiling > 0:
		return fmt.Sprintf(">= %.1fx kfake, >= %.0f%% ceiling", c.minVsKfake, 100*c.minVsCeiling)
	case c.minVsCeiling > 0:
		return fmt.Sprintf(">= %.0f%% ceiling", 100*c.minVsCeiling)
	default:
		return "none"
	}
}

func (c check) result(vsKfake, vsCeiling float64) string {
	if c.minVsKfake == 0 && c.minVsCeiling == 0 {
		return "-"
	}
	if vsKfake >= c.minVsKfake && vsCeiling >= c.minVsCeiling {
		return "PASS"
	}
	return "MISS"
}

func sizeName(bytes int) string {
	if bytes == 1024 {
		return "1 KB"
	}
	return strconv.Itoa(bytes) + " B"
}

// thousands formats a rate or count as an integer with comma separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func (r *report) printStartup(out io.Writer) {
	s := r.startup
	fmt.Fprintf(out, "\nbroker startup (separate tributary process, %d partitions of %d, one record each written before each stop):\n",
		s.partitions, min(s.partitions, topicPartitions))
	fmt.Fprintln(out, "                 exec to /healthz 200, the broker serving")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\ttime\ttarget\tresult")
	fmt.Fprintf(tw, "after a clean stop (the stop took %s)\t%s\t<= %s\t%s\n", ms(s.cleanStop), ms(s.cleanStart), ms(cleanStartTarget), passMiss(s.cleanStart <= cleanStartTarget))
	fmt.Fprintf(tw, "after kill -9\t%s\t<= %s\t%s\n", ms(s.uncleanStart), ms(uncleanStartTarget), passMiss(s.uncleanStart <= uncleanStartTarget))
	tw.Flush()
	fmt.Fprintf(out, "%d idle partitions (created in %s): RSS %.1f MiB (target <= %d MiB: %s), %d open descriptors (target <= %d: %s)\n",
		s.idlePartitions, ms(s.idleCreate), float64(s.idleRSSKB)/1024, idleRSSTargetKB>>10, passMiss(s.idleRSSKB <= idleRSSTargetKB),
		s.idleFDs, idleFDTarget, passMiss(s.idleFDs <= idleFDTarget))
}
