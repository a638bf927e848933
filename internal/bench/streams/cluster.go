package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/broker"
)

// cluster is a fresh in-process broker for one run.
type cluster struct {
	b    *broker.Broker
	addr string
	dir  string
	cl   *kgo.Client
	adm  *kadm.Client
}

func startCluster(ctx context.Context) (*cluster, error) {
	dir, err := os.MkdirTemp("", "tributary-bench-streams-")
	if err != nil {
		return nil, err
	}
	// No initial rebalance delay (-1 is Kafka's 0): the group forms at
	// once, as in the broker benchmark.
	b, err := broker.Start(ctx, broker.Config{Listen: "127.0.0.1:0", DataDir: dir, GroupInitialRebalanceDelayMs: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start broker: %w", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(100_000))
	if err != nil {
		b.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	return &cluster{b: b, addr: b.Addr(), dir: dir, cl: cl, adm: kadm.NewClient(cl)}, nil
}

func (c *cluster) close() {
	c.cl.Close()
	c.b.Close()
	os.RemoveAll(c.dir)
}

// tempDir is a directory inside the run's, removed with it.
func (c *cluster) tempDir(name string) string {
	d := c.dir + "/" + name
	os.MkdirAll(d, 0o755)
	return d
}

func (c *cluster) createTopic(ctx context.Context, name string, partitions int32, configs map[string]*string) error {
	resp, err := c.adm.CreateTopic(ctx, partitions, -1, configs, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("create topic %s: %w", name, err)
	}
	return nil
}

// fill produces n records made by gen, and waits for all of them.
func (c *cluster) fill(ctx context.Context, topic string, n int, gen func(i int) *kgo.Record) error {
	errc := make(chan error, 1)
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			select {
			case errc <- err:
			default:
			}
		}
	}
	for i := range n {
		r := gen(i)
		r.Topic = topic
		c.cl.Produce(ctx, r, promise)
	}
	if err := c.cl.Flush(ctx); err != nil {
		return err
	}
	select {
	case err := <-errc:
		return fmt.Errorf("fill %s: %w", topic, err)
	default:
		return nil
	}
}

// endOffsets sums the end offsets of a topic.
func (c *cluster) records(ctx context.Context, topic string) (int64, error) {
	ends, err := c.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return 0, err
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n, nil
}

// waitConsumed waits until group has committed the end of every
// partition of topics: everything was processed.
func (c *cluster) waitConsumed(ctx context.Context, group string, topics []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		// The application creates its internal topics: until then, listing
		// them fails, and it is not done.
		ends, err := c.adm.ListEndOffsets(ctx, topics...)
		if err == nil {
			err = ends.Error()
		}
		committed, ferr := c.adm.FetchOffsets(ctx, group)
		if err == nil && ferr == nil {
			done := true
			ends.Each(func(o kadm.ListedOffset) {
				if o.Offset == 0 {
					return
				}
				got, ok := committed.Lookup(o.Topic, o.Partition)
				if !ok || got.At < o.Offset {
					done = false
				}
			})
			if done {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("group %s has not consumed %v after %s (last error: %v)", group, topics, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// readLatest reads a topic from the start to its end and keeps the last
// value of each key.
func (c *cluster) readLatest(ctx context.Context, topic string) (map[string]string, error) {
	total, err := c.records(ctx, topic)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(64<<20))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	latest := map[string]string{}
	var n int64
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for n < total {
		fs := cl.PollFetches(rctx)
		if err := rctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %d of %d records: %w", topic, n, total, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			latest[string(r.Key)] = string(r.Value)
		})
	}
	return latest, nil
}

// cpuTime is this process's CPU time (user + system) from /proc.
func cpuTime() (time.Duration, error) {
	raw, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/self/stat: %d fields", len(fields))
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/self/stat: bad utime/stime")
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, nil
}

// measure times start (which starts an application and returns its stop
// function) until done returns, with the CPU used meanwhile.
func measure(ctx context.Context, start func() (stop func() error, err error), done func() error) (result, error) {
	var r result
	cpu0, err := cpuTime()
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	stop, err := start()
	if err != nil {
		return r, err
	}
	err = done()
	r.elapsed = time.Since(t0)
	cpu1, cerr := cpuTime()
	r.cpu = cpu1 - cpu0
	if serr := stop(); err == nil {
		err = serr
	}
	if err == nil {
		err = cerr
	}
	return r, err
}
