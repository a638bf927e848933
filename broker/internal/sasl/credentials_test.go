package sasl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCredentialsDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), CredentialsFile)
	c, err := OpenCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	cred256, _ := scramSHA256.NewCredential("alice-secret", 8192)
	cred512, _ := scramSHA512.NewCredential("alice-512", MinIterations)
	errs, err := c.Apply([]Change{
		{User: "alice", Mechanism: ScramSHA256, Credential: cred256},
		{User: "alice", Mechanism: ScramSHA512, Credential: cred512},
		{User: "bob", Mechanism: ScramSHA256, Delete: true},
		{User: "bob", Mechanism: "SCRAM-SHA-1", Credential: cred256},
	})
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], ErrNoCredential) || errs[3] == nil {
		t.Fatalf("per-change errors = %v", errs)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "alice-secret") {
		t.Fatal("the store holds a password")
	}

	c, err = OpenCredentials(path) // as after a restart
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Lookup(ScramSHA256, "alice"); !ok || got.Iterations != 8192 {
		t.Fatalf("after reopen: %+v %v", got, ok)
	}
	if !c.CheckPassword("alice", "alice-secret") || c.CheckPassword("alice", "alice-512x") || c.CheckPassword("nobody", "") {
		t.Fatal("CheckPassword")
	}
	d := c.Describe(nil)
	if len(d["alice"]) != 2 || d["alice"][0] != (UserMechanism{ScramSHA256, 8192}) {
		t.Fatalf("Describe = %+v", d)
	}
	if d := c.Describe([]string{"bob"}); len(d) != 0 {
		t.Fatalf("Describe(bob) = %+v", d)
	}
	if _, err := c.Apply([]Change{{User: "alice", Mechanism: ScramSHA256, Delete: true}, {User: "alice", Mechanism: ScramSHA512, Delete: true}}); err != nil {
		t.Fatal(err)
	}
	c, _ = OpenCredentials(path)
	if d := c.Describe(nil); len(d) != 0 {
		t.Fatalf("after deleting everything: %+v", d)
	}

	// A damaged file is refused, naming it, not read as empty.
	raw, _ = os.ReadFile(path)
	raw[2] ^= 0x20
	os.WriteFile(path, raw, 0o644)
	if _, err := OpenCredentials(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("damaged store: %v", err)
	}
}

func TestCheckIterations(t *testing.T) {
	for _, n := range []int{0, 4095, 16385} {
		if CheckIterations(n) == nil {
			t.Errorf("%d accepted", n)
		}
		if _, err := scramSHA256.NewCredential("x", n); err == nil {
			t.Errorf("NewCredential(%d) accepted", n)
		}
	}
}
