package quota

import (
	"testing"
	"time"
)

// A client that honours every throttle is held to the quota after one
// burst, whatever the size of its requests.
func TestBucketHoldsAGreedyClientToTheQuota(t *testing.T) {
	const quota = 200000.0 // a second
	for _, size := range []float64{1000, 16000, 150000} {
		b := NewBucket(2, time.Second)
		now := time.Unix(0, 0)
		start := now
		var total, sinceBurst float64
		var burstEnd time.Time
		for now.Sub(start) < 30*time.Second {
			d := b.RecordAndThrottle(size, quota, now)
			total += size
			if burstEnd.IsZero() && d > 0 {
				burstEnd = now
			}
			if !burstEnd.IsZero() && now.After(burstEnd) {
				sinceBurst += size
			}
			now = now.Add(time.Millisecond + d)
		}
		rate := sinceBurst / now.Sub(burstEnd).Seconds()
		if rate < quota*0.97 || rate > quota*1.03 {
			t.Errorf("requests of %.0f: %.0f a second after the burst, quota %.0f", size, rate, quota)
		}
		if burst := total - sinceBurst; burst > quota*3+size {
			t.Errorf("requests of %.0f: a burst of %.0f, want about 2 s worth (plus what refills meanwhile)", size, burst)
		}
	}
}

func TestBucketRefillsAndCaps(t *testing.T) {
	b := NewBucket(11, time.Second)
	now := time.Unix(0, 0)
	if d := b.RecordAndThrottle(1000, 100, now); d != 0 {
		t.Fatalf("a full bucket of 1100 throttled a cost of 1000: %s", d)
	}
	if d := b.RecordAndThrottle(600, 100, now); d != 5*time.Second {
		t.Fatalf("a debt of 500 at 100/s: throttle %s, want 5s", d)
	}
	if d := b.Throttle(100, now.Add(5*time.Second)); d != 0 {
		t.Fatalf("after the debt is repaid: %s", d)
	}
	// Idle for an hour: the bucket holds only one burst.
	if d := b.RecordAndThrottle(1200, 100, now.Add(time.Hour)); d != time.Second {
		t.Fatalf("after an hour idle, a cost of 1200: throttle %s, want 1s", d)
	}
	if d := NewBucket(2, time.Second).RecordAndThrottle(1e9, 0, now); d != 0 {
		t.Fatal("a zero quota throttles")
	}
}
