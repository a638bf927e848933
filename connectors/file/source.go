package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// SourceConnector is FileStreamSourceConnector.
type SourceConnector struct {
	config map[string]string
}

// Config defines file, topic and batch.size.
func (c *SourceConnector) Config() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: FileKey, Importance: connect.ImportanceHigh,
			Documentation: "Source filename: the text file to read, one record per line. If not specified, the standard input is read (without offsets: a restart does not read again what was sent before)."}).
		Define(connect.ConfigKey{Name: TopicKey, Type: connect.TypeList, Required: true, Importance: connect.ImportanceHigh,
			Documentation: "The topic to publish data to.",
			Validator: connect.ValidatorFunc("a single topic name", func(v any) error {
				if l := v.([]string); len(l) != 1 {
					return errors.New("want exactly one topic (not a comma-separated list)")
				}
				return nil
			})}).
		Define(connect.ConfigKey{Name: BatchSizeKey, Type: connect.TypeInt, Default: "2000", Importance: connect.ImportanceLow, Validator: connect.AtLeast(1),
			Documentation: "The maximum number of records the source task can read from the file each time it is polled."})
}

// Validate checks the config.
func (c *SourceConnector) Validate(config map[string]string) error {
	return c.Config().Validate(config)
}

// Start keeps the config.
func (c *SourceConnector) Start(_ connect.ConnectorContext, config map[string]string) error {
	c.config = config
	return nil
}

// TaskConfigs returns one task: a file is read by one reader.
func (c *SourceConnector) TaskConfigs(int) ([]map[string]string, error) {
	task := map[string]string{FileKey: c.config[FileKey], TopicKey: strings.TrimSpace(c.config[TopicKey])}
	if v, ok := c.config[BatchSizeKey]; ok {
		task[BatchSizeKey] = v
	}
	return []map[string]string{task}, nil
}

// Stop does nothing.
func (c *SourceConnector) Stop() error { return nil }

// NewTask returns a SourceTask.
func (c *SourceConnector) NewTask() connect.SourceTask { return &SourceTask{} }

// SourceTask reads lines from the file.
type SourceTask struct {
	path      string
	topic     string
	batchSize int
	log       *slog.Logger
	ctx       connect.SourceTaskContext

	f         *os.File
	stdin     <-chan []byte // standard input's chunks, when path is ""
	stdinEOF  bool
	position  int64 // offset in the file of buf[0]
	buf       []byte
	partition map[string]any
	// idle is how long Poll waits when the file has no complete line.
	idle time.Duration
}

// Start reads the config; the file is opened (and the committed position
// read) on the first Poll, so a file that does not exist yet is waited for.
func (t *SourceTask) Start(ctx connect.SourceTaskContext, config map[string]string) error {
	c, err := (&SourceConnector{}).Config().Parse(config)
	if err != nil {
		return err
	}
	t.path, t.topic, t.batchSize = c.String(FileKey), strings.Join(c.List(TopicKey), ""), c.Int(BatchSizeKey)
	t.ctx, t.log = ctx, ctx.Logger()
	t.idle = 100 * time.Millisecond
	if t.path == "" {
		t.stdin = stdin()
		t.log.Info("reading standard input (no file is set)")
		return nil
	}
	t.partition = map[string]any{FilenameField: t.path}
	return nil
}

func (t *SourceTask) open() error {
	f, err := os.Open(t.path)
	if err != nil {
		return err
	}
	offset, err := t.ctx.Offset(t.partition)
	if err != nil {
		f.Close()
		return connect.Retriable(fmt.Errorf("read the committed position of %s: %w", t.path, err))
	}
	var pos int64
	if offset != nil {
		p, ok := offset[PositionField].(int64)
		if !ok || p < 0 {
			f.Close()
			return fmt.Errorf("committed offset %v of %s has no valid %q", offset, t.path, PositionField)
		}
		pos = p
	}
	if _, err := f.Seek(pos, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("seek %s to %d: %w", t.path, pos, err)
	}
	t.f, t.position, t.buf = f, pos, t.buf[:0]
	t.log.Info("reading file", "file", t.path, "position", pos)
	return nil
}

// Poll returns up to batch.size complete lines; none (after a short wait)
// when there are none yet.
func (t *SourceTask) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	if t.f == nil && t.stdin == nil {
		if err := t.open(); err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
			t.log.Debug("waiting for the file to exist", "file", t.path)
			return nil, wait(ctx, time.Second)
		}
	}
	var out []connect.SourceRecord
	for len(out) < t.batchSize {
		i := bytes.IndexByte(t.buf, '\n')
		if i < 0 {
			if len(t.buf) > 0 && len(out) > 0 {
				break // a partial line: send what we have
			}
			n, err := t.fill()
			if err != nil {
				return nil, err
			}
			if n == 0 {
				break
			}
			continue
		}
		line := t.buf[:i]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		t.position += int64(i + 1)
		rec := connect.SourceRecord{
			Record: connect.Record{Topic: t.topic, Partition: connect.AnyPartition, ValueSchema: data.StringSchema, Value: string(line)},
		}
		if t.stdin == nil {
			rec.SourcePartition, rec.SourceOffset = t.partition, map[string]any{PositionField: t.position}
		}
		out = append(out, rec)
		t.buf = t.buf[i+1:]
	}
	if len(out) == 0 {
		return nil, wait(ctx, t.idle)
	}
	return out, nil
}

// fill reads more of the file (or what standard input has) after buf.
func (t *SourceTask) fill() (int, error) {
	if t.stdin != nil {
		if t.stdinEOF {
			return 0, nil
		}
		select {
		case chunk, ok := <-t.stdin:
			if !ok {
				t.stdinEOF = true
				t.log.Info("end of standard input")
				return 0, nil
			}
			t.buf = append(t.buf, chunk...)
			return len(chunk), nil
		default:
			return 0, nil
		}
	}
	if cap(t.buf)-len(t.buf) < 64<<10 {
		nb := make([]byte, len(t.buf), 2*cap(t.buf)+128<<10)
		copy(nb, t.buf)
		t.buf = nb
	}
	n, err := t.f.Read(t.buf[len(t.buf):cap(t.buf)])
	t.buf = t.buf[:len(t.buf)+n]
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("read %s: %w", t.path, err)
	}
	return n, nil
}

func wait(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
	}
	return nil
}

// Commit does nothing: the position lives in the offsets.
func (t *SourceTask) Commit(context.Context, []connect.Position) error { return nil }

// Stop closes the file.
func (t *SourceTask) Stop() error {
	if t.f != nil {
		return t.f.Close()
	}
	return nil
}
