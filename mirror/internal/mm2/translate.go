package mm2

import "sync"

// SyncStore keeps offset syncs per source partition and translates
// upstream offsets with MM2's rules: translation never lands past the
// record the group would read next (no record skipped), and for a fixed
// set of syncs it is monotonic in the upstream offset.
//
// Per partition it keeps the newest RecentSyncs syncs as they came, so a
// group within that many syncs of the live end translates to within one
// sync interval (offset.lag.max records) of its exact position, plus 64
// syncs spread over powers of two back from the newest (MM2's
// OffsetSyncStore layout), so groups further behind still translate, more
// coarsely: MM2 keeps only the spread ones.
//
// It is safe for concurrent use: Add is called by the reader of the
// offset-syncs topic, Translate by the checkpointer.
type SyncStore struct {
	mu     sync.Mutex
	syncs  map[partitionKey]*partitionSyncs
	loaded bool
}

// RecentSyncs is how many of a partition's newest syncs are kept as they
// came.
const RecentSyncs = 64

type partitionSyncs struct {
	recent []OffsetSync // oldest first, at most RecentSyncs
	spread [64]OffsetSync
}

type partitionKey struct {
	topic     string
	partition int32
}

// NewSyncStore returns an empty store.
func NewSyncStore() *SyncStore { return &SyncStore{syncs: map[partitionKey]*partitionSyncs{}} }

// MarkLoaded is called once the offset-syncs topic has been read to its
// end; until then Translate declines, as MM2's does. (MM2 also keeps only
// the newest sync per partition while loading when it could not read its
// earlier checkpoints, to keep checkpoints from moving back; the
// checkpointer here always reads them first, as MM2 then does, so every
// sync is kept.)
func (s *SyncStore) MarkLoaded() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loaded = true
}

// Add records a sync. A sync older than the newest one (the source was
// truncated, or the mirror restarted from an earlier position) replaces
// everything known for the partition, as in MM2.
func (s *SyncStore) Add(sync OffsetSync) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := partitionKey{sync.Topic, sync.Partition}
	ps := s.syncs[k]
	if ps == nil || ps.spread[0].Upstream > sync.Upstream {
		ps = &partitionSyncs{recent: []OffsetSync{sync}}
		for i := range ps.spread {
			ps.spread[i] = sync
		}
		s.syncs[k] = ps
		return
	}
	if len(ps.recent) == RecentSyncs {
		copy(ps.recent, ps.recent[1:])
		ps.recent = ps.recent[:RecentSyncs-1]
	}
	ps.recent = append(ps.recent, sync)
	arr := &ps.spread
	arr[0] = sync
	for i := 1; i < 64; i++ {
		mask := int64(-1) << uint(i) // the high bits that must be unchanged for slot i to keep its sync
		if (arr[i].Upstream^sync.Upstream)&mask == 0 {
			break
		}
		arr[i] = sync
	}
}

// Lookup returns the newest sync at or before upstream for the partition:
// the one translation starts from. ok is false before MarkLoaded, when the
// store has no sync for the partition, or only syncs past upstream (the
// group is further behind than any sync kept).
func (s *SyncStore) Lookup(topic string, partition int32, upstream int64) (sync OffsetSync, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.syncs[partitionKey{topic, partition}]
	if ps == nil || !s.loaded {
		return OffsetSync{}, false
	}
	if len(ps.recent) > 0 && ps.recent[0].Upstream <= upstream {
		for i := len(ps.recent) - 1; i >= 0; i-- {
			if ps.recent[i].Upstream <= upstream {
				return ps.recent[i], true
			}
		}
	}
	for i := range ps.spread {
		if ps.spread[i].Upstream <= upstream {
			return ps.spread[i], true
		}
	}
	return OffsetSync{}, false
}

// Translate returns the downstream offset a group committed at upstream
// should resume from on the target, or ok false when it cannot be
// translated without risking a skipped record. Past the sync it returns
// the sync's downstream offset plus one: later upstream records may have
// been dropped (compaction, aborted transactions) so guessing further
// could skip one.
func (s *SyncStore) Translate(topic string, partition int32, upstream int64) (downstream int64, ok bool) {
	sync, ok := s.Lookup(topic, partition, upstream)
	if !ok {
		return 0, false
	}
	return TranslateFrom(sync, upstream), true
}

// TranslateFrom is Translate's rule for a known sync at or before upstream.
func TranslateFrom(sync OffsetSync, upstream int64) int64 {
	if upstream == sync.Upstream {
		return sync.Downstream
	}
	return sync.Downstream + 1
}

// SyncRule decides when the copier emits an offset sync for a partition,
// with MM2's rule: on the first record copied since start, when the
// translation from the last sync would be offset.lag.max or more records
// behind, whenever upstream offsets skip (a gap: compaction, transaction
// markers, aborted records) and when downstream goes backwards.
type SyncRule struct {
	MaxLag int64

	prevUpstream, prevDownstream, lastSyncDownstream int64
	started                                          bool
}

// Update is called for every copied record in offset order; it reports
// whether a sync for this record must be written now.
func (r *SyncRule) Update(upstream, downstream int64) bool {
	emit := !r.started ||
		downstream-(r.lastSyncDownstream+1) >= r.MaxLag ||
		upstream-r.prevUpstream != 1 ||
		downstream < r.prevDownstream
	if emit {
		r.lastSyncDownstream = downstream
	}
	r.started = true
	r.prevUpstream, r.prevDownstream = upstream, downstream
	return emit
}
