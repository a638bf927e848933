package state

import (
	"strings"
	"sync"

	"github.com/RaduBerinde/btreemap"
)

// Memory is the in-memory engine, for tests and the test driver. Each
// shard is a B-tree; staged writes go straight into it with an undo log, so
// that Abort restores the last commit.
type Memory struct {
	openShards
	mu     sync.Mutex
	shards map[string]*memShard
	closed bool
}

// NewMemory returns an empty in-memory engine.
func NewMemory() *Memory { return &Memory{shards: map[string]*memShard{}} }

type undo struct {
	key     string
	old     []byte
	existed bool
}

// memShard is one shard's tree. Its mutex guards the tree against
// Checkpoints and Size, which other goroutines call while a task writes.
type memShard struct {
	mu     sync.Mutex
	tree   *btreemap.BTreeMap[string, []byte]
	undo   []undo
	nbytes int
}

// Shard implements Engine.
func (m *Memory) Shard(name string) (*Shard, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	ms := m.shards[name]
	if ms == nil {
		ms = &memShard{tree: btreemap.New[string, []byte](16, strings.Compare)}
		m.shards[name] = ms
	}
	m.mu.Unlock()
	if err := m.acquire(name); err != nil {
		return nil, err
	}
	return newShard(name, ms, func() { m.release(name) }), nil
}

// View implements Engine. The memory engine has no snapshot: a view also
// sees the owner's staged writes.
func (m *Memory) View(name string) (*Shard, error) {
	m.mu.Lock()
	ms := m.shards[name]
	if ms == nil {
		ms = &memShard{tree: btreemap.New[string, []byte](16, strings.Compare)}
		m.shards[name] = ms
	}
	m.mu.Unlock()
	return newShard(name, view{get0: ms.get, iter0: ms.iter}, func() {}), nil
}

// Checkpoints implements Engine.
func (m *Memory) Checkpoints() (map[string]map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]map[string]int64{}
	for name, ms := range m.shards {
		p := string(shardPrefix(checkpointSpace, name))
		ms.mu.Lock()
		for k, v := range ms.tree.Ascend(btreemap.GE(p), btreemap.LT(string(prefixEnd([]byte(p))))) {
			if ms.uncommitted(k) {
				continue
			}
			if out[name] == nil {
				out[name] = map[string]int64{}
			}
			out[name][k[len(p):]] = int64(beUint64(v))
		}
		ms.mu.Unlock()
	}
	return out, nil
}

// Size implements Engine.
func (m *Memory) Size(shard string) (int64, error) {
	m.mu.Lock()
	ms := m.shards[shard]
	m.mu.Unlock()
	if ms == nil {
		return 0, nil
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return int64(ms.nbytes), nil
}

// StoreSize implements Engine: the bytes of the store's keys and values.
func (m *Memory) StoreSize(shard, store string) (int64, error) {
	m.mu.Lock()
	ms := m.shards[shard]
	m.mu.Unlock()
	if ms == nil {
		return 0, nil
	}
	p := string(storePrefix(shard, store))
	ms.mu.Lock()
	defer ms.mu.Unlock()
	var n int64
	for k, v := range ms.tree.Ascend(btreemap.GE(p), btreemap.LT(string(prefixEnd([]byte(p))))) {
		n += int64(len(k) + len(v))
	}
	return n, nil
}

// Close implements Engine.
func (m *Memory) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return nil
}

func beUint64(b []byte) uint64 {
	v, _, _ := readUint64(b)
	return v
}

// uncommitted reports whether key was written since the last commit; the
// caller holds ms.mu. Only Checkpoints asks, and checkpoint keys are
// written just before a commit, so the scan is short.
func (ms *memShard) uncommitted(key string) bool {
	for i := len(ms.undo) - 1; i >= 0; i-- {
		if ms.undo[i].key == key {
			return true
		}
	}
	return false
}

func (ms *memShard) get(key []byte) ([]byte, bool, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	_, v, ok := ms.tree.Get(string(key))
	return v, ok, nil
}

