package parquet

import (
	"context"
	"log/slog"
	"time"

	"github.com/tributary-streams/tributary/connect"
)

// Task is the sink task: a partitionWriter per assigned Kafka partition.
// All methods run on the runtime's one goroutine.
type Task struct {
	cfg     Config
	part    *partitioner
	log     *slog.Logger
	writers map[connect.TopicPartition]*partitionWriter
	now     func() time.Time
}

var _ connect.SinkTask = (*Task)(nil)

// NewTask returns an unstarted task.
func NewTask() *Task { return &Task{now: time.Now} }

// Start reads the config and checks the output directory.
func (t *Task) Start(ctx connect.SinkTaskContext, config map[string]string) error {
	cfg, err := ParseConfig(config)
	if err != nil {
		return err
	}
	if err := cfg.checkWritable(); err != nil {
		return err
	}
	part, err := newPartitioner(cfg)
	if err != nil {
		return err
	}
	t.cfg, t.part, t.writers = cfg, part, map[connect.TopicPartition]*partitionWriter{}
	t.log = slog.Default()
	if ctx != nil {
		t.log = ctx.Logger()
	}
	return nil
}

// Open prepares writers for newly assigned partitions and removes the
// temporary files a crashed predecessor left for them.
func (t *Task) Open(partitions []connect.TopicPartition) error {
	for _, tp := range partitions {
		w := newPartitionWriter(tp, &t.cfg, t.part)
		if err := w.removeStaleTemp(); err != nil {
			return err
		}
		t.writers[tp] = w
	}
	return nil
}

// Put writes records to the open files, committing the files of a
// partition whenever it rotates.
func (t *Task) Put(_ context.Context, records []connect.SinkRecord) error {
	now := t.now()
	for i := range records {
		r := &records[i]
		w := t.writers[r.Original]
		if w == nil {
			// Records of a partition not opened (the runtime opens before
			// delivering; be safe).
			if err := t.Open([]connect.TopicPartition{r.Original}); err != nil {
				return err
			}
			w = t.writers[r.Original]
		}
		if err := w.write(r, now); err != nil {
			return err
		}
	}
	for _, w := range t.writers {
		if err := w.tick(now); err != nil {
			return err
		}
	}
	return nil
}

// Flush commits nothing by itself: it reports, for each partition, the
// offset up to which records are in committed files. Records of open
// files are read again after a restart and land in the same file names.
func (t *Task) Flush(_ context.Context, offsets map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	out := make(map[connect.TopicPartition]int64, len(offsets))
	for tp, off := range offsets {
		w := t.writers[tp]
		if w == nil {
			continue
		}
		if c, ok := w.committed(); ok {
			out[tp] = min(c, off)
		}
	}
	return out, nil
}

// Close drops the open files of revoked partitions.
func (t *Task) Close(partitions []connect.TopicPartition) error {
	for _, tp := range partitions {
		if w := t.writers[tp]; w != nil {
			w.abort()
			delete(t.writers, tp)
		}
	}
	return nil
}

// Stop drops every open file.
func (t *Task) Stop() error {
	for tp, w := range t.writers {
		w.abort()
		delete(t.writers, tp)
	}
	return nil
}
