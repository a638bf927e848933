// Package txn is the transaction coordinator of a single-node broker:
// producer ids for transactional ids, the transaction state machine, commit
// and abort markers, timeouts, and the describe/list APIs.
//
// State machine (Kafka's names):
//
//	Empty → Ongoing (AddPartitionsToTxn / AddOffsetsToTxn)
//	Ongoing → PrepareCommit | PrepareAbort (EndTxn, or a timeout abort)
//	Prepare* → Complete* once every marker is written and the staged
//	offsets are committed or dropped
//	Complete* → Ongoing (the next transaction)
//
// Each transition is written to the state file (broker/statefile) before it
// is acted on, so after kill -9 a transaction found in Prepare* is finished
// on start, and one found Ongoing is aborted when its timeout passes.
//
// Differences from Kafka: only transaction version 1 is served (clients send
// AddPartitionsToTxn; EndTxn does not bump the epoch) and AddPartitionsToTxn
// v4+ (broker-to-broker verification) is not served.
//
// Transactional ids expire as in Kafka: an id whose transaction is not in
// progress (Empty, CompleteCommit or CompleteAbort) and that has not
// changed for IDExpirationMs (transactional.id.expiration.ms) is removed,
// checked every RemoveExpiredIntervalMs
// (transaction.remove.expired.transaction.cleanup.interval.ms); its next
// InitProducerId starts afresh with a new producer id.
package txn

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/statefile"
)

// Config configures the coordinator.
type Config struct {
	// Dir holds the state file. Required.
	Dir string
	// MaxTimeoutMs is transaction.max.timeout.ms. Default 900000.
	MaxTimeoutMs int32
	// AbortCheckIntervalMs is
	// transaction.abort.timed.out.transaction.cleanup.interval.ms: how
	// often timed-out transactions are looked for. Default 10000.
	AbortCheckIntervalMs int64
	// SyncWrites fsyncs the state file on every change (--fsync=always).
	SyncWrites bool
	// IDExpirationMs is transactional.id.expiration.ms: how long an id
	// with no transaction in progress is kept after its last change.
	// Default 604800000 (7 days).
	IDExpirationMs int64
	// RemoveExpiredIntervalMs is
	// transaction.remove.expired.transaction.cleanup.interval.ms: how
	// often expired ids are looked for. Default 3600000.
	RemoveExpiredIntervalMs int64
}

// Partitions is what the coordinator needs from the broker's logs.
type Partitions interface {
	// Exists reports whether topic/partition exists.
	Exists(topic string, partition int32) bool
	// WriteMarker appends a commit or abort marker for the producer to the
	// partition. It must be durable (as durable as produced data) when it
	// returns nil.
	WriteMarker(topic string, partition int32, producerID int64, epoch int16, commit bool) error
}

// Offsets is the group coordinator's side of a transaction.
type Offsets interface {
	// CompleteTxn makes the producer's staged offsets visible (commit) or
	// drops them (abort).
	CompleteTxn(producerID int64, epoch int16, commit bool) error
}

// ProducerIDs allocates producer ids shared with idempotent producers.
type ProducerIDs interface {
	Allocate() (int64, error)
}

// State is a transaction's state.
type State uint8

const (
	Empty State = iota
	Ongoing
	PrepareCommit
	PrepareAbort
	CompleteCommit
	CompleteAbort
)

var stateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", s)
}

// TopicPartition names a partition in a transaction.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// txnState is one transactional id's state. mu is held while markers are
// written, and by produce while it appends a transactional batch, so a
// batch can never land after its transaction's marker.
type txnState struct {
	mu         sync.RWMutex
	id         string
	producerID int64
	epoch      int16
	timeoutMs  int32
	state      State
	partitions map[TopicPartition]struct{}
	groups     map[string]struct{}
	startMs    int64 // when the current transaction became Ongoing
	updateMs   int64
	// removed is set once the id has expired and left the coordinator's
	// map: a handler that looked t up before that and locked it after
	// treats it as unknown.
	removed bool
}

