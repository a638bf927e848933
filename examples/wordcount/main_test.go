package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/examples/internal/appflags"
	"github.com/tributary-streams/tributary/examples/internal/exampletest"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestWordCount(t *testing.T) {
	addr := testkit.Bootstrap(t)
	testkit.CreateTopic(t, addr, "lines", 2)
	testkit.CreateTopic(t, addr, "word-counts", 2)
	exampletest.Start(t, run, "--bootstrap-server", addr, "--input", "lines", "--output", "word-counts",
		"--state-dir", t.TempDir(), "--exactly-once")
	latest := exampletest.Latest(t, addr, "word-counts")
	testkit.Produce(t, addr, &kgo.Record{Topic: "lines", Value: []byte("To be or not to be")},
		&kgo.Record{Topic: "lines", Value: []byte("that is the question")})
	want := map[string]string{"to": "2", "be": "2", "or": "1", "not": "1", "that": "1", "is": "1", "the": "1", "question": "1"}
	testkit.Eventually(t, 30*time.Second, func() error {
		got := latest()
		for w, n := range want {
			if got[w] != n {
				return fmt.Errorf("count of %q = %q, want %q (all: %v)", w, got[w], n, got)
			}
		}
		if len(got) != len(want) {
			return fmt.Errorf("counts = %v, want %v", got, want)
		}
		return nil
	})
}

func TestWordCountUsage(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"--input", "x", "--output", "y"}, &bytes.Buffer{}, &stderr)
	if !errors.Is(err, appflags.ErrUsage) || appflags.ExitCode(err) != 2 {
		t.Fatalf("err = %v, want a usage error (exit 2) for a missing --bootstrap-server", err)
	}
}
