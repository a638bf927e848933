package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// KIP-496: a Stable group's offsets of topics its members no longer
// subscribe to expire offsets.retention after their last commit; the
// subscribed topics' offsets never do while the group has members.
func TestUnsubscribedTopicOffsetsExpireInStableGroup(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.OffsetsRetentionMs = 60000 })
	both := func(r *kmsg.JoinGroupRequest) { r.Protocols[0].Metadata = consumerMeta("t1", "t2") }
	id, ch := e.joinNew("k", both)
	wait(t, ch)
	e.c.SyncGroup(ctxT(t), syncReq("k", id, 1, nil))
	allCodes(t, e.commit("k", id, 1, commitPart{"t1", 0, 10, ""}, commitPart{"t2", 1, 20, ""}), 0)
	committed := time.Now()

	// The member drops t2 from its subscription: a rebalance to
	// generation 2, Stable again.
	j := wait(t, e.joinAsync(joinReq("k", id)))
	if j.ErrorCode != 0 || j.Generation != 2 {
		t.Fatalf("rejoin with a narrower subscription: error %d, generation %d", j.ErrorCode, j.Generation)
	}
	// Mid-rebalance (CompletingRebalance) nothing expires, however old.
	e.c.sweep(committed.Add(time.Hour))
	if _, offs := e.fetch("k", false, nil); len(offs) != 2 {
		t.Fatalf("offsets expired during a rebalance: %+v", offs)
	}
	e.c.SyncGroup(ctxT(t), syncReq("k", id, 2, nil))

	e.c.sweep(committed.Add(59 * time.Second))
	if _, offs := e.fetch("k", false, nil); len(offs) != 2 {
		t.Fatalf("expired before offsets.retention: %+v", offs)
	}
	e.c.sweep(committed.Add(61 * time.Second))
	_, offs := e.fetch("k", false, nil)
	if _, ok := offs[tp{"t2", 1}]; ok || offs[tp{"t1", 0}].offset != 10 || len(offs) != 1 {
		t.Fatalf("after retention: %+v; want only t1-0 (subscribed) left", offs)
	}
	e.reopen()
	if _, offs := e.fetch("k", false, nil); len(offs) != 1 {
		t.Fatalf("expiry not durable: %+v", offs)
	}
}

// A member whose subscription does not parse leaves the group's
// subscriptions unknown: nothing expires (Kafka: subscribedTopics is None).
func TestUnparsableSubscriptionExpiresNothing(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.OffsetsRetentionMs = 1000 })
	bad := func(r *kmsg.JoinGroupRequest) { r.Protocols[0].Metadata = []byte{0xff} }
	id, ch := e.joinNew("u", bad)
	wait(t, ch)
	e.c.SyncGroup(ctxT(t), syncReq("u", id, 1, nil))
	allCodes(t, e.commit("u", id, 1, commitPart{"t2", 0, 1, ""}), 0)
	e.c.sweep(time.Now().Add(time.Hour))
	if _, offs := e.fetch("u", false, nil); len(offs) != 1 {
		t.Fatalf("offset expired though the subscription is unknown: %+v", offs)
	}
}

// KIP-848 groups follow the same rule through their members' subscribed
// topic names.
func TestUnsubscribedTopicOffsetsExpireInConsumerGroup(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.OffsetsRetentionMs = 60000 })
	m := &sim848{id: "m1", topics: []string{"a"}}
	e.settle("cg", []*sim848{m})
	allCodes(t, e.commit("cg", m.id, m.epoch, commitPart{"a", 0, 1, ""}, commitPart{"b", 0, 2, ""}), 0)
	e.c.sweep(time.Now().Add(61 * time.Second))
	_, offs := e.fetch("cg", false, nil)
	if _, ok := offs[tp{"b", 0}]; ok || offs[tp{"a", 0}].offset != 1 {
		t.Fatalf("after retention: %+v; want b-0 expired and a-0 kept", offs)
	}
}
