// Package appflags parses the command line the streams examples share:
// where the cluster is, which topics to read and write, and how to run.
package appflags

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/tributary-streams/tributary/streams"
)

// Flags are an example's settings.
type Flags struct {
	Input, Output string
	// Options configure the App.
	Options []streams.Option
}

// ErrUsage marks a bad command line: the caller exits 2.
var ErrUsage = errors.New("usage")

// Parse reads args: --bootstrap-server (required), --input and --output
// (defaults input and output; required when those are empty),
// --application-id (default name), --state-dir (default
// $TMPDIR/tributary-streams), --exactly-once and --commit-interval; define,
// if not nil, adds the example's own flags. Logs go to stderr.
func Parse(name string, args []string, stderr io.Writer, input, output string, define func(*flag.FlagSet)) (*Flags, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	bootstrap := fs.String("bootstrap-server", "", "Kafka bootstrap server, host:port (required)")
	in := fs.String("input", input, "input topic")
	out := fs.String("output", output, "output topic")
	app := fs.String("application-id", name, "application.id: consumer group and internal topic prefix")
	stateDir := fs.String("state-dir", filepath.Join(os.TempDir(), "tributary-streams"), "state.dir")
	eos := fs.Bool("exactly-once", false, "processing.guarantee=exactly_once_v2 (default at_least_once)")
	commit := fs.Duration("commit-interval", 0, "commit.interval.ms (default 30s, or 100ms with --exactly-once)")
	f := &Flags{}
	if define != nil {
		define(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected arguments %q", ErrUsage, fs.Args())
	}
	if *bootstrap == "" {
		return nil, fmt.Errorf("%w: --bootstrap-server is required (host:port)", ErrUsage)
	}
	if *in == "" || *out == "" {
		return nil, fmt.Errorf("%w: --input and --output must name topics", ErrUsage)
	}
	f.Input, f.Output = *in, *out
	g := streams.AtLeastOnce
	if *eos {
		g = streams.ExactlyOnce
	}
	f.Options = []streams.Option{
		streams.WithBootstrapServers(*bootstrap), streams.WithApplicationID(*app), streams.WithStateDir(*stateDir),
		streams.WithProcessingGuarantee(g), streams.WithLogger(slog.New(slog.NewTextHandler(stderr, nil))),
	}
	if *commit > 0 {
		f.Options = append(f.Options, streams.WithCommitInterval(*commit))
	}
	return f, nil
}

// Run is an example's whole run: parse the flags, build the topology,
// print its description and run the App until ctx ends.
func Run(ctx context.Context, name string, args []string, stdout, stderr io.Writer, input, output string,
	define func(*flag.FlagSet), build func(f *Flags) (*streams.Topology, error)) error {
	f, err := Parse(name, args, stderr, input, output, define)
	if err != nil {
		return err
	}
	top, err := build(f)
	if err != nil {
		return err
	}
	app, err := streams.New(top, f.Options...)
	if err != nil {
		return err
	}
	io.WriteString(stdout, top.Describe())
	return app.Run(ctx)
}

// Main runs an example's run function as a program, until SIGINT or
// SIGTERM.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	}
	os.Exit(ExitCode(err))
}

// ExitCode is 0 for nil, 2 for a usage error, 1 for any other failure.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrUsage):
		return 2
	default:
		return 1
	}
}