// Coordinator is the transaction coordinator.
type Coordinator struct {
	cfg     Config
	logger  *slog.Logger
	parts   Partitions
	offsets Offsets
	ids     ProducerIDs
	file    *statefile.File

	// mu guards txns (the map, not the entries). It is a leaf: taken
	// while a txnState.mu is held (expiry), never the other way round.
	mu   sync.Mutex
	txns map[string]*txnState

	stop chan struct{}
	done chan struct{}
	now  func() time.Time
}

// errInvalidConfig reports a bad Config.
var errInvalidConfig = errors.New("txn: invalid config")

const stateKind = 1

// New opens the state file, finishes transactions that were preparing to
// commit or abort when the broker stopped, and starts the timeout checker.
func New(cfg Config, parts Partitions, offsets Offsets, ids ProducerIDs, logger *slog.Logger) (*Coordinator, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("%w: Dir is empty", errInvalidConfig)
	}
	if cfg.MaxTimeoutMs <= 0 {
		cfg.MaxTimeoutMs = 900000
	}
	if cfg.AbortCheckIntervalMs <= 0 {
		cfg.AbortCheckIntervalMs = 10000
	}
	if cfg.IDExpirationMs <= 0 {
		cfg.IDExpirationMs = 604800000
	}
	if cfg.RemoveExpiredIntervalMs <= 0 {
		cfg.RemoveExpiredIntervalMs = 3600000
	}
	if logger == nil {
		logger = slog.Default()
	}
	f, recs, err := statefile.Open(cfg.Dir, "transactions.log", "TRBTXN01", cfg.SyncWrites, logger.Warn)
	if err != nil {
		return nil, err
	}
	c := &Coordinator{cfg: cfg, logger: logger, parts: parts, offsets: offsets, ids: ids, file: f,
		txns: map[string]*txnState{}, stop: make(chan struct{}), done: make(chan struct{}), now: time.Now}
	for _, r := range recs {
		t, err := decodeState(r.Key, r.Value)
		if err != nil {
			logger.Warn("skipping unreadable transaction state", "err", err)
			continue
		}
		c.txns[t.id] = t
	}
	for _, t := range c.txns {
		if t.state == PrepareCommit || t.state == PrepareAbort {
			t.mu.Lock()
			err := c.complete(t, t.state == PrepareCommit)
			t.mu.Unlock()
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("finish transaction %q after restart: %w", t.id, err)
			}
		}
	}
	go c.abortLoop()
	return c, nil
}

// Close stops the timeout checker and closes the state file.
func (c *Coordinator) Close() error {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
	return c.file.Close()
}

func (c *Coordinator) get(id string) *txnState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.txns[id]
}

// persist writes t's state; callers hold t.mu.
func (c *Coordinator) persist(t *txnState) error {
	t.updateMs = c.now().UnixMilli()
	if err := c.file.Append(statefile.Record{Kind: stateKind, Key: []byte(t.id), Value: encodeState(t)}); err != nil {
		return fmt.Errorf("persist transaction %q: %w", t.id, err)
	}
	if c.file.NeedsCompact() {
		if err := c.file.Compact(); err != nil {
			c.logger.Warn("compact transaction state", "err", err)
		}
	}
	return nil
}

// end moves an Ongoing transaction through Prepare* to Complete*. Callers
// hold t.mu.
func (c *Coordinator) end(t *txnState, commit bool) error {
	if commit {
		t.state = PrepareCommit
	} else {
		t.state = PrepareAbort
	}
	if err := c.persist(t); err != nil {
		return err
	}
	return c.complete(t, commit)
}

