package broker

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A listener that fails under a running broker stops it, and Err says why.
func TestFailureStopsBroker(t *testing.T) {
	b, err := Start(context.Background(), Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	b.listeners[0].ln.Close()
	select {
	case <-b.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("broker still running after its listener failed")
	}
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "accept on") {
		t.Fatalf("Err = %v, want the accept failure", err)
	}
}
