package mirror_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/mirror/internal/mm2"
)

// userTopics lists a cluster's topics, without internal ones.
func userTopics(t *testing.T, addr string) []string {
	t.Helper()
	topics, err := admin(t, addr).ListTopics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range topics.Names() {
		if !strings.HasSuffix(name, ".internal") && !strings.HasPrefix(name, "__") {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func TestActiveActiveDoesNotLoop(t *testing.T) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	createTopic(t, a.Addr, "orders", 2)
	createTopic(t, b.Addr, "orders", 1)
	fromA, fromB := sourceRecords("orders", 2, 10), sourceRecords("orders", 1, 7)
	produce(t, a.Addr, fromA...)
	produce(t, b.Addr, fromB...)

	startMirror(t, twoClusters(a.Addr, b.Addr)+`
A->B.enabled = true
B->A.enabled = true
`)
	checkCopied(t, fromA, consumeN(t, b.Addr, "A.orders", len(fromA), 30*time.Second))
	checkCopied(t, fromB, consumeN(t, a.Addr, "B.orders", len(fromB), 30*time.Second))

	// Heartbeats are emitted on each target and copied onward: B's
	// heartbeats (from flow A->B) and, as A.heartbeats, those flow B->A
	// wrote on A. Several of them mean both flows went through several
	// topic refreshes, time enough for a loop to show.
	for _, c := range []struct {
		addr, topic    string
		source, target string
	}{{b.Addr, "heartbeats", "A", "B"}, {a.Addr, "heartbeats", "B", "A"}, {b.Addr, "A.heartbeats", "B", "A"}, {a.Addr, "B.heartbeats", "A", "B"}} {
		recs := consumeN(t, c.addr, c.topic, 3, 30*time.Second)
		for _, r := range recs {
			h, err := mm2.DecodeHeartbeat(r.Key, r.Value)
			if err != nil {
				t.Fatalf("%s: %v", c.topic, err)
			}
			if h.Source != c.source || h.Target != c.target || h.Timestamp <= 0 {
				t.Fatalf("%s holds heartbeat %+v, want %s->%s", c.topic, h, c.source, c.target)
			}
		}
	}
	// Each side has the other's topics once, and nothing copied back.
	if got, want := userTopics(t, a.Addr), []string{"B.heartbeats", "B.orders", "heartbeats", "orders"}; !slices.Equal(got, want) {
		t.Errorf("topics on A: %v, want %v", got, want)
	}
	if got, want := userTopics(t, b.Addr), []string{"A.heartbeats", "A.orders", "heartbeats", "orders"}; !slices.Equal(got, want) {
		t.Errorf("topics on B: %v, want %v", got, want)
	}
	// And no record came back: the originals are unchanged in number.
	if n := len(consumeN(t, a.Addr, "orders", len(fromA), 10*time.Second)); n != len(fromA) {
		t.Errorf("orders on A has %d records, want %d", n, len(fromA))
	}
	if n := len(consumeN(t, b.Addr, "A.orders", len(fromA), 10*time.Second)); n != len(fromA) {
		t.Errorf("A.orders on B has %d records, want %d", n, len(fromA))
	}
}
