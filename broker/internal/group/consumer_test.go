package group

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func consumerJoin(group, member, assignor string, topics ...string) *kmsg.ConsumerGroupHeartbeatRequest {
	r := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	r.Version = 1
	r.Group = group
	r.MemberID = member
	r.MemberEpoch = 0
	r.RebalanceTimeoutMillis = 5000
	r.SubscribedTopicNames = append([]string{}, topics...)
	if assignor != "" {
		r.ServerAssignor = &assignor
	}
	r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	return r
}

// sim848 is a simulated KIP-848 consumer.
type sim848 struct {
	id        string
	instance  *string
	epoch     int32
	topics    []string
	regex     *string
	assignor  string
	consuming assignment // what the client is actually consuming
	assigned  assignment // the last assignment the coordinator sent
	slow      int        // heartbeats to wait before releasing revoked partitions
	waited    int
	rebalance int32 // rebalance timeout; default 5000
}

func (s *sim848) request(group string) *kmsg.ConsumerGroupHeartbeatRequest {
	r := consumerJoin(group, s.id, s.assignor, s.topics...)
	r.MemberEpoch = s.epoch
	r.InstanceID = s.instance
	if s.rebalance > 0 {
		r.RebalanceTimeoutMillis = s.rebalance
	}
	if s.regex != nil {
		r.SubscribedTopicNames = nil
		r.SubscribedTopicRegex = s.regex
	}
	if s.epoch != 0 {
		for _, id := range sortedIDs(s.consuming) {
			t := kmsg.NewConsumerGroupHeartbeatRequestTopic()
			t.TopicID = id
			t.Partitions = slices.Clone(s.consuming[id])
			r.Topics = append(r.Topics, t)
		}
	}
	return r
}

// heartbeat sends one heartbeat and applies the response the way a client
// does: new partitions are consumed at once, revoked ones are released
// (after s.slow heartbeats) and then reported as no longer owned.
func (e *testEnv) heartbeat848(group string, s *sim848) *kmsg.ConsumerGroupHeartbeatResponse {
	e.t.Helper()
	resp := e.c.ConsumerGroupHeartbeat(ctxT(e.t), s.request(group))
	if resp.ErrorCode != 0 {
		return resp
	}
	s.epoch = resp.MemberEpoch
	if resp.MemberID != nil {
		s.id = *resp.MemberID
	}
	if resp.Assignment != nil {
		a := make(assignment)
		for _, t := range resp.Assignment.Topics {
			for _, p := range t.Partitions {
				a.add(t.TopicID, p)
			}
		}
		if !a.equal(s.assigned) {
			s.waited = 0
		}
		s.assigned = a
	}
	if s.consuming == nil {
		s.consuming = make(assignment)
	}
	if s.assigned != nil {
		if s.consuming.subsetOf(s.assigned) || s.waited >= s.slow {
			s.consuming = s.assigned.clone()
		} else {
			s.waited++
			// Keep consuming the revoked partitions, but take the new ones.
			for id, ps := range s.assigned {
				for _, p := range ps {
					s.consuming.add(id, p)
				}
			}
		}
	}
	return resp
}

// checkDisjoint fails if two simulated clients consume the same partition.
func checkDisjoint(t *testing.T, sims []*sim848) {
	t.Helper()
	owner := make(map[tpid]string)
	for _, s := range sims {
		for id, ps := range s.consuming {
			for _, p := range ps {
				k := tpid{id, p}
				if o, ok := owner[k]; ok {
					t.Fatalf("partition %x/%d consumed by %s and %s at once", id[:2], p, o, s.id)
				}
				owner[k] = s.id
			}
		}
	}
}

// settle heartbeats every member round-robin until the group is stable and
// every member consumes exactly its assignment, checking the invariant
// after every heartbeat.
func (e *testEnv) settle(group string, sims []*sim848) {
	e.t.Helper()
	for round := 0; round < 50; round++ {
		for _, s := range sims {
			if r := e.heartbeat848(group, s); r.ErrorCode != 0 {
				e.t.Fatalf("heartbeat %s: %v %v", s.id, kerr.ErrorForCode(r.ErrorCode), r.ErrorMessage)
			}
			checkDisjoint(e.t, sims)
		}
		g := e.c.lockGroup(group, false)
		stable := g.cg.state() == "Stable"
		g.mu.Unlock()
		done := stable
		for _, s := range sims {
			if !s.consuming.equal(s.assigned) {
				done = false
			}
		}
		if done {
			return
		}
	}
	e.t.Fatal("group did not settle")
}

