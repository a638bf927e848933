package kgolog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestLevels(t *testing.T) {
	var buf bytes.Buffer
	warnOnly := New(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if warnOnly.Level() != kgo.LogLevelWarn {
		t.Fatalf("level %v for an info logger, want warn", warnOnly.Level())
	}
	warnOnly.Log(kgo.LogLevelError, "broken", "broker", 1)
	if !strings.Contains(buf.String(), "level=ERROR") || !strings.Contains(buf.String(), "franz-go: broken") || !strings.Contains(buf.String(), "broker=1") {
		t.Fatalf("error line: %q", buf.String())
	}
	buf.Reset()
	debug := New(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if debug.Level() != kgo.LogLevelInfo {
		t.Fatalf("level %v for a debug logger, want info", debug.Level())
	}
	debug.Log(kgo.LogLevelInfo, "joined group")
	if !strings.Contains(buf.String(), "level=DEBUG") {
		t.Fatalf("info line not at debug level: %q", buf.String())
	}
}
