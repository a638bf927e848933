package group

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func mustOK(t *testing.T, what string, code int16) {
	t.Helper()
	if code != 0 {
		t.Fatalf("%s: %v", what, kerr.ErrorForCode(code))
	}
}

func wantCode(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	if got != want.Code {
		t.Fatalf("%s: got %v, want %v", what, kerr.ErrorForCode(got), want)
	}
}

// TestClassicLifecycle drives three members through joins, syncs,
// heartbeats and leaves.
func TestClassicLifecycle(t *testing.T) {
	e := newEnv(t)
	const g = "g"

	// Member 1: MEMBER_ID_REQUIRED, then a one-member generation.
	id1, ch1 := e.joinNew(g)
	r1 := wait(t, ch1)
	mustOK(t, "join 1", r1.ErrorCode)
	if r1.Generation != 1 || r1.LeaderID != id1 || r1.MemberID != id1 || len(r1.Members) != 1 || *r1.Protocol != "range" {
		t.Fatalf("join 1: %+v", r1)
	}
	s1 := e.c.SyncGroup(ctxT(t), syncReq(g, id1, 1, map[string][]byte{id1: []byte("a1")}))
	mustOK(t, "sync 1", s1.ErrorCode)
	if string(s1.MemberAssignment) != "a1" {
		t.Fatalf("sync 1 assignment %q", s1.MemberAssignment)
	}
	mustOK(t, "heartbeat", e.heartbeat(g, id1, 1))

	// Member 2 joins: the group rebalances; member 1 learns by heartbeat.
	id2, ch2 := e.joinNew(g)
	blocked(t, ch2)
	wantCode(t, "heartbeat during rebalance", e.heartbeat(g, id1, 1), kerr.RebalanceInProgress)
	if d := e.describe(g); d.State != "PreparingRebalance" {
		t.Fatalf("state %s", d.State)
	}
	ch1 = e.joinAsync(joinReq(g, id1))
	r1, r2 := wait(t, ch1), wait(t, ch2)
	mustOK(t, "rejoin 1", r1.ErrorCode)
	mustOK(t, "join 2", r2.ErrorCode)
	if r1.Generation != 2 || r2.Generation != 2 || r1.LeaderID != id1 || r2.LeaderID != id1 {
		t.Fatalf("gen 2: %+v / %+v", r1, r2)
	}
	if len(r1.Members) != 2 || len(r2.Members) != 0 {
		t.Fatalf("only the leader gets members: %d / %d", len(r1.Members), len(r2.Members))
	}

	// Member 3 joins; everyone rejoins.
	id3, ch3 := e.joinNew(g)
	blocked(t, ch3)
	ch1 = e.joinAsync(joinReq(g, id1))
	ch2 = e.joinAsync(joinReq(g, id2))
	r1, r2, r3 := wait(t, ch1), wait(t, ch2), wait(t, ch3)
	for i, r := range []*kmsg.JoinGroupResponse{r1, r2, r3} {
		mustOK(t, "join gen 3", r.ErrorCode)
		if r.Generation != 3 {
			t.Fatalf("member %d generation %d", i+1, r.Generation)
		}
	}
	if len(r1.Members) != 3 {
		t.Fatalf("leader got %d members", len(r1.Members))
	}
	if d := e.describe(g); d.State != "CompletingRebalance" {
		t.Fatalf("state %s", d.State)
	}
	wantCode(t, "commit while completing", e.commit(g, id2, 3, commitPart{"t1", 0, 1, ""})[tp{"t1", 0}], kerr.RebalanceInProgress)

	// Followers wait for the leader's assignment.
	sc2 := e.syncAsync(syncReq(g, id2, 3, nil))
	sc3 := e.syncAsync(syncReq(g, id3, 3, nil))
	blocked(t, sc2)
	assign := map[string][]byte{id1: []byte("p0"), id2: []byte("p1"), id3: []byte("p2")}
	sc1 := e.syncAsync(syncReq(g, id1, 3, assign))
	for _, c := range []struct {
		ch   <-chan *kmsg.SyncGroupResponse
		want string
	}{{sc1, "p0"}, {sc2, "p1"}, {sc3, "p2"}} {
		r := wait(t, c.ch)
		mustOK(t, "sync gen 3", r.ErrorCode)
		if string(r.MemberAssignment) != c.want || *r.Protocol != "range" || *r.ProtocolType != "consumer" {
			t.Fatalf("sync: got %q want %q", r.MemberAssignment, c.want)
		}
	}
	d := e.describe(g)
	if d.State != "Stable" || len(d.Members) != 3 || d.Protocol != "range" {
		t.Fatalf("describe: %+v", d)
	}
	for _, m := range d.Members {
		if !bytes.Equal(m.MemberAssignment, assign[m.MemberID]) || len(m.ProtocolMetadata) == 0 {
			t.Fatalf("describe member %s: assignment %q", m.MemberID, m.MemberAssignment)
		}
	}
	for _, id := range []string{id1, id2, id3} {
		mustOK(t, "heartbeat stable", e.heartbeat(g, id, 3))
	}
	allCodes(t, e.commit(g, id2, 3, commitPart{"t1", 1, 42, "m"}), 0)

	// Member 2 leaves: the others rebalance without it.
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 1
	lr.Group = g
	lr.MemberID = id2
	mustOK(t, "leave", e.c.LeaveGroup(ctxT(t), lr).ErrorCode)
	wantCode(t, "heartbeat of departed", e.heartbeat(g, id2, 3), kerr.UnknownMemberID)
	wantCode(t, "heartbeat after leave", e.heartbeat(g, id1, 3), kerr.RebalanceInProgress)
	ch1 = e.joinAsync(joinReq(g, id1))
	ch3 = e.joinAsync(joinReq(g, id3))
	r1, r3 = wait(t, ch1), wait(t, ch3)
	if r1.Generation != 4 || r3.Generation != 4 || len(r1.Members) != 2 {
		t.Fatalf("gen 4: %+v %+v", r1, r3)
	}

	// Both leave in one v3+ batch: the group is empty and keeps its offsets.
	lr = kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 5
	lr.Group = g
	lr.Members = []kmsg.LeaveGroupRequestMember{{MemberID: id1}, {MemberID: id3}, {MemberID: "nobody"}}
	resp := e.c.LeaveGroup(ctxT(t), lr)
	if resp.ErrorCode != 0 || resp.Members[0].ErrorCode != 0 || resp.Members[1].ErrorCode != 0 || resp.Members[2].ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("batch leave: %+v", resp)
	}
	if d := e.describe(g); d.State != "Empty" || len(d.Members) != 0 {
		t.Fatalf("after leave: %+v", d)
	}
	_, offs := e.fetch(g, false, map[string][]int32{"t1": {1}})
	if offs[tp{"t1", 1}].offset != 42 {
		t.Fatalf("offset after leave: %+v", offs)
	}
}

