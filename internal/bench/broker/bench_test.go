package main

// The harness itself, not the speed: a -quick run with tiny N against all
// three targets must move exactly N records each way, run the latency
// measurement and read the broker's RSS; a small group must form on
// Tributary and kfake, and the exactly-once loop must commit every input
// record once. Nothing here asserts on timing.

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestBenchmarkRunsEveryTarget(t *testing.T) {
	o := defaultOptions(true)
	o.sizes = []recordSize{{bytes: 1024, n: 3_000}, {bytes: 100, n: 7_000}}
	o.latency = 200 * time.Millisecond
	o.rssTopics, o.rssPerTopic = 10, 10
	o.startupPartitions, o.idlePartitions = 200, 500
	o.groupMembers, o.groupPartitions, o.groupRuns = 3, 7, 2
	o.eosN, o.eosPollMax = 3_000, 500
	o.progress = logWriter{t}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var out bytes.Buffer
	rep, err := run(ctx, o, &out)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, tg := range targets() {
		for _, size := range o.sizes {
			res, ok := rep.throughput[tg.name][size.bytes]
			if !ok {
				t.Errorf("%s, %d B: no result", tg.name, size.bytes)
				continue
			}
			for name, p := range map[string]phase{"produce": res.produce, "consume": res.consume} {
				if p.records != size.n || p.bytes != size.n*int64(size.bytes) || p.elapsed <= 0 {
					t.Errorf("%s, %d B, %s: %d records, %d bytes in %s; want %d records, %d bytes",
						tg.name, size.bytes, name, p.records, p.bytes, p.elapsed, size.n, size.n*int64(size.bytes))
				}
			}
		}
	}
	for _, name := range []string{"tributary", "kfake"} {
		if l := rep.latency[name]; l.samples == 0 || l.p50 <= 0 || l.p99 < l.p50 {
			t.Errorf("%s latency: %+v; want samples and p99 >= p50 > 0", name, l)
		}
	}
	if rep.rss.idleKB <= 0 || rep.rss.loadedKB <= 0 {
		t.Errorf("rss: %+v; want both readings positive", rep.rss)
	}
	// measureStartup itself fails a run that loses an acknowledged record.
	if s := rep.startup; s.cleanStart <= 0 || s.uncleanStart <= 0 || s.idleRSSKB <= 0 || s.idleFDs <= 0 {
		t.Errorf("startup: %+v; want every reading positive", s)
	}
	for _, name := range []string{"tributary", "kfake"} {
		// rebalanceRun itself fails a run whose group does not end
		// Stable with every partition held once, by the members' and
		// the coordinator's account.
		rb := rep.rebalance[name]
		if len(rb.runs) != o.groupRuns || len(rb.generations) != o.groupRuns {
			t.Errorf("%s rebalance: %+v; want %d runs", name, rb, o.groupRuns)
		}
		for i := range rb.runs {
			if rb.runs[i] <= 0 || rb.generations[i] < 1 {
				t.Errorf("%s rebalance run %d: %s, generation %d; want both positive", name, i+1, rb.runs[i], rb.generations[i])
			}
		}
		// measureEOS fails the run unless the output holds each input
		// record exactly once; here the counts must match too.
		e := rep.eos[name]
		if e.records != o.eosN || e.bytes != o.eosN*eosRecordBytes || e.elapsed <= 0 {
			t.Errorf("%s exactly-once: %d records, %d bytes in %s; want %d records, %d bytes",
				name, e.records, e.bytes, e.elapsed, o.eosN, o.eosN*eosRecordBytes)
		}
		if minTxns := int((o.eosN + int64(o.eosPollMax) - 1) / int64(o.eosPollMax)); e.transactions-e.aborted < minTxns {
			t.Errorf("%s exactly-once: %d transactions, %d aborted; want at least %d committed with at most %d records each",
				name, e.transactions, e.aborted, minTxns, o.eosPollMax)
		}
	}
	printed := out.String()
	for _, want := range []string{"tributary", "kfake", "ceiling", "1 KB produce", "100 B produce", "broker RSS",
		"group rebalance", "run 2", "exactly-once", ">= 1.5x kfake"} {
		if !strings.Contains(printed, want) {
			t.Errorf("report lacks %q:\n%s", want, printed)
		}
	}
}

// logWriter sends the run's progress lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func TestRebalanceMedian(t *testing.T) {
	runsOf := func(v ...int) rebalanceResult {
		var r rebalanceResult
		for _, x := range v {
			r.runs = append(r.runs, time.Duration(x)*time.Millisecond)
		}
		return r
	}
	for _, c := range []struct {
		in   rebalanceResult
		want time.Duration
	}{
		{runsOf(), 0},
		{runsOf(7), 7 * time.Millisecond},
		{runsOf(1000, 12, 500), 500 * time.Millisecond},
		{runsOf(30, 10), 20 * time.Millisecond},
	} {
		if got := c.in.median(); got != c.want {
			t.Errorf("median of %v = %s, want %s", c.in.runs, got, c.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	for _, c := range []struct {
		args    []string
		wantErr string // "" for no error
		check   func(options) bool
	}{
		{args: nil, check: func(o options) bool {
			return len(o.sections) == len(allSections) && o.eosN == 200_000 && o.groupRuns == 3
		}},
		{args: []string{"-quick"}, check: func(o options) bool { return o.eosN == 20_000 && o.groupRuns == 1 }},
		{args: []string{"-sections", "eos", "-neos", "5000"}, check: func(o options) bool {
			return o.runs("eos") && !o.runs("throughput") && o.eosN == 5000
		}},
		{args: []string{"-sections", "groups,eos", "-rebalance-runs", "5"}, check: func(o options) bool { return o.groupRuns == 5 && o.runs("groups") }},
		{args: []string{"-sections", "latency"}, wantErr: "latency needs throughput"},
		{args: []string{"-sections", "eos,txn"}, wantErr: `unknown section "txn"`},
		{args: []string{"-neos", "-1"}, wantErr: "-neos -1"},
		{args: []string{"-rebalance-runs", "-2"}, wantErr: "-rebalance-runs -2"},
	} {
		o, err := parseFlags(c.args)
		switch {
		case c.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("parseFlags(%q) error %v, want one containing %q", c.args, err, c.wantErr)
			}
		case err != nil:
			t.Errorf("parseFlags(%q): %v", c.args, err)
		case !c.check(o):
			t.Errorf("parseFlags(%q) = %+v", c.args, o)
		}
	}
}

func TestPercentile(t *testing.T) {
	samples := make([]time.Duration, 100)
	for i := range samples {
		samples[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, c := range []struct {
		p    int
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {1, time.Millisecond}} {
		if got := percentile(samples, c.p); got != c.want {
			t.Errorf("percentile(1..100 ms, %d) = %s, want %s", c.p, got, c.want)
		}
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("percentile of one sample = %s, want 7ns", got)
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", 100000: "100,000"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
}
