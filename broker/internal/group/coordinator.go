package group

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-streams/tributary/broker/internal/statefile"
)

// ErrStoreClosed is returned (wrapped) by writes after Close. It is
// statefile.ErrClosed, so errors.Is matches either.
var ErrStoreClosed = statefile.ErrClosed

// Topics is the broker's topic registry as the coordinator sees it. All
// methods must be safe for concurrent use and must not block on group
// state: the coordinator calls them while holding a group's lock.
type Topics interface {
	// Partitions returns the partition count of a topic.
	Partitions(topic string) (int32, bool)
	// TopicID returns a topic's id.
	TopicID(topic string) ([16]byte, bool)
	// TopicName returns the name of the topic with the given id.
	TopicName(id [16]byte) (string, bool)
	// Names returns every topic name (used to resolve KIP-848 regex
	// subscriptions).
	Names() []string
}

// Coordinator is the group coordinator of a single-node broker: it is the
// coordinator for every group.
//
// Locking: c.mu guards only the group map and is never held while another
// lock is taken. Each group has its own mutex; handlers lock one group at a
// time and never block (waiting for a rebalance) while holding it. Under a
// group's lock the coordinator may take c.mu, c.txnMu, and c.viewMu for
// reading, under which it writes the state file and then queues the
// records for the offsets topic (group → c.mu | c.txnMu | c.viewMu →
// statefile.File.mu | viewWriter.mu). The view writer takes c.viewMu for
// writing with no group lock held (see viewWriter), and calls the
// OffsetsLog holding no coordinator lock.
type Coordinator struct {
	cfg    Config
	topics Topics
	log    *slog.Logger
	file   *statefile.File // the state file, <Dir>/groups.log

	mu     sync.Mutex
	groups map[string]*group

	seq atomic.Uint64 // write order of offsets (see committed)

	txnMu  sync.Mutex
	txnIdx map[int64]map[string]struct{} // producer id → groups with staged offsets

	// viewMu orders the state file with the __consumer_offsets view
	// (see viewWriter); view is nil without Config.OffsetsLog.
	viewMu sync.RWMutex
	view   *viewWriter

	closeOnce sync.Once
	closed    chan struct{}
	sweepDone chan struct{}
	compactCh chan struct{}
}

// New opens the durable state in cfg.Dir and loads it. Groups come back
// Empty with their committed and staged offsets; members must rejoin.
func New(cfg Config, topics Topics, logger *slog.Logger) (*Coordinator, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("group coordinator config: %w", err)
	}
	if topics == nil {
		return nil, errors.New("group coordinator: nil Topics")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Coordinator{
		cfg:       cfg,
		topics:    topics,
		log:       logger,
		groups:    make(map[string]*group),
		txnIdx:    make(map[int64]map[string]struct{}),
		closed:    make(chan struct{}),
		sweepDone: make(chan struct{}),
		compactCh: make(chan struct{}, 1),
	}
	f, recs, err := statefile.Open(cfg.Dir, stateFileName, stateHeader, cfg.SyncWrites, logger.Warn)
	if err != nil {
		return nil, fmt.Errorf("group state: %w", err)
	}
	c.file = f
	c.load(recs)
	c.startRestoredSessions()
	go c.sweepLoop()
	if cfg.OffsetsLog != nil {
		c.view = newViewWriter(c)
		go c.view.run()
	}
	return c, nil
}

// Close stops timers and background work, wakes blocked handlers (they
// answer COORDINATOR_NOT_AVAILABLE) and closes the state file. Everything
// acknowledged is already written; Close writes nothing more.
func (c *Coordinator) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		<-c.sweepDone
		if c.view != nil {
			<-c.view.done
		}
		if cerr := c.file.Close(); cerr != nil {
			err = fmt.Errorf("group state: %w", cerr)
		}
	})
	return err
}

// groupRequestCode is the error of a request naming group before the group
// is looked at: COORDINATOR_NOT_AVAILABLE once the coordinator is closed,
// INVALID_GROUP_ID for an empty group id, else 0.
func (c *Coordinator) groupRequestCode(group string) int16 {
	switch {
	case c.isClosed():
		return kerr.CoordinatorNotAvailable.Code
	case group == "":
		return kerr.InvalidGroupID.Code
	}
	return 0
}

func (c *Coordinator) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// load builds groups from the live records of the state file.
func (c *Coordinator) load(recs []statefile.Record) {
	var bad int
	for _, r := range recs {
		if err := c.loadRecord(r); err != nil {
			bad++
			c.log.Warn("skipping undecodable group state record", "kind", r.Kind, "err", err)
		}
	}
	c.log.Info("group state loaded", "groups", len(c.groups), "records", len(recs), "skipped", bad)
}