// TestJoinOldVersions checks v0-v3 joins, which get a member id directly.
func TestJoinOldVersions(t *testing.T) {
	for _, v := range []int16{0, 1, 2, 3} {
		e := newEnv(t)
		r := e.c.JoinGroup(ctxT(t), joinReq("g", "", withVersion(v)))
		mustOK(t, "join", r.ErrorCode)
		if r.MemberID == "" || r.Generation != 1 || r.LeaderID != r.MemberID || *r.Protocol != "range" {
			t.Fatalf("v%d: %+v", v, r)
		}
	}
}

func TestMemberIDRequiredExpires(t *testing.T) {
	e := newEnv(t)
	r := e.c.JoinGroup(ctxT(t), joinReq("g", "", withSession(100)))
	wantCode(t, "first join", r.ErrorCode, kerr.MemberIDRequired)
	if r.MemberID == "" {
		t.Fatal("no member id generated")
	}
	time.Sleep(300 * time.Millisecond)
	r = e.c.JoinGroup(ctxT(t), joinReq("g", r.MemberID, withSession(100)))
	wantCode(t, "late rejoin", r.ErrorCode, kerr.UnknownMemberID)
}

func TestMemberIDUsesClientID(t *testing.T) {
	e := newEnv(t)
	ctx := WithClient(ctxT(t), "my-client", "/10.0.0.1")
	r := e.c.JoinGroup(ctx, joinReq("g", ""))
	if len(r.MemberID) != len("my-client-")+36 || r.MemberID[:10] != "my-client-" {
		t.Fatalf("member id %q", r.MemberID)
	}
	r = e.c.JoinGroup(ctx, joinReq("g", r.MemberID))
	mustOK(t, "join", r.ErrorCode)
	e.c.SyncGroup(ctx, syncReq("g", r.MemberID, 1, nil))
	d := e.describe("g")
	if d.Members[0].ClientID != "my-client" || d.Members[0].ClientHost != "/10.0.0.1" {
		t.Fatalf("describe: %+v", d.Members[0])
	}
}

