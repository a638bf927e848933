package worker

// A distributed worker's membership in the workers' group, spoken with the
// classic group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup)
// under protocol type "connect", as Kafka Connect's workers do. The
// protocol name and the metadata and assignment formats are ours (JSON),
// so Java workers and ours cannot share a group (the coordinator refuses
// the mix with INCONSISTENT_GROUP_PROTOCOL).
//
// One goroutine (run) joins, syncs (computing every member's assignment
// when it is the leader), hands the assignment to the herder and
// heartbeats. It rejoins when the coordinator starts a rebalance, when the
// herder has stopped work that was revoked, when the leader sees the set of
// connectors or tasks change, and when held lost work is due.
//
// Safety: a member that learns it is no longer in the group (unknown member
// id, illegal generation) gives up its whole assignment before rejoining,
// since the leader may already have given that work to others.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	connectProtocolType = "connect"
	connectProtocolName = "tributary-cooperative-v1"
)

// joinMetadata is what a member tells the leader when joining.
type joinMetadata struct {
	Version    int      `json:"version"`
	URL        string   `json:"url"`
	Connectors []string `json:"connectors"`
	Tasks      []taskID `json:"tasks"`
}

type groupMembership struct {
	cfg     *Config
	rt      *runtime
	configs *configStore
	cl      *kgo.Client
	log     *slog.Logger
	url     string
	poke    func()

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	// mu guards the fields below, shared by run and the herder loop
	// (assignment, reconciled, rebalancing). The herder reads the
	// assignment, stops and starts work, then calls reconciled; run waits
	// for that before rejoining after a revocation.
	mu          sync.Mutex
	connectors  map[string]bool
	tasks       map[taskID]bool
	inRebalance bool
	leader      bool
	leaderURL   string        // the leader's REST URL, from the last assignment
	pendingSync bool          // an applied assignment awaits the herder
	synced      chan struct{} // closed by reconciled after pendingSync
	lastWork    string        // the work the leader last assigned (for change detection)
	rejoinCh    chan struct{} // capacity 1
	joined      chan struct{} // closed after the first assignment is applied
	joinedOnce  sync.Once

	// Owned by run.
	memberID   string
	generation int32
	state      *assignorState
}

func newGroupMembership(cfg *Config, rt *runtime, configs *configStore, url string) (*groupMembership, error) {
	cl, err := kgo.NewClient(append(cfg.clientOpts(roleWorker), kgo.SessionTimeout(cfg.SessionTimeout))...)
	if err != nil {
		return nil, fmt.Errorf("group client: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &groupMembership{cfg: cfg, rt: rt, configs: configs, cl: cl, log: rt.log.With("group", cfg.GroupID), url: url,
		ctx: ctx, cancel: cancel, done: make(chan struct{}), connectors: map[string]bool{}, tasks: map[taskID]bool{},
		inRebalance: true, rejoinCh: make(chan struct{}, 1), synced: make(chan struct{}), state: newAssignorState(),
		joined: make(chan struct{})}, nil
}

func (g *groupMembership) start(poke func()) {
	g.poke = poke
	go g.run()
}

// assignment returns this worker's work, and (on the leader) asks for a
// rebalance when the work in the snapshot is not what was last assigned.
func (g *groupMembership) assignment(snap snapshot) (map[string]bool, map[taskID]bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.leader && !g.inRebalance && workKey(snap) != g.lastWork {
		g.requestRejoinLocked()
	}
	conns, tasks := map[string]bool{}, map[taskID]bool{}
	for c := range g.connectors {
		conns[c] = true
	}
	for t := range g.tasks {
		tasks[t] = true
	}
	return conns, tasks
}

// workKey summarises the set of work in a snapshot.
func workKey(snap snapshot) string {
	conns, tasks := workOf(snap)
	b, _ := json.Marshal([]any{conns, tasks})
	return string(b)
}

func workOf(snap snapshot) ([]string, []taskID) {
	var conns []string
	var tasks []taskID
	for name := range snap.connectors {
		conns = append(conns, name)
		tasks = append(tasks, snap.taskIDs(name)...)
	}
	slices.Sort(conns)
	slices.SortFunc(tasks, compareTaskID)
	return conns, tasks
}

func (g *groupMembership) reconciled() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pendingSync {
		g.pendingSync = false
		close(g.synced)
	}
}

func (g *groupMembership) rebalancing() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inRebalance
}

func (g *groupMembership) leadership() (bool, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.leader {
		return true, g.url
	}
	return false, g.leaderURL
}

func (g *groupMembership) requestRejoinLocked() {
	select {
	case g.rejoinCh <- struct{}{}:
	default:
	}
}