// checkCoverage checks that every partition of topics is consumed exactly
// once and that loads differ by at most one (for the uniform assignor).
func checkCoverage(t *testing.T, e *testEnv, sims []*sim848, balanced bool, topics ...string) {
	t.Helper()
	want := 0
	for _, tn := range topics {
		n, _ := e.topics.Partitions(tn)
		want += int(n)
	}
	got, lo, hi := 0, 1<<30, 0
	for _, s := range sims {
		n := s.consuming.count()
		got += n
		lo, hi = min(lo, n), max(hi, n)
	}
	if got != want {
		t.Fatalf("%d partitions consumed, want %d", got, want)
	}
	if balanced && hi-lo > 1 {
		t.Fatalf("unbalanced: loads between %d and %d", lo, hi)
	}
}

func TestConsumerGroupJoinLeave(t *testing.T) {
	for _, assignor := range []string{"uniform", "range"} {
		for _, slow := range []int{0, 3} {
			t.Run(fmt.Sprintf("%s/slow=%d", assignor, slow), func(t *testing.T) {
				e := newEnv(t)
				const g = "cg"
				topics := []string{"a", "b"}
				mk := func(name string) *sim848 {
					return &sim848{id: name, topics: topics, assignor: assignor, slow: slow}
				}
				m1 := mk("m1")
				sims := []*sim848{m1}
				e.settle(g, sims)
				checkCoverage(t, e, sims, true, topics...)
				if m1.consuming.count() != 9 {
					t.Fatalf("single member owns %d partitions", m1.consuming.count())
				}

				m2 := mk("m2")
				sims = append(sims, m2)
				e.settle(g, sims)
				checkCoverage(t, e, sims, assignor == "uniform", topics...)

				m3 := mk("m3")
				sims = append(sims, m3)
				e.settle(g, sims)
				checkCoverage(t, e, sims, assignor == "uniform", topics...)
				for _, s := range sims {
					if s.consuming.count() < 2 {
						t.Fatalf("member %s got %d partitions", s.id, s.consuming.count())
					}
				}

				// Describe while stable.
				dr := kmsg.NewPtrConsumerGroupDescribeRequest()
				dr.Groups = []string{g}
				dr.Version = 1
				dg := e.c.ConsumerGroupDescribe(ctxT(t), dr).Groups[0]
				if dg.ErrorCode != 0 || dg.State != "Stable" || len(dg.Members) != 3 || dg.AssignorName != assignor || dg.Epoch != dg.AssignmentEpoch {
					t.Fatalf("describe: %+v", dg)
				}
				for _, dm := range dg.Members {
					if dm.MemberEpoch != dg.Epoch || dm.MemberType != 1 || len(dm.Assignment.TopicPartitions) == 0 || dm.Assignment.TopicPartitions[0].Topic == "" {
						t.Fatalf("describe member: %+v", dm)
					}
				}

				// m2 leaves; its partitions go to the others.
				leave := m2.request(g)
				leave.MemberEpoch = -1
				lr := e.c.ConsumerGroupHeartbeat(ctxT(t), leave)
				if lr.ErrorCode != 0 || lr.MemberEpoch != -1 {
					t.Fatalf("leave: %+v", lr)
				}
				sims = []*sim848{m1, m3}
				e.settle(g, sims)
				checkCoverage(t, e, sims, assignor == "uniform", topics...)

				// m1 leaves too.
				leave = m1.request(g)
				leave.MemberEpoch = -1
				mustOK(t, "leave m1", e.c.ConsumerGroupHeartbeat(ctxT(t), leave).ErrorCode)
				sims = []*sim848{m3}
				e.settle(g, sims)
				if m3.consuming.count() != 9 {
					t.Fatalf("last member owns %d", m3.consuming.count())
				}
			})
		}
	}
}

