package jaas

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in     string
		module string
		opts   map[string]string
	}{
		{`org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="alice-secret";`,
			PlainLoginModule, map[string]string{"username": "alice", "password": "alice-secret"}},
		{"org.apache.kafka.common.security.scram.ScramLoginModule   required\n  username=bob\n  password=\"p w;=\\\"x\\\\\" ;  ",
			ScramLoginModule, map[string]string{"username": "bob", "password": `p w;="x\`}},
		{`PlainLoginModule optional user_admin="a" user_alice="b";`,
			"PlainLoginModule", map[string]string{"user_admin": "a", "user_alice": "b"}},
		{`x.Y REQUIRED;`, "x.Y", map[string]string{}},
		{`m required k="";`, "m", map[string]string{"k": ""}},
	}
	for _, c := range cases {
		e, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if e.Module != c.module || len(e.Options) != len(c.opts) {
			t.Errorf("Parse(%q) = %+v", c.in, e)
		}
		for k, v := range c.opts {
			if e.Options[k] != v {
				t.Errorf("Parse(%q): option %s = %q, want %q", c.in, k, e.Options[k], v)
			}
		}
	}
	if got := (Entry{Module: PlainLoginModule}).ShortModule(); got != "PlainLoginModule" {
		t.Errorf("ShortModule = %q", got)
	}
}

func TestParseErrorsNeverShowValues(t *testing.T) {
	for _, in := range []string{
		``,
		`m`,
		`m maybe k=v;`,
		`m required k="s3cret`,
		`m required k="s3cret"`,
		`m required k=s3cret`,
		`m required k;`,
		`m required =s3cret;`,
		`m required k=s3cret k=s3cret;`,
		`m required k=s3cret; n required;`,
		`m required k="s3cret\`,
	} {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q): no error", in)
			continue
		}
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q): %v does not wrap ErrSyntax", in, err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Parse(%q): error shows a value: %v", in, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="x";`)
	f.Add(`m required k="a\"b";`)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err == nil && (e.Module == "" || e.Options == nil) {
			t.Fatalf("accepted %q without a module", s)
		}
	})
}
