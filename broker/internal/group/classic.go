package group

import (
	"bytes"
	"cmp"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The classic group protocol (JoinGroup / SyncGroup / Heartbeat /
// LeaveGroup), following Kafka's GroupCoordinator state machine:
//
//	Empty ──join──▶ PreparingRebalance ──all joined or rebalance timeout──▶ CompletingRebalance
//	CompletingRebalance ──leader SyncGroup──▶ Stable
//	Stable | CompletingRebalance ──join, leave, session expiry──▶ PreparingRebalance
//	PreparingRebalance ──nobody left──▶ Empty
//
// Handlers never block while holding g.mu. A JoinGroup that must wait for
// the rebalance gets a channel (member.joinCh, buffered) that completeJoin
// fills under the lock; the handler waits on it unlocked, together with its
// context and the coordinator's close. SyncGroup followers wait the same way
// on member.syncCh. A result is always sent to a channel exactly once and the
// channel is then forgotten, so a sender never blocks.

type protocol struct {
	name     string
	metadata []byte
}

type member struct {
	id                 string
	instanceID         *string
	clientID           string
	clientHost         string
	protocolType       string
	protocols          []protocol
	sessionTimeoutMs   int32
	rebalanceTimeoutMs int32
	assignment         []byte
	joinSeq            uint64 // join order; the earliest member leads

	joinCh chan joinResult // set while awaiting the join to complete
	syncCh chan syncResult // set while awaiting the leader's assignment

	hbSeq   uint64
	hbTimer *time.Timer
}

type pendingMember struct{ timer *time.Timer }

type joinResult struct {
	err            int16
	memberID       string
	generation     int32
	protocolType   string
	protocol       string
	leader         string
	skipAssignment bool
	members        []kmsg.JoinGroupResponseMember
}

type syncResult struct {
	err          int16
	protocolType string
	protocol     string
	assignment   []byte
}

type joinParams struct {
	memberID           string
	instanceID         *string
	clientID           string
	clientHost         string
	protocolType       string
	protocols          []protocol
	sessionTimeoutMs   int32
	rebalanceTimeoutMs int32
	requireKnownID     bool // JoinGroup v4+: KIP-394 MEMBER_ID_REQUIRED
}

func (m *member) stopTimer() {
	if m.hbTimer != nil {
		m.hbTimer.Stop()
	}
}

func (m *member) metadataFor(name string) []byte {
	for _, p := range m.protocols {
		if p.name == name {
			return p.metadata
		}
	}
	return nil
}

func (m *member) supports(name string) bool {
	for _, p := range m.protocols {
		if p.name == name {
			return true
		}
	}
	return false
}

func (m *member) matches(ps []protocol) bool {
	return slices.EqualFunc(m.protocols, ps, func(a, b protocol) bool {
		return a.name == b.name && bytes.Equal(a.metadata, b.metadata)
	})
}

func (m *member) awaitJoin() chan joinResult {
	if m.joinCh != nil {
		// A second JoinGroup replaces the first (its connection is most
		// likely gone); release the first waiter.
		m.joinCh <- joinResult{err: kerr.RebalanceInProgress.Code, memberID: m.id, generation: -1}
	}
	m.joinCh = make(chan joinResult, 1)
	return m.joinCh
}

func (m *member) awaitSync() chan syncResult {
	if m.syncCh != nil {
		m.syncCh <- syncResult{err: kerr.RebalanceInProgress.Code}
	}
	m.syncCh = make(chan syncResult, 1)
	return m.syncCh
}

func (m *member) finishJoin(r joinResult) {
	if m.joinCh != nil {
		m.joinCh <- r
		m.joinCh = nil
	}
}

func (m *member) finishSync(r syncResult) {
	if m.syncCh != nil {
		m.syncCh <- r
		m.syncCh = nil
	}
}

func errJoin(code int16, memberID string) joinResult {
	return joinResult{err: code, memberID: memberID, generation: -1}
}

// join handles a JoinGroup under g.mu: it returns a result, or a channel
// that will carry it once the rebalance completes.
func (g *group) join(p joinParams) (joinResult, chan joinResult) {
	if g.kind == kindConsumer {
		if g.hasMembers() {
			return errJoin(kerr.InconsistentGroupProtocol.Code, p.memberID), nil
		}
		g.convertToClassic()
	}
	if p.protocolType == "" || len(p.protocols) == 0 {
		return errJoin(kerr.InconsistentGroupProtocol.Code, p.memberID), nil
	}
	if g.state != stateEmpty && (p.protocolType != g.protocolType || !g.supportsProtocols(p.memberID, p.protocols)) {
		return errJoin(kerr.InconsistentGroupProtocol.Code, p.memberID), nil
	}

	if p.memberID == "" {
		newID := p.clientID + "-" + newUUID()
		if p.instanceID != nil {
			if oldID, ok := g.static[*p.instanceID]; ok && g.members[oldID] != nil {
				return g.replaceStaticMember(oldID, newID, p)
			}
			// Static members skip MEMBER_ID_REQUIRED (KIP-345): the
			// instance id already identifies them.
			return g.addMemberAndRebalance(newID, p)
		}
		if p.requireKnownID {
			g.addPending(newID, p.sessionTimeoutMs)
			return errJoin(kerr.MemberIDRequired.Code, newID), nil
		}
		return g.addMemberAndRebalance(newID, p)
	}

	if pm, ok := g.pendingMembers[p.memberID]; ok {
		pm.timer.Stop()
		delete(g.pendingMembers, p.memberID)
		return g.addMemberAndRebalance(p.memberID, p)
	}
	if code := g.validateMember(p.memberID, p.instanceID); code != 0 {
		return errJoin(code, p.memberID), nil
	}
	m := g.members[p.memberID]
	switch g.state {
	case statePreparing:
		return g.updateMemberAndRebalance(m, p)
	case stateCompleting:
		if m.matches(p.protocols) {
			// A duplicate join (lost response): answer with the
			// generation being completed.
			return g.currentJoinResult(m, false), nil
		}
		return g.updateMemberAndRebalance(m, p)
	case stateStable:
		if m.id == g.leader || !m.matches(p.protocols) {
			// The leader rejoins to force a rebalance (e.g. its
			// metadata changed); a changed subscription needs one too.
			return g.updateMemberAndRebalance(m, p)
		}
		return g.currentJoinResult(m, false), nil
	}
	return errJoin(kerr.UnknownMemberID.Code, p.memberID), nil
}

// validateMember is Kafka's member check for Heartbeat, SyncGroup,
// OffsetCommit and JoinGroup of a known member.
func (g *group) validateMember(memberID string, instanceID *string) int16 {
	if instanceID != nil {
		id, ok := g.static[*instanceID]
		if !ok {
			return kerr.UnknownMemberID.Code
		}
		if id != memberID {
			return kerr.FencedInstanceID.Code
		}
	}
	if g.members[memberID] == nil {
		return kerr.UnknownMemberID.Code
	}
	return 0
}

// supportsProtocols reports whether some protocol in ps is supported by every
// other member.
func (g *group) supportsProtocols(joiner string, ps []protocol) bool {
	for _, p := range ps {
		all := true
		for id, m := range g.members {
			if id != joiner && !m.supports(p.name) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (g *group) convertToClassic() {
	g.kind = kindClassic
	g.cg = nil
	g.state = stateEmpty
	g.protocolType = ""
	g.protocol = ""
	g.leader = ""
}

func (g *group) addPending(id string, sessionTimeoutMs int32) {
	pm := &pendingMember{}
	pm.timer = g.after(ms(sessionTimeoutMs), func() {
		if g.pendingMembers[id] != pm {
			return
		}
		delete(g.pendingMembers, id)
		g.tryCompleteJoin()
	})
	g.pendingMembers[id] = pm
}

func (g *group) addMemberAndRebalance(id string, p joinParams) (joinResult, chan joinResult) {
	g.joinSeq++
	m := &member{
		id:                 id,
		instanceID:         p.instanceID,
		clientID:           p.clientID,
		clientHost:         p.clientHost,
		protocolType:       p.protocolType,
		protocols:          p.protocols,
		sessionTimeoutMs:   p.sessionTimeoutMs,
		rebalanceTimeoutMs: p.rebalanceTimeoutMs,
		joinSeq:            g.joinSeq,
	}
	if len(g.members) == 0 {
		g.protocolType = p.protocolType
	}
	g.members[id] = m
	if p.instanceID != nil {
		g.static[*p.instanceID] = id
	}
	if g.leader == "" {
		g.leader = id
	}
	g.newMemberAdded = true
	ch := m.awaitJoin()
	g.scheduleSession(m)
	g.rebalanceOrTryComplete()
	return joinResult{}, ch
}

func (g *group) updateMemberAndRebalance(m *member, p joinParams) (joinResult, chan joinResult) {
	m.protocols = p.protocols
	m.protocolType = p.protocolType
	m.sessionTimeoutMs = p.sessionTimeoutMs
	m.rebalanceTimeoutMs = p.rebalanceTimeoutMs
	ch := m.awaitJoin()
	g.scheduleSession(m)
	g.rebalanceOrTryComplete()
	return joinResult{}, ch
}

func (g *group) rebalanceOrTryComplete() {
	if g.state == statePreparing {
		g.tryCompleteJoin()
	} else {
		g.prepareRebalance()
	}
}

// replaceStaticMember hands a known group.instance.id to a new member id
// (KIP-345): the old member id is fenced, and if the group is Stable and the
// selected protocol would not change, no rebalance happens.
func (g *group) replaceStaticMember(oldID, newID string, p joinParams) (joinResult, chan joinResult) {
	m := g.members[oldID]
	m.finishJoin(errJoin(kerr.FencedInstanceID.Code, oldID))
	m.finishSync(syncResult{err: kerr.FencedInstanceID.Code})
	delete(g.members, oldID)
	m.id = newID
	m.clientID, m.clientHost = p.clientID, p.clientHost
	g.members[newID] = m
	g.static[*p.instanceID] = newID
	if g.leader == oldID {
		g.leader = newID
	}
	if _, ok := g.pendingSync[oldID]; ok {
		delete(g.pendingSync, oldID)
		g.pendingSync[newID] = struct{}{}
	}
	m.protocols = p.protocols
	m.protocolType = p.protocolType
	m.sessionTimeoutMs = p.sessionTimeoutMs
	m.rebalanceTimeoutMs = p.rebalanceTimeoutMs
	g.scheduleSession(m)

	switch g.state {
	case stateStable:
		if g.selectProtocol() == g.protocol {
			if err := g.persist(); err != nil {
				g.c.log.Warn("persisting static member replacement failed", "group", g.id, "err", err)
			}
			// KIP-814: a returning leader gets the members but must not
			// reassign (SkipAssignment, v9+).
			return g.currentJoinResult(m, m.id == g.leader), nil
		}
		ch := m.awaitJoin()
		g.prepareRebalance()
		return joinResult{}, ch
	case stateCompleting:
		// The leader may be computing an assignment for the old member
		// id; rebalance so the new id gets one.
		ch := m.awaitJoin()
		g.prepareRebalance()
		return joinResult{}, ch
	default: // PreparingRebalance
		ch := m.awaitJoin()
		g.tryCompleteJoin()
		return joinResult{}, ch
	}
}

// currentJoinResult answers a join with the current generation; the leader
// gets the member list.
func (g *group) currentJoinResult(m *member, skip bool) joinResult {
	r := joinResult{
		memberID:       m.id,
		generation:     g.generation,
		protocolType:   g.protocolType,
		protocol:       g.protocol,
		leader:         g.leader,
		skipAssignment: skip,
	}
	if m.id == g.leader {
		r.members = g.joinMembers()
	}
	return r
}

func (g *group) joinMembers() []kmsg.JoinGroupResponseMember {
	ms := g.sortedMembers()
	out := make([]kmsg.JoinGroupResponseMember, 0, len(ms))
	for _, m := range ms {
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID = m.id
		jm.InstanceID = m.instanceID
		jm.ProtocolMetadata = m.metadataFor(g.protocol)
		out = append(out, jm)
	}
	return out
}

// sortedMembers returns members in join order.
func (g *group) sortedMembers() []*member {
	ms := make([]*member, 0, len(g.members))
	for _, m := range g.members {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *member) int { return cmp.Compare(a.joinSeq, b.joinSeq) })
	return ms
}

func (g *group) maxRebalanceTimeout() time.Duration {
	var d int32
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeoutMs)
	}
	return ms(d)
}

// prepareRebalance moves the group to PreparingRebalance and arms the join
// deadline: the rebalance timeout, or for a group that was Empty the
// initial delay (group.initial.rebalance.delay.ms), extended while new
// members keep arriving, up to the rebalance timeout.
func (g *group) prepareRebalance() {
	if g.state == stateCompleting {
		for _, m := range g.members {
			m.assignment = nil
			m.finishSync(syncResult{err: kerr.RebalanceInProgress.Code})
		}
	}
	if g.syncTimer != nil {
		g.syncTimer.Stop()
	}
	g.pendingSync = nil
	wasEmpty := g.state == stateEmpty
	g.c.log.Debug("group preparing rebalance", "group", g.id, "from", g.state.String(), "generation", g.generation)
	g.state = statePreparing
	g.rebalanceSeq++
	seq := g.rebalanceSeq
	if g.rebalanceTimer != nil {
		g.rebalanceTimer.Stop()
	}
	delay := ms(g.c.cfg.InitialRebalanceDelayMs)
	if wasEmpty && delay > 0 {
		g.initialDelay = true
		g.newMemberAdded = false
		g.scheduleInitialDelay(seq, delay, max(g.maxRebalanceTimeout()-delay, 0))
		return
	}
	g.initialDelay = false
	g.rebalanceTimer = g.after(g.maxRebalanceTimeout(), func() {
		if g.rebalanceSeq == seq && g.state == statePreparing {
			g.completeJoin()
		}
	})
	g.tryCompleteJoin()
}

func (g *group) scheduleInitialDelay(seq uint64, delay, remaining time.Duration) {
	g.rebalanceTimer = g.after(delay, func() {
		if g.rebalanceSeq != seq || g.state != statePreparing {
			return
		}
		if g.newMemberAdded && remaining > 0 {
			g.newMemberAdded = false
			d := min(ms(g.c.cfg.InitialRebalanceDelayMs), remaining)
			g.scheduleInitialDelay(seq, d, remaining-d)
			return
		}
		g.initialDelay = false
		g.completeJoin()
	})
}

func (g *group) tryCompleteJoin() {
	if g.state != statePreparing || g.initialDelay || len(g.pendingMembers) > 0 {
		return
	}
	for _, m := range g.members {
		if m.joinCh == nil {
			return
		}
	}
	g.completeJoin()
}

// completeJoin ends the join phase: members that did not rejoin are removed,
// the generation advances, a protocol is chosen and every waiting JoinGroup
// is answered (the leader with the member list).
func (g *group) completeJoin() {
	if g.rebalanceTimer != nil {
		g.rebalanceTimer.Stop()
	}
	g.rebalanceSeq++
	g.initialDelay = false
	for _, m := range g.members {
		if m.joinCh == nil {
			g.c.log.Info("removing member that did not rejoin in time", "group", g.id, "member", m.id)
			g.dropMember(m, kerr.UnknownMemberID.Code)
		}
	}
	g.generation++
	if g.generation < 0 {
		g.generation = 1
	}
	if len(g.members) == 0 {
		g.state = stateEmpty
		g.protocol = ""
		g.leader = ""
		g.emptySinceMs = time.Now().UnixMilli()
		if err := g.persist(); err != nil {
			g.c.log.Warn("persisting empty group failed", "group", g.id, "err", err)
		}
		return
	}
	if g.members[g.leader] == nil {
		g.leader = g.sortedMembers()[0].id
	}
	g.protocol = g.selectProtocol()
	g.state = stateCompleting
	g.c.log.Debug("group join completed", "group", g.id, "generation", g.generation, "members", len(g.members), "leader", g.leader, "protocol", g.protocol)
	if err := g.persist(); err != nil {
		g.c.log.Warn("persisting group generation failed", "group", g.id, "err", err)
	}

	g.pendingSync = make(map[string]struct{}, len(g.members))
	for id := range g.members {
		g.pendingSync[id] = struct{}{}
	}
	gen := g.generation
	if g.syncTimer != nil {
		g.syncTimer.Stop()
	}
	g.syncTimer = g.after(g.maxRebalanceTimeout(), func() { g.syncExpired(gen) })

	members := g.joinMembers()
	for _, m := range g.members {
		r := joinResult{
			memberID:     m.id,
			generation:   g.generation,
			protocolType: g.protocolType,
			protocol:     g.protocol,
			leader:       g.leader,
		}
		if m.id == g.leader {
			r.members = members
		}
		m.finishJoin(r)
		g.scheduleSession(m)
	}
}

// syncExpired removes members that never sent SyncGroup for generation gen
// within the rebalance timeout, and rebalances without them.
func (g *group) syncExpired(gen int32) {
	if g.generation != gen || (g.state != stateCompleting && g.state != stateStable) || len(g.pendingSync) == 0 {
		return
	}
	for id := range g.pendingSync {
		if m := g.members[id]; m != nil {
			g.c.log.Info("removing member that did not sync in time", "group", g.id, "member", id)
			g.dropMember(m, kerr.UnknownMemberID.Code)
		}
	}
	g.pendingSync = nil
	g.prepareRebalance()
}

// selectProtocol picks the protocol all members support with the most first
// preferences (Kafka's vote); ties go to the leader's preference order.
func (g *group) selectProtocol() string {
	ms := g.sortedMembers()
	if len(ms) == 0 {
		return ""
	}
	leader := g.members[g.leader]
	if leader == nil {
		leader = ms[0]
	}
	var candidates []string
	for _, p := range leader.protocols {
		all := true
		for _, m := range ms {
			if !m.supports(p.name) {
				all = false
				break
			}
		}
		if all && !slices.Contains(candidates, p.name) {
			candidates = append(candidates, p.name)
		}
	}
	if len(candidates) == 0 {
		return ""
	}
	votes := make(map[string]int)
	for _, m := range ms {
		for _, p := range m.protocols {
			if slices.Contains(candidates, p.name) {
				votes[p.name]++
				break
			}
		}
	}
	best := candidates[0]
	for _, c := range candidates[1:] {
		if votes[c] > votes[best] {
			best = c
		}
	}
	return best
}

// scheduleSession (re)arms m's session timeout. A member waiting in
// JoinGroup or SyncGroup is kept alive, as Kafka does.
func (g *group) scheduleSession(m *member) {
	m.hbSeq++
	seq := m.hbSeq
	m.stopTimer()
	m.hbTimer = g.after(ms(m.sessionTimeoutMs), func() {
		if g.members[m.id] != m || m.hbSeq != seq {
			return
		}
		if m.joinCh != nil || m.syncCh != nil {
			g.scheduleSession(m)
			return
		}
		g.c.log.Info("member session expired", "group", g.id, "member", m.id)
		g.removeMember(m)
	})
}

// dropMember removes m without triggering a rebalance; its waiting requests
// are answered with code.
func (g *group) dropMember(m *member, code int16) {
	m.finishJoin(errJoin(code, m.id))
	m.finishSync(syncResult{err: code})
	m.stopTimer()
	delete(g.members, m.id)
	delete(g.pendingSync, m.id)
	if m.instanceID != nil && g.static[*m.instanceID] == m.id {
		delete(g.static, *m.instanceID)
	}
	if g.leader == m.id {
		g.leader = ""
		if ms := g.sortedMembers(); len(ms) > 0 {
			g.leader = ms[0].id
		}
	}
}

// removeMember removes m (leave or session expiry) and rebalances.
func (g *group) removeMember(m *member) {
	g.dropMember(m, kerr.UnknownMemberID.Code)
	switch g.state {
	case stateStable, stateCompleting:
		g.prepareRebalance()
	case statePreparing:
		g.tryCompleteJoin()
	}
}

type syncParams struct {
	memberID     string
	instanceID   *string
	generation   int32
	protocolType *string
	protocol     *string
	assignments  []kmsg.SyncGroupRequestGroupAssignment
}

func (g *group) sync(p syncParams) (syncResult, chan syncResult) {
	if g.kind == kindConsumer {
		return syncResult{err: kerr.UnknownMemberID.Code}, nil
	}
	if code := g.validateMember(p.memberID, p.instanceID); code != 0 {
		return syncResult{err: code}, nil
	}
	if p.generation != g.generation {
		return syncResult{err: kerr.IllegalGeneration.Code}, nil
	}
	if (p.protocolType != nil && *p.protocolType != g.protocolType) || (p.protocol != nil && g.protocol != "" && *p.protocol != g.protocol) {
		return syncResult{err: kerr.InconsistentGroupProtocol.Code}, nil
	}
	m := g.members[p.memberID]
	switch g.state {
	case statePreparing:
		return syncResult{err: kerr.RebalanceInProgress.Code}, nil
	case stateStable:
		delete(g.pendingSync, m.id)
		g.scheduleSession(m)
		return g.syncOK(m), nil
	case stateCompleting:
		delete(g.pendingSync, m.id)
		ch := m.awaitSync()
		g.scheduleSession(m)
		if m.id != g.leader {
			return syncResult{}, ch
		}
		for _, a := range p.assignments {
			if am := g.members[a.MemberID]; am != nil {
				am.assignment = append([]byte{}, a.MemberAssignment...)
			}
		}
		for _, am := range g.members {
			if am.assignment == nil {
				am.assignment = []byte{}
			}
		}
		// The record says Stable: it is what a restart restores.
		g.state = stateStable
		if err := g.persist(); err != nil {
			g.state = stateCompleting
			for _, am := range g.members {
				am.assignment = nil
				am.finishSync(syncResult{err: kerr.CoordinatorNotAvailable.Code})
			}
			g.prepareRebalance()
			return syncResult{}, ch
		}
		g.c.log.Debug("group stable", "group", g.id, "generation", g.generation, "members", len(g.members))
		for _, am := range g.members {
			am.finishSync(g.syncOK(am))
		}
		return syncResult{}, ch
	}
	return syncResult{err: kerr.UnknownMemberID.Code}, nil
}

func (g *group) syncOK(m *member) syncResult {
	return syncResult{protocolType: g.protocolType, protocol: g.protocol, assignment: m.assignment}
}

func (g *group) heartbeat(memberID string, instanceID *string, generation int32) int16 {
	if g.kind == kindConsumer {
		return kerr.UnknownMemberID.Code
	}
	if code := g.validateMember(memberID, instanceID); code != 0 {
		return code
	}
	if generation != g.generation {
		return kerr.IllegalGeneration.Code
	}
	m := g.members[memberID]
	switch g.state {
	case statePreparing:
		g.scheduleSession(m)
		return kerr.RebalanceInProgress.Code
	case stateCompleting, stateStable:
		g.scheduleSession(m)
		return 0
	}
	return kerr.UnknownMemberID.Code
}

// leave removes one member (LeaveGroup); with an instance id the static
// mapping names the member.
func (g *group) leave(memberID string, instanceID *string) int16 {
	if g.kind == kindConsumer {
		return kerr.UnknownMemberID.Code
	}
	if instanceID != nil {
		id, ok := g.static[*instanceID]
		if !ok {
			return kerr.UnknownMemberID.Code
		}
		if memberID != "" && id != memberID {
			return kerr.FencedInstanceID.Code
		}
		memberID = id
	}
	if pm, ok := g.pendingMembers[memberID]; ok {
		pm.timer.Stop()
		delete(g.pendingMembers, memberID)
		g.tryCompleteJoin()
		return 0
	}
	m := g.members[memberID]
	if m == nil {
		return kerr.UnknownMemberID.Code
	}
	g.c.log.Info("member left group", "group", g.id, "member", memberID)
	g.removeMember(m)
	return 0
}

// subscribedTopics returns the topics the classic group's members subscribe
// to, from their consumer-protocol metadata, and whether every member's
// metadata parsed. A member whose metadata does not parse contributes
// nothing, as in Kafka.
func (g *group) subscribedTopics() (topics map[string]bool, complete bool) {
	topics = make(map[string]bool)
	complete = true
	for _, m := range g.members {
		md := m.metadataFor(g.protocol)
		if md == nil && len(m.protocols) > 0 {
			md = m.protocols[0].metadata
		}
		var cm kmsg.ConsumerMemberMetadata
		if err := cm.ReadFrom(md); err != nil {
			complete = false
			continue
		}
		for _, t := range cm.Topics {
			topics[t] = true
		}
	}
	return topics, complete
}
