package file

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// SinkConnector is FileStreamSinkConnector.
type SinkConnector struct {
	config map[string]string
}

// Config defines file.
func (c *SinkConnector) Config() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: FileKey, Importance: connect.ImportanceHigh,
			Documentation: "Destination filename. If not specified, the standard output will be used."})
}

// Validate checks the config.
func (c *SinkConnector) Validate(config map[string]string) error { return c.Config().Validate(config) }

// Start keeps the config.
func (c *SinkConnector) Start(_ connect.ConnectorContext, config map[string]string) error {
	c.config = config
	return nil
}

// TaskConfigs returns one task: one file has one writer.
func (c *SinkConnector) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{{FileKey: c.config[FileKey]}}, nil
}

// Stop does nothing.
func (c *SinkConnector) Stop() error { return nil }

// NewTask returns a SinkTask.
func (c *SinkConnector) NewTask() connect.SinkTask { return &SinkTask{} }

// SinkTask appends values as lines.
type SinkTask struct {
	path string
	f    *os.File // nil for standard output
	w    *bufio.Writer
}

// Start opens the file for appending.
func (t *SinkTask) Start(_ connect.SinkTaskContext, config map[string]string) error {
	t.path = config[FileKey]
	var out io.Writer = os.Stdout
	if t.path != "" {
		f, err := os.OpenFile(t.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open %s: %w", t.path, err)
		}
		t.f, out = f, f
	}
	t.w = bufio.NewWriterSize(out, 256<<10)
	return nil
}

// Open does nothing: one file takes every partition.
func (t *SinkTask) Open([]connect.TopicPartition) error { return nil }

// Put writes each value and a newline; the lines are in the file (not yet
// fsynced) when it returns, as with Kafka's sink.
func (t *SinkTask) Put(_ context.Context, records []connect.SinkRecord) error {
	if len(records) == 0 {
		return nil
	}
	for i := range records {
		writeValue(t.w, records[i].Value)
		t.w.WriteByte('\n')
	}
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	return nil
}

// writeValue writes a value as Kafka's sink prints it (toString): text as
// is, bytes raw, null as "null".
func writeValue(w *bufio.Writer, v any) {
	switch x := v.(type) {
	case string:
		w.WriteString(x)
	case []byte:
		w.Write(x)
	case nil:
		w.WriteString("null")
	case *data.Struct:
		w.WriteString(x.String())
	default:
		fmt.Fprint(w, x)
	}
}

// Flush writes buffered lines and fsyncs the file, so the offsets it
// returns are durable.
func (t *SinkTask) Flush(_ context.Context, offsets map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	if err := t.w.Flush(); err != nil {
		return nil, fmt.Errorf("write %s: %w", t.path, err)
	}
	if t.f != nil {
		if err := t.f.Sync(); err != nil {
			return nil, fmt.Errorf("fsync %s: %w", t.path, err)
		}
	}
	return offsets, nil
}

// Close does nothing: the file stays open for other partitions.
func (t *SinkTask) Close([]connect.TopicPartition) error { return nil }

// Stop flushes and closes the file.
func (t *SinkTask) Stop() error {
	if t.w == nil {
		return nil
	}
	err := t.w.Flush()
	if t.f != nil {
		if cerr := t.f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
