package state

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"
)

// Every engine passes the same suite: open is called once per subtest and
// reopen gives the same engine's data back after Close (for Memory, the
// same object).
type engineCase struct {
	name string
	open func(t *testing.T) (Engine, func() Engine)
}

func engines() []engineCase {
	return []engineCase{
		{"memory", func(t *testing.T) (Engine, func() Engine) {
			m := NewMemory()
			return m, func() Engine { return m }
		}},
		{"pebble", func(t *testing.T) (Engine, func() Engine) {
			dir := t.TempDir()
			p, err := OpenPebble(dir, PebbleOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cur := p
			t.Cleanup(func() { cur.Close() })
			return p, func() Engine {
				if err := cur.Close(); err != nil {
					t.Fatal(err)
				}
				p2, err := OpenPebble(dir, PebbleOptions{})
				if err != nil {
					t.Fatal(err)
				}
				cur = p2
				return p2
			}
		}},
	}
}

type recordingLog struct{ recs [][2][]byte }

func (l *recordingLog) Append(k, v []byte) {
	l.recs = append(l.recs, [2][]byte{append([]byte(nil), k...), append([]byte(nil), v...)})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func kvAll(t *testing.T, s KeyValueStore) []string {
	t.Helper()
	it, err := s.Range(nil, nil)
	must(t, err)
	var out []string
	for it.Next() {
		out = append(out, string(it.Key())+"="+string(it.Value()))
	}
	must(t, it.Close())
	return out
}

func TestKeyValueStore(t *testing.T) {
	for _, ec := range engines() {
		t.Run(ec.name, func(t *testing.T) {
			eng, reopen := ec.open(t)
			sh, err := eng.Shard("0_1")
			must(t, err)
			log := &recordingLog{}
			s, err := sh.KeyValue("counts", log)
			must(t, err)
			// Another store and another shard with overlapping keys stay apart.
			other, err := sh.KeyValue("counts2", nil)
			must(t, err)
			must(t, other.Put([]byte("a"), []byte("other")))
			sh2, err := eng.Shard("0_2")
			must(t, err)
			s2, err := sh2.KeyValue("counts", nil)
			must(t, err)
			must(t, s2.Put([]byte("a"), []byte("shard2")))
			must(t, sh2.Commit(nil))

			for _, k := range []string{"b", "a", "c", "ab"} {
				must(t, s.Put([]byte(k), []byte("v"+k)))
			}
			must(t, s.Delete([]byte("c")))
			if v, ok, err := s.Get([]byte("a")); err != nil || !ok || string(v) != "va" {
				t.Fatalf("Get(a) = %q %v %v, want va (staged writes are read)", v, ok, err)
			}
			if got, want := kvAll(t, s), []string{"a=va", "ab=vab", "b=vb"}; !slices.Equal(got, want) {
				t.Fatalf("Range = %v, want %v", got, want)
			}
			it, err := s.ReverseRange([]byte("ab"), nil)
			must(t, err)
			var rev []string
			for it.Next() {
				rev = append(rev, string(it.Key()))
			}
			must(t, it.Close())
			if !slices.Equal(rev, []string{"b", "ab"}) {
				t.Fatalf("ReverseRange(ab, nil) = %v", rev)
			}
			if len(log.recs) != 5 || log.recs[4][1] != nil && len(log.recs[4][1]) != 0 {
				t.Fatalf("changelog = %q, want 4 puts and a deletion", log.recs)
			}

			// Abort drops what was staged since the last commit.
			must(t, sh.Commit(map[string]int64{"app-counts-changelog": 42}))
			must(t, s.Put([]byte("z"), []byte("vz")))
			must(t, s.Delete([]byte("a")))
			sh.Abort()
			if got, want := kvAll(t, s), []string{"a=va", "ab=vab", "b=vb"}; !slices.Equal(got, want) {
				t.Fatalf("after Abort: %v, want %v", got, want)
			}
			// Writes while iterating are safe.
			it, err = s.Range(nil, nil)
			must(t, err)
			for it.Next() {
				must(t, s.Put(append([]byte("x"), it.Key()...), []byte("1")))
			}
			must(t, it.Close())
			sh.Abort()

			must(t, sh.Close())
			must(t, sh2.Close())
			eng = reopen()
			cps, err := eng.Checkpoints()
			must(t, err)
			if cps["0_1"]["app-counts-changelog"] != 42 || len(cps) != 1 {
				t.Fatalf("Checkpoints = %v, want 0_1 at 42", cps)
			}
			sh, err = eng.Shard("0_1")
			must(t, err)
			if _, err := eng.Shard("0_1"); err == nil {
				t.Fatal("a shard opened twice: want ErrShardOpen")
			}
			s, err = sh.KeyValue("counts", nil)
			must(t, err)
			if got, want := kvAll(t, s), []string{"a=va", "ab=vab", "b=vb"}; !slices.Equal(got, want) {
				t.Fatalf("after reopen: %v, want %v", got, want)
			}
			off, ok, err := sh.Checkpoint("app-counts-changelog")
			if err != nil || !ok || off != 42 {
				t.Fatalf("Checkpoint = %d %v %v", off, ok, err)
			}
			// Restore applies changelog records, tombstones included, and
			// logs nothing.
			must(t, s.Restore([]byte("b"), nil))
			must(t, s.Restore([]byte("d"), []byte("vd")))
			must(t, sh.Commit(map[string]int64{"app-counts-changelog": 44}))
			if got, want := kvAll(t, s), []string{"a=va", "ab=vab", "d=vd"}; !slices.Equal(got, want) {
				t.Fatalf("after Restore: %v, want %v", got, want)
			}
			must(t, sh.Wipe())
			must(t, sh.Commit(nil))
			if got := kvAll(t, s); len(got) != 0 {
				t.Fatalf("after Wipe: %v", got)
			}
			if _, ok, _ := sh.Checkpoint("app-counts-changelog"); ok {
				t.Fatal("Wipe kept the checkpoint")
			}
			must(t, sh.Close())
		})
	}
}

func windows(t *testing.T, it WindowIterator) []string {
	t.Helper()
	var out []string
	for it.Next() {
		out = append(out, fmt.Sprintf("%s@%d=%s", it.Key(), it.Start(), it.Value()))
	}
	must(t, it.Close())
	return out
}

func TestWindowStore(t *testing.T) {
	for _, ec := range engines() {
		t.Run(ec.name, func(t *testing.T) {
			eng, reopen := ec.open(t)
			sh, err := eng.Shard("1_0")
			must(t, err)
			log := &recordingLog{}
			opts := WindowOptions{Retention: 10 * time.Minute, SegmentInterval: time.Minute}
			w, err := sh.Window("win", opts, log)
			must(t, err)
			must(t, w.Put([]byte("a"), 0, []byte("1")))
			must(t, w.Put([]byte("a"), 60_000, []byte("2")))
			must(t, w.Put([]byte("ab"), 60_000, []byte("x")))
			must(t, w.Put([]byte("a"), 120_000, []byte("3")))
			must(t, w.Put([]byte("a"), 60_000, []byte("2b")))
			if got, want := windows(t, mustIter(w.Fetch([]byte("a"), 0, 120_000))), []string{"a@0=1", "a@60000=2b", "a@120000=3"}; !slices.Equal(got, want) {
				t.Fatalf("Fetch = %v, want %v", got, want)
			}
			if got, want := windows(t, mustIter(w.Fetch([]byte("a"), 1, 60_000))), []string{"a@60000=2b"}; !slices.Equal(got, want) {
				t.Fatalf("Fetch(1, 60000) = %v, want %v", got, want)
			}
			if got, want := windows(t, mustIter(w.FetchAll(60_000, 60_000))), []string{"a@60000=2b", "ab@60000=x"}; !slices.Equal(got, want) {
				t.Fatalf("FetchAll = %v, want %v", got, want)
			}
			if v, ok, _ := w.Get([]byte("a"), 120_000); !ok || string(v) != "3" {
				t.Fatalf("Get = %q %v", v, ok)
			}
			// The changelog key is Kafka's: key, then the start as 8 bytes.
			if k := log.recs[0][0]; !bytes.Equal(k, []byte{'a', 0, 0, 0, 0, 0, 0, 0, 0}) {
				t.Fatalf("changelog key = %x", k)
			}
			// Moving stream time 10 minutes on drops the segments that fell
			// wholly out of retention: [0, 1min) here.
			must(t, w.Put([]byte("b"), 11*60_000+1, []byte("late")))
			if got, want := windows(t, mustIter(w.Fetch([]byte("a"), 0, maxTime))), []string{"a@60000=2b", "a@120000=3"}; !slices.Equal(got, want) {
				t.Fatalf("after expiry: %v, want %v", got, want)
			}
			must(t, w.Put([]byte("a"), 0, []byte("too old"))) // ignored
			if got := windows(t, mustIter(w.Fetch([]byte("a"), 0, 0))); len(got) != 0 {
				t.Fatalf("an expired put was kept: %v", got)
			}
			must(t, sh.Commit(nil))
			must(t, sh.Close())

			// Restore into a fresh shard from the changelog gives the same
			// windows, and a reopened store resumes its time.
			sh2, err := eng.Shard("1_1")
			must(t, err)
			w2, err := sh2.Window("win", opts, nil)
			must(t, err)
			for _, r := range log.recs {
				must(t, w2.Restore(r[0], r[1]))
			}
			must(t, sh2.Commit(nil))
			if got, want := windows(t, mustIter(w2.FetchAll(0, maxTime))), []string{"a@60000=2b", "ab@60000=x", "a@120000=3", "b@660001=late"}; !slices.Equal(got, want) {
				t.Fatalf("restored = %v, want %v", got, want)
			}
			must(t, sh2.Close())
			eng = reopen()
			sh3, err := eng.Shard("1_1")
			must(t, err)
			w3, err := sh3.Window("win", opts, nil)
			must(t, err)
			if got, want := windows(t, mustIter(w3.Fetch([]byte("b"), 0, maxTime))), []string{"b@660001=late"}; !slices.Equal(got, want) {
				t.Fatalf("reopened = %v, want %v", got, want)
			}
			must(t, sh3.Close())
		})
	}
}

func TestWindowStoreDuplicates(t *testing.T) {
	for _, ec := range engines() {
		t.Run(ec.name, func(t *testing.T) {
			eng, _ := ec.open(t)
			sh, err := eng.Shard("0_0")
			must(t, err)
			defer sh.Close()
			log := &recordingLog{}
			w, err := sh.Window("join", WindowOptions{Retention: time.Hour, RetainDuplicates: true}, log)
			must(t, err)
			must(t, w.Put([]byte("k"), 5, []byte("x")))
			must(t, w.Put([]byte("k"), 5, []byte("y")))
			must(t, w.Put([]byte("k"), 7, []byte("z")))
			if got, want := windows(t, mustIter(w.Fetch([]byte("k"), 0, 10))), []string{"k@5=x", "k@5=y", "k@7=z"}; !slices.Equal(got, want) {
				t.Fatalf("Fetch = %v, want %v", got, want)
			}
			if n := len(log.recs[0][0]); n != 1+8+4 {
				t.Fatalf("changelog key of a duplicate is %d bytes, want key+start+seq", n)
			}
		})
	}
}

func sessions(t *testing.T, it SessionIterator) []string {
	t.Helper()
	var out []string
	for it.Next() {
		out = append(out, fmt.Sprintf("%s[%d,%d]=%s", it.Key(), it.Start(), it.End(), it.Value()))
	}
	must(t, it.Close())
	return out
}

func TestSessionStore(t *testing.T) {
	for _, ec := range engines() {
		t.Run(ec.name, func(t *testing.T) {
			eng, _ := ec.open(t)
			sh, err := eng.Shard("0_0")
			must(t, err)
			defer sh.Close()
			log := &recordingLog{}
			s, err := sh.Session("sess", SessionOptions{Retention: time.Hour, SegmentInterval: time.Minute}, log)
			must(t, err)
			must(t, s.Put([]byte("u"), 0, 10, []byte("a")))
			must(t, s.Put([]byte("u"), 100, 200, []byte("b")))
			must(t, s.Put([]byte("u"), 70_000, 80_000, []byte("c")))
			must(t, s.Put([]byte("v"), 0, 10, []byte("other")))
			if got, want := sessions(t, mustIter(s.Find([]byte("u"), 5, 150))), []string{"u[0,10]=a", "u[100,200]=b"}; !slices.Equal(got, want) {
				t.Fatalf("Find(5, 150) = %v, want %v", got, want)
			}
			if got, want := sessions(t, mustIter(s.Find([]byte("u"), 11, maxTime))), []string{"u[100,200]=b", "u[70000,80000]=c"}; !slices.Equal(got, want) {
				t.Fatalf("Find(11, max) = %v, want %v", got, want)
			}
			must(t, s.Put([]byte("u"), 100, 200, nil))
			if got, want := sessions(t, mustIter(s.Find([]byte("u"), 0, maxTime))), []string{"u[0,10]=a", "u[70000,80000]=c"}; !slices.Equal(got, want) {
				t.Fatalf("after removal: %v, want %v", got, want)
			}
			// Kafka's session changelog key: key, end, start.
			want := append([]byte("u"), 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0)
			if !bytes.Equal(log.recs[0][0], want) {
				t.Fatalf("changelog key = %x, want %x", log.recs[0][0], want)
			}
		})
	}
}

func mustIter[I any](it I, err error) I {
	if err != nil {
		panic(err)
	}
	return it
}

func TestPebbleMemoryBudget(t *testing.T) {
	if _, err := OpenPebble(t.TempDir(), PebbleOptions{MemoryBudget: 1 << 20}); err == nil {
		t.Fatal("a 1 MiB budget was accepted; want an error naming the minimum")
	}
}

// StoreSize counts one store of one shard: a large store is larger than a
// small one beside it, and the shard's size covers both.
func TestStoreSize(t *testing.T) {
	for _, ec := range engines() {
		t.Run(ec.name, func(t *testing.T) {
			eng, _ := ec.open(t)
			sh, err := eng.Shard("0_1")
			must(t, err)
			big, err := sh.KeyValue("big", nil)
			must(t, err)
			small, err := sh.KeyValue("small", nil)
			must(t, err)
			// Values that do not compress, so the estimate reflects them.
			value := make([]byte, 1024)
			seed := uint64(1)
			for i := range 2000 {
				for j := range value {
					seed = seed*6364136223846793005 + 1442695040888963407
					value[j] = byte(seed >> 56)
				}
				must(t, big.Put([]byte(fmt.Sprintf("k%05d", i)), value))
			}
			must(t, small.Put([]byte("k"), []byte("v")))
			must(t, sh.Commit(nil))
			must(t, sh.Close())
			if p, ok := eng.(*Pebble); ok {
				// Pebble estimates what reached its sstables.
				must(t, p.db.Flush())
			}
			bigSize, err := eng.StoreSize("0_1", "big")
			must(t, err)
			smallSize, err := eng.StoreSize("0_1", "small")
			must(t, err)
			total, err := eng.Size("0_1")
			must(t, err)
			if bigSize < 2000*1024 || smallSize >= bigSize/100 || total < bigSize {
				t.Fatalf("big store %d bytes (want at least %d), small store %d, shard %d", bigSize, 2000*1024, smallSize, total)
			}
			none, err := eng.StoreSize("0_2", "big")
			must(t, err)
			if none != 0 {
				t.Fatalf("a shard that was never written has %d bytes", none)
			}
		})
	}
}
