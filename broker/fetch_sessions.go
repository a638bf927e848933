package broker

// Incremental fetch sessions (KIP-227). A session remembers the partitions a
// consumer fetches and what the last response told it, so later requests
// list only changes and responses list only partitions with news.
//
//   session id 0, epoch -1: a full fetch without a session
//   session id N, epoch 0:  a full fetch that opens a new session, closing
//                           session N if N is not 0 (when no slot is free
//                           the answer carries session id 0)
//   session id N, epoch -1: close session N, then a full sessionless fetch
//   session id N, epoch E:  incremental; E must be the session's next epoch
//
// Sessions are evicted least-recently-used when
// max.incremental.fetch.session.cache.slots are taken.

import (
	"container/list"
	"crypto/rand"
	"encoding/binary"
	"sync"
)

type sessionPartition struct {
	topicID     [16]byte
	topic       string
	partition   int32
	fetchOffset int64
	maxBytes    int32
	// What the client last heard, to decide whether to include the
	// partition in an incremental response.
	sentHWM, sentLSO, sentLogStart int64
	sentOnce                       bool
}

type fetchSession struct {
	mu        sync.Mutex
	id        int32
	epoch     int32 // the epoch the next request must carry
	parts     []*sessionPartition
	byKey     map[sessionKey]*sessionPartition
	lruElem   *list.Element
	usesNames bool
}

type sessionKey struct {
	topic     string
	topicID   [16]byte
	partition int32
}

type fetchSessions struct {
	mu    sync.Mutex
	slots int
	byID  map[int32]*fetchSession
	lru   *list.List // front = most recently used
}

func newFetchSessions(slots int) *fetchSessions {
	return &fetchSessions{slots: slots, byID: map[int32]*fetchSession{}, lru: list.New()}
}

// create opens a session, evicting the least recently used one if full.
// It returns nil when sessions are disabled.
func (fs *fetchSessions) create() *fetchSession {
	if fs.slots <= 0 {
		return nil
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.byID) >= fs.slots {
		oldest := fs.lru.Back()
		s := oldest.Value.(*fetchSession)
		fs.lru.Remove(oldest)
		delete(fs.byID, s.id)
	}
	var id int32
	for id == 0 || fs.byID[id] != nil {
		var b [4]byte
		rand.Read(b[:])
		id = int32(binary.BigEndian.Uint32(b[:]) & 0x7fffffff)
	}
	// The creating request counts as epoch 0; handleFetch advances it.
	s := &fetchSession{id: id, byKey: map[sessionKey]*sessionPartition{}}
	s.lruElem = fs.lru.PushFront(s)
	fs.byID[id] = s
	return s
}

func (fs *fetchSessions) get(id int32) *fetchSession {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	s := fs.byID[id]
	if s != nil {
		fs.lru.MoveToFront(s.lruElem)
	}
	return s
}

func (fs *fetchSessions) remove(id int32) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if s := fs.byID[id]; s != nil {
		fs.lru.Remove(s.lruElem)
		delete(fs.byID, id)
	}
}

// upsert adds or updates a partition in the session.
func (s *fetchSession) upsert(k sessionKey, fetchOffset int64, maxBytes int32) {
	sp := s.byKey[k]
	if sp == nil {
		sp = &sessionPartition{topicID: k.topicID, topic: k.topic, partition: k.partition}
		s.byKey[k] = sp
		s.parts = append(s.parts, sp)
	}
	sp.fetchOffset = fetchOffset
	sp.maxBytes = maxBytes
}

func (s *fetchSession) forget(k sessionKey) {
	if s.byKey[k] == nil {
		return
	}
	delete(s.byKey, k)
	for i, sp := range s.parts {
		if sp.topic == k.topic && sp.topicID == k.topicID && sp.partition == k.partition {
			s.parts = append(s.parts[:i], s.parts[i+1:]...)
			break
		}
	}
}
