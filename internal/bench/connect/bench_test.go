package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// A quick run: every workload completes and the report prints.
func TestQuickRun(t *testing.T) {
	r, err := run(context.Background(), defaultOptions(true))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r.print(&out)
	for _, want := range []string{"source -> broker", "ceiling", "file sink", "3 SMTs", "Chain.Apply"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if r.source.records == 0 || r.pipeline.records == 0 || r.applyPerRecord <= 0 {
		t.Errorf("empty measurements: %+v", r)
	}
}
