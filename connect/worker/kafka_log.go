package worker

// kafkaLog is a topic read from the start and kept up to date, with a way
// to wait until everything written before a moment has been read: Kafka
// Connect's KafkaBasedLog, under the config, offset and status stores of a
// distributed worker.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

type kafkaLog struct {
	topic string
	cl    *kgo.Client
	adm   *kadm.Client
	log   *slog.Logger
	apply func(r *kgo.Record)

	// mu guards next and progress. The poll goroutine applies a fetch's
	// records, then advances next and closes progress (replacing it), so
	// a waiter that sees next[p] >= end knows apply ran for every record
	// below end.
	mu       sync.Mutex
	next     map[int32]int64
	progress chan struct{}

	cancel context.CancelFunc
	done   chan struct{}
}

// openKafkaLog starts reading topic from the beginning, calling apply for
// each record from one goroutine in offset order per partition. Reads are
// read_committed, so records of aborted transactions never reach apply.
func openKafkaLog(base []kgo.Opt, topic string, log *slog.Logger, apply func(*kgo.Record)) (*kafkaLog, error) {
	cl, err := kgo.NewClient(append(base,
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
	)...)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", topic, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &kafkaLog{topic: topic, cl: cl, adm: kadm.NewClient(cl), log: log, apply: apply,
		next: map[int32]int64{}, progress: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go l.poll(ctx)
	return l, nil
}

func (l *kafkaLog) poll(ctx context.Context) {
	defer close(l.done)
	for {
		fetches := l.cl.PollFetches(ctx)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				l.log.Warn("reading internal topic", "topic", t, "partition", p, "err", err)
			}
		})
		advanced := map[int32]int64{}
		fetches.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				l.apply(r)
			}
			advanced[r.Partition] = r.Offset + 1
		})
		if len(advanced) == 0 {
			continue
		}
		l.mu.Lock()
		for p, n := range advanced {
			l.next[p] = n
		}
		close(l.progress)
		l.progress = make(chan struct{})
		l.mu.Unlock()
	}
}

// readToEnd waits until every record committed to the topic before the
// call has been applied.
func (l *kafkaLog) readToEnd(ctx context.Context) error {
	ends, err := l.adm.ListCommittedOffsets(ctx, l.topic)
	if err != nil {
		return fmt.Errorf("end offsets of %s: %w", l.topic, err)
	}
	if err := ends.Error(); err != nil {
		return fmt.Errorf("end offsets of %s: %w", l.topic, err)
	}
	for {
		l.mu.Lock()
		behind := false
		ends.Each(func(o kadm.ListedOffset) {
			if o.Offset > l.next[o.Partition] {
				behind = true
			}
		})
		progress := l.progress
		l.mu.Unlock()
		if !behind {
			return nil
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return fmt.Errorf("read %s to its end: %w", l.topic, ctx.Err())
		case <-l.done:
			return fmt.Errorf("read %s to its end: log closed", l.topic)
		}
	}
}

// send writes records (value nil: a tombstone) and waits for the broker's
// acknowledgement of all of them.
func (l *kafkaLog) send(ctx context.Context, records ...logRecord) error {
	krs := make([]*kgo.Record, len(records))
	for i, r := range records {
		krs[i] = &kgo.Record{Topic: l.topic, Key: r.key, Value: r.value}
	}
	if err := l.cl.ProduceSync(ctx, krs...).FirstErr(); err != nil {
		return fmt.Errorf("write to %s: %w", l.topic, err)
	}
	return nil
}

func (l *kafkaLog) close() {
	l.cancel()
	l.cl.Close()
	<-l.done
}

// ensureTopic creates a compacted topic when it does not exist, and checks
// the partition count of one that does when want is set.
func ensureTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32, rf int16, exactPartitions bool) error {
	compact := "compact"
	resp, err := adm.CreateTopic(ctx, partitions, rf, map[string]*string{"cleanup.policy": &compact}, topic)
	switch {
	case err == nil && resp.Err == nil:
		return nil
	case err == nil && errors.Is(resp.Err, kerr.TopicAlreadyExists):
	case err != nil && !errors.Is(err, kerr.TopicAlreadyExists):
		return fmt.Errorf("create topic %s: %w", topic, err)
	case err == nil:
		return fmt.Errorf("create topic %s: %w", topic, resp.Err)
	}
	if !exactPartitions {
		return nil
	}
	td, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("describe topic %s: %w", topic, err)
	}
	t, ok := td[topic]
	if !ok || t.Err != nil {
		return fmt.Errorf("describe topic %s: %v", topic, t.Err)
	}
	if n := int32(len(t.Partitions)); n != partitions {
		return fmt.Errorf("topic %s has %d partitions; the worker needs exactly %d", topic, n, partitions)
	}
	return nil
}
