package main

// The benchmark's parts: an in-process broker, standalone workers running
// the generator and the file sink, and the plain-producer ceiling.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/broker"
	"github.com/tributary-streams/tributary/connect/worker"
	_ "github.com/tributary-streams/tributary/connectors/datagen"
	_ "github.com/tributary-streams/tributary/connectors/file"
)

type env struct {
	dir    string
	broker *broker.Broker
	addr   string
	runs   atomic.Int64
}

func newEnv() (*env, error) {
	dir, err := os.MkdirTemp("", "tributary-bench-connect-")
	if err != nil {
		return nil, err
	}
	var cfg broker.Config
	cfg.Listen, cfg.DataDir, cfg.Logger = "127.0.0.1:0", filepath.Join(dir, "broker"), quietLogger()
	if err := cfg.Set("group.initial.rebalance.delay.ms", "0"); err != nil {
		return nil, err
	}
	b, err := broker.Start(context.Background(), cfg)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &env{dir: dir, broker: b, addr: b.Addr()}, nil
}

func (e *env) close() {
	e.broker.Close()
	os.RemoveAll(e.dir)
}

func (e *env) name(prefix string) string { return fmt.Sprintf("%s-%d", prefix, e.runs.Add(1)) }

func (e *env) admin() (*kadm.Client, *kgo.Client, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	if err != nil {
		return nil, nil, err
	}
	return kadm.NewClient(cl), cl, nil
}

// createTopic makes a topic with one partition per generator task.
func (e *env) createTopic(ctx context.Context, topic string, partitions int32) error {
	adm, cl, err := e.admin()
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	return err
}

// waitRecords waits until the topic holds n records.
func (e *env) waitRecords(ctx context.Context, topic string, n int64) error {
	adm, cl, err := e.admin()
	if err != nil {
		return err
	}
	defer cl.Close()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			var total int64
			ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
			if total >= n {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("topic %s did not reach %d records", topic, n)
}

func (e *env) workerConfig() worker.Config {
	cfg := worker.Defaults()
	cfg.BootstrapServers = []string{e.addr}
	cfg.RestListen = ""
	cfg.OffsetStorageFile = filepath.Join(e.dir, e.name("offsets"))
	cfg.OffsetFlushInterval = time.Second
	cfg.Logger = quietLogger()
	return cfg
}

func generator(topic string, n int64, tasks int, schema string) map[string]string {
	return map[string]string{
		"name": "gen-" + topic, "connector.class": "datagen", "topic": topic, "tasks.max": strconv.Itoa(tasks),
		"iterations": strconv.FormatInt(n/int64(tasks), 10), "batch.size": "5000", "value.size": "100", "value.schema": schema,
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
	}
}

// source runs the generator until n records are in the topic. With
// schema "struct" the values are structs written as JSON (schemas off),
// through the 3-transformation chain when chain is set.
func (e *env) source(ctx context.Context, n int64, tasks int, chain bool, schema ...string) (measurement, error) {
	topic := e.name("source")
	if err := e.createTopic(ctx, topic, int32(tasks)); err != nil {
		return measurement{}, err
	}
	n = n / int64(tasks) * int64(tasks)
	vs := "string"
	if len(schema) > 0 {
		vs = schema[0]
	}
	cfg := generator(topic, n, tasks, vs)
	if vs == "struct" {
		cfg["value.converter"] = "org.apache.kafka.connect.json.JsonConverter"
		cfg["value.converter.schemas.enable"] = "false"
	}
	if chain {
		for k, v := range chainConfig() {
			cfg[k] = v
		}
	}
	start, cpu0 := time.Now(), cpuTime()
	w, err := worker.StartStandalone(ctx, e.workerConfig(), cfg)
	if err != nil {
		return measurement{}, err
	}
	err = e.waitRecords(ctx, topic, n)
	m := measurement{records: n, bytes: n * 100, wall: time.Since(start), cpu: cpuTime() - cpu0}
	w.Close()
	return m, err
}

// ceiling produces n 100-byte records with a franz-go producer configured
// as a source task's.
func (e *env) ceiling(ctx context.Context, n int64) (measurement, error) {
	topic := e.name("ceiling")
	if err := e.createTopic(ctx, topic, 2); err != nil {
		return measurement{}, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerLinger(0), kgo.MaxBufferedRecords(100_000), kgo.DefaultProduceTopic(topic))
	if err != nil {
		return measurement{}, err
	}
	defer cl.Close()
	value := make([]byte, 100)
	for i := range value {
		value[i] = 'x'
	}
	var failed atomic.Pointer[error]
	start, cpu0 := time.Now(), cpuTime()
	for i := int64(0); i < n; i++ {
		v := make([]byte, 100)
		copy(v, value)
		cl.Produce(ctx, &kgo.Record{Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Store(&err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return measurement{}, err
	}
	if p := failed.Load(); p != nil {
		return measurement{}, *p
	}
	return measurement{records: n, bytes: n * 100, wall: time.Since(start), cpu: cpuTime() - cpu0}, nil
}

// pipeline runs the generator and a file sink until the file holds n lines.
func (e *env) pipeline(ctx context.Context, n int64, tasks int) (measurement, error) {
	topic := e.name("pipeline")
	if err := e.createTopic(ctx, topic, int32(tasks)); err != nil {
		return measurement{}, err
	}
	n = n / int64(tasks) * int64(tasks)
	out := filepath.Join(e.dir, topic+".txt")
	sink := map[string]string{"name": "sink-" + topic, "connector.class": "FileStreamSink", "topics": topic, "file": out,
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"}
	start, cpu0 := time.Now(), cpuTime()
	w, err := worker.StartStandalone(ctx, e.workerConfig(), generator(topic, n, tasks, "string"), sink)
	if err != nil {
		return measurement{}, err
	}
	defer w.Close()
	want := n * 101 // 100 bytes and a newline per record
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		if st, err := os.Stat(out); err == nil && st.Size() >= want {
			return measurement{records: n, bytes: n * 100, wall: time.Since(start), cpu: cpuTime() - cpu0}, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return measurement{}, fmt.Errorf("the sink file did not reach %d records", n)
}
