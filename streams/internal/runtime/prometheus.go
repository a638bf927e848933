package runtime

// Prometheus metrics, one registry per instance (never the default one:
// several apps may run in one process). Kafka Streams' metrics, renamed to
// Prometheus conventions (base units, _total for counters); every series
// carries application_id:
//
//	Kafka Streams                         Prometheus                                        labels
//	process-total (task)                  tributary_streams_process_total                   task_id
//	process-latency-avg (task)            tributary_streams_process_latency_seconds         task_id; summary: _sum/_count
//	punctuate-total, -latency-avg         tributary_streams_punctuate_latency_seconds       task_id; summary
//	commit-total, commit-latency-avg/max  tributary_streams_commit_latency_seconds          histogram
//	(exactly-once aborts)                 tributary_streams_transactions_aborted_total
//	records-produced-total                tributary_streams_records_produced_total          outputs and repartition topics
//	records-lag (consumer)                tributary_streams_records_lag                     task_id, topic, partition
//	restore-total (KIP-869)               tributary_streams_restore_records_total           task_id
//	update-total (standby, KIP-869)       tributary_streams_standby_update_records_total    task_id
//	restore-remaining-records-total       tributary_streams_restore_remaining_records       task_id (restoring and standby tasks)
//	total-sst-files-size (store)          tributary_streams_store_size_bytes                task_id, store
//	dropped-records-total (late)          tributary_streams_late_records_dropped_total      task_id
//	dropped-records-total (other)         tributary_streams_skipped_records_total           task_id
//	(deserialization handler calls)       tributary_streams_deserialization_errors_total    task_id
//	(task states)                         tributary_streams_tasks                           state: running, restoring, standby
//
// An instance has one stream thread, so thread-level metrics carry no
// thread label. Process latency is measured over each batch of a task's
// records, not per record, so it has no quantiles: rate(_sum)/rate(_count)
// is Kafka's average. Counters of a task count every incarnation of it on
// this instance; the gauges of a task (lag, remaining records, store sizes)
// are there only while the instance has it.

import (
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tributary-streams/tributary/streams/internal/topology"
)

type promMetrics struct {
	registry      *prometheus.Registry
	commitLatency prometheus.Histogram
}

