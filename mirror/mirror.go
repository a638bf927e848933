package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Mirror runs the flows of a Config until closed.
type Mirror struct {
	flows  []*flow
	failed []FlowStatus // flows refused by Validate, with their error
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Option adjusts Start.
type Option func(*options)

type options struct {
	targets  []string
	logger   *slog.Logger
	registry prometheus.Registerer
}

// WithTargetClusters runs only the flows whose target is one of aliases
// (`tributary mirror run --clusters B`): run a mirror process near each
// target. Processes started with the same file share each flow's tasks.
func WithTargetClusters(aliases ...string) Option {
	return func(o *options) { o.targets = append(o.targets, aliases...) }
}

// WithLogger sends the mirror's logs to l (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRegisterer registers the mirror's Prometheus metrics with r
// (default: not registered anywhere).
func WithRegisterer(r prometheus.Registerer) Option { return func(o *options) { o.registry = r } }

// ErrNoFlows is returned by Start when nothing would run.
var ErrNoFlows = errors.New("mirror: no flow to run")

// Start validates cfg and starts its enabled flows in the background. It
// fails on a problem that concerns the whole file; a problem confined to
// one flow (an unknown cluster alias, an invalid regex in its keys) stops
// only that flow, which Status reports, unless no flow is left to run. A
// cluster that cannot be reached is not an error here: its flows retry
// with backoff and Status says why they wait.
func Start(ctx context.Context, cfg Config, opts ...Option) (*Mirror, error) {
	o := options{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, opt := range opts {
		opt(&o)
	}
	for _, w := range cfg.Warnings {
		o.logger.Warn("mirror config: " + w)
	}
	flowErrs := map[string][]error{}
	if err := cfg.Validate(); err != nil {
		var fileErrs []error
		for _, e := range unwrapAll(err) {
			var fe *FlowError
			if errors.As(e, &fe) {
				flowErrs[fe.Flow] = append(flowErrs[fe.Flow], fe.Err)
				continue
			}
			fileErrs = append(fileErrs, e)
		}
		if len(fileErrs) > 0 {
			return nil, fmt.Errorf("mirror config: %w", errors.Join(fileErrs...))
		}
	}
	for _, t := range o.targets {
		if !slices.Contains(cfg.Clusters, t) {
			return nil, fmt.Errorf("mirror: --clusters %q: not a cluster of the config (clusters = %s)", t, strings.Join(cfg.Clusters, ", "))
		}
	}
	m := &Mirror{}
	met, err := newMetrics(o.registry)
	if err != nil {
		return nil, err
	}
	ctx, m.cancel = context.WithCancel(ctx)
	var skipped []string
	for _, f := range cfg.Flows {
		if !f.Enabled {
			continue
		}
		if len(o.targets) > 0 && !slices.Contains(o.targets, f.Target) {
			skipped = append(skipped, f.Name())
			continue
		}
		if errs := flowErrs[f.Name()]; len(errs) > 0 {
			err := fmt.Errorf("invalid flow settings: %w", errors.Join(errs...))
			o.logger.Error("flow not started", "flow", f.Name(), "err", err)
			m.failed = append(m.failed, FlowStatus{Flow: f.Name(), Err: err})
			continue
		}
		fl, err := newFlow(f, cfg.Cluster[f.Source], cfg.Cluster[f.Target], o.logger.With("flow", f.Name()), met)
		if err != nil { // Validate has checked what newFlow checks
			m.cancel()
			return nil, err
		}
		m.flows = append(m.flows, fl)
	}
	if len(m.flows) == 0 {
		m.cancel()
		switch {
		case len(m.failed) > 0:
			var errs []error
			for _, f := range m.failed {
				errs = append(errs, fmt.Errorf("flow %s: %w", f.Flow, f.Err))
			}
			return nil, fmt.Errorf("%w: every enabled flow is invalid: %w", ErrNoFlows, errors.Join(errs...))
		case len(skipped) > 0:
			return nil, fmt.Errorf("%w: no enabled flow targets %s (enabled: %s)", ErrNoFlows, strings.Join(o.targets, ", "), strings.Join(skipped, ", "))
		default:
			return nil, fmt.Errorf("%w: no flow is enabled: set A->B.enabled = true", ErrNoFlows)
		}
	}
	for _, fl := range m.flows {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			fl.run(ctx)
		}()
	}
	return m, nil
}

// Run is Start, then waits for ctx to end and closes the mirror.
func Run(ctx context.Context, cfg Config, opts ...Option) error {
	m, err := Start(ctx, cfg, opts...)
	if err != nil {
		return err
	}
	<-ctx.Done()
	m.Close()
	return nil
}

// Status reports every enabled flow this process was asked to run, in
// file order, refused ones first.
func (m *Mirror) Status() []FlowStatus {
	out := slices.Clone(m.failed)
	for _, f := range m.flows {
		out = append(out, f.status.get())
	}
	return out
}

// Close stops every flow and waits: in-flight records are acknowledged or
// given up, positions written where they can be.
func (m *Mirror) Close() {
	m.cancel()
	m.wg.Wait()
}

// unwrapAll flattens errors.Join trees.
func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unwrapAll(e)...)
		}
		return out
	}
	return []error{err}
}