func TestRangeAssignorIsContiguous(t *testing.T) {
	in := assignInput{}
	a := topicInfo{name: "a", id: topicID("a"), partitions: 7}
	for _, id := range []string{"x", "y", "z"} {
		in.members = append(in.members, assignMember{id: id, topics: []topicInfo{a}})
	}
	out := assignRange(in)
	want := map[string][]int32{"x": {0, 1, 2}, "y": {3, 4}, "z": {5, 6}}
	for id, ps := range want {
		if !slices.Equal(out[id][a.id], ps) {
			t.Fatalf("%s: %v, want %v", id, out[id][a.id], ps)
		}
	}
}

func TestUniformAssignorIsSticky(t *testing.T) {
	a := topicInfo{name: "a", id: topicID("a"), partitions: 12}
	in := assignInput{}
	for _, id := range []string{"x", "y"} {
		in.members = append(in.members, assignMember{id: id, topics: []topicInfo{a}})
	}
	first := assignUniform(in)
	in.prev = first
	in.members = append(in.members, assignMember{id: "z", topics: []topicInfo{a}})
	second := assignUniform(in)
	moved := 0
	for _, id := range []string{"x", "y"} {
		if second[id].count() != 4 || !second[id].subsetOf(first[id]) {
			t.Fatalf("%s: %v (was %v)", id, second[id], first[id])
		}
		moved += first[id].count() - second[id].count()
	}
	if moved != 4 || second["z"].count() != 4 {
		t.Fatalf("moved %d partitions", moved)
	}
	// Heterogeneous subscriptions: y only subscribes to b.
	b := topicInfo{name: "b", id: topicID("b"), partitions: 2}
	het := assignInput{members: []assignMember{{id: "x", topics: []topicInfo{a, b}}, {id: "y", topics: []topicInfo{b}}}}
	out := assignUniform(het)
	if out["y"].count() != 2 || out["x"].count() != 12 {
		t.Fatalf("heterogeneous: x=%v y=%v", out["x"], out["y"])
	}
}