func newPromMetrics(in *Instance) *promMetrics {
	app := prometheus.Labels{"application_id": in.cfg.App}
	m := &promMetrics{
		registry: prometheus.NewRegistry(),
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "tributary", Subsystem: "streams",
			Name: "commit_latency_seconds", ConstLabels: app,
			Help:    "Time to commit: flush caches and produces, write state, commit offsets or the transaction (Kafka: commit-latency-avg/max; _count is commit-total).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10)}),
	}
	m.registry.MustRegister(m.commitLatency, newCollector(in, app),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the registry in Prometheus' text format.
func (m *promMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// startMetricsServer serves GET /metrics alone on the metrics listener,
// for an instance that wants its metrics apart from its queries.
func (in *Instance) startMetricsServer() (*http.Server, error) {
	ln, err := net.Listen("tcp", in.cfg.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("streams: metrics listen %s: %w", in.cfg.MetricsListen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", in.prom.handler())
	return serve(ln, mux), nil
}

// collector reads the instance's counters when scraped, so processing
// pays nothing for metrics beyond the atomic counters it keeps anyway.
type collector struct {
	in *Instance

	produced, aborted, tasks                     *prometheus.Desc
	process, processLatency, punctuate           *prometheus.Desc
	late, skipped, deser                         *prometheus.Desc
	restored, updated, remaining, lag, storeSize *prometheus.Desc
}

func newCollector(in *Instance, app prometheus.Labels) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("tributary_streams_"+name, help, labels, app)
	}
	task := "task_id"
	return &collector{in: in,
		produced: d("records_produced_total", "Records written to output and repartition topics; changelogs not included (Kafka: records-produced-total)."),
		aborted:  d("transactions_aborted_total", "Transactions aborted, under exactly-once; the tasks were rolled back to their last commit."),
		tasks:    d("tasks", "Tasks on this instance by state: running, restoring (from the changelog, before running), standby.", "state"),
		process:  d("process_total", "Records processed (Kafka: process-total).", task),
		processLatency: d("process_latency_seconds",
			"Time processing records, measured per batch; rate(_sum)/rate(_count) is the mean per record (Kafka: process-latency-avg).", task),
		punctuate: d("punctuate_latency_seconds", "Time in punctuators; _count is the punctuations run (Kafka: punctuate-latency-avg, punctuate-total).", task),
		late:      d("late_records_dropped_total", "Records dropped behind a window's grace period (Kafka: dropped-records-total of windowed steps).", task),
		skipped: d("skipped_records_total",
			"Records skipped: undecodable ones the deserialization handler let pass, and records with a negative timestamp (Kafka: dropped-records-total).", task),
		deser:     d("deserialization_errors_total", "Records whose key or value did not decode, whatever the deserialization handler then did.", task),
		restored:  d("restore_records_total", "Changelog records applied restoring the task before it runs (Kafka: restore-total).", task),
		updated:   d("standby_update_records_total", "Changelog records applied to the task's standby (Kafka: update-total).", task),
		remaining: d("restore_remaining_records", "Changelog records a restoring or standby task is behind (Kafka: restore-remaining-records-total).", task),
		lag:       d("records_lag", "Records of an input partition of a running task not processed yet, as of its last fetch (Kafka: records-lag).", task, "topic", "partition"),
		storeSize: d("store_size_bytes", "Estimated bytes a store of a task takes on disk, in flushed sstables (Kafka: total-sst-files-size).", task, "store"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.produced, c.aborted, c.tasks, c.process, c.processLatency, c.punctuate,
		c.late, c.skipped, c.deser, c.restored, c.updated, c.remaining, c.lag, c.storeSize} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	in := c.in
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	counter(c.produced, in.metrics.sent.Load())
	counter(c.aborted, in.metrics.aborts.Load())
	in.counters.each(func(id topology.TaskID, t *taskCounters) {
		task := id.String()
		counter(c.process, t.Processed.Load(), task)
		ch <- prometheus.MustNewConstSummary(c.processLatency, uint64(t.Processed.Load()), seconds(t.ProcessNanos.Load()), nil, task)
		ch <- prometheus.MustNewConstSummary(c.punctuate, uint64(t.Punctuations.Load()), seconds(t.PunctuateNanos.Load()), nil, task)
		counter(c.late, t.Late.Load(), task)
		counter(c.skipped, t.Skipped.Load(), task)
		counter(c.deser, t.DeserializationErrors.Load(), task)
		counter(c.restored, t.restored.Load(), task)
		counter(c.updated, t.updated.Load(), task)
	})
	states := map[string]int64{"running": 0, "restoring": 0, "standby": 0}
	o := in.owned.Load()
	if o == nil {
		for s, n := range states {
			gauge(c.tasks, n, s)
		}
		return
	}
	stores := func(task string, sub int) {
		for _, store := range in.g.Subtopologies[sub].Stores {
			if n, ok := in.storeSize(task, store); ok {
				gauge(c.storeSize, n, task, store)
			}
		}
	}
	for _, id := range o.active {
		states["running"]++
		for _, t := range in.g.Subtopologies[id.Subtopology].Sources {
			tp := topicPartition{in.g.TopicName(in.cfg.App, t), id.Partition}
			in.lagMu.Lock()
			end, ok := in.hwm[tp]
			pos := in.pos[tp]
			in.lagMu.Unlock()
			if ok {
				gauge(c.lag, max(0, end-pos), id.String(), tp.topic, strconv.Itoa(int(tp.partition)))
			}
		}
		stores(id.String(), id.Subtopology)
	}
	for task, r := range o.restored {
		states[r.state()]++
		gauge(c.remaining, r.lag.Load(), task)
		if id, err := topology.ParseTaskID(task); err == nil && id.Subtopology < len(in.g.Subtopologies) {
			stores(task, id.Subtopology)
		}
	}
	for _, gs := range in.g.Globals {
		if n, ok := in.storeSize("global", gs.Store); ok {
			gauge(c.storeSize, n, "global", gs.Store)
		}
	}
	for s, n := range states {
		gauge(c.tasks, n, s)
	}
}

func seconds(nanos int64) float64 { return float64(nanos) / 1e9 }
