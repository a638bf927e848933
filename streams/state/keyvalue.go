package state

// Changelog receives every write of a logged store, in order: the key in
// the store's changelog format and the value, nil for a deletion. The
// runtime produces each to the store's changelog partition; errors surface
// at the task's next commit.
type Changelog interface {
	Append(key, value []byte)
}

// Iterator walks entries in key order. Key and Value are valid until the
// next call to Next; an iterator must be closed.
type Iterator interface {
	Next() bool
	Key() []byte
	Value() []byte
	Close() error
}

// KeyValueStore is an ordered map of bytes to bytes.
type KeyValueStore interface {
	// Name is the store's name.
	Name() string
	// Get returns the value of key; the value is valid until the next
	// call on the store.
	Get(key []byte) ([]byte, bool, error)
	Put(key, value []byte) error
	Delete(key []byte) error
	// Range walks keys in [from, to); a nil bound is open.
	Range(from, to []byte) (Iterator, error)
	// ReverseRange walks the same keys from the last to the first.
	ReverseRange(from, to []byte) (Iterator, error)
	// Restore applies one changelog record without logging it again.
	Restore(key, value []byte) error
}

type keyValue struct {
	shard  *Shard
	name   string
	prefix []byte
	log    Changelog
	buf    []byte
}

func newKeyValue(s *Shard, name string, log Changelog) *keyValue {
	return &keyValue{shard: s, name: name, prefix: storePrefix(s.name, name), log: log}
}

func (s *keyValue) Name() string { return s.name }

func (s *keyValue) key(k []byte) []byte {
	s.buf = append(append(s.buf[:0], s.prefix...), k...)
	return s.buf
}

func (s *keyValue) Get(key []byte) ([]byte, bool, error) {
	return s.shard.kv.get(s.key(key))
}

func (s *keyValue) Put(key, value []byte) error {
	if value == nil {
		return s.Delete(key)
	}
	if err := s.shard.kv.set(s.key(key), value); err != nil {
		return err
	}
	if s.log != nil {
		s.log.Append(key, value)
	}
	return nil
}

func (s *keyValue) Delete(key []byte) error {
	if err := s.shard.kv.del(s.key(key)); err != nil {
		return err
	}
	if s.log != nil {
		s.log.Append(key, nil)
	}
	return nil
}

func (s *keyValue) Restore(key, value []byte) error {
	if value == nil {
		return s.shard.kv.del(s.key(key))
	}
	return s.shard.kv.set(s.key(key), value)
}

func (s *keyValue) bounds(from, to []byte) (lo, hi []byte) {
	lo = append(append([]byte(nil), s.prefix...), from...)
	if to == nil {
		hi = prefixEnd(s.prefix)
	} else {
		hi = append(append([]byte(nil), s.prefix...), to...)
	}
	return lo, hi
}

func (s *keyValue) Range(from, to []byte) (Iterator, error) {
	lo, hi := s.bounds(from, to)
	it, err := s.shard.kv.iter(lo, hi, false)
	if err != nil {
		return nil, err
	}
	return &prefixIter{raw: it, strip: len(s.prefix)}, nil
}

func (s *keyValue) ReverseRange(from, to []byte) (Iterator, error) {
	lo, hi := s.bounds(from, to)
	it, err := s.shard.kv.iter(lo, hi, true)
	if err != nil {
		return nil, err
	}
	return &prefixIter{raw: it, strip: len(s.prefix)}, nil
}

// prefixIter strips the store prefix off keys.
type prefixIter struct {
	raw   rawIter
	strip int
}

func (i *prefixIter) Next() bool    { return i.raw.next() }
func (i *prefixIter) Key() []byte   { return i.raw.key()[i.strip:] }
func (i *prefixIter) Value() []byte { return i.raw.value() }
func (i *prefixIter) Close() error  { return i.raw.close() }