func TestConsumerGroupErrors(t *testing.T) {
	e := newEnv(t)
	const g = "cg"
	m1 := &sim848{id: "m1", topics: []string{"a"}}
	m1b := &sim848{id: "m1b", topics: []string{"a"}}
	e.settle(g, []*sim848{m1})
	e.settle(g, []*sim848{m1, m1b}) // m1 is at epoch 2 now

	badTopics := consumerJoin(g, "m9", "", "a")
	badTopics.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{{TopicID: topicID("a"), Partitions: []int32{0}}}
	noSub := consumerJoin(g, "m9", "", "a")
	noSub.SubscribedTopicNames = nil
	noTimeout := consumerJoin(g, "m9", "", "a")
	noTimeout.RebalanceTimeoutMillis = -1
	noMember := consumerJoin(g, "", "", "a")
	badEpoch := consumerJoin(g, "m1", "", "a")
	badEpoch.MemberEpoch = -3
	staticNoInstance := consumerJoin(g, "m1", "", "a")
	staticNoInstance.MemberEpoch = -2
	badRegex := consumerJoin(g, "m9", "", "a")
	badRegex.SubscribedTopicRegex = kmsg.StringPtr("a(")
	fenced := m1.request(g)
	fenced.MemberEpoch = m1.epoch + 1
	stale := m1.request(g)
	stale.MemberEpoch = m1.epoch - 1
	stale.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{{TopicID: topicID("b"), Partitions: []int32{0}}}
	unknown := m1.request(g)
	unknown.MemberID = "ghost"
	noGroup := m1.request("nope")
	emptyGroup := consumerJoin("", "m1", "", "a")

	for _, tc := range []struct {
		name string
		req  *kmsg.ConsumerGroupHeartbeatRequest
		want *kerr.Error
	}{
		{"owned partitions on join", badTopics, kerr.InvalidRequest},
		{"no subscription on join", noSub, kerr.InvalidRequest},
		{"no rebalance timeout on join", noTimeout, kerr.InvalidRequest},
		{"no member id in v1", noMember, kerr.InvalidRequest},
		{"epoch below -2", badEpoch, kerr.InvalidRequest},
		{"static leave without instance", staticNoInstance, kerr.InvalidRequest},
		{"empty group id", emptyGroup, kerr.InvalidRequest},
		{"unknown assignor", consumerJoin(g, "m9", "sticky", "a"), kerr.UnsupportedAssignor},
		{"bad regex", badRegex, kerr.InvalidRegularExpression},
		{"epoch from the future", fenced, kerr.FencedMemberEpoch},
		{"stale epoch owning foreign partitions", stale, kerr.FencedMemberEpoch},
		{"unknown member", unknown, kerr.UnknownMemberID},
		{"unknown group", noGroup, kerr.GroupIDNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.c.ConsumerGroupHeartbeat(ctxT(t), tc.req)
			wantCode(t, tc.name, r.ErrorCode, tc.want)
			if r.ErrorMessage == nil {
				t.Fatal("no error message")
			}
		})
	}

	// A classic group with members and a consumer group with members do
	// not mix.
	wantCode(t, "classic join to consumer group", e.c.JoinGroup(ctxT(t), joinReq(g, "")).ErrorCode, kerr.InconsistentGroupProtocol)
	id1, ch1 := e.joinNew("classic")
	wait(t, ch1)
	_ = id1
	wantCode(t, "848 join to classic group", e.c.ConsumerGroupHeartbeat(ctxT(t), consumerJoin("classic", "x", "", "a")).ErrorCode, kerr.GroupIDNotFound)
	dr := kmsg.NewPtrConsumerGroupDescribeRequest()
	dr.Groups = []string{"classic", "nope", ""}
	ds := e.c.ConsumerGroupDescribe(ctxT(t), dr).Groups
	wantCode(t, "describe classic", ds[0].ErrorCode, kerr.GroupIDNotFound)
	wantCode(t, "describe unknown", ds[1].ErrorCode, kerr.GroupIDNotFound)
	wantCode(t, "describe empty id", ds[2].ErrorCode, kerr.InvalidGroupID)
	d6 := kmsg.NewPtrDescribeGroupsRequest()
	d6.Version = 6
	d6.Groups = []string{g}
	wantCode(t, "classic describe of consumer group", e.c.DescribeGroups(ctxT(t), d6).Groups[0].ErrorCode, kerr.GroupIDNotFound)

	// Leave of an unknown member.
	leave := consumerJoin(g, "ghost", "", "a")
	leave.MemberEpoch = -1
	wantCode(t, "unknown leave", e.c.ConsumerGroupHeartbeat(ctxT(t), leave).ErrorCode, kerr.UnknownMemberID)

	// Once empty, a consumer group can become classic (offsets stay).
	allCodes(t, e.commit(g, "m1", m1.epoch, commitPart{"a", 0, 4, ""}), 0)
	leave = m1.request(g)
	leave.MemberEpoch = -1
	mustOK(t, "leave", e.c.ConsumerGroupHeartbeat(ctxT(t), leave).ErrorCode)
	wantCode(t, "classic join while m1b remains", e.c.JoinGroup(ctxT(t), joinReq(g, "")).ErrorCode, kerr.InconsistentGroupProtocol)
	leave = m1b.request(g)
	leave.MemberEpoch = -1
	mustOK(t, "leave m1b", e.c.ConsumerGroupHeartbeat(ctxT(t), leave).ErrorCode)
	_, ch := e.joinNew(g)
	mustOK(t, "classic join after conversion", wait(t, ch).ErrorCode)
	if _, offs := e.fetch(g, false, nil); offs[tp{"a", 0}].offset != 4 {
		t.Fatalf("offsets lost in conversion: %+v", offs)
	}
}

func TestConsumerGroupV0GeneratesMemberID(t *testing.T) {
	e := newEnv(t)
	r := consumerJoin("cg", "", "", "a")
	r.Version = 0
	resp := e.c.ConsumerGroupHeartbeat(ctxT(t), r)
	mustOK(t, "join", resp.ErrorCode)
	if resp.MemberID == nil || *resp.MemberID == "" || resp.MemberEpoch != 1 || resp.HeartbeatIntervalMillis != 50 {
		t.Fatalf("v0 join: %+v", resp)
	}
	if resp.Assignment == nil || len(resp.Assignment.Topics) != 1 || len(resp.Assignment.Topics[0].Partitions) != 6 {
		t.Fatalf("assignment: %+v", resp.Assignment)
	}
}

