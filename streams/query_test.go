package streams_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/streams"
)

func getJSON(url string, v any) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return resp.StatusCode, json.Unmarshal(body, v)
}

// Two instances with standby replicas and query endpoints: a key is
// answered by either (the one that does not own it forwards), a range
// gathers every instance's part, and each holds a warm standby of the
// other's stateful tasks, which makes a take-over cheap.
func TestQueriesAndStandbys(t *testing.T) {
	addr := testkit.Bootstrap(t)
	testkit.CreateTopic(t, addr, "lines", 4)
	testkit.CreateTopic(t, addr, "counts", 4)
	top := wordCountTopology(t, "lines", "counts")
	var lines []string
	for i := range 200 {
		lines = append(lines, fmt.Sprintf("w%d w%d common", i%20, i%7))
	}
	want := wantCounts(lines)
	start := func() (*runningApp, string) {
		q := testkit.FreePort(t)
		return startApp(t, top, streams.WithApplicationID("queries"), streams.WithBootstrapServers(addr),
			streams.WithStateDir(t.TempDir()), streams.WithCommitInterval(100*time.Millisecond),
			streams.WithStandbyReplicas(1), streams.WithQueryListen(q)), q
	}
	a, qa := start()
	b, qb := start()
	produceLines(t, addr, "lines", lines)
	// Every key, asked of either instance, gives its count.
	testkit.Eventually(t, time.Minute, func() error {
		for w, n := range want {
			for _, q := range []string{qa, qb} {
				var e struct {
					Key   string `json:"key"`
					Value struct {
						Value int64 `json:"value"`
					} `json:"value"`
				}
				if _, err := getJSON("http://"+q+"/stores/counts/keys/"+w, &e); err != nil {
					return err
				}
				if e.Key != w || e.Value.Value != n {
					return fmt.Errorf("%s: counts[%s] = %+v, want %d", q, w, e, n)
				}
			}
		}
		return nil
	})
	var all []struct {
		Key string `json:"key"`
	}
	if _, err := getJSON("http://"+qa+"/stores/counts", &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != len(want) {
		t.Fatalf("range over both instances: %d keys, want %d", len(all), len(want))
	}
	// A key owned by the other instance is not local; KeyOwner says where.
	remote := 0
	for w := range want {
		_, owner, local, err := streams.KeyOwner(a.app, "counts", w, streams.String())
		if err != nil {
			t.Fatal(err)
		}
		if !local {
			remote++
			if owner != qb {
				t.Fatalf("KeyOwner(%s) = %q, want the other instance %s", w, owner, qb)
			}
			if _, _, err := streams.QueryKeyValue[string, int64](a.app, "counts", w, streams.String()); !errorsAs(err, new(*streams.NotLocalError)) {
				t.Fatalf("QueryKeyValue of a remote key: %v, want a NotLocalError", err)
			}
		}
	}
	if remote == 0 || remote == len(want) {
		t.Fatalf("%d of %d keys on the other instance: the work is not shared", remote, len(want))
	}
	// Bad queries get clear answers.
	if code, err := getJSON("http://"+qa+"/stores/nope/keys/x", new(any)); code != http.StatusNotFound || err == nil {
		t.Fatalf("unknown store: %d %v, want 404", code, err)
	}
	// Standbys: each instance keeps a warm copy of the other's stateful
	// tasks, caught up with their changelogs.
	testkit.Eventually(t, 30*time.Second, func() error {
		for _, inst := range []*runningApp{a, b} {
			standby := 0
			for _, tm := range inst.app.Metrics().Tasks {
				if tm.State == "standby" {
					if tm.Lag != 0 {
						return fmt.Errorf("standby %s is %d records behind", tm.ID, tm.Lag)
					}
					standby++
				}
			}
			if standby == 0 {
				return fmt.Errorf("an instance has no standby: %+v", inst.app.Metrics().Tasks)
			}
		}
		return nil
	})
	var topo struct {
		Topology string `json:"topology"`
		Tasks    []streams.TaskMetrics
	}
	if _, err := getJSON("http://"+qb+"/topology", &topo); err != nil || topo.Topology != top.Describe() || len(topo.Tasks) == 0 {
		t.Fatalf("/topology = %+v, %v", topo, err)
	}
	// b leaves; a takes its tasks over from its standbys and the counts
	// stay right.
	b.stop(t)
	more := []string{"common late"}
	produceLines(t, addr, "lines", more)
	want["common"]++
	want["late"]++
	testkit.Eventually(t, time.Minute, func() error {
		for w, n := range want {
			got, ok, err := streams.QueryKeyValue[string, int64](a.app, "counts", w, streams.String())
			if err != nil || !ok || got != n {
				return fmt.Errorf("counts[%s] = %d %v %v, want %d", w, got, ok, err, n)
			}
		}
		return nil
	})
}
