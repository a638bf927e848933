package properties

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, in string
		want     []Property
	}{
		{"equals colon space", "a=1\nb: 2\nc 3\n", []Property{{"a", "1", 1}, {"b", "2", 2}, {"c", "3", 3}}},
		{"comments and blanks", "# c\n  ! d\n\n\t\nk=v", []Property{{"k", "v", 5}}},
		{"spaces around separator", "  key  =  value", []Property{{"key", "value", 1}}},
		{"double equals keeps the second", "a==b", []Property{{"a", "=b", 1}}},
		{"colon then equals", "a:=b", []Property{{"a", "=b", 1}}},
		{"lone key", "flag\n", []Property{{"flag", "", 1}}},
		{"escaped separator in key", `a\=b\:c\ d=e`, []Property{{"a=b:c d", "e", 1}}},
		{"escapes in value", `v=tab\there\nnl \\ back \q`, []Property{{"v", "tab\there\nnl \\ back q", 1}}},
		{"unicode escape", `name=caf\u00e9`, []Property{{"name", "café", 1}}},
		{"trailing whitespace kept", "k=v  ", []Property{{"k", "v  ", 1}}},
		{"continuation", "list=a,\\\n    b,\\\n  c\nnext=1", []Property{{"list", "a,b,c", 1}, {"next", "1", 4}}},
		{"even backslashes do not continue", "path=C:\\\\\nx=1", []Property{{"path", `C:\`, 1}, {"x", "1", 2}}},
		{"continuation at end of input", "k=a\\", []Property{{"k", "a", 1}}},
		{"crlf", "a=1\r\nb=2\r\n", []Property{{"a", "1", 1}, {"b", "2", 2}}},
		{"comment inside continuation is data", "k=a\\\n# not a comment", []Property{{"k", "a# not a comment", 1}}},
		{"duplicates kept in order", "k=1\nk=2", []Property{{"k", "1", 1}, {"k", "2", 2}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("property %d: got %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := Parse(strings.NewReader("ok=1\n=no-key")); err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "=no-key") {
		t.Fatalf("a line without a key: got %v", err)
	}
	for _, in := range []string{"a=\\u12", "a=\\uzzzz", "\\u00=x", "ok=1\nbad=\\u1"} {
		_, err := Parse(strings.NewReader(in))
		var le *LineError
		if !errors.As(err, &le) {
			t.Fatalf("%q: got %v, want a LineError", in, err)
		}
		if !strings.Contains(err.Error(), "4 hex digits") {
			t.Errorf("%q: error %q does not say what is accepted", in, err)
		}
	}
	_, err := Parse(strings.NewReader("k=" + strings.Repeat("x", maxLine+10)))
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("overlong line: got %v", err)
	}
}

func TestMapLastWins(t *testing.T) {
	props, err := Parse(strings.NewReader("k=1\nk=2\nj=3"))
	if err != nil {
		t.Fatal(err)
	}
	m := Map(props)
	if m["k"] != "2" || m["j"] != "3" || len(m) != 2 {
		t.Fatalf("got %v", m)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a=1\nb: 2", `k=\u00e9\\`, "x\\\n y", "a==b\r\n#c", `\u`, "=", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		props, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, p := range props {
			if p.Line < 1 {
				t.Fatalf("property %q has line %d", p.Key, p.Line)
			}
		}
	})
}
