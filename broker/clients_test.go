package broker_test

// End-to-end produce and consume through real Kafka clients against the
// in-process broker: franz-go, sarama (its default version and a 3.x/4.x
// version), segmentio/kafka-go (its hardcoded versions) and kcat
// (librdkafka), each with every compression codec.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestMain(m *testing.M) {
	testkit.RunChildIfRequested()
	os.Exit(m.Run())
}

var codecs = []string{"none", "gzip", "snappy", "lz4", "zstd"}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func createTopic(t *testing.T, addr, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	adm := kadm.NewClient(testkit.Client(t, addr))
	resp, err := adm.CreateTopic(ctxT(t), partitions, 1, configs, name)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic %s: %v %v", name, err, resp.Err)
	}
}

type kv struct{ key, value string }

func makeRecords(prefix string, n int) []kv {
	out := make([]kv, n)
	for i := range out {
		out[i] = kv{fmt.Sprintf("%s-k%d", prefix, i), fmt.Sprintf("%s-v%d-%s", prefix, i, strings.Repeat("x", i%50))}
	}
	return out
}

func franzCodec(name string) kgo.CompressionCodec {
	switch name {
	case "gzip":
		return kgo.GzipCompression()
	case "snappy":
		return kgo.SnappyCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	}
	return kgo.NoCompression()
}

// consumeAll reads n records of topic partition 0 from the start with
// franz-go, the independent reader for the other clients' writes.
func consumeAll(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := testkit.Client(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []*kgo.Record
	ctx := ctxT(t)
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s[%d]: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

func checkRecords(t *testing.T, got []*kgo.Record, want []kv) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i, r := range got {
		if string(r.Key) != want[i].key || string(r.Value) != want[i].value {
			t.Fatalf("record %d: got %q=%q, want %q=%q", i, r.Key, r.Value, want[i].key, want[i].value)
		}
		if r.Offset != int64(i) {
			t.Fatalf("record %d has offset %d", i, r.Offset)
		}
	}
}

func TestFranzGoProduceConsumeAllCodecs(t *testing.T) {
	b := testkit.StartBroker(t)
	for _, codec := range codecs {
		t.Run(codec, func(t *testing.T) {
			topic := "franz-" + codec
			createTopic(t, b.Addr, topic, 1, nil)
			cl := testkit.Client(t, b.Addr, kgo.ProducerBatchCompression(franzCodec(codec)), kgo.RequiredAcks(kgo.AllISRAcks()))
			want := makeRecords(codec, 500)
			var recs []*kgo.Record
			for _, r := range want {
				recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(r.key), Value: []byte(r.value),
					Headers: []kgo.RecordHeader{{Key: "h", Value: []byte(r.key)}}})
			}
			if err := cl.ProduceSync(ctxT(t), recs...).FirstErr(); err != nil {
				t.Fatalf("produce: %v", err)
			}
			got := consumeAll(t, b.Addr, topic, len(want))
			checkRecords(t, got, want)
			for _, r := range got {
				if len(r.Headers) != 1 || string(r.Headers[0].Value) != string(r.Key) {
					t.Fatalf("headers lost: %+v", r.Headers)
				}
			}
		})
	}
}

func saramaCodec(name string) sarama.CompressionCodec {
	switch name {
	case "gzip":
		return sarama.CompressionGZIP
	case "snappy":
		return sarama.CompressionSnappy
	case "lz4":
		return sarama.CompressionLZ4
	case "zstd":
		return sarama.CompressionZSTD
	}
	return sarama.CompressionNone
}

func TestSaramaProduceConsumeAllCodecs(t *testing.T) {
	b := testkit.StartBroker(t)
	for _, version := range []sarama.KafkaVersion{sarama.DefaultVersion, sarama.V3_6_0_0, sarama.MaxVersion} {
		for _, codec := range codecs {
			t.Run(version.String()+"/"+codec, func(t *testing.T) {
				topic := "sarama-" + strings.ReplaceAll(version.String(), ".", "_") + "-" + codec
				cfg := sarama.NewConfig()
				cfg.Version = version
				cfg.Producer.Return.Successes = true
				cfg.Producer.RequiredAcks = sarama.WaitForAll
				cfg.Producer.Compression = saramaCodec(codec)
				cfg.Producer.Partitioner = sarama.NewManualPartitioner
				cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
				prod, err := sarama.NewSyncProducer([]string{b.Addr}, cfg)
				if err != nil {
					t.Fatalf("sarama producer: %v", err)
				}
				defer prod.Close()
				want := makeRecords(codec, 200)
				var msgs []*sarama.ProducerMessage
				for _, r := range want {
					msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(r.key), Value: sarama.StringEncoder(r.value)})
				}
				if err := prod.SendMessages(msgs); err != nil {
					t.Fatalf("sarama send: %v", err)
				}
				// sarama reads back what sarama wrote...
				cons, err := sarama.NewConsumer([]string{b.Addr}, cfg)
				if err != nil {
					t.Fatalf("sarama consumer: %v", err)
				}
				defer cons.Close()
				pc, err := cons.ConsumePartition(topic, 0, sarama.OffsetOldest)
				if err != nil {
					t.Fatalf("consume partition: %v", err)
				}
				defer pc.Close()
				for i, w := range want {
					select {
					case m := <-pc.Messages():
						if string(m.Key) != w.key || string(m.Value) != w.value || m.Offset != int64(i) {
							t.Fatalf("sarama record %d: %q=%q at %d", i, m.Key, m.Value, m.Offset)
						}
					case err := <-pc.Errors():
						t.Fatalf("sarama consume: %v", err)
					case <-time.After(30 * time.Second):
						t.Fatalf("sarama consumed %d of %d", i, len(want))
					}
				}
				// ...and so does franz-go.
				checkRecords(t, consumeAll(t, b.Addr, topic, len(want)), want)
			})
		}
	}
}