func TestStaticMembership(t *testing.T) {
	e := newEnv(t)
	const g = "g"
	// Static members get a member id at once (no MEMBER_ID_REQUIRED).
	r1 := wait(t, e.joinAsync(joinReq(g, "", withInstance("i1"))))
	mustOK(t, "join i1", r1.ErrorCode)
	id1 := r1.MemberID
	mustOK(t, "sync", e.c.SyncGroup(ctxT(t), syncReq(g, id1, 1, map[string][]byte{id1: []byte("x")})).ErrorCode)

	ch2 := e.joinAsync(joinReq(g, "", withInstance("i2")))
	blocked(t, ch2)
	ch1 := e.joinAsync(joinReq(g, id1, withInstance("i1")))
	r1, r2 := wait(t, ch1), wait(t, ch2)
	mustOK(t, "join i2", r2.ErrorCode)
	id2 := r2.MemberID
	if r1.Generation != 2 || r1.LeaderID != id1 {
		t.Fatalf("gen 2: %+v", r1)
	}
	sc2 := e.syncAsync(syncReq(g, id2, 2, nil))
	mustOK(t, "leader sync", e.c.SyncGroup(ctxT(t), syncReq(g, id1, 2, map[string][]byte{id1: []byte("a"), id2: []byte("b")})).ErrorCode)
	mustOK(t, "follower sync", wait(t, sc2).ErrorCode)

	// Instance i2 restarts: it rejoins with no member id and replaces its
	// old member without a rebalance.
	r := wait(t, e.joinAsync(joinReq(g, "", withInstance("i2"))))
	mustOK(t, "static rejoin", r.ErrorCode)
	newID2 := r.MemberID
	if newID2 == id2 || r.Generation != 2 || r.LeaderID != id1 || len(r.Members) != 0 {
		t.Fatalf("static rejoin: %+v", r)
	}
	if d := e.describe(g); d.State != "Stable" {
		t.Fatalf("state after static rejoin %s", d.State)
	}
	s := e.c.SyncGroup(ctxT(t), syncReq(g, newID2, 2, nil))
	if s.ErrorCode != 0 || string(s.MemberAssignment) != "b" {
		t.Fatalf("new member keeps the assignment: %+v", s)
	}
	mustOK(t, "leader heartbeat", e.heartbeat(g, id1, 2))

	// The old member id is fenced.
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Version = 4
	hb.Group, hb.MemberID, hb.Generation, hb.InstanceID = g, id2, 2, kmsg.StringPtr("i2")
	wantCode(t, "old static member heartbeat", e.c.Heartbeat(ctxT(t), hb).ErrorCode, kerr.FencedInstanceID)
	wantCode(t, "old member id without instance", e.heartbeat(g, id2, 2), kerr.UnknownMemberID)
	oc := commitReq(g, id2, 2, commitPart{"t1", 0, 5, ""})
	oc.InstanceID = kmsg.StringPtr("i2")
	allCodes(t, commitCodes(e.c.OffsetCommit(ctxT(t), oc)), kerr.FencedInstanceID.Code)
	sr := syncReq(g, id2, 2, nil)
	sr.InstanceID = kmsg.StringPtr("i2")
	wantCode(t, "old member sync", e.c.SyncGroup(ctxT(t), sr).ErrorCode, kerr.FencedInstanceID)

	// A returning static leader gets the members with SkipAssignment (v9).
	r = wait(t, e.joinAsync(joinReq(g, "", withInstance("i1"))))
	mustOK(t, "static leader rejoin", r.ErrorCode)
	if !r.SkipAssignment || r.LeaderID != r.MemberID || len(r.Members) != 2 || r.Generation != 2 {
		t.Fatalf("static leader rejoin: %+v", r)
	}

	// A static leave by instance id removes the member and rebalances.
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 4
	lr.Group = g
	lr.Members = []kmsg.LeaveGroupRequestMember{{InstanceID: kmsg.StringPtr("i2")}, {MemberID: "wrong", InstanceID: kmsg.StringPtr("i1")}}
	resp := e.c.LeaveGroup(ctxT(t), lr)
	mustOK(t, "static leave", resp.Members[0].ErrorCode)
	wantCode(t, "leave with wrong member id", resp.Members[1].ErrorCode, kerr.FencedInstanceID)
	if d := e.describe(g); d.State != "PreparingRebalance" || len(d.Members) != 1 {
		t.Fatalf("after static leave: %+v", d)
	}
}

// A static member rejoining during a rebalance fences the old member's
// pending join.
func TestStaticReplaceFencesPendingJoin(t *testing.T) {
	e := newEnv(t)
	id1 := wait(t, e.joinAsync(joinReq("g", "", withInstance("i1")))).MemberID
	e.c.SyncGroup(ctxT(t), syncReq("g", id1, 1, nil))
	ch2 := e.joinAsync(joinReq("g", "", withInstance("i2")))
	blocked(t, ch2)
	r1 := wait(t, e.joinAsync(joinReq("g", id1, withInstance("i1"))))
	id2 := wait(t, ch2).MemberID
	sc2 := e.syncAsync(syncReq("g", id2, r1.Generation, nil))
	e.c.SyncGroup(ctxT(t), syncReq("g", id1, r1.Generation, nil))
	wait(t, sc2)

	// The leader's old incarnation rejoins (forcing a rebalance) and waits
	// for i2; meanwhile its new incarnation takes the instance id.
	old := e.joinAsync(joinReq("g", id1, withInstance("i1")))
	blocked(t, old)
	nw := e.joinAsync(joinReq("g", "", withInstance("i1")))
	wantCode(t, "old incarnation", wait(t, old).ErrorCode, kerr.FencedInstanceID)
	blocked(t, nw)
	r2 := wait(t, e.joinAsync(joinReq("g", id2, withInstance("i2"))))
	rn := wait(t, nw)
	mustOK(t, "new incarnation", rn.ErrorCode)
	if rn.Generation != r1.Generation+1 || r2.Generation != rn.Generation || rn.LeaderID != rn.MemberID {
		t.Fatalf("after replacement: %+v / %+v", rn, r2)
	}
}

func TestSessionExpiryTriggersRebalance(t *testing.T) {
	e := newEnv(t)
	id1, ch1 := e.joinNew("g", withSession(150))
	mustOK(t, "join 1", wait(t, ch1).ErrorCode)
	e.c.SyncGroup(ctxT(t), syncReq("g", id1, 1, nil))
	id2, ch2 := e.joinNew("g", withSession(150))
	ch1 = e.joinAsync(joinReq("g", id1, withSession(150)))
	wait(t, ch1)
	wait(t, ch2)
	sc2 := e.syncAsync(syncReq("g", id2, 2, nil))
	mustOK(t, "sync", e.c.SyncGroup(ctxT(t), syncReq("g", id1, 2, nil)).ErrorCode)
	wait(t, sc2)

	// Member 1 heartbeats, member 2 goes silent.
	deadline := time.Now().Add(5 * time.Second)
	for {
		code := e.heartbeat("g", id1, 2)
		if code == kerr.RebalanceInProgress.Code {
			break
		}
		mustOK(t, "heartbeat", code)
		if time.Now().After(deadline) {
			t.Fatal("member 2's session never expired")
		}
		time.Sleep(30 * time.Millisecond)
	}
	r := wait(t, e.joinAsync(joinReq("g", id1, withSession(150))))
	if r.Generation != 3 || len(r.Members) != 1 || r.Members[0].MemberID != id1 {
		t.Fatalf("after expiry: %+v", r)
	}
	wantCode(t, "expired member", e.heartbeat("g", id2, 2), kerr.UnknownMemberID)
}

