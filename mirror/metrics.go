package mirror

// Prometheus metrics. MM2's MirrorSourceConnector and
// MirrorCheckpointConnector metrics, renamed to Prometheus conventions
// (base units, _total for counters):
//
//	MM2                     Prometheus                                      labels
//	record-count            tributary_mirror_records_total                  source, target, topic, partition
//	byte-rate, byte-count   tributary_mirror_bytes_total (rate() for byte-rate)
//	record-age-ms           tributary_mirror_record_age_seconds             histogram: fetch time - record timestamp
//	replication-latency-ms  tributary_mirror_replication_latency_seconds    histogram: target ack - record timestamp
//	checkpoint-latency-ms   tributary_mirror_checkpoint_latency_seconds     source, target, group; histogram: checkpoint
//	                                                                        written - group offsets read
//
// MM2's -min/-max/-avg variants are the histograms' quantiles and
// _sum/_count. topic is the source topic.

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	records           *prometheus.CounterVec
	bytes             *prometheus.CounterVec
	recordAge         *prometheus.HistogramVec
	latency           *prometheus.HistogramVec
	checkpointLatency *prometheus.HistogramVec
}

var latencyBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 3600}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	partLabels := []string{"source", "target", "topic", "partition"}
	m := &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_mirror_records_total",
			Help: "Records copied to the target and acknowledged by it (MM2 record-count), by source partition."}, partLabels),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_mirror_bytes_total",
			Help: "Key and value bytes copied (MM2 byte-count; rate() is byte-rate), by source partition."}, partLabels),
		recordAge: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tributary_mirror_record_age_seconds",
			Help: "Age of records when fetched from the source (MM2 record-age-ms).", Buckets: latencyBuckets}, partLabels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tributary_mirror_replication_latency_seconds",
			Help: "Record timestamp to target acknowledgement (MM2 replication-latency-ms).", Buckets: latencyBuckets}, partLabels),
		checkpointLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tributary_mirror_checkpoint_latency_seconds",
			Help: "Group offsets read on the source to checkpoint written on the target (MM2 checkpoint-latency-ms).", Buckets: latencyBuckets},
			[]string{"source", "target", "group"}),
	}
	if reg != nil {
		// A registry given to a second mirror keeps the first one's
		// collectors, which then count for both.
		var errs []error
		m.records = register(reg, m.records, &errs)
		m.bytes = register(reg, m.bytes, &errs)
		m.recordAge = register(reg, m.recordAge, &errs)
		m.latency = register(reg, m.latency, &errs)
		m.checkpointLatency = register(reg, m.checkpointLatency, &errs)
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("mirror: register metrics: %w", err)
		}
	}
	return m, nil
}

// register registers c, or returns the same collector registered before.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, errs *[]error) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		*errs = append(*errs, err)
	}
	return c
}

// partitionMetrics are one source partition's metrics, resolved once so
// the copy path does not hash labels per record.
type partitionMetrics struct {
	records, bytes     prometheus.Counter
	recordAge, latency prometheus.Observer
}

func (m *metrics) partition(source, target, topic string, partition int32) partitionMetrics {
	l := prometheus.Labels{"source": source, "target": target, "topic": topic, "partition": strconv.Itoa(int(partition))}
	return partitionMetrics{
		records:   m.records.With(l),
		bytes:     m.bytes.With(l),
		recordAge: m.recordAge.With(l),
		latency:   m.latency.With(l),
	}
}
