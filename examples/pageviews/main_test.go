package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/examples/internal/exampletest"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestPageViewsPerMinute(t *testing.T) {
	addr := testkit.Bootstrap(t)
	// One partition: stream time is per task, and the record that closes a
	// window must reach the task of the window.
	testkit.CreateTopic(t, addr, "pageviews", 1)
	testkit.CreateTopic(t, addr, "pageviews-per-minute", 1)
	exampletest.Start(t, run, "--bootstrap-server", addr, "--state-dir", t.TempDir(), "--exactly-once", "--grace", "10s")
	latest := exampletest.Latest(t, addr, "pageviews-per-minute")
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	view := func(user string, at time.Duration) *kgo.Record {
		return &kgo.Record{Topic: "pageviews", Key: []byte(user), Value: []byte("/home"), Timestamp: t0.Add(at)}
	}
	testkit.Produce(t, addr, view("u1", 10*time.Second), view("u1", 20*time.Second), view("u2", 30*time.Second),
		view("u1", 50*time.Second),
		view("u2", 62*time.Second), // the next window; stream time 62s < 60s + grace: the first stays open
		view("u1", 55*time.Second), // late but within grace: counted in the first window
	)
	// Nothing is final yet.
	if got := latest(); len(got) != 0 {
		t.Fatalf("suppressed output came early: %v", got)
	}
	testkit.Produce(t, addr, view("u3", 75*time.Second), // stream time 75s: the first window closes
		view("u1", 5*time.Second)) // too late: dropped
	testkit.Eventually(t, 30*time.Second, func() error {
		got := latest()
		if len(got) != 2 {
			return fmt.Errorf("output = %v, want u1 and u2 of the first window", got)
		}
		for user, views := range map[string]int64{"u1": 4, "u2": 1} {
			var v viewsInWindow
			if err := json.Unmarshal([]byte(got[user]), &v); err != nil {
				return fmt.Errorf("%s: %v", user, err)
			}
			if v.Views != views || !v.WindowStart.Equal(t0) || !v.WindowEnd.Equal(t0.Add(time.Minute)) || v.User != user {
				return fmt.Errorf("%s: %+v, want %d views in [%s, +1m)", user, v, views, t0)
			}
		}
		return nil
	})
}
