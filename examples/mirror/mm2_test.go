package mirror_test

// The README's Mirror example: mm2.properties, as shown there, run with
// `tributary mirror run` against two test brokers standing in for
// 127.0.0.1:9092 (us-west) and 127.0.0.1:9093 (us-east).

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/cli"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestReadmeMirrorExample(t *testing.T) {
	example, err := os.ReadFile("mm2.properties")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```properties\n"+string(example)+"```") {
		t.Fatal("README's Mirror section does not show examples/mirror/mm2.properties as it is")
	}

	west, east := testkit.StartBroker(t), testkit.StartBroker(t)
	text := strings.NewReplacer("127.0.0.1:9092", west.Addr, "127.0.0.1:9093", east.Addr).Replace(string(example))
	file := filepath.Join(t.TempDir(), "mm2.properties")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	testkit.CreateTopic(t, west.Addr, "orders-eu", 2)
	testkit.CreateTopic(t, west.Addr, "payments", 1)
	testkit.CreateTopic(t, west.Addr, "clickstream", 1)
	testkit.CreateTopic(t, east.Addr, "orders-east", 1)
	var recs []*kgo.Record
	for i := 0; i < 20; i++ {
		recs = append(recs,
			&kgo.Record{Topic: "orders-eu", Partition: int32(i % 2), Value: []byte(fmt.Sprintf("order %d", i))},
			&kgo.Record{Topic: "payments", Value: []byte(fmt.Sprintf("payment %d", i))},
			&kgo.Record{Topic: "clickstream", Value: []byte("click")})
	}
	producer := testkit.Client(t, west.Addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := producer.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	testkit.Produce(t, east.Addr, &kgo.Record{Topic: "orders-east", Value: []byte("east order")})
	// An application on us-west has read orders-eu up to here.
	offsets := kadm.Offsets{}
	offsets.Add(kadm.Offset{Topic: "orders-eu", Partition: 0, At: 4, LeaderEpoch: -1})
	offsets.Add(kadm.Offset{Topic: "orders-eu", Partition: 1, At: 7, LeaderEpoch: -1})
	if resp, err := testkit.Admin(t, west.Addr).CommitOffsets(context.Background(), "shipping", offsets); err != nil || resp.Error() != nil {
		t.Fatalf("commit: %v %v", err, resp.Error())
	}

	ctx, cancel := context.WithCancel(context.Background())
	exit := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		exit <- cli.Execute(ctx, []string{"mirror", "run", file, "--log-level", "warn"}, strings.NewReader(""), io.Discard, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-exit; code != 0 {
			t.Errorf("tributary mirror run exited %d: %s", code, stderr.String())
		}
		if t.Failed() {
			t.Log(stderr.String())
		}
	}()

	if got := testkit.Consume(t, east.Addr, "us-west.orders-eu", 20); len(got) != 20 {
		t.Fatalf("us-west.orders-eu on us-east: %d records", len(got))
	}
	if got := testkit.Consume(t, east.Addr, "us-west.payments", 20); len(got) != 20 {
		t.Fatalf("us-west.payments on us-east: %d records", len(got))
	}
	if got := testkit.Consume(t, west.Addr, "us-east.orders-east", 1); string(got[0].Value) != "east order" {
		t.Fatalf("us-east.orders-east on us-west: %q", got[0].Value)
	}
	// The group's offsets arrive on us-east, where it has no members.
	testkit.Eventually(t, 30*time.Second, func() error {
		resp, err := testkit.Admin(t, east.Addr).FetchOffsets(context.Background(), "shipping")
		if err != nil {
			return err
		}
		for p, want := range map[int32]int64{0: 4, 1: 7} {
			if o, ok := resp.Lookup("us-west.orders-eu", p); !ok || o.At != want {
				return fmt.Errorf("shipping on us-east, partition %d: %+v, want %d", p, o, want)
			}
		}
		return nil
	})
	topics, err := testkit.Admin(t, east.Addr).ListTopics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range topics.Names() {
		if strings.Contains(name, "clickstream") || strings.HasPrefix(name, "us-west.us-east.") || strings.HasPrefix(name, "us-east.") {
			t.Errorf("us-east holds %s, which the example does not copy there", name)
		}
	}
}
