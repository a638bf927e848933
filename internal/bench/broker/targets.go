package main

// The three targets the workload runs against. Each start gives a fresh,
// empty instance so one measurement never reads another's data, and close
// releases its memory and disk before the next one starts.

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tributary-streams/tributary/broker"
)

// target is one system under test.
type target struct {
	name string
	// stores is false for the ceiling: it discards what is produced and
	// serves canned fetches, so there are no end offsets to check.
	stores bool
	// start returns a fresh instance. recordBytes sizes the canned batch
	// a synthetic target serves; the others ignore it.
	start func(ctx context.Context, recordBytes int) (*instance, error)
}

// instance is a running target.
type instance struct {
	addr  string
	close func() error
}

func targets() []target {
	return []target{
		{name: "tributary", stores: true, start: startTributary},
		{name: "kfake", stores: true, start: startKfake},
		{name: "ceiling", stores: false, start: startCeiling},
	}
}

// storingTargets are the targets that store what they acknowledge: the
// ones latency, groups and transactions compare.
func storingTargets() []target {
	var ts []target
	for _, t := range targets() {
		if t.stores {
			ts = append(ts, t)
		}
	}
	return ts
}

// startTributary starts our broker in-process with a durable log in a fresh
// temp dir, removed on close, and group.initial.rebalance.delay.ms=0.
func startTributary(ctx context.Context, _ int) (*instance, error) {
	dir, err := os.MkdirTemp("", "tributary-bench-")
	if err != nil {
		return nil, fmt.Errorf("tributary data dir: %w", err)
	}
	cfg := broker.Config{Listen: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.DiscardHandler)}
	// kfake has no initial rebalance delay: a new group's first join
	// completes at once. Ours would hold it 3 s, which is all a group
	// benchmark would measure.
	cfg.GroupInitialRebalanceDelayMs = -1
	b, err := broker.Start(ctx, cfg)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start tributary: %w", err)
	}
	return &instance{addr: b.Addr(), close: func() error {
		err := b.Close()
		if rmErr := os.RemoveAll(dir); err == nil && rmErr != nil {
			err = fmt.Errorf("remove %s: %w", dir, rmErr)
		}
		return err
	}}, nil
}

// startKfake starts franz-go's in-memory fake cluster: the peer we compare
// the broker with.
func startKfake(_ context.Context, _ int) (*instance, error) {
	return startKfakeWith(kfake.NumBrokers(1))
}

// startCeiling starts a kfake that stores nothing and answers every fetch
// from one canned batch of recordBytes-sized values: what the client can do
// against a broker that costs nothing.
func startCeiling(_ context.Context, recordBytes int) (*instance, error) {
	return startKfakeWith(kfake.NumBrokers(1), kfake.BlackholeProduce(),
		kfake.SyntheticFetch(kfake.SyntheticBatch{RecordBytes: recordBytes}))
}

func startKfakeWith(opts ...kfake.Opt) (*instance, error) {
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start kfake: %w", err)
	}
	return &instance{addr: c.ListenAddrs()[0], close: func() error { c.Close(); return nil }}, nil
}
