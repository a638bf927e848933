// Package quota meters client quotas and holds their configuration.
//
// Usage is metered with the token bucket Kafka introduced for
// controller_mutation_rate (KIP-599), for every quota: a bucket holds up to
// quota × samples × window tokens (quota.window.num ×
// quota.window.size.seconds: the burst a client may send at once), refills
// at the quota, and each request takes what it costs. A client whose
// bucket is in debt is throttled for as long as the refill takes to pay
// it back, so a client that honours its throttle times is held to the
// quota exactly, after at most one burst.
//
// Kafka meters its bandwidth and request quotas with a sampled rate
// instead, which lets a greedy client alternate bursts of a whole window
// with long throttles (and deliver less than the quota on average); the
// bucket's throttle times are what KIP-599 gives mutations.
package quota

import (
	"sync"
	"time"
)

// Bucket meters one client's use of one quota. Safe for concurrent use.
type Bucket struct {
	window time.Duration // samples × window: the burst, in time at the quota

	mu     sync.Mutex
	tokens float64
	last   time.Time
	full   bool // tokens not yet initialised: a new bucket starts full
}

// NewBucket is a bucket whose burst is samples × window at the quota.
func NewBucket(samples int, window time.Duration) *Bucket {
	return &Bucket{window: time.Duration(max(samples, 1)) * window, full: true}
}

// refill adds what the quota earned since the last call. Caller holds mu.
func (b *Bucket) refill(quota float64, now time.Time) {
	burst := quota * b.window.Seconds()
	if b.full {
		b.tokens, b.last, b.full = burst, now, false
		return
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(burst, b.tokens+quota*elapsed.Seconds())
		b.last = now
	}
}

// debt is the throttle time of the bucket's current debt. Caller holds mu.
func (b *Bucket) debt(quota float64) time.Duration {
	if b.tokens >= 0 || quota <= 0 {
		return 0
	}
	return time.Duration(-b.tokens / quota * float64(time.Second))
}

// RecordAndThrottle takes v tokens at now and returns how long the client
// must wait before its next request: 0 while it is within the quota.
func (b *Bucket) RecordAndThrottle(v, quota float64, now time.Time) time.Duration {
	if quota <= 0 {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(quota, now)
	b.tokens -= v
	return b.debt(quota)
}

// Throttle is the client's throttle time at now, taking nothing.
func (b *Bucket) Throttle(quota float64, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(quota, now)
	return b.debt(quota)
}
