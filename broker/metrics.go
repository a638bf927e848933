package broker

// Prometheus metrics, served with /healthz on --metrics-listen. Names follow
// the tributary_ prefix, next to the standard go_* and process_* collectors;
// per-topic traffic counters, per-API request,
// error and latency figures, open connections, and per-partition log end
// offset and size (collected at scrape time, so the hot path pays nothing
// for them).

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type metrics struct {
	broker *Broker
	reg    *prometheus.Registry

	connections   prometheus.Gauge
	requests      *prometheus.CounterVec
	requestErrors *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	bytesIn       *prometheus.CounterVec
	recordsIn     *prometheus.CounterVec
	bytesOut      *prometheus.CounterVec
	recordsOut    *prometheus.CounterVec

	// Per-topic counters, cached so produce and fetch skip the label hash.
	topicMu sync.RWMutex
	topics  map[string]*topicCounters
}

type topicCounters struct {
	bytesIn, recordsIn, bytesOut, recordsOut prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), topics: map[string]*topicCounters{}}
	m.connections = prometheus.NewGauge(prometheus.GaugeOpts{Name: "tributary_open_connections", Help: "Open client connections."})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_requests_total", Help: "Requests handled, by API."}, []string{"api"})
	m.requestErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_request_errors_total", Help: "Error codes returned, by API and error."}, []string{"api", "error"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tributary_request_duration_seconds", Help: "Request handling time, by API.",
		Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5}}, []string{"api"})
	m.bytesIn = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_topic_bytes_in_total", Help: "Record batch bytes produced, by topic."}, []string{"topic"})
	m.recordsIn = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_topic_records_in_total", Help: "Records produced, by topic."}, []string{"topic"})
	m.bytesOut = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_topic_bytes_out_total", Help: "Record batch bytes fetched, by topic."}, []string{"topic"})
	m.recordsOut = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_topic_records_out_total", Help: "Records fetched, by topic."}, []string{"topic"})
	m.reg.MustRegister(m.connections, m.requests, m.requestErrors, m.latency, m.bytesIn, m.recordsIn, m.bytesOut, m.recordsOut,
		partitionCollector{m},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tributary_storage_full",
			Help: "1 while the data dir's device is full (writes fail, reads and deletes go on), else 0."},
			func() float64 {
				if m.broker != nil && m.broker.storageFull() {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tributary_storage_free_bytes",
			Help: "Bytes available on the data dir's device."},
			func() float64 {
				if m.broker == nil {
					return 0
				}
				return float64(m.broker.freeBytes())
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tributary_log_open_segment_files",
			Help: "Segment (.log) files held open across all partitions (bounded by OpenSegmentFiles)."},
			func() float64 {
				if m.broker == nil || m.broker.files == nil {
					return 0
				}
				return float64(m.broker.files.Open())
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tributary_request_bytes_in_flight",
			Help: "Bytes of request frames read and not yet answered (bounded by queued.max.request.bytes)."},
			func() float64 {
				if m.broker == nil || m.broker.requestMemory == nil {
					return 0
				}
				return float64(m.broker.requestMemory.inFlight())
			}),
		// The standard go_* and process_* series every Go service exports.
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) topicCounters(topic string) *topicCounters {
	m.topicMu.RLock()
	tc := m.topics[topic]
	m.topicMu.RUnlock()
	if tc != nil {
		return tc
	}
	m.topicMu.Lock()
	defer m.topicMu.Unlock()
	if tc = m.topics[topic]; tc == nil {
		tc = &topicCounters{
			bytesIn: m.bytesIn.WithLabelValues(topic), recordsIn: m.recordsIn.WithLabelValues(topic),
			bytesOut: m.bytesOut.WithLabelValues(topic), recordsOut: m.recordsOut.WithLabelValues(topic),
		}
		m.topics[topic] = tc
	}
	return tc
}

func (m *metrics) produced(p *partition, bytes, records int) {
	tc := m.topicCounters(p.topic.name)
	tc.bytesIn.Add(float64(bytes))
	tc.recordsIn.Add(float64(records))
}

func (m *metrics) fetched(p *partition, data []byte) {
	tc := m.topicCounters(p.topic.name)
	tc.bytesOut.Add(float64(len(data)))
	tc.recordsOut.Add(float64(countRecords(data)))
}

func (m *metrics) forgetPartition(topic string, _ int32) {
	m.topicMu.Lock()
	delete(m.topics, topic)
	m.topicMu.Unlock()
	m.bytesIn.DeleteLabelValues(topic)
	m.recordsIn.DeleteLabelValues(topic)
	m.bytesOut.DeleteLabelValues(topic)
	m.recordsOut.DeleteLabelValues(topic)
}

// apiMetrics are one API's request counter and latency histogram, resolved
// once when the API table is built so requests skip the label lookup.
type apiMetrics struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func (m *metrics) forAPI(name string) *apiMetrics {
	return &apiMetrics{requests: m.requests.WithLabelValues(name), latency: m.latency.WithLabelValues(name)}
}

func (am *apiMetrics) observe(received time.Time) {
	am.requests.Inc()
	if !received.IsZero() {
		am.latency.Observe(time.Since(received).Seconds())
	}
}

func (m *metrics) countError(key, code int16) {
	name := strconv.Itoa(int(code))
	if e := kerr.TypedErrorForCode(code); e != nil {
		name = e.Message
	}
	m.requestErrors.WithLabelValues(kmsg.NameForKey(key), name).Inc()
}

// partitionCollector reports log end offset, start offset and size per
// partition at scrape time.
type partitionCollector struct{ m *metrics }

var (
	descLogEnd   = prometheus.NewDesc("tributary_partition_log_end_offset", "Next offset to be written.", []string{"topic", "partition"}, nil)
	descLogStart = prometheus.NewDesc("tributary_partition_log_start_offset", "First offset still stored.", []string{"topic", "partition"}, nil)
	descLogSize  = prometheus.NewDesc("tributary_partition_log_size_bytes", "Bytes of log segments.", []string{"topic", "partition"}, nil)
)

func (c partitionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descLogEnd
	ch <- descLogStart
	ch <- descLogSize
}

func (c partitionCollector) Collect(ch chan<- prometheus.Metric) {
	b := c.m.broker
	if b == nil || b.topics == nil {
		return
	}
	for _, t := range b.topics.list() {
		for _, p := range *t.partitions.Load() {
			idx := strconv.Itoa(int(p.index))
			ch <- prometheus.MustNewConstMetric(descLogEnd, prometheus.GaugeValue, float64(p.log.EndOffset()), t.name, idx)
			ch <- prometheus.MustNewConstMetric(descLogStart, prometheus.GaugeValue, float64(p.log.StartOffset()), t.name, idx)
			ch <- prometheus.MustNewConstMetric(descLogSize, prometheus.GaugeValue, float64(p.log.Size()), t.name, idx)
		}
	}
}

// startHTTP serves /metrics and /healthz (health.go).
func (b *Broker) startHTTP() error {
	ln, err := net.Listen("tcp", b.cfg.MetricsListen)
	if err != nil {
		return fmt.Errorf("metrics listen on %s: %w", b.cfg.MetricsListen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(b.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", b.serveHealthz)
	b.httpLn = ln
	b.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := b.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.logger.Warn("metrics server", "err", err)
		}
	}()
	return nil
}
