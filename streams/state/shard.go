package state

import (
	"encoding/binary"
	"fmt"
)

// Shard is the stores of one task. Its writes are staged until Commit,
// which makes them durable together with the changelog offsets they
// cover. Reads see staged writes. A shard is used by one goroutine at a
// time.
type Shard struct {
	name    string
	kv      kv
	release func()
	stores  map[string]bool
	closed  bool
}

func newShard(name string, kv kv, release func()) *Shard {
	return &Shard{name: name, kv: kv, release: release, stores: map[string]bool{}}
}

// Name is the shard's name.
func (s *Shard) Name() string { return s.name }

func (s *Shard) claim(store string) error {
	if err := checkName("store", store); err != nil {
		return err
	}
	if s.closed {
		return ErrClosed
	}
	if s.stores[store] {
		return fmt.Errorf("state: store %s opened twice in shard %s", store, s.name)
	}
	s.stores[store] = true
	return nil
}

// Restoring tells the shard that it is being restored (on) or is done
// (off). While restoring, writes are staged in batches without an index,
// which fill faster; reads see only what was committed. Staged writes are
// committed first when it switches.
func (s *Shard) Restoring(on bool) error {
	if w, ok := s.kv.(interface{ setWriteOnly(bool) error }); ok {
		return w.setWriteOnly(on)
	}
	return nil
}

// ReleaseStores forgets which stores were opened, so that they can be
// opened again: a shard restored through one set of store handles is then
// handed to its task, which opens its own. The old handles must not be
// used after.
func (s *Shard) ReleaseStores() { clear(s.stores) }

// KeyValue opens the key-value store name in this shard. log, if not nil,
// receives every write.
func (s *Shard) KeyValue(name string, log Changelog) (KeyValueStore, error) {
	if err := s.claim(name); err != nil {
		return nil, err
	}
	return newKeyValue(s, name, log), nil
}

// Window opens the window store name in this shard.
func (s *Shard) Window(name string, opts WindowOptions, log Changelog) (WindowStore, error) {
	if err := opts.validate(name); err != nil {
		return nil, err
	}
	if err := s.claim(name); err != nil {
		return nil, err
	}
	return newWindow(s, name, opts, log)
}

// Session opens the session store name in this shard.
func (s *Shard) Session(name string, opts SessionOptions, log Changelog) (SessionStore, error) {
	if err := opts.validate(name); err != nil {
		return nil, err
	}
	if err := s.claim(name); err != nil {
		return nil, err
	}
	return newSession(s, name, opts, log)
}

func (s *Shard) checkpointKey(topic string) []byte {
	return append(shardPrefix(checkpointSpace, s.name), topic...)
}

// Checkpoint is the next offset of the changelog topic that this shard's
// committed state has not applied yet, and whether there is one.
func (s *Shard) Checkpoint(topic string) (int64, bool, error) {
	v, ok, err := s.kv.get(s.checkpointKey(topic))
	if err != nil || !ok {
		return 0, false, err
	}
	if len(v) != 8 {
		return 0, false, fmt.Errorf("state: shard %s: checkpoint of %s is %d bytes, want 8", s.name, topic, len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), true, nil
}

// Commit makes the staged writes durable together with checkpoints
// (changelog topic -> next offset to restore from), in one atomic write.
func (s *Shard) Commit(checkpoints map[string]int64) error {
	if s.closed {
		return ErrClosed
	}
	var v [8]byte
	for topic, off := range checkpoints {
		binary.BigEndian.PutUint64(v[:], uint64(off))
		if err := s.kv.set(s.checkpointKey(topic), v[:]); err != nil {
			return fmt.Errorf("state: shard %s: stage checkpoint: %w", s.name, err)
		}
	}
	if err := s.kv.commit(); err != nil {
		return fmt.Errorf("state: shard %s: commit: %w", s.name, err)
	}
	return nil
}

// Abort drops every staged write: the shard is back at its last commit.
func (s *Shard) Abort() { s.kv.abort() }

// Staged is the size in bytes of the writes waiting for Commit.
func (s *Shard) Staged() int { return s.kv.staged() }

// Wipe stages the deletion of every store and checkpoint of the shard;
// Commit makes it durable. A task wipes its shard when its checkpoint
// cannot be trusted (it is past the changelog's end) and restores from
// scratch.
func (s *Shard) Wipe() error {
	for _, space := range []byte{dataSpace, checkpointSpace} {
		p := shardPrefix(space, s.name)
		if err := s.kv.delRange(p, prefixEnd(p)); err != nil {
			return fmt.Errorf("state: wipe shard %s: %w", s.name, err)
		}
	}
	return nil
}

// Close drops staged writes and releases the shard.
func (s *Shard) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.kv.abort()
	err := s.kv.close()
	s.release()
	return err
}
