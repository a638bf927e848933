package group

import (
	"bytes"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// formStaticGroup forms group g of two static members (instances "i1",
// "i2") at generation 1, Stable, with assignments "a1" and "a2". It returns
// the member ids.
func formStaticGroup(t *testing.T, e *testEnv, g string) (id1, id2 string) {
	t.Helper()
	r1 := e.joinAsync(joinReq(g, "", withInstance("i1")))
	first := wait(t, r1)
	if first.ErrorCode != 0 {
		t.Fatalf("static join: %v", kerr.ErrorForCode(first.ErrorCode))
	}
	id1 = first.MemberID
	// Generation 1 holds i1 alone; i2 joins and forces generation 2.
	e.c.SyncGroup(ctxT(t), syncReq(g, id1, 1, map[string][]byte{id1: []byte("x")}))
	ch2 := e.joinAsync(joinReq(g, "", withInstance("i2")))
	waitState(t, e, g, "PreparingRebalance")
	ch1 := e.joinAsync(joinReq(g, id1, withInstance("i1")))
	j1, j2 := wait(t, ch1), wait(t, ch2)
	if j1.ErrorCode != 0 || j2.ErrorCode != 0 || j1.Generation != 2 {
		t.Fatalf("second generation: %+v / %+v", j1, j2)
	}
	id2 = j2.MemberID
	s2 := e.syncAsync(withSyncInstance(syncReq(g, id2, 2, nil), "i2"))
	s1 := e.c.SyncGroup(ctxT(t), withSyncInstance(syncReq(g, id1, 2, map[string][]byte{id1: []byte("a1"), id2: []byte("a2")}), "i1"))
	if s1.ErrorCode != 0 || wait(t, s2).ErrorCode != 0 {
		t.Fatalf("sync: %d", s1.ErrorCode)
	}
	return id1, id2
}

func TestStaticGroupRestoredAfterRestart(t *testing.T) {
	e := newEnv(t)
	id1, id2 := formStaticGroup(t, e, "st")

	e.reopen()
	d := e.describe("st")
	if d.State != "Stable" || len(d.Members) != 2 {
		t.Fatalf("after restart: state %s, %d members; want Stable with 2", d.State, len(d.Members))
	}
	// A member that ran through the restart keeps its id and generation.
	if code := e.heartbeat("st", id2, 2); code != 0 {
		t.Fatalf("heartbeat of a restored member: %v", kerr.ErrorForCode(code))
	}
	allCodes(t, e.commit("st", id2, 2, commitPart{"t1", 0, 5, ""}), 0)

	// A static member whose process restarted joins under its instance id
	// and gets its assignment back in the same generation: no rebalance.
	j := wait(t, e.joinAsync(joinReq("st", "", withInstance("i1"))))
	if j.ErrorCode != 0 || j.Generation != 2 || j.MemberID == id1 {
		t.Fatalf("rejoin of i1: error %d, generation %d, member %s (old %s); want a new id in generation 2",
			j.ErrorCode, j.Generation, j.MemberID, id1)
	}
	if !j.SkipAssignment || j.LeaderID != j.MemberID {
		t.Fatalf("returning static leader: skip %v, leader %s; want SkipAssignment as the leader", j.SkipAssignment, j.LeaderID)
	}
	s := e.c.SyncGroup(ctxT(t), withSyncInstance(syncReq("st", j.MemberID, 2, nil), "i1"))
	if s.ErrorCode != 0 || !bytes.Equal(s.MemberAssignment, []byte("a1")) {
		t.Fatalf("sync of the returning member: error %d, assignment %q; want a1", s.ErrorCode, s.MemberAssignment)
	}
	if code := e.heartbeat("st", id1, 2); code != kerr.UnknownMemberID.Code {
		t.Fatalf("old member id after replacement: %v; want UNKNOWN_MEMBER_ID", kerr.ErrorForCode(code))
	}
	if d := e.describe("st"); d.State != "Stable" {
		t.Fatalf("group after the static rejoin: %s", d.State)
	}
}

func TestRestoredStaticMemberExpires(t *testing.T) {
	e := newEnv(t)
	id1, id2 := formStaticGroup(t, e, "st")
	e.reopen()
	// i1 never comes back: its session (shortened here from joinReq's 10 s)
	// expires and the group rebalances without it.
	g := e.c.lockGroup("st", false)
	g.members[id1].sessionTimeoutMs = 50
	g.scheduleSession(g.members[id1])
	g.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for e.heartbeat("st", id2, 2) != kerr.RebalanceInProgress.Code {
		if time.Now().After(deadline) {
			t.Fatal("the expired static member did not start a rebalance")
		}
		time.Sleep(10 * time.Millisecond)
	}
	j := wait(t, e.joinAsync(joinReq("st", id2, withInstance("i2"))))
	if j.ErrorCode != 0 || j.Generation != 3 {
		t.Fatalf("rejoin after i1 expired: error %d, generation %d; want generation 3", j.ErrorCode, j.Generation)
	}
	if d := e.describe("st"); len(d.Members) != 1 {
		t.Fatalf("members after expiry: %d", len(d.Members))
	}
}

func withSyncInstance(r *kmsg.SyncGroupRequest, id string) *kmsg.SyncGroupRequest {
	r.InstanceID = &id
	return r
}

func TestDynamicGroupComesBackEmpty(t *testing.T) {
	e := newEnv(t)
	id, ch := e.joinNew("dyn")
	wait(t, ch)
	e.c.SyncGroup(ctxT(t), syncReq("dyn", id, 1, map[string][]byte{id: []byte("a")}))
	e.reopen()
	if d := e.describe("dyn"); d.State != "Empty" || len(d.Members) != 0 {
		t.Fatalf("dynamic group after restart: %s with %d members; want Empty", d.State, len(d.Members))
	}
}

// waitState polls until group g is in state (a DescribeGroups state name).
func waitState(t *testing.T, e *testEnv, g, state string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.describe(g).State != state {
		if time.Now().After(deadline) {
			t.Fatalf("group %s: still %s, want %s", g, e.describe(g).State, state)
		}
		time.Sleep(time.Millisecond)
	}
}
