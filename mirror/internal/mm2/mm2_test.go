package mm2

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// The golden bytes are the layouts MM2's Schema/Struct classes write:
// int16-length strings, big-endian integers.
func TestOffsetSyncLayout(t *testing.T) {
	s := OffsetSync{Topic: "orders", Partition: 3, Upstream: 100, Downstream: 42}
	wantKey := "0006" + hex.EncodeToString([]byte("orders")) + "00000003"
	wantValue := "0000000000000064" + "000000000000002a"
	if got := hex.EncodeToString(s.Key()); got != wantKey {
		t.Errorf("key %s, want %s", got, wantKey)
	}
	if got := hex.EncodeToString(s.Value()); got != wantValue {
		t.Errorf("value %s, want %s", got, wantValue)
	}
	back, err := DecodeOffsetSync(s.Key(), s.Value())
	if err != nil || back != s {
		t.Errorf("round trip %+v %v", back, err)
	}
}

func TestCheckpointLayout(t *testing.T) {
	c := Checkpoint{Group: "g", Topic: "A.orders", Partition: 1, Upstream: 7, Downstream: 5, Metadata: "m"}
	wantKey := "0001" + hex.EncodeToString([]byte("g")) + "0008" + hex.EncodeToString([]byte("A.orders")) + "00000001"
	wantValue := "0000" + "0000000000000007" + "0000000000000005" + "0001" + hex.EncodeToString([]byte("m"))
	if got := hex.EncodeToString(c.Key()); got != wantKey {
		t.Errorf("key %s, want %s", got, wantKey)
	}
	if got := hex.EncodeToString(c.Value()); got != wantValue {
		t.Errorf("value %s, want %s", got, wantValue)
	}
	back, err := DecodeCheckpoint(c.Key(), c.Value())
	if err != nil || back != c {
		t.Errorf("round trip %+v %v", back, err)
	}
}

func TestHeartbeatLayout(t *testing.T) {
	h := Heartbeat{Source: "A", Target: "B", Timestamp: 1700000000000}
	wantKey := "0001" + hex.EncodeToString([]byte("A")) + "0001" + hex.EncodeToString([]byte("B"))
	wantValue := "0000" + "0000018bcfe56800"
	if got := hex.EncodeToString(h.Key()); got != wantKey {
		t.Errorf("key %s, want %s", got, wantKey)
	}
	if got := hex.EncodeToString(h.Value()); got != wantValue {
		t.Errorf("value %s, want %s", got, wantValue)
	}
	back, err := DecodeHeartbeat(h.Key(), h.Value())
	if err != nil || back != h {
		t.Errorf("round trip %+v %v", back, err)
	}
}

