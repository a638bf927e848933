package state

import (
	"testing"
	"time"
)

// FuzzRestore applies any changelog record to every kind of store: a
// record that does not parse is an error, never a panic, and the stores
// stay usable.
func FuzzRestore(f *testing.F) {
	f.Add([]byte("k\x00\x00\x00\x00\x00\x00\x00\x05"), []byte("v"))
	f.Add([]byte("k\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x01"), []byte(nil))
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		sh, err := NewMemory().Shard("0_0")
		if err != nil {
			t.Fatal(err)
		}
		defer sh.Close()
		kv, _ := sh.KeyValue("kv", nil)
		w, _ := sh.Window("w", WindowOptions{Retention: time.Hour}, nil)
		d, _ := sh.Window("d", WindowOptions{Retention: time.Hour, RetainDuplicates: true}, nil)
		s, _ := sh.Session("s", SessionOptions{Retention: time.Hour}, nil)
		for _, st := range []interface{ Restore(k, v []byte) error }{kv, w, d, s} {
			st.Restore(key, value)
		}
		it, err := w.FetchAll(0, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		for it.Next() {
		}
		it.Close()
		si, err := s.Find(key, 0, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		for si.Next() {
		}
		si.Close()
	})
}
