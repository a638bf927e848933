package group

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// KIP-848 consumer groups: the coordinator computes assignments.
//
// The group epoch advances whenever the group's subscription changes
// (members join or leave, a subscription or preferred assignor changes, a
// subscribed topic gains partitions or appears). Each advance recomputes the
// target assignment with the server-side assignor. Members then reconcile
// towards their target one heartbeat at a time:
//
//   - partitions to give up are revoked first: the member keeps its epoch
//     and is told its assignment without them, and only once a heartbeat
//     reports it no longer owns them (or it leaves, or it misses the
//     rebalance timeout and is fenced) are they released;
//   - a target partition still owned (assigned or being revoked) by another
//     member is withheld until that member releases it.
//
// So a partition is never assigned to two members at once.
//
// Regex subscriptions use Go's regexp (RE2 syntax, as Kafka's RE2/J) and must
// match the whole topic name.

type memberState int8

const (
	mStable     memberState = iota
	mUnrevoked              // waiting for the member to revoke partitions
	mUnreleased             // waiting for other members to release target partitions
)

const staticLeftEpoch = -2

// assignment maps topic id → sorted partitions.
type assignment map[[16]byte][]int32

type tpid struct {
	id [16]byte
	p  int32
}

func (a assignment) has(id [16]byte, p int32) bool {
	_, ok := slices.BinarySearch(a[id], p)
	return ok
}

func (a assignment) add(id [16]byte, p int32) {
	ps := a[id]
	i, ok := slices.BinarySearch(ps, p)
	if !ok {
		a[id] = slices.Insert(ps, i, p)
	}
}

func (a assignment) count() int {
	n := 0
	for _, ps := range a {
		n += len(ps)
	}
	return n
}

func (a assignment) equal(b assignment) bool {
	if len(a) != len(b) {
		return false
	}
	for id, ps := range a {
		if !slices.Equal(ps, b[id]) {
			return false
		}
	}
	return true
}

func (a assignment) overlaps(b assignment) bool {
	for id, ps := range a {
		for _, p := range ps {
			if b.has(id, p) {
				return true
			}
		}
	}
	return false
}

// subsetOf reports whether every partition of a is in b.
func (a assignment) subsetOf(b assignment) bool {
	for id, ps := range a {
		for _, p := range ps {
			if !b.has(id, p) {
				return false
			}
		}
	}
	return true
}

func (a assignment) clone() assignment {
	c := make(assignment, len(a))
	for id, ps := range a {
		c[id] = slices.Clone(ps)
	}
	return c
}

func assignmentFromRequest(ts []kmsg.ConsumerGroupHeartbeatRequestTopic) assignment {
	if ts == nil {
		return nil
	}
	a := make(assignment)
	for _, t := range ts {
		for _, p := range t.Partitions {
			if p >= 0 {
				a.add(t.TopicID, p)
			}
		}
	}
	return a
}

type cMember struct {
	id                 string
	instanceID         *string
	rackID             *string
	clientID           string
	clientHost         string
	epoch              int32
	prevEpoch          int32
	state              memberState
	rebalanceTimeoutMs int32
	names              []string // sorted
	regex              string
	re                 *regexp.Regexp
	assignor           string
	assigned           assignment // what the member may own now
	revoking           assignment // what it must give up; still counts as owned
	joinSeq            uint64

	hbSeq, revokeSeq     uint64
	hbTimer, revokeTimer *time.Timer
}

func (m *cMember) stopTimers() {
	if m.hbTimer != nil {
		m.hbTimer.Stop()
	}
	if m.revokeTimer != nil {
		m.revokeTimer.Stop()
	}
}

// key identifies the member in the group signature: its instance id when
// static, so that a static member replacing its old id changes nothing.
func (m *cMember) key() string {
	if m.instanceID != nil {
		return "i:" + *m.instanceID
	}
	return "m:" + m.id
}

type consumerGroup struct {
	epoch           int32
	assignmentEpoch int32
	members         map[string]*cMember
	static          map[string]string     // instance id → member id
	target          map[string]assignment // member id → target assignment
	assignor        string
	sig             string
	joinSeq         uint64

	names   []string // cached Topics.Names() for regex subscriptions
	namesAt time.Time
}

