// Command pageviews counts page views per user per one-minute window
// (tumbling, event time) and writes each window's count once, when the
// window closes: Suppress(UntilWindowCloses). Input: key user, value the
// page. Output: key user, value JSON {"user", "window_start",
// "window_end", "views"}.
//
//	go run ./examples/pageviews --bootstrap-server HOST:PORT [--input pageviews] [--output pageviews-per-minute] [--grace 10s]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/tributary-streams/tributary/examples/internal/appflags"
	"github.com/tributary-streams/tributary/streams"
)

func main() { appflags.Main("pageviews", run) }

// viewsInWindow is one output record's value.
type viewsInWindow struct {
	User        string    `json:"user"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Views       int64     `json:"views"`
}

func topology(input, output string, grace time.Duration) (*streams.Topology, error) {
	b := streams.NewBuilder()
	views := streams.Stream(b, input, streams.String(), streams.String())
	perMinute := streams.WindowedBy(views.GroupByKey(), streams.TumblingWindows(time.Minute).WithGrace(grace)).
		Count(streams.Materialized("views-per-minute"))
	final := streams.Suppress(perMinute, streams.UntilWindowCloses())
	streams.Map(final.ToStream(), func(w streams.Windowed[string], n int64) (string, viewsInWindow) {
		return w.Key, viewsInWindow{User: w.Key, WindowStart: time.UnixMilli(w.Window.Start).UTC(),
			WindowEnd: time.UnixMilli(w.Window.End).UTC(), Views: n}
	}).To(output, streams.WithValueSerde(streams.JSON[viewsInWindow]()))
	return b.Build()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var grace time.Duration
	return appflags.Run(ctx, "pageviews", args, stdout, stderr, "pageviews", "pageviews-per-minute", func(fs *flag.FlagSet) {
		fs.DurationVar(&grace, "grace", 10*time.Second, "how late a view may come and still count in its window")
	}, func(f *appflags.Flags) (*streams.Topology, error) {
		if grace < 0 {
			return nil, fmt.Errorf("%w: --grace %s: want 0 or more", appflags.ErrUsage, grace)
		}
		return topology(f.Input, f.Output, grace)
	})
}