// complete writes the markers and settles the offsets of a Prepare*
// transaction, then records it Complete*. Callers hold t.mu. Writing a
// marker twice (a retry after a crash) is harmless: a marker for a producer
// with no open transaction on a partition changes nothing for readers.
func (c *Coordinator) complete(t *txnState, commit bool) error {
	tps := make([]TopicPartition, 0, len(t.partitions))
	for tp := range t.partitions {
		tps = append(tps, tp)
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
	for _, tp := range tps {
		if !c.parts.Exists(tp.Topic, tp.Partition) {
			continue // deleted since: nothing to mark
		}
		if err := c.parts.WriteMarker(tp.Topic, tp.Partition, t.producerID, t.epoch, commit); err != nil {
			return fmt.Errorf("write marker to %s-%d: %w", tp.Topic, tp.Partition, err)
		}
	}
	if len(t.groups) > 0 && c.offsets != nil {
		if err := c.offsets.CompleteTxn(t.producerID, t.epoch, commit); err != nil {
			return fmt.Errorf("settle offsets: %w", err)
		}
	}
	if commit {
		t.state = CompleteCommit
	} else {
		t.state = CompleteAbort
	}
	t.partitions = map[TopicPartition]struct{}{}
	t.groups = map[string]struct{}{}
	return c.persist(t)
}

// abortLoop aborts transactions that outlive their timeout, bumping the
// epoch first so the stalled producer is fenced, as Kafka does, and removes
// expired transactional ids.
func (c *Coordinator) abortLoop() {
	defer close(c.done)
	tick := time.NewTicker(time.Duration(c.cfg.AbortCheckIntervalMs) * time.Millisecond)
	defer tick.Stop()
	expire := time.NewTicker(time.Duration(c.cfg.RemoveExpiredIntervalMs) * time.Millisecond)
	defer expire.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
			c.AbortTimedOut()
		case <-expire.C:
			c.ExpireIDs()
		}
	}
}

// ExpireIDs removes every transactional id that has no transaction in
// progress and has not changed for IDExpirationMs, durably (a tombstone in
// the state file) and then from memory.
func (c *Coordinator) ExpireIDs() {
	c.mu.Lock()
	all := make([]*txnState, 0, len(c.txns))
	for _, t := range c.txns {
		all = append(all, t)
	}
	c.mu.Unlock()
	cutoff := c.now().UnixMilli() - c.cfg.IDExpirationMs
	for _, t := range all {
		t.mu.Lock()
		idle := t.state == Empty || t.state == CompleteCommit || t.state == CompleteAbort
		if !t.removed && idle && t.updateMs <= cutoff {
			if err := c.file.Append(statefile.Record{Kind: stateKind, Key: []byte(t.id), Tombstone: true}); err != nil {
				c.logger.Warn("remove expired transactional id", "transactional_id", t.id, "err", err)
			} else {
				t.removed = true
				c.mu.Lock()
				if c.txns[t.id] == t {
					delete(c.txns, t.id)
				}
				c.mu.Unlock()
				c.logger.Info("transactional id expired", "transactional_id", t.id, "producer_id", t.producerID)
			}
		}
		t.mu.Unlock()
	}
}

// AbortTimedOut aborts every Ongoing transaction older than its timeout.
func (c *Coordinator) AbortTimedOut() {
	c.mu.Lock()
	all := make([]*txnState, 0, len(c.txns))
	for _, t := range c.txns {
		all = append(all, t)
	}
	c.mu.Unlock()
	now := c.now().UnixMilli()
	for _, t := range all {
		t.mu.Lock()
		if t.state == Ongoing && now-t.startMs > int64(t.timeoutMs) {
			c.logger.Info("aborting timed-out transaction", "transactional_id", t.id, "producer_id", t.producerID, "timeout_ms", t.timeoutMs)
			fence(t)
			if err := c.end(t, false); err != nil {
				c.logger.Error("abort timed-out transaction", "transactional_id", t.id, "err", err)
			}
		}
		t.mu.Unlock()
	}
}

// fence bumps the epoch so the current producer is fenced: its next
// request carries a stale epoch. An exhausted epoch is left as is; the next
// InitProducerID then moves the id to a fresh producer id.
func fence(t *txnState) {
	if t.epoch < math.MaxInt16-1 {
		t.epoch++
	}
}