func TestRebalanceTimeoutRemovesMemberThatDoesNotRejoin(t *testing.T) {
	e := newEnv(t)
	opts := []joinOpt{withSession(10000), withRebalance(300)}
	id1, ch1 := e.joinNew("g", opts...)
	wait(t, ch1)
	e.c.SyncGroup(ctxT(t), syncReq("g", id1, 1, nil))
	id2, ch2 := e.joinNew("g", opts...)
	ch1 = e.joinAsync(joinReq("g", id1, opts...))
	wait(t, ch1)
	wait(t, ch2)
	sc2 := e.syncAsync(syncReq("g", id2, 2, nil))
	e.c.SyncGroup(ctxT(t), syncReq("g", id1, 2, nil))
	wait(t, sc2)

	// Member 3 joins; member 1 rejoins; member 2 keeps its session but
	// never rejoins.
	start := time.Now()
	_, ch3 := e.joinNew("g", opts...)
	ch1 = e.joinAsync(joinReq("g", id1, opts...))
	r1, r3 := wait(t, ch1), wait(t, ch3)
	if time.Since(start) < 250*time.Millisecond {
		t.Fatalf("join completed before the rebalance timeout")
	}
	if r1.Generation != 3 || r3.Generation != 3 || len(r1.Members) != 2 {
		t.Fatalf("gen 3: %+v", r1)
	}
	for _, m := range r1.Members {
		if m.MemberID == id2 {
			t.Fatal("member 2 is still in the group")
		}
	}
	wantCode(t, "kicked member", e.heartbeat("g", id2, 2), kerr.UnknownMemberID)
}

func TestSyncTimeoutRemovesMembersThatNeverSync(t *testing.T) {
	e := newEnv(t)
	opts := []joinOpt{withRebalance(200)}
	id1, ch1 := e.joinNew("g", opts...)
	wait(t, ch1)
	// The leader never syncs: after the rebalance timeout it is removed.
	time.Sleep(400 * time.Millisecond)
	wantCode(t, "heartbeat", e.heartbeat("g", id1, 1), kerr.UnknownMemberID)
	if d := e.describe("g"); d.State != "Empty" {
		t.Fatalf("state %s", d.State)
	}
}

func TestJoinCancelledContext(t *testing.T) {
	e := newEnv(t)
	id1, ch1 := e.joinNew("g")
	wait(t, ch1)
	e.c.SyncGroup(ctxT(t), syncReq("g", id1, 1, nil))
	id2 := e.c.JoinGroup(ctxT(t), joinReq("g", "")).MemberID
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan *kmsg.JoinGroupResponse, 1)
	go func() { done <- e.c.JoinGroup(ctx, joinReq("g", id2)) }()
	blocked(t, done)
	cancel()
	r := wait(t, done)
	if r.ErrorCode == 0 {
		t.Fatalf("cancelled join returned success: %+v", r)
	}
}

func TestCloseReleasesBlockedHandlers(t *testing.T) {
	e := newEnv(t)
	id1, ch1 := e.joinNew("g")
	wait(t, ch1)
	e.c.SyncGroup(ctxT(t), syncReq("g", id1, 1, nil))
	_, ch2 := e.joinNew("g")
	blocked(t, ch2)
	e.c.Close()
	wantCode(t, "join after close", wait(t, ch2).ErrorCode, kerr.CoordinatorNotAvailable)
}