func newConsumerGroup() *consumerGroup {
	return &consumerGroup{
		members: make(map[string]*cMember),
		static:  make(map[string]string),
		target:  make(map[string]assignment),
	}
}

// state is the KIP-848 group state: Empty, Assigning, Reconciling or Stable.
func (cg *consumerGroup) state() string {
	if len(cg.members) == 0 {
		return "Empty"
	}
	if cg.assignmentEpoch != cg.epoch {
		return "Assigning"
	}
	for _, m := range cg.members {
		if m.epoch == staticLeftEpoch {
			continue
		}
		if m.epoch != cg.assignmentEpoch || m.state != mStable {
			return "Reconciling"
		}
	}
	return "Stable"
}

var assignors = map[string]func(assignInput) map[string]assignment{
	"uniform": assignUniform,
	"range":   assignRange,
}

const defaultAssignor = "uniform"

// cgHeartbeat is a decoded ConsumerGroupHeartbeat.
type cgHeartbeat struct {
	version            int16
	memberID           string
	epoch              int32
	instanceID         *string
	rackID             *string
	rebalanceTimeoutMs int32
	names              []string // nil: unchanged
	regex              *string  // nil: unchanged
	re                 *regexp.Regexp
	assignor           *string
	owned              assignment // nil: unchanged
	full               bool
	clientID           string
	clientHost         string
}

type cgResult struct {
	err        int16
	msg        string
	memberID   string
	epoch      int32
	assignment assignment // nil: not sent
}

func cgErr(code int16, format string, args ...any) cgResult {
	return cgResult{err: code, msg: fmt.Sprintf(format, args...)}
}

// compileSubscriptionRegex compiles a KIP-848 subscription regex anchored to
// the whole topic name.
func compileSubscriptionRegex(s string) (*regexp.Regexp, error) {
	return regexp.Compile("^(?:" + s + ")$")
}

// consumerHeartbeat handles a validated ConsumerGroupHeartbeat under g.mu.
func (g *group) consumerHeartbeat(p cgHeartbeat) cgResult {
	if g.kind == kindClassic {
		if g.hasMembers() || p.epoch != 0 {
			return cgErr(kerr.GroupIDNotFound.Code, "group %s is not a consumer group", g.id)
		}
		g.convertToConsumer()
	}
	cg := g.cg
	switch p.epoch {
	case -1:
		m := cg.members[p.memberID]
		if m == nil {
			return cgErr(kerr.UnknownMemberID.Code, "member %s is not in group %s", p.memberID, g.id)
		}
		g.c.log.Info("consumer group member left", "group", g.id, "member", m.id)
		g.removeConsumerMember(m)
		return cgResult{memberID: p.memberID, epoch: -1}
	case staticLeftEpoch:
		id, ok := cg.static[*p.instanceID]
		if !ok {
			return cgErr(kerr.UnknownMemberID.Code, "instance %s is not in group %s", *p.instanceID, g.id)
		}
		if id != p.memberID {
			return cgErr(kerr.FencedInstanceID.Code, "instance %s belongs to member %s", *p.instanceID, id)
		}
		m := cg.members[id]
		// The member keeps its assignment for a session timeout, in case
		// the instance comes back (KIP-345 semantics in KIP-848).
		m.epoch = staticLeftEpoch
		if m.revokeTimer != nil {
			m.revokeTimer.Stop()
		}
		g.scheduleConsumerSession(m)
		return cgResult{memberID: p.memberID, epoch: staticLeftEpoch}
	}

	var m *cMember
	if p.epoch == 0 {
		var res cgResult
		m, res = g.consumerJoin(p)
		if m == nil {
			return res
		}
	} else {
		m = cg.members[p.memberID]
		if m == nil {
			return cgErr(kerr.UnknownMemberID.Code, "member %s is not in group %s", p.memberID, g.id)
		}
		if p.epoch > m.epoch {
			return cgErr(kerr.FencedMemberEpoch.Code, "member epoch %d is newer than the coordinator's %d", p.epoch, m.epoch)
		}
		// One epoch behind is fine if the member owns nothing it should
		// not: the response that bumped it may have been lost.
		if p.epoch < m.epoch && (p.epoch != m.prevEpoch || p.owned == nil || !p.owned.subsetOf(m.assigned)) {
			return cgErr(kerr.FencedMemberEpoch.Code, "member epoch %d is older than the coordinator's %d", p.epoch, m.epoch)
		}
	}

	before := m.assigned.clone()
	m.clientID, m.clientHost = p.clientID, p.clientHost
	if p.rackID != nil {
		m.rackID = p.rackID
	}
	if p.rebalanceTimeoutMs > 0 {
		m.rebalanceTimeoutMs = p.rebalanceTimeoutMs
	}
	if p.names != nil {
		m.names = slices.Sorted(slices.Values(p.names))
		m.names = slices.Compact(m.names)
	}
	if p.regex != nil {
		m.regex, m.re = *p.regex, p.re
		if m.regex == "" {
			m.re = nil
		}
	}
	if p.assignor != nil {
		m.assignor = *p.assignor
	}

	g.maybeBumpEpoch()
	g.reconcile(m, p.owned)
	g.scheduleConsumerSession(m)

	res := cgResult{memberID: m.id, epoch: m.epoch}
	if p.epoch == 0 || p.full || !before.equal(m.assigned) {
		res.assignment = m.assigned
	}
	return res
}

