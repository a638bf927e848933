package mirror_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/mirror"
)

// sourceRecords are n records per partition with keys, two headers and
// distinct timestamps from the past, so preservation is visible.
func sourceRecords(topic string, partitions int32, n int) []*kgo.Record {
	return sourceRange(topic, partitions, 0, n)
}

// sourceRange is records from..to-1 of sourceRecords' series.
func sourceRange(topic string, partitions int32, from, to int) []*kgo.Record {
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var recs []*kgo.Record
	for p := int32(0); p < partitions; p++ {
		for i := from; i < to; i++ {
			recs = append(recs, &kgo.Record{
				Topic: topic, Partition: p,
				Key:   []byte(fmt.Sprintf("k-%d-%d", p, i)),
				Value: []byte(fmt.Sprintf("%s/%d/%d", topic, p, i)),
				Headers: []kgo.RecordHeader{
					{Key: "trace", Value: []byte(fmt.Sprintf("t%d", i))},
					{Key: "empty", Value: nil},
				},
				Timestamp: base.Add(time.Duration(int(p)*1000+i) * time.Millisecond),
			})
		}
	}
	return recs
}

// checkCopied checks that the target records are the source records of
// each partition, in order, with key, value, headers and timestamp kept and
// the source offset header added.
func checkCopied(t *testing.T, src, dst []*kgo.Record) {
	t.Helper()
	srcBy, dstBy := byPartition(src), byPartition(dst)
	for p, want := range srcBy {
		got := dstBy[p]
		if len(got) != len(want) {
			t.Fatalf("partition %d: %d records copied, want %d", p, len(got), len(want))
		}
		for i := range want {
			w, g := want[i], got[i]
			if string(g.Key) != string(w.Key) || string(g.Value) != string(w.Value) {
				t.Fatalf("partition %d record %d: got %s=%s, want %s=%s (order or content lost)", p, i, g.Key, g.Value, w.Key, w.Value)
			}
			if !g.Timestamp.Equal(w.Timestamp) {
				t.Fatalf("partition %d record %d: timestamp %v, want %v", p, i, g.Timestamp, w.Timestamp)
			}
			if len(g.Headers) != len(w.Headers)+1 {
				t.Fatalf("partition %d record %d: headers %v, want %v plus the source offset", p, i, g.Headers, w.Headers)
			}
			for j, h := range w.Headers {
				if g.Headers[j].Key != h.Key || string(g.Headers[j].Value) != string(h.Value) {
					t.Fatalf("partition %d record %d: header %d = %v, want %v", p, i, j, g.Headers[j], h)
				}
			}
			if off, ok := header(g, mirror.SourceOffsetHeaderKey); !ok || off != strconv.FormatInt(w.Offset, 10) {
				t.Fatalf("partition %d record %d: source offset header %q, want %d", p, i, off, w.Offset)
			}
		}
	}
}

func TestFlowCopiesSelectedTopicsExistingAndNew(t *testing.T) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	createTopic(t, a.Addr, "orders", 3)
	createTopic(t, a.Addr, "payments", 2, "retention.ms=86400000", "min.insync.replicas=1")
	createTopic(t, a.Addr, "audit", 1)
	orders, payments := sourceRecords("orders", 3, 50), sourceRecords("payments", 2, 20)
	produce(t, a.Addr, orders...)
	produce(t, a.Addr, payments...)
	produce(t, a.Addr, sourceRecords("audit", 1, 5)...)

	m := startMirror(t, twoClusters(a.Addr, b.Addr)+`
A->B.enabled = true
A->B.topics = orders, pay.*
`)
	checkCopied(t, orders, consumeN(t, b.Addr, "A.orders", len(orders), 30*time.Second))
	checkCopied(t, payments, consumeN(t, b.Addr, "A.payments", len(payments), 30*time.Second))

	// A topic created after the mirror started, matching the regex.
	createTopic(t, a.Addr, "payments-eu", 2)
	eu := sourceRecords("payments-eu", 2, 10)
	produce(t, a.Addr, eu...)
	checkCopied(t, eu, consumeN(t, b.Addr, "A.payments-eu", len(eu), 30*time.Second))

	// Records produced while it runs follow, in order.
	tail := sourceRange("orders", 3, 50, 70)
	produce(t, a.Addr, tail...)
	checkCopied(t, append(orders, tail...), consumeN(t, b.Addr, "A.orders", len(orders)+len(tail), 30*time.Second))

	topics, err := admin(t, b.Addr).ListTopics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has("A.audit") || topics.Has("audit") {
		t.Errorf("audit copied though not selected: %v", topics.Names())
	}
	if d := topics["A.orders"]; len(d.Partitions) != 3 {
		t.Errorf("A.orders has %d partitions, want 3", len(d.Partitions))
	}
	// Topic configs are copied, except MM2's exclusions.
	cfgs, err := admin(t, b.Addr).DescribeTopicConfigs(t.Context(), "A.payments")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range cfgs[0].Configs {
		if c.Value != nil {
			got[c.Key] = *c.Value
		}
	}
	if got["retention.ms"] != "86400000" {
		t.Errorf("retention.ms not synced: %q", got["retention.ms"])
	}
	for _, c := range cfgs[0].Configs {
		if c.Key == "min.insync.replicas" && c.Source == kmsg.ConfigSourceDynamicTopicConfig {
			t.Errorf("min.insync.replicas copied; MM2 never copies it")
		}
	}
	if st := flowStatus(m, "A->B"); st.Err != nil || len(st.Topics) != 3 {
		t.Errorf("status %+v", st)
	}
}