func TestClassicErrors(t *testing.T) {
	e := newEnv(t)
	// A stable two-member group "g" at generation 2.
	id1, ch1 := e.joinNew("g")
	wait(t, ch1)
	e.c.SyncGroup(ctxT(t), syncReq("g", id1, 1, nil))
	id2, ch2 := e.joinNew("g")
	ch1 = e.joinAsync(joinReq("g", id1))
	wait(t, ch1)
	wait(t, ch2)
	sc2 := e.syncAsync(syncReq("g", id2, 2, nil))
	e.c.SyncGroup(ctxT(t), syncReq("g", id1, 2, nil))
	wait(t, sc2)

	joins := []struct {
		name string
		req  *kmsg.JoinGroupRequest
		want *kerr.Error
	}{
		{"empty group id", joinReq("", ""), kerr.InvalidGroupID},
		{"session too short", joinReq("x", "", withSession(5)), kerr.InvalidSessionTimeout},
		{"session too long", joinReq("x", "", withSession(1800001)), kerr.InvalidSessionTimeout},
		{"empty protocol type", joinReq("x", "", withProtocolType("")), kerr.InconsistentGroupProtocol},
		{"no protocols", joinReq("x", "", withProtocols()), kerr.InconsistentGroupProtocol},
		{"unknown member of unknown group", joinReq("nope", "ghost"), kerr.UnknownMemberID},
		{"unknown member", joinReq("g", "ghost"), kerr.UnknownMemberID},
		{"wrong protocol type", joinReq("g", "", withProtocolType("connect")), kerr.InconsistentGroupProtocol},
		{"no common protocol", joinReq("g", "", withProtocols("roundrobin")), kerr.InconsistentGroupProtocol},
		{"static fenced", joinReq("g", id1, withInstance("someone")), kerr.UnknownMemberID},
	}
	for _, tc := range joins {
		t.Run("join/"+tc.name, func(t *testing.T) {
			wantCode(t, tc.name, e.c.JoinGroup(ctxT(t), tc.req).ErrorCode, tc.want)
		})
	}
	// Failed joins do not leave groups behind.
	for _, id := range []string{"x", "nope"} {
		if d := e.describe(id); d.State != "Dead" {
			t.Fatalf("group %s left behind: %+v", id, d)
		}
	}

	badType := syncReq("g", id1, 2, nil)
	badType.ProtocolType = kmsg.StringPtr("connect")
	badName := syncReq("g", id1, 2, nil)
	badName.Protocol = kmsg.StringPtr("sticky")
	syncs := []struct {
		name string
		req  *kmsg.SyncGroupRequest
		want *kerr.Error
	}{
		{"empty group id", syncReq("", id1, 2, nil), kerr.InvalidGroupID},
		{"unknown group", syncReq("nope", id1, 2, nil), kerr.UnknownMemberID},
		{"unknown member", syncReq("g", "ghost", 2, nil), kerr.UnknownMemberID},
		{"stale generation", syncReq("g", id1, 1, nil), kerr.IllegalGeneration},
		{"wrong protocol type", badType, kerr.InconsistentGroupProtocol},
		{"wrong protocol", badName, kerr.InconsistentGroupProtocol},
	}
	for _, tc := range syncs {
		t.Run("sync/"+tc.name, func(t *testing.T) {
			wantCode(t, tc.name, e.c.SyncGroup(ctxT(t), tc.req).ErrorCode, tc.want)
		})
	}

	hbs := []struct {
		name   string
		group  string
		member string
		gen    int32
		want   *kerr.Error
	}{
		{"empty group id", "", id1, 2, kerr.InvalidGroupID},
		{"unknown group", "nope", id1, 2, kerr.UnknownMemberID},
		{"unknown member", "g", "ghost", 2, kerr.UnknownMemberID},
		{"stale generation", "g", id1, 1, kerr.IllegalGeneration},
		{"future generation", "g", id1, 3, kerr.IllegalGeneration},
	}
	for _, tc := range hbs {
		t.Run("heartbeat/"+tc.name, func(t *testing.T) {
			wantCode(t, tc.name, e.heartbeat(tc.group, tc.member, tc.gen), tc.want)
		})
	}

	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Group, lr.MemberID = "g", "ghost"
	wantCode(t, "leave unknown member", e.c.LeaveGroup(ctxT(t), lr).ErrorCode, kerr.UnknownMemberID)
	lr.Group = ""
	wantCode(t, "leave empty group id", e.c.LeaveGroup(ctxT(t), lr).ErrorCode, kerr.InvalidGroupID)
	lr.Group = "nope"
	wantCode(t, "leave unknown group", e.c.LeaveGroup(ctxT(t), lr).ErrorCode, kerr.UnknownMemberID)

	commits := []struct {
		name   string
		req    *kmsg.OffsetCommitRequest
		want   *kerr.Error
		target tp
	}{
		{"unknown topic", commitReq("g", id1, 2, commitPart{"nope", 0, 1, ""}), kerr.UnknownTopicOrPartition, tp{"nope", 0}},
		{"partition out of range", commitReq("g", id1, 2, commitPart{"t1", 3, 1, ""}), kerr.UnknownTopicOrPartition, tp{"t1", 3}},
		{"negative partition", commitReq("g", id1, 2, commitPart{"t1", -1, 1, ""}), kerr.UnknownTopicOrPartition, tp{"t1", -1}},
		{"metadata too large", commitReq("g", id1, 2, commitPart{"t1", 0, 1, string(make([]byte, 4097))}), kerr.OffsetMetadataTooLarge, tp{"t1", 0}},
		{"stale generation", commitReq("g", id1, 1, commitPart{"t1", 0, 1, ""}), kerr.IllegalGeneration, tp{"t1", 0}},
		{"unknown member", commitReq("g", "ghost", 2, commitPart{"t1", 0, 1, ""}), kerr.UnknownMemberID, tp{"t1", 0}},
		{"simple commit to group with members", commitReq("g", "", -1, commitPart{"t1", 0, 1, ""}), kerr.UnknownMemberID, tp{"t1", 0}},
		{"missing group v9", commitReq("nope", "m", 3, commitPart{"t1", 0, 1, ""}), kerr.GroupIDNotFound, tp{"t1", 0}},
	}
	for _, tc := range commits {
		t.Run("commit/"+tc.name, func(t *testing.T) {
			codes := commitCodes(e.c.OffsetCommit(ctxT(t), tc.req))
			wantCode(t, tc.name, codes[tc.target], tc.want)
		})
	}
	old := commitReq("nope", "m", 3, commitPart{"t1", 0, 1, ""})
	old.Version = 8
	allCodes(t, commitCodes(e.c.OffsetCommit(ctxT(t), old)), kerr.IllegalGeneration.Code)

	// Metadata at the limit is fine; a mixed request fails only the bad part.
	codes := e.commit("g", id1, 2, commitPart{"t1", 0, 9, string(make([]byte, 4096))}, commitPart{"nope", 0, 1, ""})
	if codes[tp{"t1", 0}] != 0 || codes[tp{"nope", 0}] != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("mixed commit: %v", codes)
	}

	dg := kmsg.NewPtrDeleteGroupsRequest()
	dg.Version = 3
	dg.Groups = []string{"g", "nope"}
	dr := e.c.DeleteGroups(ctxT(t), dg)
	wantCode(t, "delete non-empty", dr.Groups[0].ErrorCode, kerr.NonEmptyGroup)
	wantCode(t, "delete unknown", dr.Groups[1].ErrorCode, kerr.GroupIDNotFound)
	if dr.Groups[0].ErrorMessage == nil {
		t.Fatal("v3 delete error without message")
	}

	d6 := kmsg.NewPtrDescribeGroupsRequest()
	d6.Version = 6
	d6.Groups = []string{"nope"}
	d6.IncludeAuthorizedOperations = true
	gr := e.c.DescribeGroups(ctxT(t), d6).Groups[0]
	if gr.ErrorCode != kerr.GroupIDNotFound.Code || gr.State != "Dead" {
		t.Fatalf("describe unknown v6: %+v", gr)
	}
	if d := e.describe("nope"); d.ErrorCode != 0 || d.State != "Dead" || d.AuthorizedOperations != -2147483648 {
		t.Fatalf("describe unknown v5: %+v", d)
	}
}

