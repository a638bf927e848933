// Package quota measures rates the way Apache Kafka's client quotas do
// (org.apache.kafka.common.metrics.stats.Rate over a SampledStat, and
// ClientQuotaManager's throttle time), so a client held to a quota sees
// the throttle times Kafka would give it.
//
// A Rate keeps n samples, each covering one window. The rate is the sum
// of the samples still in the n windows, divided by the time they span,
// counted as at least n-1 full windows (so a burst just after start is
// averaged over the whole span rather than over a few milliseconds). When
// the rate exceeds a quota Q, the client is throttled for
//
//	(rate - Q) / Q × span
//
// which is how long it must stay idle for the rate over the span to come
// back to Q.
package quota

import (
	"sync"
	"time"
)

// Rate is a windowed rate. Safe for concurrent use.
type Rate struct {
	window time.Duration

	mu      sync.Mutex
	samples []sample
	current int
}

type sample struct {
	start time.Time
	value float64
}

// NewRate measures over n samples of window each (Kafka's
// quota.window.num and quota.window.size.seconds).
func NewRate(n int, window time.Duration) *Rate {
	return &Rate{window: window, samples: make([]sample, max(n, 2))}
}

// Record adds v at now.
func (r *Rate) Record(v float64, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.advance(now)
	s.value += v
}

// advance returns the sample now falls in, starting a new one (and
// reusing the oldest) when the current one's window has passed.
func (r *Rate) advance(now time.Time) *sample {
	s := &r.samples[r.current]
	if s.start.IsZero() {
		s.start = now
		return s
	}
	if now.Sub(s.start) < r.window {
		return s
	}
	r.current = (r.current + 1) % len(r.samples)
	s = &r.samples[r.current]
	*s = sample{start: now}
	return s
}

// measure returns the rate per second at now and the span it is taken
// over. Caller holds mu.
func (r *Rate) measure(now time.Time) (perSecond float64, span time.Duration) {
	total := time.Duration(len(r.samples)) * r.window
	var sum float64
	var oldest time.Time
	for i := range r.samples {
		s := &r.samples[i]
		if s.start.IsZero() || now.Sub(s.start) >= total {
			*s = sample{} // obsolete: outside the n windows
			continue
		}
		sum += s.value
		if oldest.IsZero() || s.start.Before(oldest) {
			oldest = s.start
		}
	}
	if oldest.IsZero() {
		return 0, time.Duration(len(r.samples)-1) * r.window
	}
	span = now.Sub(oldest)
	if minSpan := time.Duration(len(r.samples)-1) * r.window; span < minSpan {
		// Kafka counts at least n-1 full windows.
		full := span / r.window
		span += (time.Duration(len(r.samples)-1) - full) * r.window
	}
	return sum / span.Seconds(), span
}

// Measure is the rate per second at now.
func (r *Rate) Measure(now time.Time) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, _ := r.measure(now)
	return v
}

// Throttle is how long a client over quota must wait at now; 0 within it.
func (r *Rate) Throttle(quota float64, now time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return throttle(r, quota, now)
}

func throttle(r *Rate, quota float64, now time.Time) time.Duration {
	if quota <= 0 {
		return 0
	}
	v, span := r.measure(now)
	if v <= quota {
		return 0
	}
	return time.Duration((v - quota) / quota * float64(span))
}

// RecordAndThrottle records v at now and returns the throttle time the
// quota then calls for.
func (r *Rate) RecordAndThrottle(v, quota float64, now time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advance(now).value += v
	return throttle(r, quota, now)
}
