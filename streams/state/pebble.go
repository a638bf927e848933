package state

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
)

// PebbleOptions configure OpenPebble.
type PebbleOptions struct {
	// MemoryBudget bounds the memory Pebble uses: a third goes to the
	// shared block cache, the rest to memtables. Default 64 MiB; at least
	// 8 MiB.
	MemoryBudget int64
	// Logger receives Pebble's own log lines at debug level. Default: none.
	Logger *slog.Logger
}

const (
	defaultMemoryBudget = 64 << 20
	minMemoryBudget     = 8 << 20
)

// Pebble is the Pebble engine: one Pebble instance for every shard of a
// process, so that tasks share its block cache and memory budget. Each
// shard stages its writes in an indexed batch; Commit writes the batch
// without fsync, like Kafka Streams leaves flushing to the OS: a process
// crash loses nothing that was committed, and a machine crash is covered by
// the changelog.
type Pebble struct {
	openShards
	db    *pebble.DB
	cache interface{ Unref() }
}

// OpenPebble opens (or creates) the Pebble engine in dir.
func OpenPebble(dir string, o PebbleOptions) (*Pebble, error) {
	if o.MemoryBudget == 0 {
		o.MemoryBudget = defaultMemoryBudget
	}
	if o.MemoryBudget < minMemoryBudget {
		return nil, fmt.Errorf("state: memory budget %d bytes: want at least %d", o.MemoryBudget, minMemoryBudget)
	}
	cache := pebble.NewCache(o.MemoryBudget / 3)
	memtable := uint64(o.MemoryBudget-o.MemoryBudget/3) / 2 // two memtables: one filling, one flushing
	opts := &pebble.Options{
		Cache:                       cache,
		MemTableSize:                memtable,
		MemTableStopWritesThreshold: 4,
		Logger:                      pebbleLogger{o.Logger},
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		cache.Unref()
		return nil, fmt.Errorf("state: open pebble in %s: %w", dir, err)
	}
	return &Pebble{db: db, cache: cache}, nil
}

// Shard implements Engine.
func (p *Pebble) Shard(name string) (*Shard, error) {
	if err := p.acquire(name); err != nil {
		return nil, err
	}
	ps := &pebbleShard{db: p.db, batch: p.db.NewIndexedBatch()}
	return newShard(name, ps, func() { p.release(name) }), nil
}

// View implements Engine: it reads what the shard's owner committed.
func (p *Pebble) View(name string) (*Shard, error) {
	var buf []byte
	get := func(key []byte) ([]byte, bool, error) {
		v, closer, err := p.db.Get(key)
		if errors.Is(err, pebble.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		buf = append(buf[:0], v...)
		closer.Close()
		return buf, true, nil
	}
	iter := func(lo, hi []byte, reverse bool) (rawIter, error) {
		it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			return nil, err
		}
		return &pebbleIter{it: it, reverse: reverse}, nil
	}
	return newShard(name, view{get0: get, iter0: iter}, func() {}), nil
}

// Checkpoints implements Engine.
func (p *Pebble) Checkpoints() (map[string]map[string]int64, error) {
	lo := []byte{checkpointSpace}
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := map[string]map[string]int64{}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) < 2 || len(k) < 2+int(k[1]) {
			return nil, errCorruptKey
		}
		shard, topic := string(k[2:2+int(k[1])]), string(k[2+int(k[1]):])
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		if out[shard] == nil {
			out[shard] = map[string]int64{}
		}
		out[shard][topic] = int64(beUint64(v))
	}
	return out, it.Error()
}

// Size implements Engine. It counts what Pebble has flushed to its
// sstables: the latest writes, still in the memtable, count once flushed
// (as RocksDB's total-sst-files-size, which Kafka Streams reports).
func (p *Pebble) Size(shard string) (int64, error) {
	return p.diskUsage(shardPrefix(dataSpace, shard))
}

// StoreSize implements Engine, as Size does.
func (p *Pebble) StoreSize(shard, store string) (int64, error) {
	return p.diskUsage(storePrefix(shard, store))
}