func TestSimpleCommitsAndDeleteGroups(t *testing.T) {
	e := newEnv(t)
	// Generation -1 with no member id creates a "simple" group.
	allCodes(t, e.commit("simple", "", -1, commitPart{"t1", 0, 10, "x"}, commitPart{"t2", 1, 20, ""}), 0)
	v0 := commitReq("simple", "", -1, commitPart{"t1", 2, 30, ""})
	v0.Version = 0
	allCodes(t, commitCodes(e.c.OffsetCommit(ctxT(t), v0)), 0)
	_, offs := e.fetch("simple", false, nil)
	if len(offs) != 3 || offs[tp{"t1", 0}] != (fetched{10, 7, "x", 0}) || offs[tp{"t1", 2}].offset != 30 || offs[tp{"t1", 2}].leaderEpoch != -1 {
		t.Fatalf("fetch all: %+v", offs)
	}
	if d := e.describe("simple"); d.State != "Empty" || d.ProtocolType != "" {
		t.Fatalf("simple group: %+v", d)
	}
	dg := kmsg.NewPtrDeleteGroupsRequest()
	dg.Groups = []string{"simple"}
	mustOK(t, "delete", e.c.DeleteGroups(ctxT(t), dg).Groups[0].ErrorCode)
	_, offs = e.fetch("simple", false, nil)
	if len(offs) != 0 {
		t.Fatalf("offsets survive delete: %+v", offs)
	}
	e.reopen()
	_, offs = e.fetch("simple", false, nil)
	if len(offs) != 0 {
		t.Fatalf("offsets survive delete and restart: %+v", offs)
	}
	wantCode(t, "delete again", e.c.DeleteGroups(ctxT(t), dg).Groups[0].ErrorCode, kerr.GroupIDNotFound)
}

func TestOffsetFetchVersions(t *testing.T) {
	e := newEnv(t)
	allCodes(t, e.commit("g1", "", -1, commitPart{"t1", 0, 5, "a"}), 0)
	allCodes(t, e.commit("g2", "", -1, commitPart{"t2", 1, 6, "b"}), 0)

	for v := int16(0); v <= 7; v++ {
		r := kmsg.NewPtrOffsetFetchRequest()
		r.Version = v
		r.Group = "g1"
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic = "t1"
		rt.Partitions = []int32{0, 1}
		r.Topics = []kmsg.OffsetFetchRequestTopic{rt}
		resp := e.c.OffsetFetch(ctxT(t), r)
		ps := resp.Topics[0].Partitions
		if ps[0].Offset != 5 || *ps[0].Metadata != "a" || ps[1].Offset != -1 || *ps[1].Metadata != "" {
			t.Fatalf("v%d: %+v", v, ps)
		}
	}

	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version = 8
	g1 := kmsg.NewOffsetFetchRequestGroup()
	g1.Group = "g1" // Topics nil: all
	g2 := kmsg.NewOffsetFetchRequestGroup()
	g2.Group = "g2"
	gt := kmsg.NewOffsetFetchRequestGroupTopic()
	gt.Topic = "t2"
	gt.Partitions = []int32{1}
	g2.Topics = []kmsg.OffsetFetchRequestGroupTopic{gt}
	g3 := kmsg.NewOffsetFetchRequestGroup()
	g3.Group = "unknown"
	r.Groups = []kmsg.OffsetFetchRequestGroup{g1, g2, g3}
	resp := e.c.OffsetFetch(ctxT(t), r)
	if len(resp.Groups) != 3 {
		t.Fatalf("groups: %+v", resp.Groups)
	}
	if p := resp.Groups[0].Topics[0].Partitions[0]; resp.Groups[0].Topics[0].Topic != "t1" || p.Offset != 5 {
		t.Fatalf("g1: %+v", resp.Groups[0])
	}
	if p := resp.Groups[1].Topics[0].Partitions[0]; p.Offset != 6 || *p.Metadata != "b" {
		t.Fatalf("g2: %+v", resp.Groups[1])
	}
	if resp.Groups[2].ErrorCode != 0 || len(resp.Groups[2].Topics) != 0 {
		t.Fatalf("unknown group: %+v", resp.Groups[2])
	}

	// v10 names topics by id.
	r = kmsg.NewPtrOffsetFetchRequest()
	r.Version = 10
	g1 = kmsg.NewOffsetFetchRequestGroup()
	g1.Group = "g1"
	gt = kmsg.NewOffsetFetchRequestGroupTopic()
	gt.TopicID = topicID("t1")
	gt.Partitions = []int32{0}
	bad := kmsg.NewOffsetFetchRequestGroupTopic()
	bad.TopicID = topicID("gone")
	bad.Partitions = []int32{0}
	g1.Topics = []kmsg.OffsetFetchRequestGroupTopic{gt, bad}
	r.Groups = []kmsg.OffsetFetchRequestGroup{g1}
	resp = e.c.OffsetFetch(ctxT(t), r)
	ts := resp.Groups[0].Topics
	if ts[0].TopicID != topicID("t1") || ts[0].Partitions[0].Offset != 5 || ts[1].Partitions[0].ErrorCode != kerr.UnknownTopicID.Code {
		t.Fatalf("v10: %+v", ts)
	}

	// OffsetCommit v10 by topic id.
	cr := commitReq("g1", "", -1)
	cr.Version = 10
	ct := kmsg.NewOffsetCommitRequestTopic()
	ct.TopicID = topicID("t2")
	cp := kmsg.NewOffsetCommitRequestTopicPartition()
	cp.Partition, cp.Offset = 1, 77
	ct.Partitions = []kmsg.OffsetCommitRequestTopicPartition{cp}
	badT := kmsg.NewOffsetCommitRequestTopic()
	badT.TopicID = topicID("gone")
	badT.Partitions = []kmsg.OffsetCommitRequestTopicPartition{cp}
	cr.Topics = []kmsg.OffsetCommitRequestTopic{ct, badT}
	cresp := e.c.OffsetCommit(ctxT(t), cr)
	if cresp.Topics[0].Partitions[0].ErrorCode != 0 || cresp.Topics[1].Partitions[0].ErrorCode != kerr.UnknownTopicID.Code {
		t.Fatalf("commit v10: %+v", cresp.Topics)
	}
	if _, offs := e.fetch("g1", false, map[string][]int32{"t2": {1}}); offs[tp{"t2", 1}].offset != 77 {
		t.Fatalf("after commit v10: %+v", offs)
	}
}