func (c *Coordinator) loadRecord(r statefile.Record) error {
	switch r.Kind {
	case kindGroup:
		id, err := decodeGroupKey(r.Key)
		if err != nil {
			return err
		}
		m, err := decodeGroupMeta(r.Value)
		if err != nil {
			return err
		}
		g := c.loadedGroup(id)
		g.kind = m.Kind
		g.persisted = true
		g.emptySinceMs = m.StateMs
		if m.Kind == kindConsumer {
			g.cg = newConsumerGroup()
			g.cg.epoch = m.Generation
			g.cg.assignmentEpoch = m.Generation
		} else {
			g.protocolType = m.ProtocolType
			g.generation = m.Generation
			g.restoreMembers(m)
		}
	case kindOffset:
		k, err := decodeOffsetKey(r.Key)
		if err != nil {
			return err
		}
		v, err := decodeOffsetRecordValue(r.Value)
		if err != nil {
			return err
		}
		c.loadedGroup(k.Group).setOffset(k.Topic, k.Partition, v)
	case kindPending:
		k, err := decodePendingKey(r.Key)
		if err != nil {
			return err
		}
		v, err := decodePendingValue(r.Value)
		if err != nil {
			return err
		}
		c.loadedGroup(k.Group).stage(k.ProducerID, k.Topic, k.Partition, v)
		c.indexTxn(k.ProducerID, k.Group)
	default:
		return fmt.Errorf("unknown record kind %d", r.Kind)
	}
	return nil
}

func (c *Coordinator) loadedGroup(id string) *group {
	g := c.groups[id]
	if g == nil {
		g = newGroup(c, id)
		c.groups[id] = g
	}
	return g
}

// lockGroup returns the group locked, creating it when create is set; nil
// if it does not exist. A group removed while we waited for its lock is
// skipped and looked up again.
func (c *Coordinator) lockGroup(id string, create bool) *group {
	for {
		c.mu.Lock()
		g := c.groups[id]
		if g == nil {
			if !create {
				c.mu.Unlock()
				return nil
			}
			g = newGroup(c, id)
			c.groups[id] = g
		}
		c.mu.Unlock()
		g.mu.Lock()
		if !g.dead {
			return g
		}
		g.mu.Unlock()
	}
}

// removeGroup drops g from the map. g.mu must be held.
func (c *Coordinator) removeGroup(g *group) {
	g.dead = true
	g.stopTimers()
	c.mu.Lock()
	if c.groups[g.id] == g {
		delete(c.groups, g.id)
	}
	c.mu.Unlock()
}

// groupIDs returns a snapshot of group ids.
func (c *Coordinator) groupIDs() []string {
	c.mu.Lock()
	ids := make([]string, 0, len(c.groups))
	for id := range c.groups {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	slices.Sort(ids)
	return ids
}

func (c *Coordinator) indexTxn(pid int64, group string) {
	c.txnMu.Lock()
	defer c.txnMu.Unlock()
	gs := c.txnIdx[pid]
	if gs == nil {
		gs = make(map[string]struct{})
		c.txnIdx[pid] = gs
	}
	gs[group] = struct{}{}
}

func (c *Coordinator) unindexTxn(pid int64, group string) {
	c.txnMu.Lock()
	defer c.txnMu.Unlock()
	if gs := c.txnIdx[pid]; gs != nil {
		delete(gs, group)
		if len(gs) == 0 {
			delete(c.txnIdx, pid)
		}
	}
}

// append writes records to the state file, then their view to the
// __consumer_offsets topic, and asks for a snapshot when the file has grown
// enough.
func (c *Coordinator) append(recs ...statefile.Record) error {
	if len(recs) == 0 {
		return nil
	}
	c.viewMu.RLock()
	if err := c.file.Append(recs...); err != nil {
		c.viewMu.RUnlock()
		c.log.Error("writing group state failed", "err", err)
		return fmt.Errorf("group state: %w", err)
	}
	if c.view != nil {
		c.view.enqueue(recs)
	}
	c.viewMu.RUnlock()
	if c.file.NeedsCompact() {
		select {
		case c.compactCh <- struct{}{}:
		default:
		}
	}
	return nil
}

func (c *Coordinator) sweepLoop() {
	defer close(c.sweepDone)
	t := time.NewTicker(time.Duration(c.cfg.OffsetsRetentionCheckIntervalMs) * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case now := <-t.C:
			c.sweep(now)
			c.maybeCompact()
		case <-c.compactCh:
			c.maybeCompact()
		}
	}
}

func (c *Coordinator) maybeCompact() {
	if !c.file.NeedsCompact() {
		return
	}
	if err := c.file.Compact(); err != nil {
		c.log.Error("snapshotting group state failed", "err", err)
	}
}

// sweep expires offsets of groups without members (Kafka 2.1+ semantics:
// offsets.retention counts from the later of the commit and the moment the
// group became empty) and removes groups left with nothing.
func (c *Coordinator) sweep(now time.Time) {
	nowMs := now.UnixMilli()
	for _, id := range c.groupIDs() {
		g := c.lockGroup(id, false)
		if g == nil {
			continue
		}
		g.expireOffsets(nowMs)
		if g.unused() {
			g.delete()
		}
		g.mu.Unlock()
	}
}

// clientKey carries the requesting client's id and host in a context.
type clientKey struct{}

type clientInfo struct{ id, host string }

// WithClient returns ctx annotated with the requesting client's id (from
// the request header) and host (the remote address, without port). The
// broker should wrap each handler call's context with it: member ids are
// derived from the client id, and DescribeGroups reports both.
func WithClient(ctx context.Context, clientID, host string) context.Context {
	return context.WithValue(ctx, clientKey{}, clientInfo{clientID, host})
}

func clientFrom(ctx context.Context) (id, host string) {
	if ci, ok := ctx.Value(clientKey{}).(clientInfo); ok {
		return ci.id, ci.host
	}
	return "", ""
}

// newUUID returns a random (version 4) UUID in its usual text form.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

func ms(v int32) time.Duration   { return time.Duration(v) * time.Millisecond }
func ms64(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
