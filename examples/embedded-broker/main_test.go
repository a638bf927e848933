package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestEmbeddedBroker(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--data-dir", dir}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 || !regexp.MustCompile(`^broker listening on 127\.0\.0\.1:\d+$`).MatchString(lines[0]) {
		t.Fatalf("output:\n%s", out.String())
	}
	want := []string{"offset 0: hello", "offset 1: bonjour", "offset 2: hallo", "broker stopped"}
	for i, w := range want {
		if lines[i+1] != w {
			t.Fatalf("line %d: %q, want %q", i+2, lines[i+1], w)
		}
	}
	// The records are durable in the data dir the program was given.
	segs, err := filepath.Glob(filepath.Join(dir, "greetings-0", "*.log"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no segment in %s: %v", dir, err)
	}
	if fi, err := os.Stat(segs[0]); err != nil || fi.Size() == 0 {
		t.Fatalf("segment %s empty: %v", segs[0], err)
	}
}