func TestCommitRetentionAndExpiry(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.OffsetsRetentionMs = 60000 })
	allCodes(t, e.commit("g", "", -1, commitPart{"t1", 0, 1, ""}), 0)
	// v2 with an explicit retention time.
	v2 := commitReq("g2", "", -1, commitPart{"t1", 0, 1, ""})
	v2.Version = 2
	v2.RetentionTimeMillis = 1000
	allCodes(t, commitCodes(e.c.OffsetCommit(ctxT(t), v2)), 0)

	now := time.Now()
	e.c.sweep(now.Add(30 * time.Second))
	if _, offs := e.fetch("g", false, nil); len(offs) != 1 {
		t.Fatalf("expired too early: %+v", offs)
	}
	if _, offs := e.fetch("g2", false, nil); len(offs) != 0 {
		t.Fatalf("explicit retention not honoured: %+v", offs)
	}
	e.c.sweep(now.Add(61 * time.Second))
	if _, offs := e.fetch("g", false, nil); len(offs) != 0 {
		t.Fatalf("not expired: %+v", offs)
	}
	// Both groups are gone entirely.
	lg := e.c.ListGroups(ctxT(t), kmsg.NewPtrListGroupsRequest())
	if len(lg.Groups) != 0 {
		t.Fatalf("groups left: %+v", lg.Groups)
	}
	e.reopen()
	if _, offs := e.fetch("g", false, nil); len(offs) != 0 {
		t.Fatalf("expiry not durable: %+v", offs)
	}
}

func TestOffsetsOfActiveGroupDoNotExpire(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.OffsetsRetentionMs = 1000 })
	id1, ch1 := e.joinNew("g")
	wait(t, ch1)
	e.c.SyncGroup(ctxT(t), syncReq("g", id1, 1, nil))
	allCodes(t, e.commit("g", id1, 1, commitPart{"t1", 0, 3, ""}), 0)
	e.c.sweep(time.Now().Add(time.Hour))
	if _, offs := e.fetch("g", false, nil); offs[tp{"t1", 0}].offset != 3 {
		t.Fatalf("active group's offset expired: %+v", offs)
	}
}

func TestListGroupsFilters(t *testing.T) {
	e := newEnv(t)
	allCodes(t, e.commit("simple", "", -1, commitPart{"t1", 0, 1, ""}), 0)
	id1, ch1 := e.joinNew("classic")
	wait(t, ch1)
	e.c.SyncGroup(ctxT(t), syncReq("classic", id1, 1, nil))
	hb := consumerJoin("cons", "m1", "uniform", "a")
	mustOK(t, "848 join", e.c.ConsumerGroupHeartbeat(ctxT(t), hb).ErrorCode)

	list := func(v int16, states, types []string) map[string]kmsg.ListGroupsResponseGroup {
		r := kmsg.NewPtrListGroupsRequest()
		r.Version = v
		r.StatesFilter = states
		r.TypesFilter = types
		resp := e.c.ListGroups(ctxT(t), r)
		out := make(map[string]kmsg.ListGroupsResponseGroup)
		for _, g := range resp.Groups {
			out[g.Group] = g
		}
		return out
	}
	all := list(5, nil, nil)
	if len(all) != 3 || all["classic"].GroupState != "Stable" || all["classic"].ProtocolType != "consumer" ||
		all["classic"].GroupType != "classic" || all["cons"].GroupType != "consumer" || all["simple"].GroupState != "Empty" {
		t.Fatalf("all: %+v", all)
	}
	if got := list(5, []string{"stable"}, nil); len(got) != 2 {
		t.Fatalf("stable: %+v", got)
	}
	if got := list(5, nil, []string{"Consumer"}); len(got) != 1 || got["cons"].Group != "cons" {
		t.Fatalf("consumer type: %+v", got)
	}
	if got := list(5, []string{"Empty"}, []string{"classic"}); len(got) != 1 || got["simple"].Group != "simple" {
		t.Fatalf("empty classic: %+v", got)
	}
	// Filters are ignored by versions that do not have them.
	if got := list(3, []string{"Empty"}, nil); len(got) != 3 {
		t.Fatalf("v3: %+v", got)
	}
}