func (g *group) convertToConsumer() {
	g.kind = kindConsumer
	g.state = stateEmpty
	g.protocol = ""
	g.leader = ""
	g.cg = newConsumerGroup()
	g.cg.epoch = g.generation
	g.cg.assignmentEpoch = g.generation
}

// consumerJoin resolves the member of an epoch-0 heartbeat: a new member, a
// member rejoining in place (lost response, or after being fenced), or a
// static member taking over its instance id.
func (g *group) consumerJoin(p cgHeartbeat) (*cMember, cgResult) {
	cg := g.cg
	newMember := func(id string) *cMember {
		cg.joinSeq++
		m := &cMember{
			id:                 id,
			instanceID:         p.instanceID,
			assigned:           make(assignment),
			rebalanceTimeoutMs: p.rebalanceTimeoutMs,
			joinSeq:            cg.joinSeq,
		}
		cg.members[id] = m
		if p.instanceID != nil {
			cg.static[*p.instanceID] = id
		}
		g.c.log.Info("consumer group member joined", "group", g.id, "member", id)
		return m
	}
	id := p.memberID
	if id == "" { // v0: the coordinator names the member
		id = newUUID()
	}
	if p.instanceID != nil {
		oldID, ok := cg.static[*p.instanceID]
		if !ok {
			if cg.members[id] != nil {
				return nil, cgErr(kerr.FencedInstanceID.Code, "member %s joined without instance %s before", id, *p.instanceID)
			}
			return newMember(id), cgResult{}
		}
		old := cg.members[oldID]
		if oldID == id {
			return old, cgResult{}
		}
		if old.epoch != staticLeftEpoch {
			return nil, cgErr(kerr.UnreleasedInstanceID.Code, "instance %s is still used by member %s", *p.instanceID, oldID)
		}
		// The returning instance inherits the old member's assignment.
		old.stopTimers()
		delete(cg.members, oldID)
		old.id = id
		old.epoch, old.prevEpoch = 0, 0
		cg.members[id] = old
		cg.static[*p.instanceID] = id
		if t, ok := cg.target[oldID]; ok {
			delete(cg.target, oldID)
			cg.target[id] = t
		}
		g.c.log.Info("static consumer group member replaced", "group", g.id, "instance", *p.instanceID, "old_member", oldID, "member", id)
		return old, cgResult{}
	}
	if m := cg.members[id]; m != nil {
		if m.instanceID != nil {
			return nil, cgErr(kerr.FencedInstanceID.Code, "member %s is static; rejoin with its instance id", id)
		}
		return m, cgResult{}
	}
	return newMember(id), cgResult{}
}

