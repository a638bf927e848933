package main

// Changelog restore: a table's changelog is filled (compacted topic,
// 1 KB values, unique keys) before an App with no local state starts;
// every task restores its store from it before it runs. The clock runs
// from starting the App until every task runs and every changelog byte is
// applied.

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/streams"
)

const restoreValueBytes = 1024

func restoreTributary(ctx context.Context, bytes int64) (result, error) {
	c, err := startCluster(ctx)
	if err != nil {
		return result{}, err
	}
	defer c.close()
	const app, store = "bench-restore", "table"
	changelog := app + "-" + store + "-changelog"
	if err := c.createTopic(ctx, "restore-in", partitions, nil); err != nil {
		return result{}, err
	}
	compact := "compact"
	if err := c.createTopic(ctx, changelog, partitions, map[string]*string{"cleanup.policy": &compact}); err != nil {
		return result{}, err
	}
	value := make([]byte, restoreValueBytes)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	n := int(bytes / restoreValueBytes)
	var total int64
	if err := c.fill(ctx, changelog, n, func(i int) *kgo.Record {
		k := []byte("key-" + strconv.Itoa(i))
		total += int64(len(k) + len(value) + 8)
		// The table store keeps each value behind its 8-byte timestamp.
		v := append(make([]byte, 8, 8+len(value)), value...)
		return &kgo.Record{Key: k, Value: v, Partition: int32(i % partitions)}
	}); err != nil {
		return result{}, err
	}
	b := streams.NewBuilder()
	streams.Table(b, "restore-in", streams.String(), streams.Bytes(), streams.Materialized(store))
	top, err := b.Build()
	if err != nil {
		return result{}, err
	}
	var a *streams.App
	var restoreTime time.Duration
	r, err := measure(ctx, func() (func() error, error) {
		a, err = streams.New(top, appOptions(c, app)...)
		if err != nil {
			return nil, err
		}
		rctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(rctx) }()
		return func() error { cancel(); return <-done }, nil
	}, func() error {
		deadline := time.Now().Add(runTimeout)
		for {
			m := a.Metrics()
			running := 0
			for _, t := range m.Tasks {
				if t.State == "running" {
					running++
				}
			}
			if running == partitions && m.RestoredBytes >= total {
				restoreTime = m.RestoreTime
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("restored %d of %d bytes, %d of %d tasks running after %s", m.RestoredBytes, total, running, partitions, runTimeout)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	r.records, r.bytes = int64(n), total
	// The rate is the restorations' own: from the first task starting to
	// restore to the last finishing, not the group join before.
	if err == nil {
		if restoreTime <= 0 {
			return r, fmt.Errorf("the App reported no restore time")
		}
		r.startup = r.elapsed - restoreTime
		r.elapsed = restoreTime
	}
	return r, err
}
