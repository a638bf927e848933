package runtime

import (
	"encoding/json"
	"slices"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// The group protocol of streams instances: the "consumer" protocol with a
// balancer that assigns whole tasks (every partition of a task to one
// member), keeps tasks where they were, gives new ones to members that
// hold their state, spreads them evenly, and picks standby replicas.
// Cooperative: a task moving between members is first revoked by its
// owner and handed over in a second rebalance (kgo's AdjustCooperative).
const protocolName = "tributary-streams"

// memberInfo is what an instance tells the group leader, in its
// subscription's user data.
type memberInfo struct {
	Process  string   `json:"process"`
	Endpoint string   `json:"endpoint,omitempty"`
	Local    []string `json:"local,omitempty"` // tasks whose state it holds
}

// assignmentInfo is what the leader tells each member, in its
// assignment's user data.
type assignmentInfo struct {
	Standby []string `json:"standby,omitempty"`
	// Owners maps each task to the query endpoint of its owner.
	Owners map[string]string `json:"owners,omitempty"`
}

type balancer struct {
	layout   *layout
	g        *topology.Graph
	standbys int
	// local reports this instance's member info; called at each join.
	local func() memberInfo

	mu   sync.Mutex
	last assignmentInfo
}

var _ kgo.GroupBalancer = (*balancer)(nil)

func (b *balancer) ProtocolName() string { return protocolName }
func (b *balancer) IsCooperative() bool  { return true }

func (b *balancer) JoinGroupMetadata(topics []string, current map[string][]int32, generation int32) []byte {
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Version = 2
	meta.Topics = topics
	meta.Generation = generation
	for topic, parts := range current {
		op := kmsg.NewConsumerMemberMetadataOwnedPartition()
		op.Topic = topic
		op.Partitions = parts
		meta.OwnedPartitions = append(meta.OwnedPartitions, op)
	}
	sort.Slice(meta.OwnedPartitions, func(i, j int) bool { return meta.OwnedPartitions[i].Topic < meta.OwnedPartitions[j].Topic })
	info := b.local()
	slices.Sort(info.Local)
	meta.UserData, _ = json.Marshal(info)
	return meta.AppendTo(nil)
}

func (b *balancer) ParseSyncAssignment(assignment []byte) (map[string][]int32, error) {
	var a kmsg.ConsumerMemberAssignment
	if err := a.ReadFrom(assignment); err != nil {
		return nil, err
	}
	var info assignmentInfo
	if len(a.UserData) > 0 {
		// A bad user data leaves this member without standbys and owner
		// map; its partitions still count.
		_ = json.Unmarshal(a.UserData, &info)
	}
	b.mu.Lock()
	b.last = info
	b.mu.Unlock()
	out := map[string][]int32{}
	for _, t := range a.Topics {
		out[t.Topic] = t.Partitions
	}
	return out, nil
}

// lastAssignment is the user data of the latest assignment.
func (b *balancer) lastAssignment() assignmentInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

func (b *balancer) MemberBalancer(members []kmsg.JoinGroupResponseMember) (kgo.GroupMemberBalancer, map[string]struct{}, error) {
	cb, err := kgo.NewConsumerBalancer(b, members)
	return cb, cb.MemberTopics(), err
}

// plannedTask is one task in a balance.
type plannedTask struct {
	id       topology.TaskID
	owner    int // member index, -1 unassigned
	stateful bool
}

func (b *balancer) Balance(cb *kgo.ConsumerBalancer, _ map[string]int32) kgo.IntoSyncAssignment {
	type member struct {
		id      string
		info    memberInfo
		local   map[string]bool
		load    int
		subLoad map[int]int
		standby []string
	}
	var members []*member
	prev := map[topology.TaskID]int{}
	prevGen := map[topology.TaskID]int32{}
	cb.EachMember(func(m *kmsg.JoinGroupResponseMember, meta *kmsg.ConsumerMemberMetadata) {
		mm := &member{id: m.MemberID, local: map[string]bool{}, subLoad: map[int]int{}}
		_ = json.Unmarshal(meta.UserData, &mm.info)
		for _, t := range mm.info.Local {
			mm.local[t] = true
		}
		idx := len(members)
		members = append(members, mm)
		for _, op := range meta.OwnedPartitions {
			sub, ok := b.layout.byTopic[op.Topic]
			if !ok {
				continue
			}
			for _, p := range op.Partitions {
				id := topology.TaskID{Subtopology: sub, Partition: p}
				if g, seen := prevGen[id]; !seen || meta.Generation > g {
					prev[id], prevGen[id] = idx, meta.Generation
				}
			}
		}
	})
	if len(members) == 0 {
		return cb.NewPlan()
	}
	var tasks []*plannedTask
	for sub, n := range b.layout.tasks {
		stateful := false
		for _, s := range b.g.Subtopologies[sub].Stores {
			stateful = stateful || b.g.Stores[s].Logged
		}
		for p := range n {
			tasks = append(tasks, &plannedTask{id: topology.TaskID{Subtopology: sub, Partition: p}, owner: -1, stateful: stateful})
		}
	}
	// An even share of all tasks, and of each sub-topology's tasks, so
	// that stateful and stateless work both spread.
	share := func(n int) int { return (n + len(members) - 1) / len(members) }
	capacity := share(len(tasks))
	subCapacity := map[int]int{}
	for sub, n := range b.layout.tasks {
		subCapacity[sub] = share(int(n))
	}
	take := func(t *plannedTask, o int) {
		t.owner = o
		members[o].load++
		members[o].subLoad[t.id.Subtopology]++
	}
	fits := func(t *plannedTask, o int) bool {
		m := members[o]
		return m.load < capacity && m.subLoad[t.id.Subtopology] < subCapacity[t.id.Subtopology]
	}
	// 1. Tasks stay with their owner, up to an even share.
	for _, t := range tasks {
		if o, ok := prev[t.id]; ok && fits(t, o) {
			take(t, o)
		}
	}
	// 2. The rest go to the least loaded member (in the task's
	// sub-topology, then overall), preferring one that holds the task's
	// state.
	leastLoaded := func(t *plannedTask, ok func(int) bool) int {
		best := -1
		for i, m := range members {
			if !ok(i) {
				continue
			}
			if best < 0 {
				best = i
				continue
			}
			bm := members[best]
			sl, bsl := m.subLoad[t.id.Subtopology], bm.subLoad[t.id.Subtopology]
			if sl < bsl || (sl == bsl && m.load < bm.load) {
				best = i
			}
		}
		return best
	}
	for _, t := range tasks {
		if t.owner >= 0 {
			continue
		}
		key := t.id.String()
		o := leastLoaded(t, func(i int) bool { return members[i].local[key] && fits(t, i) })
		if o < 0 {
			o = leastLoaded(t, func(int) bool { return true })
		}
		take(t, o)
	}
	// 3. Standby replicas of stateful tasks on other members, preferring
	// members that hold the state, then those with fewer standbys.
	if b.standbys > 0 {
		for _, t := range tasks {
			if !t.stateful {
				continue
			}
			key := t.id.String()
			chosen := map[int]bool{t.owner: true}
			for range b.standbys {
				best := -1
				for i, m := range members {
					if chosen[i] {
						continue
					}
					if best < 0 || (m.local[key] && !members[best].local[key]) ||
						(m.local[key] == members[best].local[key] && len(m.standby) < len(members[best].standby)) {
						best = i
					}
				}
				if best < 0 {
					break
				}
				chosen[best] = true
				members[best].standby = append(members[best].standby, key)
			}
		}
	}
	plan := cb.NewPlan()
	owners := map[string]string{}
	for _, t := range tasks {
		m := members[t.owner]
		for topic, parts := range b.layout.taskPartitions(b.g, t.id) {
			plan.AddPartitions(&kmsg.JoinGroupResponseMember{MemberID: m.id}, topic, parts)
		}
		owners[t.id.String()] = m.info.Endpoint
	}
	plan.AdjustCooperative(cb)
	out := assignments{}
	for _, m := range members {
		a := kmsg.NewConsumerMemberAssignment()
		for topic, parts := range plan.AsMemberIDMap()[m.id] {
			slices.Sort(parts)
			at := kmsg.NewConsumerMemberAssignmentTopic()
			at.Topic = topic
			at.Partitions = parts
			a.Topics = append(a.Topics, at)
		}
		sort.Slice(a.Topics, func(i, j int) bool { return a.Topics[i].Topic < a.Topics[j].Topic })
		slices.Sort(m.standby)
		a.UserData, _ = json.Marshal(assignmentInfo{Standby: m.standby, Owners: owners})
		sa := kmsg.NewSyncGroupRequestGroupAssignment()
		sa.MemberID = m.id
		sa.MemberAssignment = a.AppendTo(nil)
		out = append(out, sa)
	}
	return out
}

type assignments []kmsg.SyncGroupRequestGroupAssignment

func (a assignments) IntoSyncAssignment() []kmsg.SyncGroupRequestGroupAssignment { return a }
