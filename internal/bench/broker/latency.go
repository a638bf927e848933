package main

// Produce latency under a steady load: records go out at a fixed rate (half
// the target's measured maximum) in small batches on a 1 ms ticker, and each
// record's latency is the time from its Produce call to its promise. The
// first latencyWarmup is sent but not recorded, so connection setup and the
// first metadata round trips do not count. The producer does not linger:
// with the client's default 10 ms linger, the linger would be most of what
// is measured rather than the broker.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	latencyTick   = time.Millisecond
	latencyWarmup = 500 * time.Millisecond
)

// latencyResult summarises one latency run.
type latencyResult struct {
	offered  float64 // records per second asked for
	achieved float64 // records per second actually handed to Produce
	samples  int
	p50, p99 time.Duration
}

// measureLatency produces recordBytes-sized records to topic at rate
// records per second for latencyWarmup plus dur.
func measureLatency(ctx context.Context, addr, topic string, recordBytes int, rate float64, dur time.Duration) (latencyResult, error) {
	res := latencyResult{offered: rate}
	if rate <= 0 {
		return res, fmt.Errorf("latency rate %.0f records/s: must be positive", rate)
	}
	ctx, cancel := context.WithTimeout(ctx, phaseTimeout)
	defer cancel()
	cl, err := kgo.NewClient(append(producerOpts(addr, recordBytes), kgo.ProducerLinger(0))...)
	if err != nil {
		return res, fmt.Errorf("producer client: %w", err)
	}
	defer cl.Close()

	var (
		mu      sync.Mutex
		samples = make([]time.Duration, 0, int(rate*dur.Seconds()*1.1))
		first   error
	)
	value := recordValue(recordBytes)
	start := time.Now()
	measureFrom := start.Add(latencyWarmup)
	end := measureFrom.Add(dur)
	tick := time.NewTicker(latencyTick)
	defer tick.Stop()

	var sent, measured int64
	for now := start; now.Before(end); now = time.Now() {
		// Catch up to the schedule: a late tick sends a bigger batch, so
		// the offered rate holds even when the ticker drifts.
		due := int64(now.Sub(start).Seconds()*rate) - sent
		record := now.After(measureFrom)
		for range due {
			sentAt := time.Now()
			cl.Produce(ctx, &kgo.Record{Topic: topic, Value: value}, func(_ *kgo.Record, err error) {
				took := time.Since(sentAt)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && first == nil {
					first = err
				} else if err == nil && record {
					samples = append(samples, took)
				}
			})
		}
		sent += due
		if record {
			measured += due
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return res, fmt.Errorf("latency run: %w", ctx.Err())
		}
	}
	res.achieved = float64(measured) / time.Since(measureFrom).Seconds()
	if err := cl.Flush(ctx); err != nil {
		return res, fmt.Errorf("flush: %w", err)
	}
	// Flush returned: every promise has run.
	mu.Lock()
	defer mu.Unlock()
	if first != nil {
		return res, fmt.Errorf("record failed: %w", first)
	}
	if len(samples) == 0 {
		return res, fmt.Errorf("no records measured in %s at %.0f records/s", dur, rate)
	}
	slices.Sort(samples)
	res.samples = len(samples)
	res.p50 = percentile(samples, 50)
	res.p99 = percentile(samples, 99)
	return res, nil
}

// percentile returns the p-th percentile of sorted samples, nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(i, 0)]
}