func TestConsumerGroupCommitsAndFetches(t *testing.T) {
	e := newEnv(t)
	m1 := &sim848{id: "m1", topics: []string{"a"}}
	e.settle("cg", []*sim848{m1})
	allCodes(t, e.commit("cg", "m1", m1.epoch, commitPart{"a", 1, 10, ""}), 0)
	allCodes(t, e.commit("cg", "m1", m1.epoch-1, commitPart{"a", 1, 10, ""}), kerr.StaleMemberEpoch.Code)
	allCodes(t, e.commit("cg", "ghost", m1.epoch, commitPart{"a", 1, 10, ""}), kerr.UnknownMemberID.Code)
	allCodes(t, e.commit("cg", "", -1, commitPart{"a", 1, 10, ""}), kerr.UnknownMemberID.Code)
	old := commitReq("cg", "m1", m1.epoch, commitPart{"a", 1, 10, ""})
	old.Version = 8
	allCodes(t, commitCodes(e.c.OffsetCommit(ctxT(t), old)), kerr.UnsupportedVersion.Code)

	fetch := func(member string, epoch int32) int16 {
		r := kmsg.NewPtrOffsetFetchRequest()
		r.Version = 9
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = "cg"
		rg.MemberID = &member
		rg.MemberEpoch = epoch
		r.Groups = []kmsg.OffsetFetchRequestGroup{rg}
		resp := e.c.OffsetFetch(ctxT(t), r)
		if resp.Groups[0].ErrorCode == 0 && resp.Groups[0].Topics[0].Partitions[0].Offset != 10 {
			t.Fatalf("fetch: %+v", resp.Groups[0])
		}
		return resp.Groups[0].ErrorCode
	}
	mustOK(t, "fetch", fetch("m1", m1.epoch))
	wantCode(t, "fetch stale", fetch("m1", m1.epoch+1), kerr.StaleMemberEpoch)
	wantCode(t, "fetch unknown", fetch("ghost", 1), kerr.UnknownMemberID)
}

func TestConsumerGroupStaticMembers(t *testing.T) {
	e := newEnv(t)
	const g = "cg"
	m1 := &sim848{id: "m1", instance: kmsg.StringPtr("i1"), topics: []string{"a"}}
	m2 := &sim848{id: "m2", instance: kmsg.StringPtr("i2"), topics: []string{"a"}}
	sims := []*sim848{m1, m2}
	e.settle(g, sims)
	epochBefore := m2.epoch
	owned := m2.consuming.clone()

	// Another member cannot take a live instance id.
	wantCode(t, "unreleased", e.c.ConsumerGroupHeartbeat(ctxT(t), (&sim848{id: "m2b", instance: kmsg.StringPtr("i2"), topics: []string{"a"}}).request(g)).ErrorCode, kerr.UnreleasedInstanceID)

	// i2 leaves temporarily (-2): no rebalance, its partitions stay put.
	leave := m2.request(g)
	leave.MemberEpoch = -2
	lr := e.c.ConsumerGroupHeartbeat(ctxT(t), leave)
	if lr.ErrorCode != 0 || lr.MemberEpoch != -2 {
		t.Fatalf("static leave: %+v", lr)
	}
	e.settle(g, []*sim848{m1})
	if m1.consuming.count() != 3 {
		t.Fatalf("m1 took i2's partitions: %v", m1.consuming)
	}
	// i2 comes back with a new member id and gets its partitions back.
	m2b := &sim848{id: "m2-new", instance: kmsg.StringPtr("i2"), topics: []string{"a"}}
	sims = []*sim848{m1, m2b}
	e.settle(g, sims)
	if !m2b.consuming.equal(owned) || m2b.epoch < epochBefore {
		t.Fatalf("returning static member got %v (had %v)", m2b.consuming, owned)
	}
	wantCode(t, "old id", e.c.ConsumerGroupHeartbeat(ctxT(t), m2.request(g)).ErrorCode, kerr.UnknownMemberID)
}

