package cli_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// recordJSON is the documented line shape of `consume --output json`.
type recordJSON struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Offset    int64   `json:"offset"`
	Timestamp int64   `json:"timestamp"`
	Key       *string `json:"key"`
	Value     *string `json:"value"`
	Headers   []struct {
		Key   string  `json:"key"`
		Value *string `json:"value"`
	} `json:"headers"`
}

func createTopic(t *testing.T, bs, topic string, partitions int) {
	t.Helper()
	mustRun(t, "", "topics", "create", "--topic", topic, "--partitions", fmt.Sprint(partitions), "--bootstrap-server", bs)
}

// TestProduceConsumeEachCodec produces keyed records with headers under
// every compression codec, then reads them back with the print properties
// and as JSON, and checks with a plain client that the batches really were
// compressed with the codec asked for.
func TestProduceConsumeEachCodec(t *testing.T) {
	bs := testkit.Bootstrap(t)
	codecs := map[string]uint8{"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
	for codec, attr := range codecs {
		t.Run(codec, func(t *testing.T) {
			topic := uniqueName("codec-" + codec)
			createTopic(t, bs, topic, 1)
			start := time.Now().Add(-time.Minute).UnixMilli()
			// The last, long, repetitive record makes the batch worth
			// compressing: franz-go sends a batch uncompressed when
			// compression would not shrink it.
			long := strings.Repeat("abc", 700)
			input := "trace=1,src=a\tk1:v1\n" +
				"trace=2\tk2:value:with:colons\n" +
				"\tk3:\n" + // no headers, empty value
				"\tk4:" + long + "\n"
			out := mustRun(t, input, "produce", "--bootstrap-server", bs, "--topic", topic,
				"--compression-codec", codec, "--acks", "all",
				"--property", "parse.key=true", "--property", "key.separator=:",
				"--property", "parse.headers=true", "--property", `headers.delimiter=\t`,
				"--property", "headers.separator=,", "--property", "headers.key.separator==")
			if out != "" {
				t.Errorf("produce printed %q, want nothing", out)
			}

			r := run(t, "", "consume", "--bootstrap-server", bs, "--topic", topic, "--from-beginning", "--max-messages", "4",
				"--property", "print.key=true", "--property", "print.partition=true", "--property", "print.offset=true",
				"--property", "print.headers=true", "--property", "key.separator=|")
			if r.code != 0 {
				t.Fatalf("consume: exit %d: %s", r.code, r.stderr)
			}
			want := "Partition:0|Offset:0|trace:1,src:a|k1|v1\n" +
				"Partition:0|Offset:1|trace:2|k2|value:with:colons\n" +
				"Partition:0|Offset:2|NO_HEADERS|k3|\n" +
				"Partition:0|Offset:3|NO_HEADERS|k4|" + long + "\n"
			if r.stdout != want {
				t.Errorf("consume text:\ngot:\n%s\nwant:\n%s", r.stdout, want)
			}
			if !strings.Contains(r.stderr, "Processed a total of 4 messages") {
				t.Errorf("consume stderr: %q", r.stderr)
			}

			tsOut := mustRun(t, "", "consume", "--bootstrap-server", bs, "--topic", topic, "--from-beginning", "--max-messages", "1",
				"--property", "print.timestamp=true")
			var ts int64
			var value string
			if _, err := fmt.Sscanf(strings.Replace(tsOut, "\t", " ", 1), "CreateTime:%d %s", &ts, &value); err != nil || ts < start || value != "v1" {
				t.Errorf("print.timestamp output %q: ts=%d value=%q err=%v", tsOut, ts, value, err)
			}

			lines := strings.Split(strings.TrimSuffix(mustRun(t, "", "consume", "--bootstrap-server", bs, "--topic", topic,
				"--from-beginning", "--max-messages", "3", "--output", "json"), "\n"), "\n")
			if len(lines) != 3 {
				t.Fatalf("json: want 3 lines, got %q", lines)
			}
			var recs []recordJSON
			for _, l := range lines {
				var rec recordJSON
				decodeJSON(t, l, &rec)
				recs = append(recs, rec)
			}
			if r := recs[0]; r.Topic != topic || r.Partition != 0 || r.Offset != 0 || r.Timestamp < start ||
				r.Key == nil || *r.Key != "k1" || r.Value == nil || *r.Value != "v1" ||
				len(r.Headers) != 2 || r.Headers[0].Key != "trace" || *r.Headers[0].Value != "1" || r.Headers[1].Key != "src" {
				t.Errorf("json record 0: %+v", r)
			}
			if r := recs[1]; r.Offset != 1 || *r.Value != "value:with:colons" || len(r.Headers) != 1 {
				t.Errorf("json record 1: %+v", r)
			}
			if r := recs[2]; r.Offset != 2 || *r.Key != "k3" || r.Value == nil || *r.Value != "" || r.Headers == nil || len(r.Headers) != 0 {
				t.Errorf("json record 2: %+v", r)
			}

			// The codec reached the wire: the stored batches say so. The
			// batch holding the long record (offset 3) is compressed with
			// the codec. The records before it may have gone out in batches
			// of their own (the producer does not linger, so under load
			// the first line can be sent before the next is read), and
			// franz-go sends those small batches uncompressed; no batch
			// uses another codec.
			cl := testkit.Client(t, bs, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var recsRaw []*kgo.Record
			for len(recsRaw) < 4 {
				fetches := cl.PollFetches(ctx)
				if err := fetches.Err(); err != nil {
					t.Fatalf("fetch after %d records: %v", len(recsRaw), err)
				}
				recsRaw = append(recsRaw, fetches.Records()...)
			}
			for _, r := range recsRaw {
				got := r.Attrs.CompressionType()
				switch {
				case r.Offset == 3 && got != attr:
					t.Errorf("batch of the long record (offset 3): compression type %d, want %d (%s)", got, attr, codec)
				case got != attr && got != 0:
					t.Errorf("batch of offset %d: compression type %d, want %d (%s) or none", r.Offset, got, attr, codec)
				}
			}
			if recsRaw[3].Offset != 3 || string(recsRaw[3].Value) != long {
				t.Errorf("fetched record 3 is at offset %d with a %d-byte value, want the long record at 3", recsRaw[3].Offset, len(recsRaw[3].Value))
			}
		})
	}
}

func TestProduceStopsAtBadLineAndKeepsEarlierRecords(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic := uniqueName("badline")
	createTopic(t, bs, topic, 1)
	r := mustFail(t, exitError, `line 3: no key separator ":" (key.separator) found: "no separator here"`,
		"a:1\nb:2\nno separator here\nc:3\n",
		"produce", "--bootstrap-server", bs, "--topic", topic, "--property", "parse.key=true", "--property", "key.separator=:")
	if !strings.Contains(r.stderr, "the 2 records before it were produced") {
		t.Errorf("stderr should say what was kept: %q", r.stderr)
	}
	out := mustRun(t, "", "consume", "--bootstrap-server", bs, "--topic", topic, "--from-beginning", "--timeout-ms", "1500",
		"--property", "print.key=true", "--property", "key.separator==")
	if out != "a=1\nb=2\n" {
		t.Errorf("records before the bad line: got %q, want %q", out, "a=1\nb=2\n")
	}
}

func TestProduceReportsFailedRecords(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic := uniqueName("onepart")
	createTopic(t, bs, topic, 1)
	r := mustFail(t, exitError, "2 of 2 records failed", "x\ny\n",
		"produce", "--bootstrap-server", bs, "--topic", topic, "--partition", "7", "--timeout", "5s", "--output", "json")
	if !strings.Contains(r.stdout, `"failed": 2`) {
		t.Errorf("json summary: %q", r.stdout)
	}
}

func TestProduceToPartitionWithAcks(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic := uniqueName("acks")
	createTopic(t, bs, topic, 3)
	for _, acks := range []string{"1", "0", "-1"} {
		mustRun(t, "acks="+acks+"\n", "produce", "--bootstrap-server", bs, "--topic", topic, "--partition", "2", "--acks", acks)
	}
	// acks=0 is fire-and-forget: wait until all three are visible.
	testkit.Eventually(t, 10*time.Second, func() error {
		out := run(t, "", "consume", "--bootstrap-server", bs, "--topic", topic, "--partition", "2", "--offset", "earliest",
			"--timeout-ms", "500").stdout
		if out != "acks=1\nacks=0\nacks=-1\n" {
			return fmt.Errorf("partition 2 holds %q", out)
		}
		return nil
	})
	out := mustRun(t, "", "consume", "--bootstrap-server", bs, "--topic", topic, "--partition", "2", "--offset", "1",
		"--max-messages", "1", "--property", "print.offset=true")
	if out != "Offset:1\tacks=0\n" {
		t.Errorf("--offset 1: got %q", out)
	}
	r := run(t, "", "consume", "--bootstrap-server", bs, "--topic", topic, "--partition", "0", "--offset", "earliest", "--timeout-ms", "300")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "Processed a total of 0 messages") {
		t.Errorf("empty partition with --timeout-ms: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	mustFail(t, exitError, "has 3 partitions (0-2): --partition 5 does not exist", "",
		"consume", "--bootstrap-server", bs, "--topic", topic, "--partition", "5", "--timeout-ms", "300")
	mustFail(t, exitError, `topic "no-such-topic" does not exist`, "",
		"consume", "--bootstrap-server", bs, "--topic", "no-such-topic", "--timeout-ms", "300")
}

// TestConsumeStopsOnCancel checks that an interrupt (context cancel) ends a
// consumer that has no --timeout-ms, with exit 0.
func TestConsumeStopsOnCancel(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic := uniqueName("cancel")
	createTopic(t, bs, topic, 1)
	mustRun(t, "one\n", "produce", "--bootstrap-server", bs, "--topic", topic)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		done <- runContext(ctx, "", "consume", "--bootstrap-server", bs, "--topic", topic, "--from-beginning")
	}()
	time.AfterFunc(time.Second, cancel)
	select {
	case r := <-done:
		if r.code != 0 || r.stdout != "one\n" {
			t.Errorf("cancelled consume: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("consume did not stop after its context was cancelled")
	}
}