func TestPositionLayout(t *testing.T) {
	p := Position{Cluster: "A", Topic: "orders", Partition: 2, Offset: 41}
	if got, want := string(p.Key()), `["MirrorSourceConnector",{"cluster":"A","partition":2,"topic":"orders"}]`; got != want {
		t.Errorf("key %s, want %s", got, want)
	}
	if got, want := string(p.Value()), `{"offset":41}`; got != want {
		t.Errorf("value %s, want %s", got, want)
	}
	back, err := DecodePosition(p.Key(), p.Value())
	if err != nil || back != p {
		t.Errorf("round trip %+v %v", back, err)
	}
	// Connect's JsonConverter may order the map keys differently.
	back, err = DecodePosition([]byte(`["MirrorSourceConnector",{"topic":"orders","partition":2,"cluster":"A"}]`), []byte(`{"offset":41}`))
	if err != nil || back != p {
		t.Errorf("reordered key %+v %v", back, err)
	}
	if tomb, err := DecodePosition(p.Key(), nil); err != nil || tomb.Offset != -1 {
		t.Errorf("tombstone %+v %v", tomb, err)
	}
	if _, err := DecodePosition([]byte(`["MirrorCheckpointConnector",{"topic":"x"}]`), []byte(`{"offset":1}`)); !errors.Is(err, ErrFormat) {
		t.Errorf("other connector's record accepted: %v", err)
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	good := OffsetSync{Topic: "t", Partition: 1, Upstream: 2, Downstream: 3}
	for name, kv := range map[string][2][]byte{
		"short key":      {good.Key()[:3], good.Value()},
		"trailing value": {good.Key(), append(good.Value(), 0)},
		"negative len":   {{0xff, 0xff, 0, 0, 0, 1}, good.Value()},
		"empty":          {nil, nil},
	} {
		if _, err := DecodeOffsetSync(kv[0], kv[1]); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
	}
	c := Checkpoint{Group: "g", Topic: "t"}
	v := c.Value()
	v[1] = 9 // version 9
	if _, err := DecodeCheckpoint(c.Key(), v); !errors.Is(err, ErrFormat) {
		t.Errorf("unknown checkpoint version accepted: %v", err)
	}
}

func TestSyncStoreTranslation(t *testing.T) {
	s := NewSyncStore()
	s.Add(OffsetSync{"t", 0, 0, 0})
	if _, ok := s.Translate("t", 0, 5); ok {
		t.Fatal("translated before the syncs topic was read to its end")
	}
	s.MarkLoaded()
	for _, sync := range []OffsetSync{{"t", 0, 100, 50}, {"t", 0, 200, 150}, {"t", 0, 300, 250}} {
		s.Add(sync)
	}
	for _, c := range []struct {
		upstream, want int64
		ok             bool
	}{
		{300, 250, true},  // exactly at a sync
		{350, 251, true},  // past the newest: one past its downstream, never more
		{250, 151, true},  // between syncs: from the one before
		{200, 150, true},  // exactly at an older sync
		{100, 50, true},   // the oldest sync kept
		{99, 1, true},     // from the first sync 0->0: one past it
		{1000, 251, true}, // far ahead
	} {
		got, ok := s.Translate("t", 0, c.upstream)
		if ok != c.ok || got != c.want {
			t.Errorf("Translate(%d) = %d %v, want %d %v", c.upstream, got, ok, c.want, c.ok)
		}
	}
	if _, ok := s.Translate("t", 1, 5); ok {
		t.Error("translated a partition without syncs")
	}
	// A sync behind the newest (the mirror restarted from an earlier
	// position) replaces the history.
	s.Add(OffsetSync{"t", 0, 150, 400})
	if got, _ := s.Translate("t", 0, 300); got != 401 {
		t.Errorf("after a rewind Translate(300) = %d, want 401", got)
	}
	if _, ok := s.Translate("t", 0, 100); ok {
		t.Error("translated below the only sync after a rewind")
	}
}

// Translation must never skip a record: for every upstream offset the
// translated downstream offset is at or before the record the group reads
// next, whatever syncs the store kept.
func TestSyncStoreNeverSkips(t *testing.T) {
	s := NewSyncStore()
	s.MarkLoaded()
	// A source with gaps: every 7th offset missing (compaction).
	var upstream, downstream []int64
	for u := int64(0); u < 5000; u++ {
		if u%7 == 3 {
			continue
		}
		upstream = append(upstream, u)
		downstream = append(downstream, int64(len(downstream)))
	}
	rule := SyncRule{MaxLag: 50}
	for i, u := range upstream {
		if rule.Update(u, downstream[i]) {
			s.Add(OffsetSync{"t", 0, u, downstream[i]})
		}
	}
	for u := int64(0); u < 5000; u++ {
		got, ok := s.Translate("t", 0, u)
		if !ok {
			t.Fatalf("no translation for %d", u)
		}
		// The record the group reads next is the first copied one with
		// upstream >= u; its downstream offset is the most we may return.
		next := int64(len(downstream))
		for i, up := range upstream {
			if up >= u {
				next = downstream[i]
				break
			}
		}
		if got > next {
			t.Fatalf("Translate(%d) = %d skips past %d", u, got, next)
		}
	}
}

// Syncs read before the topic's end was reached are all kept: a group
// that lags behind the newest one still translates after a restart.
func TestSyncStoreKeepsSyncsReadWhileLoading(t *testing.T) {
	s := NewSyncStore()
	for _, sync := range []OffsetSync{{"t", 0, 0, 0}, {"t", 0, 100, 60}, {"t", 0, 200, 160}} {
		s.Add(sync)
	}
	s.MarkLoaded()
	if got, ok := s.Translate("t", 0, 150); !ok || got != 61 {
		t.Errorf("Translate(150) = %d %v, want 61", got, ok)
	}
}

// Past RecentSyncs syncs, lagging groups fall back to MM2's power-of-two
// spread: still never skipping, coarser the further behind.
func TestSyncStoreSpreadFallback(t *testing.T) {
	s := NewSyncStore()
	s.MarkLoaded()
	for u := int64(0); u <= 100*1000; u += 100 {
		s.Add(OffsetSync{"t", 0, u, u / 2})
	}
	// Within the recent syncs: exact to the sync interval.
	if got, _ := s.Translate("t", 0, 99_950); got != 99_900/2+1 {
		t.Errorf("recent Translate(99950) = %d", got)
	}
	// Far behind: some older sync, never past the true position.
	got, ok := s.Translate("t", 0, 30_050)
	if !ok || got > 30_000/2+1 {
		t.Errorf("spread Translate(30050) = %d %v, want at most %d", got, ok, 30_000/2+1)
	}
}

func TestSyncRule(t *testing.T) {
	r := SyncRule{MaxLag: 3}
	var got []bool
	for _, c := range [][2]int64{{0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4}, {6, 5}, {7, 6}, {8, 2}} {
		got = append(got, r.Update(c[0], c[1]))
	}
	// first; then at downstream 3 (3-(0+1) >= 3? no: 2), at 4 (4-1 >= 3);
	// the gap 4->6; the downstream rewind 6->2.
	want := []bool{true, false, false, false, true, true, false, true}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("emits %v, want %v", got, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(OffsetSync{"t", 1, 2, 3}.Key(), OffsetSync{"t", 1, 2, 3}.Value())
	f.Add(Checkpoint{"g", "t", 1, 2, 3, "m"}.Key(), Checkpoint{"g", "t", 1, 2, 3, "m"}.Value())
	f.Add(Heartbeat{"A", "B", 1}.Key(), Heartbeat{"A", "B", 1}.Value())
	f.Add(Position{"A", "t", 1, 2}.Key(), Position{"A", "t", 1, 2}.Value())
	f.Fuzz(func(t *testing.T, key, value []byte) {
		if s, err := DecodeOffsetSync(key, value); err == nil {
			if !bytes.Equal(s.Key(), key) || !bytes.Equal(s.Value(), value) {
				t.Fatalf("offset sync does not re-encode to its input")
			}
		}
		if c, err := DecodeCheckpoint(key, value); err == nil {
			if !bytes.Equal(c.Key(), key) || !bytes.Equal(c.Value(), value) {
				t.Fatalf("checkpoint does not re-encode to its input")
			}
		}
		if h, err := DecodeHeartbeat(key, value); err == nil {
			if !bytes.Equal(h.Key(), key) || !bytes.Equal(h.Value(), value) {
				t.Fatalf("heartbeat does not re-encode to its input")
			}
		}
		if p, err := DecodePosition(key, value); err == nil && value != nil {
			if _, err := DecodePosition(p.Key(), p.Value()); err != nil {
				t.Fatalf("position does not round-trip: %v", err)
			}
		}
	})
}
