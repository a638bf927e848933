package group

import (
	"slices"
	"sync"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/statefile"
)

// groupState is a classic group's state. KIP-848 groups derive theirs (see
// consumerGroup.state).
type groupState int8

const (
	stateEmpty groupState = iota
	statePreparing
	stateCompleting
	stateStable
	stateDead
)

func (s groupState) String() string {
	switch s {
	case stateEmpty:
		return "Empty"
	case statePreparing:
		return "PreparingRebalance"
	case stateCompleting:
		return "CompletingRebalance"
	case stateStable:
		return "Stable"
	}
	return "Dead"
}

type tp struct {
	topic     string
	partition int32
}

// committed is a committed offset plus its position in the global write
// order; a transaction's staged offset only replaces a committed offset
// that was written before it was staged (as Kafka compares log positions).
type committed struct {
	offsetValue
	seq uint64
}

type staged struct {
	pendingValue
	seq uint64
}

// group is one group id's state: committed and staged offsets, plus the
// membership of whichever protocol the group speaks (classic, or KIP-848
// "consumer" in cg). Every field is guarded by mu.
type group struct {
	c  *Coordinator
	id string

	mu           sync.Mutex
	dead         bool // removed from the coordinator; look the id up again
	kind         groupKind
	persisted    bool  // a group record exists in the state file
	emptySinceMs int64 // when the group last had no members (offset expiry base)

	offsets map[string]map[int32]committed
	pending map[int64]map[tp]staged // producer id → staged txn offsets

	// Classic protocol.
	state          groupState
	protocolType   string
	protocol       string
	generation     int32
	leader         string
	members        map[string]*member
	pendingMembers map[string]*pendingMember // got MEMBER_ID_REQUIRED, must rejoin
	static         map[string]string         // group.instance.id → member id
	joinSeq        uint64
	rebalanceSeq   uint64
	rebalanceTimer *time.Timer
	initialDelay   bool // the running rebalance is an initial delayed join
	newMemberAdded bool
	pendingSync    map[string]struct{} // members that have not synced this generation
	syncTimer      *time.Timer

	// KIP-848 protocol.
	cg *consumerGroup
}

func newGroup(c *Coordinator, id string) *group {
	return &group{
		c:              c,
		id:             id,
		offsets:        make(map[string]map[int32]committed),
		pending:        make(map[int64]map[tp]staged),
		members:        make(map[string]*member),
		pendingMembers: make(map[string]*pendingMember),
		static:         make(map[string]string),
	}
}

// after runs fn with g.mu held once d has passed, unless the group was
// removed or the coordinator closed in the meantime. fn must itself check
// that what it acts on is still current (the callers use sequence numbers).
func (g *group) after(d time.Duration, fn func()) *time.Timer {
	return time.AfterFunc(d, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.dead || g.c.isClosed() {
			return
		}
		fn()
	})
}

func (g *group) stopTimers() {
	if g.rebalanceTimer != nil {
		g.rebalanceTimer.Stop()
	}
	if g.syncTimer != nil {
		g.syncTimer.Stop()
	}
	for _, m := range g.members {
		m.stopTimer()
	}
	for _, p := range g.pendingMembers {
		p.timer.Stop()
	}
	if g.cg != nil {
		for _, m := range g.cg.members {
			m.stopTimers()
		}
	}
}

func (g *group) hasMembers() bool {
	if g.kind == kindConsumer {
		return g.cg != nil && len(g.cg.members) > 0
	}
	return len(g.members) > 0 || len(g.pendingMembers) > 0
}

func (g *group) nextSeq() uint64 {
	return g.c.seq.Add(1)
}

func (g *group) setOffset(topic string, partition int32, v offsetValue) {
	ps := g.offsets[topic]
	if ps == nil {
		ps = make(map[int32]committed)
		g.offsets[topic] = ps
	}
	ps[partition] = committed{v, g.nextSeq()}
}

func (g *group) deleteOffset(topic string, partition int32) {
	if ps := g.offsets[topic]; ps != nil {
		delete(ps, partition)
		if len(ps) == 0 {
			delete(g.offsets, topic)
		}
	}
}

func (g *group) stage(pid int64, topic string, partition int32, v pendingValue) {
	ps := g.pending[pid]
	if ps == nil {
		ps = make(map[tp]staged)
		g.pending[pid] = ps
	}
	ps[tp{topic, partition}] = staged{v, g.nextSeq()}
}

func (g *group) hasPending(topic string, partition int32) bool {
	for _, ps := range g.pending {
		if _, ok := ps[tp{topic, partition}]; ok {
			return true
		}
	}
	return false
}

