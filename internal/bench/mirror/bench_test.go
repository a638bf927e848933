package main

// The harness itself, not the speed: a small run must move exactly the
// records it asks for through the raw producer and each mirror run, and
// time records through the mirror. Nothing here asserts on timing.

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestBenchmarkRuns(t *testing.T) {
	o := options{records: 3_000, latency: 300 * time.Millisecond, tasks: []int{1, 2}, progress: &bytes.Buffer{}, mirrorLog: "warn"}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := run(ctx, o)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if rep.raw.records != o.records || rep.raw.elapsed <= 0 {
		t.Errorf("raw produce: %+v", rep.raw)
	}
	if len(rep.mirrors) != 2 {
		t.Fatalf("mirror runs: %+v", rep.mirrors)
	}
	for i, m := range rep.mirrors {
		if m.tasks != o.tasks[i] || m.copy.records != o.records || m.copy.elapsed <= 0 || m.copy.cpu["mirror"] <= 0 {
			t.Errorf("mirror run %d: %+v", i, m)
		}
	}
	if l := rep.latency; l.samples == 0 || l.p50 <= 0 || l.p99 < l.p50 {
		t.Errorf("latency %+v", l)
	}
	var out bytes.Buffer
	rep.print(&out)
	for _, want := range []string{"raw produce into B", "mirror A->B, tasks.max=1", "mirror A->B, tasks.max=2", "replication latency"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-tasks", "1, 4", "-records", "10"})
	if err != nil || len(o.tasks) != 2 || o.tasks[1] != 4 || o.records != 10 {
		t.Fatalf("%+v %v", o, err)
	}
	for _, bad := range [][]string{{"-tasks", "0"}, {"-tasks", "x"}, {"-records", "-1"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
