package converter

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// escapeReference is the escaping appendString must produce, written byte
// by byte: control characters, '"' and '\\' escaped as Jackson escapes
// them, invalid UTF-8 replaced by U+FFFD, everything else as is.
func escapeReference(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString("\ufffd")
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		default:
			b.WriteByte(c)
		}
		i++
	}
	b.WriteByte('"')
	return b.String()
}

var escapeSeeds = []string{"", "plain", `say "hi"`, `back\slash`, "tab\tnew\nline\r\x00\x01\x1f\x7f", "\b\f",
	"héllo wörld ✓ 🎉", "bad \xff utf-8 \xc3", "\xe2\x82", "x\"", "\"x", strings.Repeat("x", 100) + "\n"}

func TestAppendString(t *testing.T) {
	for _, s := range escapeSeeds {
		got := string(appendString([]byte("prefix"), s))
		if want := "prefix" + escapeReference(s); got != want {
			t.Errorf("appendString(%q) = %q, want %q", s, got, want)
		}
		// Valid UTF-8 reads back unchanged.
		var back string
		if err := json.Unmarshal([]byte(got[len("prefix"):]), &back); err != nil || utf8.ValidString(s) && back != s {
			t.Errorf("appendString(%q) = %q reads back as %q (%v)", s, got, back, err)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range escapeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendString(nil, s)), escapeReference(s); got != want {
			t.Fatalf("appendString(%q) = %q, want %q", s, got, want)
		}
	})
}

// plain8 agrees with plainASCII on words made of every byte value, in
// every position, among plain bytes.
func TestPlain8(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := range 8 {
			for _, fill := range []byte{'a', ' ', '~', '!', '#', '[', ']'} {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(c)
				var x uint64
				for i := range w {
					x |= uint64(w[i]) << (8 * i)
				}
				if got, want := plain8(x), plainASCII[c]; got != want {
					t.Fatalf("plain8(%q) = %v, want %v", w, got, want)
				}
			}
		}
	}
}
