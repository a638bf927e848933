// Package streamstest runs a topology in memory, without a broker: the
// analogue of Kafka Streams' TopologyTestDriver. Pipe records into input
// topics, advance the wall clock, read output topics and stores.
//
// Every sub-topology runs as one task (partition 0) over the in-memory
// state engine. Records written to a topic that the topology reads
// (repartition topics, or your own) are delivered to it at once, and the
// driver commits after every piped record, so caches flush and each input
// shows its effect on the outputs right away.
package streamstest

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tributary-streams/tributary/streams"
	"github.com/tributary-streams/tributary/streams/internal/topology"
	"github.com/tributary-streams/tributary/streams/state"
)

// Driver runs one topology.
type Driver struct {
	g      *topology.Graph
	set    topology.DriverSettings
	engine *state.Memory
	tasks  []*topology.Task
	shards []*state.Shard
	global *topology.Task
	// readers maps each physical topic the topology reads to its task.
	readers map[string]*topology.Task
	output  map[string][]RawRecord
	read    map[string]int // per topic: records already read by OutputTopic
	queue   []RawRecord
	offsets map[string]int64
	now     int64
	closed  bool
}

// RawRecord is a record as it is on a topic.
type RawRecord struct {
	Topic     string
	Offset    int64
	Key       []byte
	Value     []byte
	Timestamp int64
	Headers   []streams.Header
}

// ErrClosed reports use of a closed driver.
var ErrClosed = errors.New("streamstest: driver closed")

// NewDriver builds the tasks of a topology. opts are the App's options;
// the application id defaults to "test-app", and WithWallClock sets the
// start of the driver's wall clock (default: now).
func NewDriver(t *streams.Topology, opts ...streams.Option) (*Driver, error) {
	if t == nil {
		return nil, errors.New("streamstest: nil topology")
	}
	anyOpts := make([]any, len(opts))
	for i, o := range opts {
		anyOpts[i] = o
	}
	set, err := topology.ResolveDriverSettings(anyOpts)
	if err != nil {
		return nil, err
	}
	g := topology.GraphOf(t)
	d := &Driver{g: g, set: set, engine: state.NewMemory(), readers: map[string]*topology.Task{},
		output: map[string][]RawRecord{}, read: map[string]int{}, offsets: map[string]int64{}, now: set.Start.UnixMilli()}
	if len(g.Globals) > 0 {
		sh, err := d.engine.Shard("global")
		if err != nil {
			return nil, err
		}
		d.shards = append(d.shards, sh)
		gt, err := topology.NewGlobalTask(g, d.env(sh))
		if err != nil {
			d.Close()
			return nil, err
		}
		d.global = gt
		for _, topic := range gt.Sources() {
			d.readers[topic] = gt
		}
	}
	for _, st := range g.Subtopologies {
		id := topology.TaskID{Subtopology: st.ID}
		sh, err := d.engine.Shard(id.String())
		if err != nil {
			d.Close()
			return nil, err
		}
		d.shards = append(d.shards, sh)
		env := d.env(sh)
		if d.global != nil {
			if env.Global, err = d.engine.View("global"); err != nil {
				d.Close()
				return nil, err
			}
		}
		task, err := topology.NewTask(g, id, env)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.tasks = append(d.tasks, task)
		for _, topic := range task.Sources() {
			d.readers[topic] = task
		}
	}
	return d, nil
}

func (d *Driver) env(sh *state.Shard) *topology.Env {
	return &topology.Env{App: d.set.App, Shard: sh, Output: (*capture)(d), CacheBytes: d.set.CacheBytes,
		OnDeserializationError: d.set.OnDeserializationError, Now: func() int64 { return d.now }, Logger: d.set.Logger}
}

// capture is the driver as the tasks' output.
type capture Driver

func (c *capture) Send(topic string, _ int32, key, value []byte, ts int64, headers []topology.Header) {
	d := (*Driver)(c)
	r := RawRecord{Topic: topic, Offset: d.offsets[topic], Key: key, Value: value, Timestamp: ts, Headers: headers}
	d.offsets[topic]++
	d.output[topic] = append(d.output[topic], r)
	if d.readers[topic] != nil {
		d.queue = append(d.queue, r)
	}
}

// Close closes the tasks.
func (d *Driver) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	var errs []error
	for _, t := range d.tasks {
		errs = append(errs, t.Close())
	}
	for _, sh := range d.shards {
		errs = append(errs, sh.Close())
	}
	return errors.Join(errs...)
}

// pipe delivers one record to the task reading its topic, then what that
// produces for the topology, then commits.
func (d *Driver) pipe(topic string, key, value []byte, ts int64, headers []streams.Header) error {
	if d.closed {
		return ErrClosed
	}
	task := d.readers[topic]
	if task == nil {
		return fmt.Errorf("streamstest: no source of the topology reads topic %s", topic)
	}
	in := &topology.Input{Topic: topic, Offset: d.offsets[topic], Key: key, Value: value, Timestamp: ts, Headers: headers}
	d.offsets[topic]++
	if err := task.Process(in); err != nil {
		d.abort()
		return err
	}
	return d.settle()
}

// settle delivers queued records, flushes caches until nothing more comes
// out, and commits every task.
func (d *Driver) settle() error {
	for {
		for len(d.queue) > 0 {
			r := d.queue[0]
			d.queue = d.queue[1:]
			in := &topology.Input{Topic: r.Topic, Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp, Headers: r.Headers}
			if err := d.readers[r.Topic].Process(in); err != nil {
				d.abort()
				return err
			}
		}
		for _, t := range d.tasks {
			if err := t.Flush(); err != nil {
				d.abort()
				return err
			}
		}
		if len(d.queue) == 0 {
			break
		}
	}
	for _, sh := range d.shards {
		if err := sh.Commit(nil); err != nil {
			return err
		}
	}
	return nil
}

func (d *Driver) abort() {
	d.queue = nil
	for _, sh := range d.shards {
		sh.Abort()
	}
}

// AdvanceWallClockTime moves the wall clock on and runs the wall-clock
// punctuators that come due.
func (d *Driver) AdvanceWallClockTime(by time.Duration) error {
	if d.closed {
		return ErrClosed
	}
	d.now += by.Milliseconds()
	for _, t := range d.tasks {
		if err := t.PunctuateWallClock(d.now); err != nil {
			d.abort()
			return err
		}
	}
	return d.settle()
}

// WallClock is the driver's wall clock.
func (d *Driver) WallClock() time.Time { return time.UnixMilli(d.now) }

// Stats sums the counters of every task: records processed, late records
// dropped, records skipped.
func (d *Driver) Stats() (processed, late, skipped int64) {
	for _, t := range d.tasks {
		s := t.Stats()
		processed += s.Processed.Load()
		late += s.Late.Load()
		skipped += s.Skipped.Load()
	}
	return processed, late, skipped
}

// Output returns every record written to topic so far (internal topics by
// their full name, <application.id>-<name>).
func (d *Driver) Output(topic string) []RawRecord { return d.output[topic] }

func (d *Driver) store(name string) (any, *topology.Store, error) {
	st := d.g.Stores[name]
	if st == nil {
		return nil, nil, fmt.Errorf("streamstest: no store %s", name)
	}
	if st.Global {
		return d.global.Store(name), st, nil
	}
	for _, t := range d.tasks {
		if s := t.Store(name); s != nil {
			return s, st, nil
		}
	}
	return nil, nil, fmt.Errorf("streamstest: store %s is in no task", name)
}

// Topics lists every topic written so far.
func (d *Driver) Topics() []string {
	var out []string
	for t := range d.output {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}