// removeConsumerMember removes m, freeing its partitions, and recomputes the
// target assignment.
func (g *group) removeConsumerMember(m *cMember) {
	cg := g.cg
	m.stopTimers()
	delete(cg.members, m.id)
	delete(cg.target, m.id)
	if m.instanceID != nil && cg.static[*m.instanceID] == m.id {
		delete(cg.static, *m.instanceID)
	}
	if len(cg.members) == 0 {
		g.emptySinceMs = time.Now().UnixMilli()
	}
	g.maybeBumpEpoch()
}

func (g *group) scheduleConsumerSession(m *cMember) {
	m.hbSeq++
	seq := m.hbSeq
	if m.hbTimer != nil {
		m.hbTimer.Stop()
	}
	m.hbTimer = g.after(ms(g.c.cfg.ConsumerSessionTimeoutMs), func() {
		if g.cg == nil || g.cg.members[m.id] != m || m.hbSeq != seq {
			return
		}
		g.c.log.Info("consumer group member session expired", "group", g.id, "member", m.id)
		g.removeConsumerMember(m)
	})
}

type topicInfo struct {
	name       string
	id         [16]byte
	partitions int32
}

// subscriptions resolves each member's subscribed topics (names plus regex
// matches) to existing topics.
func (g *group) subscriptions() map[string][]topicInfo {
	cg := g.cg
	var all []string
	for _, m := range cg.members {
		if m.re != nil {
			if time.Since(cg.namesAt) > time.Second || cg.names == nil {
				cg.names = g.c.topics.Names()
				slices.Sort(cg.names)
				cg.namesAt = time.Now()
			}
			all = cg.names
			break
		}
	}
	info := make(map[string]*topicInfo)
	lookup := func(name string) *topicInfo {
		if ti, ok := info[name]; ok {
			return ti
		}
		var ti *topicInfo
		if n, ok := g.c.topics.Partitions(name); ok && n > 0 {
			if id, ok := g.c.topics.TopicID(name); ok {
				ti = &topicInfo{name: name, id: id, partitions: n}
			}
		}
		info[name] = ti
		return ti
	}
	subs := make(map[string][]topicInfo, len(cg.members))
	for _, m := range cg.members {
		seen := make(map[string]bool)
		var ts []topicInfo
		addName := func(name string) {
			if seen[name] {
				return
			}
			seen[name] = true
			if ti := lookup(name); ti != nil {
				ts = append(ts, *ti)
			}
		}
		for _, n := range m.names {
			addName(n)
		}
		if m.re != nil {
			for _, n := range all {
				if m.re.MatchString(n) {
					addName(n)
				}
			}
		}
		slices.SortFunc(ts, func(a, b topicInfo) int { return strings.Compare(a.name, b.name) })
		subs[m.id] = ts
	}
	return subs
}

// chooseAssignor picks the server assignor most members ask for (members
// that do not say do not vote); ties and no votes go to the default.
func (cg *consumerGroup) chooseAssignor() string {
	votes := make(map[string]int)
	for _, m := range cg.members {
		if m.assignor != "" {
			votes[m.assignor]++
		}
	}
	best, bestVotes := defaultAssignor, votes[defaultAssignor]
	for _, name := range sortedKeys(votes) {
		if votes[name] > bestVotes {
			best, bestVotes = name, votes[name]
		}
	}
	return best
}

