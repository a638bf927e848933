package mirror_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/mirror"
)

func TestExactlyOnceCopiesInTransactionsAcrossRestarts(t *testing.T) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	createTopic(t, a.Addr, "payments", 3)
	first := sourceRecords("payments", 3, 30)
	produce(t, a.Addr, first...)
	text := twoClusters(a.Addr, b.Addr) + `
A->B.enabled = true
A->B.exactly.once.support = required
`
	cfg, err := mirror.ParseConfig(strings.NewReader(text), "mm2.properties")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mirror.Start(context.Background(), cfg, mirror.WithLogger(testLogger()))
	if err != nil {
		t.Fatal(err)
	}
	readCommitted := kgo.FetchIsolationLevel(kgo.ReadCommitted())
	checkCopied(t, first, consumeN(t, b.Addr, "A.payments", len(first), 30*time.Second, readCommitted))
	m.Close()

	// Records produced while it is down, then a new run: each copied once.
	rest := sourceRange("payments", 3, 30, 45)
	produce(t, a.Addr, rest...)
	startMirror(t, text)
	all := append(append([]*kgo.Record{}, first...), rest...)
	got := consumeN(t, b.Addr, "A.payments", len(all), 30*time.Second, readCommitted)
	checkCopied(t, all, got)
	// The copies are transactional: a read_uncommitted reader sees the
	// same records (nothing was aborted), and the target holds markers.
	for _, r := range got {
		if !r.Attrs.IsTransactional() {
			t.Fatalf("record at %d of partition %d is not transactional", r.Offset, r.Partition)
		}
	}
}
