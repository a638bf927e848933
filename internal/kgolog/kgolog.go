// Package kgolog sends franz-go's client logs to log/slog, for every
// client inside Tributary (streams, mirror, ...).
package kgolog

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
)

// New returns a kgo.Logger writing to l. franz-go's warnings and errors
// keep their level; its info lines (group and transaction life cycle) go
// out at debug level, and only when l has debug enabled. Its own debug
// lines (one per request) are never asked for.
func New(l *slog.Logger) kgo.Logger { return logger{l} }

type logger struct{ l *slog.Logger }

func (k logger) Level() kgo.LogLevel {
	if k.l.Enabled(context.Background(), slog.LevelDebug) {
		return kgo.LogLevelInfo
	}
	return kgo.LogLevelWarn
}

func (k logger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	l := slog.LevelDebug
	switch level {
	case kgo.LogLevelError:
		l = slog.LevelError
	case kgo.LogLevelWarn:
		l = slog.LevelWarn
	}
	k.l.Log(context.Background(), l, "franz-go: "+msg, keyvals...)
}
