package topology

import (
	"log/slog"
	"time"
)

// DriverSettings are what the test driver takes from streams options.
type DriverSettings struct {
	App                    string
	CacheBytes             int
	Logger                 *slog.Logger
	OnDeserializationError func(ctx *Context, in *Input, err error) error
	Start                  time.Time
}

// ResolveDriverSettings turns streams options into driver settings; the
// streams package sets it.
var ResolveDriverSettings func(opts []any) (DriverSettings, error)
