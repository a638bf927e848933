package mirror_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tributary-streams/tributary/internal/cli"
	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/mirror"
)

// metricValue sums a metric's counters, or histogram sample counts, over
// the series whose labels include want.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue series
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				sum += m.GetCounter().GetValue()
			case dto.MetricType_HISTOGRAM:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

func TestMetricsPerPartitionAndCheckpointLatency(t *testing.T) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	createTopic(t, a.Addr, "orders", 2)
	recs := sourceRecords("orders", 2, 25)
	produce(t, a.Addr, recs...)
	commitOn(t, a.Addr, "app", "orders", map[int32]int64{0: 10, 1: 20})
	reg := prometheus.NewRegistry()
	startMirror(t, twoClusters(a.Addr, b.Addr)+"A->B.enabled = true\n", mirror.WithRegisterer(reg))
	// A second mirror on the same registry shares its collectors.
	startMirror(t, twoClusters(a.Addr, b.Addr)+"A->B.enabled = false\nB->A.enabled = true\nB->A.topics = nothing\n", mirror.WithRegisterer(reg))
	consumeN(t, b.Addr, "A.orders", len(recs), 30*time.Second)

	testkit.Eventually(t, 20*time.Second, func() error {
		for p := 0; p < 2; p++ {
			l := map[string]string{"source": "A", "target": "B", "topic": "orders", "partition": fmt.Sprint(p)}
			for name, want := range map[string]float64{
				"tributary_mirror_records_total":               25,
				"tributary_mirror_replication_latency_seconds": 25,
				"tributary_mirror_record_age_seconds":          25,
			} {
				if got := metricValue(t, reg, name, l); got != want {
					return fmt.Errorf("%s%v = %v, want %v", name, l, got, want)
				}
			}
			if got := metricValue(t, reg, "tributary_mirror_bytes_total", l); got <= 25*10 {
				return fmt.Errorf("bytes_total%v = %v", l, got)
			}
		}
		if got := metricValue(t, reg, "tributary_mirror_checkpoint_latency_seconds", map[string]string{"group": "app"}); got < 1 {
			return fmt.Errorf("no checkpoint latency observed for group app")
		}
		return nil
	})
}

func TestCommandServesMetrics(t *testing.T) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	createTopic(t, a.Addr, "orders", 1)
	produce(t, a.Addr, sourceRecords("orders", 1, 5)...)
	file := filepath.Join(t.TempDir(), "mm2.properties")
	if err := os.WriteFile(file, []byte(twoClusters(a.Addr, b.Addr)+"A->B.enabled = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := testkit.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	exit := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		exit <- cli.Execute(ctx, []string{"mirror", "run", file, "--metrics-listen", addr, "--log-level", "error"}, strings.NewReader(""), io.Discard, &stderr)
	}()
	consumeN(t, b.Addr, "A.orders", 5, 30*time.Second)
	testkit.Eventually(t, 10*time.Second, func() error {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), `tributary_mirror_records_total{partition="0",source="A",target="B",topic="orders"} 5`) {
			return fmt.Errorf("metrics lack the copied records:\n%.2000s", body)
		}
		return nil
	})
	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("mirror run did not stop on cancel")
	}
}
