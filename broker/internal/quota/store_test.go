package quota

import (
	"os"
	"path/filepath"
	"testing"
)

func named(n string) *Part { return &Part{Name: n} }

var def = &Part{Default: true}

func TestResolvePrecedence(t *testing.T) {
	path := filepath.Join(t.TempDir(), File)
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	set := func(e Entity, v float64) {
		t.Helper()
		if err := s.Alter(e, []Op{{Key: ProducerByteRate, Value: v}}); err != nil {
			t.Fatal(err)
		}
	}
	// From least to most specific, each one taking over.
	steps := []struct {
		e    Entity
		v    float64
		want string // the entity a client (alice, app) resolves to
	}{
		{Entity{Client: def}, 1, "client-id=app"},
		{Entity{Client: named("app")}, 2, "client-id=app"},
		{Entity{User: def}, 3, "user=alice"},
		{Entity{User: def, Client: def}, 4, "user=alice,client-id=app"},
		{Entity{User: def, Client: named("app")}, 5, "user=alice,client-id=app"},
		{Entity{User: named("alice")}, 6, "user=alice"},
		{Entity{User: named("alice"), Client: def}, 7, "user=alice,client-id=app"},
		{Entity{User: named("alice"), Client: named("app")}, 8, "user=alice,client-id=app"},
	}
	for _, st := range steps {
		set(st.e, st.v)
		e, v, ok := s.Resolve(ProducerByteRate, "alice", "app")
		if !ok || v != st.v || e.String() != st.want {
			t.Fatalf("after setting %s=%v: resolved %s=%v %v, want %s=%v", st.e, st.v, e, v, ok, st.want, st.v)
		}
	}
	if _, v, _ := s.Resolve(ProducerByteRate, "bob", "other"); v != 4 {
		t.Fatalf("bob/other = %v, want <default> user with <default> client's 4", v)
	}
	if _, _, ok := s.Resolve(ConsumerByteRate, "alice", "app"); ok {
		t.Fatal("a quota key never set resolved")
	}
	// Durable, and a removal takes the next one back.
	s, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Alter(Entity{User: named("alice"), Client: named("app")}, []Op{{Key: ProducerByteRate, Remove: true}}); err != nil {
		t.Fatal(err)
	}
	if _, v, _ := s.Resolve(ProducerByteRate, "alice", "app"); v != 7 {
		t.Fatalf("after removing the most specific: %v, want 7", v)
	}
	if len(s.All()) != 7 {
		t.Fatalf("%d entities, want 7", len(s.All()))
	}
	raw, _ := os.ReadFile(path)
	raw[3] ^= 1
	os.WriteFile(path, raw, 0o644)
	if _, err := OpenStore(path); err == nil {
		t.Fatal("a damaged quota file was read")
	}
}

func TestCheckValue(t *testing.T) {
	for _, c := range []struct {
		k  string
		v  float64
		ok bool
	}{
		{ProducerByteRate, 1024, true}, {ProducerByteRate, 0, false}, {ProducerByteRate, 1.5, false},
		{RequestPercentage, 0.5, true}, {ControllerMutationRate, -1, false}, {"connection_creation_rate", 1, false},
	} {
		if err := CheckValue(c.k, c.v); (err == nil) != c.ok {
			t.Errorf("%s=%v: %v", c.k, c.v, err)
		}
	}
	s, _ := OpenStore(filepath.Join(t.TempDir(), File))
	if err := s.Alter(Entity{User: named("a")}, []Op{{Key: "bytes", Remove: true}}); err == nil {
		t.Error("removing an unknown key was accepted")
	}
}
