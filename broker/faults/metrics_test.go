package faults

// /metrics carries the Go runtime and process collectors next to the
// broker's own metrics.

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tributary-streams/tributary/internal/testkit"
)

func scrape(t testing.TB, metricsAddr string) string {
	t.Helper()
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("scrape /metrics: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func TestStandardCollectors(t *testing.T) {
	b := testkit.StartBroker(t, testkit.WithMetrics())
	body := scrape(t, b.MetricsAddr())
	for _, name := range []string{"go_goroutines ", "go_memstats_heap_alloc_bytes ", "process_resident_memory_bytes ", "process_open_fds ", "tributary_open_connections "} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("/metrics has no %s", strings.TrimSpace(name))
		}
	}
}

// httpGet returns the status and body of GET path on addr.
func httpGet(t testing.TB, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}