// maybeBumpEpoch advances the group epoch and recomputes the target
// assignment if the group's subscription changed.
func (g *group) maybeBumpEpoch() {
	cg := g.cg
	subs := g.subscriptions()
	assignor := cg.chooseAssignor()
	ms := make([]*cMember, 0, len(cg.members))
	for _, m := range cg.members {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *cMember) int { return strings.Compare(a.key(), b.key()) })
	var sb strings.Builder
	sb.WriteString(assignor)
	for _, m := range ms {
		sb.WriteString("|")
		sb.WriteString(m.key())
		for _, t := range subs[m.id] {
			sb.WriteString(",")
			sb.WriteString(t.name)
			sb.Write(t.id[:])
			sb.WriteString(strconv.Itoa(int(t.partitions)))
		}
	}
	sig := sb.String()
	if sig == cg.sig {
		return
	}
	cg.sig = sig
	cg.epoch++
	if cg.epoch <= 0 {
		cg.epoch = 1
	}
	cg.assignor = assignor

	in := assignInput{prev: cg.target}
	slices.SortFunc(ms, func(a, b *cMember) int {
		return cmp.Or(cmp.Compare(a.joinSeq, b.joinSeq), strings.Compare(a.id, b.id))
	})
	for _, m := range ms {
		in.members = append(in.members, assignMember{id: m.id, topics: subs[m.id]})
	}
	cg.target = assignors[assignor](in)
	cg.assignmentEpoch = cg.epoch
	if err := g.persist(); err != nil {
		g.c.log.Warn("persisting consumer group epoch failed", "group", g.id, "err", err)
	}
}

// owners returns every partition owned (assigned or being revoked) by a
// member other than except.
func (cg *consumerGroup) owners(except *cMember) map[tpid]struct{} {
	o := make(map[tpid]struct{})
	for _, m := range cg.members {
		if m == except {
			continue
		}
		for _, a := range []assignment{m.assigned, m.revoking} {
			for id, ps := range a {
				for _, p := range ps {
					o[tpid{id, p}] = struct{}{}
				}
			}
		}
	}
	return o
}

// reconcile moves m towards its target assignment; owned is what the member
// reported owning in this heartbeat (nil if it did not say).
func (g *group) reconcile(m *cMember, owned assignment) {
	cg := g.cg
	switch m.state {
	case mStable:
		if m.epoch == cg.assignmentEpoch {
			return
		}
	case mUnrevoked:
		if owned == nil || owned.overlaps(m.revoking) {
			return
		}
		m.revoking = nil
		if m.revokeTimer != nil {
			m.revokeTimer.Stop()
		}
	}
	target := cg.target[m.id]
	others := cg.owners(m)
	keep, revoke, add := make(assignment), make(assignment), make(assignment)
	unreleased := false
	for id, ps := range m.assigned {
		for _, p := range ps {
			if target.has(id, p) {
				keep.add(id, p)
			} else {
				revoke.add(id, p)
			}
		}
	}
	for id, ps := range target {
		for _, p := range ps {
			if m.assigned.has(id, p) {
				continue
			}
			if _, taken := others[tpid{id, p}]; taken {
				unreleased = true
			} else {
				add.add(id, p)
			}
		}
	}
	if len(revoke) > 0 && (owned == nil || owned.overlaps(revoke)) {
		m.state = mUnrevoked
		m.assigned = keep
		m.revoking = revoke
		m.revokeSeq++
		seq := m.revokeSeq
		if m.revokeTimer != nil {
			m.revokeTimer.Stop()
		}
		m.revokeTimer = g.after(ms(max(m.rebalanceTimeoutMs, 1)), func() {
			if g.cg == nil || g.cg.members[m.id] != m || m.revokeSeq != seq || m.state != mUnrevoked {
				return
			}
			g.c.log.Info("consumer group member did not revoke partitions within its rebalance timeout; fencing it", "group", g.id, "member", m.id)
			g.removeConsumerMember(m)
		})
		return
	}
	for id, ps := range add {
		for _, p := range ps {
			keep.add(id, p)
		}
	}
	m.assigned = keep
	m.revoking = nil
	if m.epoch != cg.assignmentEpoch {
		m.prevEpoch = m.epoch
		m.epoch = cg.assignmentEpoch
	}
	m.state = mStable
	if unreleased {
		m.state = mUnreleased
	}
}

// subscribesTo reports whether any member of the consumer group subscribes
// to topic.
func (g *group) consumerSubscribesTo(topic string) bool {
	for _, m := range g.cg.members {
		if slices.Contains(m.names, topic) || (m.re != nil && m.re.MatchString(topic)) {
			return true
		}
	}
	return false
}
