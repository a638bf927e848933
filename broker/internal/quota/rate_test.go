package quota

import (
	"math"
	"testing"
	"time"
)

func TestRateCountsAtLeastNMinusOneWindows(t *testing.T) {
	r := NewRate(11, time.Second)
	t0 := time.Unix(1000, 0)
	r.Record(1000, t0)
	// Just after the first record the span is 10 windows: 100/s.
	if got := r.Measure(t0.Add(time.Millisecond)); math.Abs(got-100) > 0.1 {
		t.Fatalf("rate = %v, want 100", got)
	}
	// 20 s later everything has aged out.
	if got := r.Measure(t0.Add(20 * time.Second)); got != 0 {
		t.Fatalf("rate after the window = %v", got)
	}
}

func TestThrottleBringsRateBackToQuota(t *testing.T) {
	// A client recording as fast as it may, honouring every throttle,
	// converges to the quota.
	const quota = 1000.0 // units a second
	r := NewRate(11, time.Second)
	now := time.Unix(0, 0)
	var total float64
	start := now
	for now.Sub(start) < 60*time.Second {
		d := r.RecordAndThrottle(100, quota, now)
		total += 100
		now = now.Add(time.Millisecond + d)
	}
	got := total / now.Sub(start).Seconds()
	if got < quota*0.9 || got > quota*1.15 {
		t.Fatalf("long-run rate %v, quota %v", got, quota)
	}
	if r.Throttle(quota, now) > 2*time.Second {
		t.Fatal("throttle beyond what the window justifies")
	}
	if d := NewRate(11, time.Second).RecordAndThrottle(1, 0, now); d != 0 {
		t.Fatal("a zero quota throttles")
	}
}
