package state

import (
	"errors"
	"fmt"
	"sync"
)

// Engine keeps the shards of one process. Shards are independent: each is
// used by one goroutine at a time (its task, or its restorer before the
// task runs), and different shards may be used concurrently.
type Engine interface {
	// Shard opens the shard with the given name (a task id such as "0_3",
	// or "global"), creating it when it is new. A shard is opened at most
	// once at a time; Close it to open it again.
	Shard(name string) (*Shard, error)
	// View opens a read-only view of a shard's committed data, for many
	// readers at once while its owner writes: tasks read the global
	// stores through views.
	View(name string) (*Shard, error)
	// Checkpoints lists the committed changelog checkpoints of every shard
	// the engine holds: shard name -> changelog topic -> next offset to
	// restore. It tells which tasks have local state, and how far.
	Checkpoints() (map[string]map[string]int64, error)
	// Size estimates the bytes a shard's committed data takes.
	Size(shard string) (int64, error)
	// StoreSize estimates the bytes one store of a shard takes.
	StoreSize(shard, store string) (int64, error)
	// Close closes the engine; open shards must be closed first.
	Close() error
}

// ErrShardOpen reports a second Shard call for a shard that is open.
var ErrShardOpen = errors.New("state: shard already open")

// ErrClosed reports use of a closed engine or shard.
var ErrClosed = errors.New("state: closed")

// kv is what a shard needs from an engine: an ordered key space in which
// writes are staged until commit. Values returned by get and by iterators
// are valid until the next write or iterator step.
type kv interface {
	get(key []byte) ([]byte, bool, error)
	set(key, value []byte) error
	del(key []byte) error
	delRange(lo, hi []byte) error
	// iter walks [lo, hi) in key order, or in reverse order.
	iter(lo, hi []byte, reverse bool) (rawIter, error)
	// commit makes every staged write durable at once; abort drops them.
	commit() error
	abort()
	// staged is the size of the staged writes in bytes.
	staged() int
	close() error
}

type rawIter interface {
	next() bool
	key() []byte
	value() []byte
	close() error
}

// openShards tracks which shard names are open in an engine.
type openShards struct {
	mu   sync.Mutex
	open map[string]bool
}

func (o *openShards) acquire(name string) error {
	if err := checkName("shard", name); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.open == nil {
		o.open = map[string]bool{}
	}
	if o.open[name] {
		return fmt.Errorf("%w: %s", ErrShardOpen, name)
	}
	o.open[name] = true
	return nil
}

func (o *openShards) release(name string) {
	o.mu.Lock()
	delete(o.open, name)
	o.mu.Unlock()
}

func (o *openShards) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.open)
}

// ErrReadOnly reports a write through a view.
var ErrReadOnly = errors.New("state: read-only view")

// view is a kv that reads through to committed data and refuses writes.
type view struct {
	get0  func(key []byte) ([]byte, bool, error)
	iter0 func(lo, hi []byte, reverse bool) (rawIter, error)
}

func (v view) get(key []byte) ([]byte, bool, error) { return v.get0(key) }
func (v view) iter(lo, hi []byte, reverse bool) (rawIter, error) {
	return v.iter0(lo, hi, reverse)
}
func (view) set(key, value []byte) error  { return ErrReadOnly }
func (view) del(key []byte) error         { return ErrReadOnly }
func (view) delRange(lo, hi []byte) error { return ErrReadOnly }
func (view) commit() error                { return nil }
func (view) abort()                       {}
func (view) staged() int                  { return 0 }
func (view) close() error                 { return nil }