func (p *Pebble) diskUsage(prefix []byte) (int64, error) {
	n, err := p.db.EstimateDiskUsage(prefix, prefixEnd(prefix))
	return int64(n), err
}

// Close implements Engine.
func (p *Pebble) Close() error {
	if n := p.count(); n > 0 {
		return fmt.Errorf("state: close pebble with %d shards open", n)
	}
	err := p.db.Close()
	p.cache.Unref()
	return err
}

type pebbleShard struct {
	db    *pebble.DB
	batch *pebble.Batch
	buf   []byte
	// writeOnly: the shard is being restored, and nothing reads it until
	// it is done, so its batches need no index.
	writeOnly bool
}

func (s *pebbleShard) newBatch() *pebble.Batch {
	if s.writeOnly {
		return s.db.NewBatch()
	}
	return s.db.NewIndexedBatch()
}

// setWriteOnly switches the shard's batches to unindexed ones (faster to
// fill) while it is restored, and back. Staged writes are kept.
func (s *pebbleShard) setWriteOnly(on bool) error {
	if s.writeOnly == on {
		return nil
	}
	if !s.batch.Empty() {
		if err := s.commit(); err != nil {
			return err
		}
	}
	s.writeOnly = on
	s.batch.Close()
	s.batch = s.newBatch()
	return nil
}

func (s *pebbleShard) get(key []byte) ([]byte, bool, error) {
	var v []byte
	var closer io.Closer
	var err error
	if s.writeOnly {
		v, closer, err = s.db.Get(key)
	} else {
		v, closer, err = s.batch.Get(key)
	}
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	s.buf = append(s.buf[:0], v...)
	closer.Close()
	return s.buf, true, nil
}

func (s *pebbleShard) set(key, value []byte) error { return s.batch.Set(key, value, nil) }
func (s *pebbleShard) del(key []byte) error        { return s.batch.Delete(key, nil) }
func (s *pebbleShard) delRange(lo, hi []byte) error {
	if hi == nil {
		hi = []byte{0xff, 0xff, 0xff, 0xff}
	}
	return s.batch.DeleteRange(lo, hi, nil)
}

func (s *pebbleShard) iter(lo, hi []byte, reverse bool) (rawIter, error) {
	if s.writeOnly {
		// Reads see what was committed: restoring stores only read their
		// layout (a window store's newest segment) when they open.
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			return nil, err
		}
		return &pebbleIter{it: it, reverse: reverse}, nil
	}
	it, err := s.batch.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	return &pebbleIter{it: it, reverse: reverse}, nil
}

func (s *pebbleShard) commit() error {
	if s.batch.Empty() {
		return nil
	}
	if err := s.batch.Commit(pebble.NoSync); err != nil {
		return err
	}
	s.batch.Close()
	s.batch = s.newBatch()
	return nil
}

func (s *pebbleShard) abort() {
	if s.batch.Empty() {
		return
	}
	s.batch.Close()
	s.batch = s.newBatch()
}

func (s *pebbleShard) staged() int { return s.batch.Len() }

func (s *pebbleShard) close() error { return s.batch.Close() }

type pebbleIter struct {
	it      *pebble.Iterator
	reverse bool
	started bool
}

func (i *pebbleIter) next() bool {
	if !i.started {
		i.started = true
		if i.reverse {
			return i.it.Last()
		}
		return i.it.First()
	}
	if i.reverse {
		return i.it.Prev()
	}
	return i.it.Next()
}

func (i *pebbleIter) key() []byte { return i.it.Key() }

func (i *pebbleIter) value() []byte {
	v, err := i.it.ValueAndErr()
	if err != nil {
		return nil
	}
	return v
}

func (i *pebbleIter) close() error { return i.it.Close() }

// pebbleLogger sends Pebble's log lines to slog at debug level; Fatalf
// panics, as Pebble expects (it is called on corruption).
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	if p.l != nil {
		p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	if p.l != nil {
		p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}