func TestOffsetDelete(t *testing.T) {
	e := newEnv(t)
	id1, ch1 := e.joinNew("g") // subscribes to t1 (see joinReq)
	wait(t, ch1)
	e.c.SyncGroup(ctxT(t), syncReq("g", id1, 1, nil))
	allCodes(t, e.commit("g", id1, 1, commitPart{"t1", 0, 1, ""}, commitPart{"t2", 0, 2, ""}), 0)

	del := func(group string, parts map[string][]int32) *kmsg.OffsetDeleteResponse {
		r := kmsg.NewPtrOffsetDeleteRequest()
		r.Group = group
		for _, name := range sortedKeys(parts) {
			t := kmsg.NewOffsetDeleteRequestTopic()
			t.Topic = name
			for _, p := range parts[name] {
				t.Partitions = append(t.Partitions, kmsg.OffsetDeleteRequestTopicPartition{Partition: p})
			}
			r.Topics = append(r.Topics, t)
		}
		return e.c.OffsetDelete(ctxT(t), r)
	}
	resp := del("g", map[string][]int32{"t1": {0}, "t2": {0}, "nope": {0}})
	mustOK(t, "offset delete", resp.ErrorCode)
	codes := map[string]int16{}
	for _, tt := range resp.Topics {
		codes[tt.Topic] = tt.Partitions[0].ErrorCode
	}
	if codes["t1"] != kerr.GroupSubscribedToTopic.Code || codes["t2"] != 0 || codes["nope"] != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("codes: %v", codes)
	}
	_, offs := e.fetch("g", false, nil)
	if len(offs) != 1 || offs[tp{"t1", 0}].offset != 1 {
		t.Fatalf("after delete: %+v", offs)
	}
	wantCode(t, "unknown group", del("nope", map[string][]int32{"t1": {0}}).ErrorCode, kerr.GroupIDNotFound)
	wantCode(t, "empty group id", del("", nil).ErrorCode, kerr.InvalidGroupID)

	// Garbage member metadata subscribes to nothing.
	r := joinReq("g2", "", withVersion(3))
	r.Protocols[0].Metadata = []byte{0xff, 0xff, 0xff}
	jr := e.c.JoinGroup(ctxT(t), r)
	mustOK(t, "join garbage", jr.ErrorCode)
	allCodes(t, e.commit("g2", jr.MemberID, 1, commitPart{"t1", 0, 1, ""}), kerr.RebalanceInProgress.Code)
	e.c.SyncGroup(ctxT(t), syncReq("g2", jr.MemberID, 1, nil))
	allCodes(t, e.commit("g2", jr.MemberID, 1, commitPart{"t1", 0, 1, ""}), 0)
	mustOK(t, "garbage metadata", del("g2", map[string][]int32{"t1": {0}}).Topics[0].Partitions[0].ErrorCode)

	// Another protocol type with members: NON_EMPTY_GROUP.
	r = joinReq("g3", "", withVersion(3), withProtocolType("connect"))
	mustOK(t, "join connect", e.c.JoinGroup(ctxT(t), r).ErrorCode)
	wantCode(t, "connect group", del("g3", map[string][]int32{"t1": {0}}).ErrorCode, kerr.NonEmptyGroup)
}

func TestInitialRebalanceDelay(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.InitialRebalanceDelayMs = 200 })
	start := time.Now()
	_, ch1 := e.joinNew("g")
	time.Sleep(100 * time.Millisecond)
	_, ch2 := e.joinNew("g") // arrives within the delay: extends it
	r1, r2 := wait(t, ch1), wait(t, ch2)
	if d := time.Since(start); d < 280*time.Millisecond {
		t.Fatalf("first rebalance completed after %v, before the extended delay", d)
	}
	if r1.Generation != 1 || r2.Generation != 1 || len(r1.Members)+len(r2.Members) != 2 {
		t.Fatalf("one generation with both members expected: %+v / %+v", r1, r2)
	}
	// Later rebalances of a non-empty group are not delayed.
	e.c.SyncGroup(ctxT(t), syncReq("g", r1.LeaderID, 1, nil))
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 1
	lr.Group, lr.MemberID = "g", r2.MemberID
	if r2.MemberID == r1.LeaderID {
		lr.MemberID = r1.MemberID
	}
	mustOK(t, "leave", e.c.LeaveGroup(ctxT(t), lr).ErrorCode)
	start = time.Now()
	r := wait(t, e.joinAsync(joinReq("g", r1.LeaderID)))
	if r.Generation != 2 || time.Since(start) > 150*time.Millisecond {
		t.Fatalf("second rebalance: %+v after %v", r, time.Since(start))
	}
}