func (ms *memShard) record(key string) {
	_, old, ok := ms.tree.Get(key)
	ms.undo = append(ms.undo, undo{key: key, old: old, existed: ok})
	if ok {
		ms.nbytes -= len(key) + len(old)
	}
}

func (ms *memShard) set(key, value []byte) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	k := string(key)
	ms.record(k)
	ms.tree.ReplaceOrInsert(k, append([]byte(nil), value...))
	ms.nbytes += len(k) + len(value)
	return nil
}

func (ms *memShard) del(key []byte) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	k := string(key)
	if !ms.tree.Has(k) {
		return nil
	}
	ms.record(k)
	ms.tree.Delete(k)
	return nil
}

func (ms *memShard) delRange(lo, hi []byte) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	var keys []string
	for k := range ms.tree.Ascend(btreemap.GE(string(lo)), upper(hi)) {
		keys = append(keys, k)
	}
	for _, k := range keys {
		ms.record(k)
		ms.tree.Delete(k)
	}
	return nil
}

func upper(hi []byte) btreemap.UpperBound[string] {
	if hi == nil {
		return btreemap.Max[string]()
	}
	return btreemap.LT(string(hi))
}

func (ms *memShard) commit() error {
	ms.mu.Lock()
	ms.undo = ms.undo[:0]
	ms.mu.Unlock()
	return nil
}

func (ms *memShard) abort() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for i := len(ms.undo) - 1; i >= 0; i-- {
		u := ms.undo[i]
		if _, cur, ok := ms.tree.Get(u.key); ok {
			ms.nbytes -= len(u.key) + len(cur)
		}
		if u.existed {
			ms.tree.ReplaceOrInsert(u.key, u.old)
			ms.nbytes += len(u.key) + len(u.old)
		} else {
			ms.tree.Delete(u.key)
		}
	}
	ms.undo = ms.undo[:0]
}

func (ms *memShard) staged() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return len(ms.undo) * 64
}

func (ms *memShard) close() error { return nil }

// memIter reads the tree a chunk at a time and seeks past the chunk for
// the next, so writes during iteration are safe.
type memIter struct {
	ms      *memShard
	lo, hi  string
	hasHi   bool
	reverse bool
	chunk   []memEntry
	pos     int
	done    bool
}

type memEntry struct {
	k string
	v []byte
}

const memChunk = 64

func (ms *memShard) iter(lo, hi []byte, reverse bool) (rawIter, error) {
	return &memIter{ms: ms, lo: string(lo), hi: string(hi), hasHi: hi != nil, reverse: reverse, pos: -1}, nil
}

func (it *memIter) fill() {
	it.ms.mu.Lock()
	defer it.ms.mu.Unlock()
	it.chunk = it.chunk[:0]
	it.pos = 0
	if !it.reverse {
		up := btreemap.Max[string]()
		if it.hasHi {
			up = btreemap.LT(it.hi)
		}
		for k, v := range it.ms.tree.Ascend(btreemap.GE(it.lo), up) {
			it.chunk = append(it.chunk, memEntry{k, v})
			if len(it.chunk) == memChunk {
				break
			}
		}
		if len(it.chunk) > 0 {
			it.lo = it.chunk[len(it.chunk)-1].k + "\x00"
		}
	} else {
		up := btreemap.Max[string]()
		if it.hasHi {
			up = btreemap.LT(it.hi)
		}
		for k, v := range it.ms.tree.Descend(up, btreemap.GE(it.lo)) {
			it.chunk = append(it.chunk, memEntry{k, v})
			if len(it.chunk) == memChunk {
				break
			}
		}
		if len(it.chunk) > 0 {
			it.hi, it.hasHi = it.chunk[len(it.chunk)-1].k, true
		}
	}
	if len(it.chunk) < memChunk {
		it.done = true
	}
}

func (it *memIter) next() bool {
	it.pos++
	if it.pos >= len(it.chunk) {
		if it.done {
			return false
		}
		it.fill()
		if len(it.chunk) == 0 {
			return false
		}
	}
	return true
}

func (it *memIter) key() []byte   { return []byte(it.chunk[it.pos].k) }
func (it *memIter) value() []byte { return it.chunk[it.pos].v }
func (it *memIter) close() error  { return nil }