func (g *groupMembership) close() {
	g.cancel()
	<-g.done
	g.cl.Close()
}

// setAssignment replaces the assignment and waits until the herder applied
// it (stopped what is gone) or ctx ends.
func (g *groupMembership) setAssignment(conns []string, tasks []taskID, rebalancing bool) {
	g.mu.Lock()
	g.connectors, g.tasks = map[string]bool{}, map[taskID]bool{}
	for _, c := range conns {
		g.connectors[c] = true
	}
	for _, t := range tasks {
		g.tasks[t] = true
	}
	g.inRebalance = rebalancing
	g.pendingSync = true
	g.synced = make(chan struct{})
	synced := g.synced
	g.mu.Unlock()
	g.poke()
	select {
	case <-synced:
	case <-g.ctx.Done():
	}
}

func (g *groupMembership) owned() joinMetadata {
	g.mu.Lock()
	defer g.mu.Unlock()
	md := joinMetadata{Version: 1, URL: g.url, Connectors: []string{}, Tasks: []taskID{}}
	for c := range g.connectors {
		md.Connectors = append(md.Connectors, c)
	}
	for t := range g.tasks {
		md.Tasks = append(md.Tasks, t)
	}
	slices.Sort(md.Connectors)
	slices.SortFunc(md.Tasks, compareTaskID)
	return md
}