func TestConsumerGroupSessionExpiry(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ConsumerSessionTimeoutMs = 300 })
	m1 := &sim848{id: "m1", topics: []string{"a"}}
	m2 := &sim848{id: "m2", topics: []string{"a"}}
	e.settle("cg", []*sim848{m1, m2})
	// m2 goes silent; m1 keeps heartbeating and eventually owns everything.
	deadline := time.Now().Add(5 * time.Second)
	for m1.consuming.count() != 6 {
		if time.Now().After(deadline) {
			t.Fatalf("m1 never got m2's partitions: %v", m1.consuming)
		}
		mustOK(t, "heartbeat", e.heartbeat848("cg", m1).ErrorCode)
		time.Sleep(20 * time.Millisecond)
	}
	wantCode(t, "expired member", e.c.ConsumerGroupHeartbeat(ctxT(t), m2.request("cg")).ErrorCode, kerr.UnknownMemberID)
}

func TestConsumerGroupRevocationTimeoutFences(t *testing.T) {
	e := newEnv(t)
	// m1 never releases revoked partitions and has a short rebalance timeout.
	m1 := &sim848{id: "m1", topics: []string{"a"}, slow: 1 << 30, rebalance: 200}
	e.settle("cg", []*sim848{m1})
	m2 := &sim848{id: "m2", topics: []string{"a"}}
	mustOK(t, "m2 join", e.heartbeat848("cg", m2).ErrorCode)
	mustOK(t, "m1 heartbeat", e.heartbeat848("cg", m1).ErrorCode)
	mustOK(t, "m2 heartbeat", e.heartbeat848("cg", m2).ErrorCode)
	checkDisjoint(t, []*sim848{m1, m2})
	if m2.consuming.count() != 0 {
		t.Fatalf("m2 got partitions m1 still owns: %v", m2.consuming)
	}
	time.Sleep(400 * time.Millisecond)
	wantCode(t, "fenced m1", e.heartbeat848("cg", m1).ErrorCode, kerr.UnknownMemberID)
	mustOK(t, "m2 heartbeat", e.heartbeat848("cg", m2).ErrorCode)
	if m2.consuming.count() != 6 {
		t.Fatalf("m2 owns %v after m1 was fenced", m2.consuming)
	}
}

func TestConsumerGroupRegexAndNewTopics(t *testing.T) {
	e := newEnv(t)
	m1 := &sim848{id: "m1", regex: kmsg.StringPtr("t.*")}
	e.settle("cg", []*sim848{m1})
	if m1.consuming.count() != 5 { // t1 (3) + t2 (2); "a" and "b" do not match the whole name
		t.Fatalf("regex assignment: %v", m1.consuming)
	}
	// A new matching topic, and a subscribed topic growing, are picked up.
	e.topics.set("t3", 4)
	e.topics.set("t1", 5)
	time.Sleep(1100 * time.Millisecond) // regex resolution is cached for a second
	e.settle("cg", []*sim848{m1})
	if m1.consuming.count() != 11 {
		t.Fatalf("after new topic: %d partitions", m1.consuming.count())
	}
}

func TestConsumerGroupLostResponseRecovery(t *testing.T) {
	e := newEnv(t)
	m1 := &sim848{id: "m1", topics: []string{"a"}}
	e.settle("cg", []*sim848{m1})
	// The member rejoins at epoch 0 with the same id (e.g. after an error):
	// it keeps its assignment.
	before := m1.consuming.clone()
	m1.epoch = 0
	m1.consuming = nil
	resp := e.heartbeat848("cg", m1)
	mustOK(t, "rejoin", resp.ErrorCode)
	if !m1.consuming.equal(before) {
		t.Fatalf("rejoin in place: %v, want %v", m1.consuming, before)
	}
}

func TestConsumerGroupAssignorVote(t *testing.T) {
	cg := newConsumerGroup()
	cg.members["a"] = &cMember{id: "a", assignor: "range"}
	cg.members["b"] = &cMember{id: "b"}
	if got := cg.chooseAssignor(); got != "range" {
		t.Fatalf("one vote for range: %s", got)
	}
	cg.members["c"] = &cMember{id: "c", assignor: "uniform"}
	if got := cg.chooseAssignor(); got != "uniform" {
		t.Fatalf("tie: %s", got)
	}
}