// meta returns the durable description of the group.
func (g *group) meta() groupMeta {
	m := groupMeta{Kind: g.kind, StateMs: time.Now().UnixMilli()}
	if g.kind == kindConsumer {
		if g.cg != nil {
			m.ProtocolType = "consumer"
			m.Generation = g.cg.epoch
		}
		return m
	}
	m.ProtocolType = g.protocolType
	m.Protocol = g.protocol
	m.Generation = g.generation
	m.Leader = g.leader
	m.State = g.state
	for _, mem := range g.sortedMembers() {
		m.Members = append(m.Members, memberMeta{
			MemberID:         mem.id,
			InstanceID:       mem.instanceID,
			ClientID:         mem.clientID,
			ClientHost:       mem.clientHost,
			RebalanceTimeout: mem.rebalanceTimeoutMs,
			SessionTimeout:   mem.sessionTimeoutMs,
			Metadata:         mem.metadataFor(g.protocol),
			Assignment:       mem.assignment,
		})
	}
	return m
}

// persist writes the group record.
func (g *group) persist() error {
	if err := g.c.append(groupRecord(g.id, g.meta())); err != nil {
		return err
	}
	g.persisted = true
	return nil
}

// unused reports whether the group holds nothing worth keeping.
func (g *group) unused() bool {
	return !g.hasMembers() && len(g.offsets) == 0 && len(g.pending) == 0
}

// removeIfFresh drops a group that a failed request created and that never
// held anything.
func (g *group) removeIfFresh() {
	if !g.persisted && g.unused() && g.state == stateEmpty {
		g.c.removeGroup(g)
	}
}

// delete durably removes the group with its offsets. Callers have checked
// that it has no members.
func (g *group) delete() error {
	var recs []statefile.Record
	for topic, ps := range g.offsets {
		for p := range ps {
			recs = append(recs, offsetTombstone(offsetKey{g.id, topic, p}))
		}
	}
	for pid, ps := range g.pending {
		for k := range ps {
			recs = append(recs, pendingTombstone(pendingKey{g.id, pid, k.topic, k.partition}))
		}
	}
	if g.persisted {
		recs = append(recs, groupTombstone(g.id))
	}
	if err := g.c.append(recs...); err != nil {
		return err
	}
	for pid := range g.pending {
		g.c.unindexTxn(pid, g.id)
	}
	g.state = stateDead
	g.c.removeGroup(g)
	return nil
}

// expireOffsets removes offsets past retention, by Kafka's rules
// (GroupMetadata.removeExpiredOffsets: KIP-211 and KIP-496):
//
//   - a group without members: every offset, retention after the later of
//     its commit and the moment the group became empty;
//   - a Stable classic group of protocol type "consumer", or a KIP-848
//     group with members: the offsets of topics no member subscribes to,
//     retention after their commit (KIP-496);
//   - any other group (a rebalance under way, another protocol type, a
//     subscription that does not parse): nothing.
//
// An explicit expiry (OffsetCommit v1-v4) takes the place of the computed
// one where offsets may expire. Offsets with staged transactional updates
// are kept.
func (g *group) expireOffsets(nowMs int64) {
	base, subscribed, ok := g.expiryRule()
	if !ok {
		return
	}
	retention := g.c.cfg.OffsetsRetentionMs
	var recs []statefile.Record
	var gone []tp
	for topic, ps := range g.offsets {
		if subscribed(topic) {
			continue
		}
		for p, o := range ps {
			expireAt := o.ExpireMs
			if expireAt < 0 {
				expireAt = base(o.offsetValue) + retention
			}
			if nowMs >= expireAt && !g.hasPending(topic, p) {
				recs = append(recs, offsetTombstone(offsetKey{g.id, topic, p}))
				gone = append(gone, tp{topic, p})
			}
		}
	}
	if len(recs) == 0 {
		return
	}
	if err := g.c.append(recs...); err != nil {
		return
	}
	for _, k := range gone {
		g.deleteOffset(k.topic, k.partition)
	}
	g.c.log.Info("expired group offsets", "group", g.id, "partitions", len(gone))
}

// expiryRule is how expireOffsets treats g now: the time an offset's
// retention counts from, the topics whose offsets are kept whatever their
// age, and whether anything may expire at all.
func (g *group) expiryRule() (base func(offsetValue) int64, subscribed func(string) bool, ok bool) {
	sinceCommit := func(o offsetValue) int64 { return o.CommitMs }
	switch {
	case !g.hasMembers():
		return func(o offsetValue) int64 { return max(o.CommitMs, g.emptySinceMs) }, func(string) bool { return false }, true
	case g.kind == kindConsumer:
		return sinceCommit, g.consumerSubscribesTo, true
	case g.state == stateStable && g.protocolType == "consumer":
		topics, complete := g.subscribedTopics()
		if !complete {
			return nil, nil, false
		}
		return sinceCommit, func(t string) bool { return topics[t] }, true
	}
	return nil, nil, false
}

func sortedKeys[K interface{ ~string | ~int32 | ~int64 }, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