func (g *groupMembership) run() {
	defer close(g.done)
	defer g.leave()
	backoff := 100 * time.Millisecond
	for g.ctx.Err() == nil {
		delay, revoked, err := g.rebalance()
		if err != nil {
			if g.ctx.Err() != nil {
				return
			}
			g.log.Warn("rebalance failed; retrying", "err", err, "in", backoff)
			sleepCtx(g.ctx, backoff)
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		if revoked {
			continue // stopped what was revoked: rejoin at once for the rest
		}
		g.heartbeat(delay)
	}
}

// rebalance joins and syncs once and applies the assignment. It returns
// the delay after which to rejoin (held lost work) and whether work was
// revoked (then rejoin at once).
func (g *groupMembership) rebalance() (time.Duration, bool, error) {
	g.mu.Lock()
	g.inRebalance = true
	g.mu.Unlock()
	md, err := json.Marshal(g.owned())
	if err != nil {
		return 0, false, err
	}
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group = g.cfg.GroupID
	join.SessionTimeoutMillis = int32(g.cfg.SessionTimeout.Milliseconds())
	join.RebalanceTimeoutMillis = int32(g.cfg.RebalanceTimeout.Milliseconds())
	join.ProtocolType = connectProtocolType
	proto := kmsg.NewJoinGroupRequestProtocol()
	proto.Name = connectProtocolName
	proto.Metadata = md
	join.Protocols = []kmsg.JoinGroupRequestProtocol{proto}
	var jr *kmsg.JoinGroupResponse
	for {
		join.MemberID = g.memberID
		jr, err = join.RequestWith(g.ctx, g.cl)
		if err != nil {
			return 0, false, fmt.Errorf("join group %s: %w", g.cfg.GroupID, err)
		}
		switch err := kerr.ErrorForCode(jr.ErrorCode); {
		case err == nil:
		case errors.Is(err, kerr.MemberIDRequired):
			g.memberID = jr.MemberID
			continue
		case errors.Is(err, kerr.UnknownMemberID):
			g.memberID = ""
			continue
		default:
			return 0, false, fmt.Errorf("join group %s: %w", g.cfg.GroupID, err)
		}
		break
	}
	g.memberID, g.generation = jr.MemberID, jr.Generation
	g.rt.generation.Store(int64(jr.Generation))
	leader := jr.LeaderID == jr.MemberID

	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.Generation, sync.MemberID = g.cfg.GroupID, jr.Generation, jr.MemberID
	pt, pn := connectProtocolType, connectProtocolName
	sync.ProtocolType, sync.Protocol = &pt, &pn
	var work string
	if leader {
		assignments, key, err := g.lead(jr.Members)
		if err != nil {
			return 0, false, err
		}
		work = key
		for id, a := range assignments {
			a.Leader, a.LeaderURL = jr.LeaderID, g.url
			b, err := json.Marshal(a)
			if err != nil {
				return 0, false, err
			}
			ga := kmsg.NewSyncGroupRequestGroupAssignment()
			ga.MemberID, ga.MemberAssignment = id, b
			sync.GroupAssignment = append(sync.GroupAssignment, ga)
		}
	}
	sr, err := sync.RequestWith(g.ctx, g.cl)
	if err != nil {
		return 0, false, fmt.Errorf("sync group %s: %w", g.cfg.GroupID, err)
	}
	if err := kerr.ErrorForCode(sr.ErrorCode); err != nil {
		if errors.Is(err, kerr.UnknownMemberID) || errors.Is(err, kerr.IllegalGeneration) {
			g.lost(err)
		}
		return 0, false, fmt.Errorf("sync group %s: %w", g.cfg.GroupID, err)
	}
	var a memberAssignment
	if err := json.Unmarshal(sr.MemberAssignment, &a); err != nil {
		return 0, false, fmt.Errorf("sync group %s: assignment from the leader is not ours: %w", g.cfg.GroupID, err)
	}
	// The assignment may name task configs this worker has not read yet.
	ctx, cancel := context.WithTimeout(g.ctx, g.cfg.RebalanceTimeout)
	err = g.configs.log.readToEnd(ctx)
	cancel()
	if err != nil {
		return 0, false, err
	}
	g.mu.Lock()
	g.leader, g.leaderURL = leader, a.LeaderURL
	if leader {
		g.lastWork = work
	}
	g.mu.Unlock()
	revoked := len(a.RevokedConnectors) > 0 || len(a.RevokedTasks) > 0
	g.log.Info("joined the workers' group", "generation", jr.Generation, "leader", leader,
		"connectors", len(a.Connectors), "tasks", len(a.Tasks), "revoked", len(a.RevokedConnectors)+len(a.RevokedTasks), "delay_ms", a.DelayMs)
	g.setAssignment(a.Connectors, a.Tasks, revoked)
	g.joinedOnce.Do(func() { close(g.joined) })
	return time.Duration(a.DelayMs) * time.Millisecond, revoked, nil
}

// lead computes every member's assignment from the latest configs.
func (g *groupMembership) lead(members []kmsg.JoinGroupResponseMember) (map[string]memberAssignment, string, error) {
	ctx, cancel := context.WithTimeout(g.ctx, g.cfg.RebalanceTimeout)
	defer cancel()
	if err := g.configs.log.readToEnd(ctx); err != nil {
		return nil, "", err
	}
	var states []memberState
	for _, m := range members {
		var md joinMetadata
		if err := json.Unmarshal(m.ProtocolMetadata, &md); err != nil {
			return nil, "", fmt.Errorf("member %s sent metadata that is not ours: %w", m.MemberID, err)
		}
		states = append(states, memberState{ID: m.MemberID, URL: md.URL, Connectors: md.Connectors, Tasks: md.Tasks})
	}
	snap := g.configs.snapshot()
	conns, tasks := workOf(snap)
	return g.state.assign(states, conns, tasks, g.cfg.ScheduledRebalanceMaxDelay, time.Now()), workKey(snap), nil
}

// lost gives up the whole assignment: this member is out of the group.
func (g *groupMembership) lost(cause error) {
	g.log.Warn("this worker is no longer in the group; stopping its work before rejoining", "err", cause)
	g.memberID = ""
	g.mu.Lock()
	g.leader, g.leaderURL = false, ""
	g.mu.Unlock()
	g.setAssignment(nil, nil, true)
}

// heartbeat keeps the membership until a rejoin is due.
func (g *groupMembership) heartbeat(delay time.Duration) {
	var due <-chan time.Time
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		due = t.C
	}
	tick := time.NewTicker(g.cfg.HeartbeatInterval)
	defer tick.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-g.rejoinCh:
			return
		case <-due:
			return
		case <-tick.C:
		}
		hb := kmsg.NewPtrHeartbeatRequest()
		hb.Group, hb.Generation, hb.MemberID = g.cfg.GroupID, g.generation, g.memberID
		ctx, cancel := context.WithTimeout(g.ctx, g.cfg.SessionTimeout)
		resp, err := hb.RequestWith(ctx, g.cl)
		cancel()
		if err != nil {
			if g.ctx.Err() == nil {
				g.log.Warn("heartbeat failed", "err", err)
			}
			continue
		}
		switch err := kerr.ErrorForCode(resp.ErrorCode); {
		case err == nil:
		case errors.Is(err, kerr.RebalanceInProgress):
			return
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.IllegalGeneration), errors.Is(err, kerr.FencedInstanceID):
			g.lost(err)
			return
		default:
			g.log.Warn("heartbeat refused", "err", err)
		}
	}
}

// leave leaves the group so the others rebalance at once.
func (g *groupMembership) leave() {
	if g.memberID == "" {
		return
	}
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = g.cfg.GroupID
	req.MemberID = g.memberID
	m := kmsg.NewLeaveGroupRequestMember()
	m.MemberID = g.memberID
	req.Members = []kmsg.LeaveGroupRequestMember{m}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := req.RequestWith(ctx, g.cl); err != nil {
		g.log.Warn("leave group failed", "err", err)
	}
}
