// Package exampletest runs a streams example's run function against a
// test broker and reads what it writes.
package exampletest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// Run is an example's run function.
type Run func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Start runs run with args in the background; on cleanup it cancels the
// context and checks that run returned nil.
func Start(t *testing.T, run Run, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// A file takes concurrent writes, and can be read on failure.
	logs, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- run(ctx, args, io.Discard, logs) }()
	t.Cleanup(func() {
		defer logs.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				raw, _ := os.ReadFile(logs.Name())
				t.Errorf("run: %v\nstderr:\n%s", err, raw)
			}
		case <-time.After(time.Minute):
			t.Errorf("run did not return within a minute of cancelling it")
		}
	})
}

// Latest consumes topic from the start in the background (read_committed)
// and returns a function giving the latest value of each key so far.
func Latest(t *testing.T, addr, topic string) func() map[string]string {
	t.Helper()
	cl := testkit.Client(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	var mu sync.Mutex
	latest := map[string]string{}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	t.Cleanup(func() { cancel(); <-stopped })
	go func() {
		defer close(stopped)
		for ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
				mu.Lock()
				latest[string(r.Key)] = string(r.Value)
				mu.Unlock()
			})
		}
	}()
	return func() map[string]string {
		mu.Lock()
		defer mu.Unlock()
		out := make(map[string]string, len(latest))
		for k, v := range latest {
			out[k] = v
		}
		return out
	}
}
