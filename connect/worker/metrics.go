package worker

// Prometheus metrics per connector and task, served on the REST listener at
// /metrics. Names follow Kafka Connect's JMX metrics
// (source-record-poll-total, sink-record-send-total, ...).

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	registry *prometheus.Registry

	sourcePolled   *prometheus.CounterVec
	sourceWritten  *prometheus.CounterVec
	sinkRead       *prometheus.CounterVec
	sinkSent       *prometheus.CounterVec
	batchSize      *prometheus.HistogramVec
	commitSeconds  *prometheus.HistogramVec
	commitFailures *prometheus.CounterVec
	recordErrors   *prometheus.CounterVec
	recordsSkipped *prometheus.CounterVec
	dlqProduced    *prometheus.CounterVec
	connectorState *prometheus.GaugeVec
	taskState      *prometheus.GaugeVec
}

var allStates = []string{stateRunning, statePaused, stateFailed, stateUnassigned, stateRestarting, stateStopped}

func newMetrics() *metrics {
	ns, sub := "tributary", "connect"
	task := []string{"connector", "task"}
	m := &metrics{
		registry: prometheus.NewRegistry(),
		sourcePolled: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "source_records_polled_total",
			Help: "Records returned by source tasks' Poll (Kafka: source-record-poll-total)."}, task),
		sourceWritten: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "source_records_written_total",
			Help: "Source records acknowledged by Kafka, after transformations (Kafka: source-record-write-total)."}, task),
		sinkRead: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "sink_records_read_total",
			Help: "Records read from Kafka by sink tasks (Kafka: sink-record-read-total)."}, task),
		sinkSent: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "sink_records_sent_total",
			Help: "Records handed to sink tasks' Put, after transformations (Kafka: sink-record-send-total)."}, task),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "batch_size_records",
			Help: "Records per Poll (source) or Put (sink) batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}, task),
		commitSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "offset_commit_seconds",
			Help: "Time to commit offsets (source: store write; sink: Flush plus group commit).", Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10)}, task),
		commitFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "offset_commit_failures_total",
			Help: "Offset commits that failed."}, task),
		recordErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "record_errors_total",
			Help: "Records that failed an operation after retries, by stage (Kafka: total-record-failures).", ConstLabels: nil}, append(task, "stage")),
		recordsSkipped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "records_skipped_total",
			Help: "Records skipped under errors.tolerance=all (Kafka: total-records-skipped)."}, task),
		dlqProduced: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "deadletterqueue_records_total",
			Help: "Records written to the dead-letter queue (Kafka: deadletterqueue-produce-requests)."}, task),
		connectorState: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "connector_status",
			Help: "1 for the state each connector on this worker is in."}, []string{"connector", "state"}),
		taskState: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "task_status",
			Help: "1 for the state each task on this worker is in."}, append(task, "state")),
	}
	m.registry.MustRegister(m.sourcePolled, m.sourceWritten, m.sinkRead, m.sinkSent, m.batchSize, m.commitSeconds,
		m.commitFailures, m.recordErrors, m.recordsSkipped, m.dlqProduced, m.connectorState, m.taskState,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// taskMetrics are one task's children of the vectors.
type taskMetrics struct {
	m          *metrics
	id         taskID
	polled     prometheus.Counter
	written    prometheus.Counter
	read       prometheus.Counter
	sent       prometheus.Counter
	batch      prometheus.Observer
	commit     prometheus.Observer
	commitFail prometheus.Counter
	skipped    prometheus.Counter
	dlq        prometheus.Counter
}

func (m *metrics) task(id taskID) *taskMetrics {
	l := []string{id.Connector, strconv.Itoa(id.Task)}
	return &taskMetrics{m: m, id: id,
		polled: m.sourcePolled.WithLabelValues(l...), written: m.sourceWritten.WithLabelValues(l...),
		read: m.sinkRead.WithLabelValues(l...), sent: m.sinkSent.WithLabelValues(l...),
		batch: m.batchSize.WithLabelValues(l...), commit: m.commitSeconds.WithLabelValues(l...),
		commitFail: m.commitFailures.WithLabelValues(l...), skipped: m.recordsSkipped.WithLabelValues(l...),
		dlq: m.dlqProduced.WithLabelValues(l...),
	}
}

func (t *taskMetrics) recordError(st stage) {
	t.m.recordErrors.WithLabelValues(t.id.Connector, strconv.Itoa(t.id.Task), string(st)).Inc()
}

func (t *taskMetrics) setState(state string) {
	for _, s := range allStates {
		v := 0.0
		if s == state {
			v = 1
		}
		t.m.taskState.WithLabelValues(t.id.Connector, strconv.Itoa(t.id.Task), s).Set(v)
	}
}

func (m *metrics) setConnectorState(name, state string) {
	for _, s := range allStates {
		v := 0.0
		if s == state {
			v = 1
		}
		m.connectorState.WithLabelValues(name, s).Set(v)
	}
}

// forget drops a connector's (or task's) series once it left this worker.
func (m *metrics) forgetConnector(name string) {
	m.connectorState.DeletePartialMatch(prometheus.Labels{"connector": name})
}

func (m *metrics) forgetTask(id taskID) {
	labels := prometheus.Labels{"connector": id.Connector, "task": strconv.Itoa(id.Task)}
	for _, v := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{m.sourcePolled, m.sourceWritten, m.sinkRead, m.sinkSent, m.batchSize, m.commitSeconds, m.commitFailures,
		m.recordErrors, m.recordsSkipped, m.dlqProduced, m.taskState} {
		v.DeletePartialMatch(labels)
	}
}