func kafkaGoCodec(name string) compress.Compression {
	switch name {
	case "gzip":
		return kafkago.Gzip
	case "snappy":
		return kafkago.Snappy
	case "lz4":
		return kafkago.Lz4
	case "zstd":
		return kafkago.Zstd
	}
	return 0
}

// segmentio/kafka-go hardcodes Produce v2/v3/v7 and Fetch v2/v5/v10 and
// picks the highest the broker offers; Produce v2 and Fetch v2 (message
// format v1) are below our ranges, so this shows its default paths work
// on the versions we serve.
func TestKafkaGoProduceConsumeAllCodecs(t *testing.T) {
	b := testkit.StartBroker(t)
	for _, codec := range codecs {
		t.Run(codec, func(t *testing.T) {
			topic := "kafkago-" + codec
			createTopic(t, b.Addr, topic, 1, nil)
			w := &kafkago.Writer{Addr: kafkago.TCP(b.Addr), Topic: topic, RequiredAcks: kafkago.RequireAll,
				Compression: kafkaGoCodec(codec), BatchTimeout: 5 * time.Millisecond, BatchSize: 50,
				// A transport of its own: the shared default caches metadata
				// from before this subtest created its topic.
				Transport: &kafkago.Transport{}}
			defer w.Close()
			want := makeRecords(codec, 200)
			var msgs []kafkago.Message
			for _, r := range want {
				msgs = append(msgs, kafkago.Message{Key: []byte(r.key), Value: []byte(r.value)})
			}
			if err := w.WriteMessages(ctxT(t), msgs...); err != nil {
				t.Fatalf("kafka-go write: %v", err)
			}
			r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{b.Addr}, Topic: topic, Partition: 0, MaxWait: 100 * time.Millisecond})
			defer r.Close()
			if err := r.SetOffset(kafkago.FirstOffset); err != nil {
				t.Fatal(err)
			}
			ctx := ctxT(t)
			for i, wnt := range want {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					t.Fatalf("kafka-go read %d: %v", i, err)
				}
				if string(m.Key) != wnt.key || string(m.Value) != wnt.value || m.Offset != int64(i) {
					t.Fatalf("kafka-go record %d: %q=%q at %d", i, m.Key, m.Value, m.Offset)
				}
			}
			checkRecords(t, consumeAll(t, b.Addr, topic, len(want)), want)
		})
	}
}

func needKcat(t *testing.T) string {
	path, err := exec.LookPath("kcat")
	if err != nil {
		// make test installs kcat; outside it, say what is missing.
		if os.Getenv("CI") != "" || os.Getenv("TRIBUTARY_REQUIRE_KCAT") != "" {
			t.Fatalf("kcat is not installed (apt-get install kcat): %v", err)
		}
		t.Skip("kcat not installed; `make test` installs it")
	}
	return path
}

func runKcat(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, needKcat(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("kcat %v: %v\n%s", args, err, ee.Stderr)
		}
		t.Fatalf("kcat %v: %v", args, err)
	}
	return string(out)
}

func TestKcatMetadataProduceConsume(t *testing.T) {
	needKcat(t)
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "kcat-meta", 3, nil)
	meta := runKcat(t, "", "-b", b.Addr, "-L")
	if !strings.Contains(meta, `topic "kcat-meta" with 3 partitions`) || !strings.Contains(meta, b.Addr) {
		t.Fatalf("kcat -L output lacks the topic or broker:\n%s", meta)
	}
	for _, codec := range codecs {
		t.Run(codec, func(t *testing.T) {
			topic := "kcat-" + codec
			createTopic(t, b.Addr, topic, 1, nil)
			want := makeRecords(codec, 100)
			var in strings.Builder
			for _, r := range want {
				fmt.Fprintf(&in, "%s:%s\n", r.key, r.value)
			}
			runKcat(t, in.String(), "-b", b.Addr, "-P", "-t", topic, "-p", "0", "-K:", "-z", codec, "-X", "acks=all")
			out := runKcat(t, "", "-b", b.Addr, "-C", "-t", topic, "-o", "beginning", "-e", "-f", "%o %k=%s\n")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != len(want) {
				t.Fatalf("kcat consumed %d lines, want %d:\n%s", len(lines), len(want), out)
			}
			for i, r := range want {
				if lines[i] != fmt.Sprintf("%d %s=%s", i, r.key, r.value) {
					t.Fatalf("kcat line %d: %q", i, lines[i])
				}
			}
			checkRecords(t, consumeAll(t, b.Addr, topic, len(want)), want)
		})
	}
}
