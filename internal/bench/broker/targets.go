package main

// The targets the workload runs against, each a process of its own (see
// process.go). Each start gives a fresh, empty instance so one measurement
// never reads another's data, and close stops the process, releasing its
// memory and disk before the next one starts.

import (
	"context"
	"fmt"
)

// target is one system under test.
type target struct {
	name string
	// stores is false for the ceiling: it discards what is produced and
	// serves canned fetches, so there are no end offsets to check.
	stores bool
	// spec is what the target's process serves; start fills in the
	// record size and the profile path.
	spec childSpec
}

// instance is a running target.
type instance struct {
	addr string
	// pid is the target's process, whose CPU time the phases read.
	pid   int
	close func() error
}

var (
	tributaryTarget = target{name: "tributary", stores: true, spec: childSpec{Kind: "tributary"}}
	// fsyncTarget is ours with --fsync always, measured for latency only.
	fsyncTarget   = target{name: "tributary --fsync always", stores: true, spec: childSpec{Kind: "tributary", FsyncAlways: true}}
	kfakeTarget   = target{name: "kfake", stores: true, spec: childSpec{Kind: "kfake"}}
	ceilingTarget = target{name: "ceiling", stores: false, spec: childSpec{Kind: "ceiling"}}
)

// targets are the throughput targets: ours, franz-go's kfake (in memory),
// and the client's own ceiling (a kfake that stores nothing and answers
// every fetch from one canned batch of recordBytes-sized values: what the
// client can do against a broker that costs nothing).
func targets() []target { return []target{tributaryTarget, kfakeTarget, ceilingTarget} }

// storingTargets are the targets that store what they acknowledge: the
// ones groups and transactions compare.
func storingTargets() []target { return []target{tributaryTarget, kfakeTarget} }

// latencyTargets are the targets of the latency run.
func latencyTargets() []target { return []target{tributaryTarget, fsyncTarget, kfakeTarget} }

// start returns a fresh instance. recordBytes sizes the canned batch a
// synthetic target serves; the others ignore it. With a cpuProfile path
// the process profiles its whole life to it.
func (t target) start(ctx context.Context, recordBytes int, cpuProfile string) (*instance, error) {
	spec := t.spec
	spec.RecordBytes, spec.CPUProfile = recordBytes, cpuProfile
	inst, err := startChild(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", t.name, err)
	}
	return inst, nil
}
