package converter

// Appenders for the JSON the converters write: strings escaped as Jackson
// escapes them and numbers in Java's Double.toString/Float.toString form,
// so that the bytes match what Kafka's JsonConverter writes.

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// plainASCII marks the bytes written as they are: ASCII but control
// characters, '"' and '\\'.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	lsbs = 0x0101010101010101
	msbs = 0x8080808080808080
)

// plain8 reports whether the 8 bytes in x are all plain (plainASCII). The
// tests of every byte at once are exact as a whole (a borrow can only
// mark bytes above one that matches anyway): a byte with the high bit
// set, a byte below 0x20, a '"' or a '\\' (a zero byte after XOR with it).
func plain8(x uint64) bool {
	below := (x - 0x20*lsbs) &^ x & msbs
	q := x ^ ('"' * lsbs)
	bs := x ^ ('\\' * lsbs)
	return (x&msbs | below | (q-lsbs)&^q&msbs | (bs-lsbs)&^bs&msbs) == 0
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Runs of plain bytes, the usual case, are copied at once; they
		// are found 8 bytes at a time, then byte by byte.
		for i+8 <= len(s) && plain8(uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56) {
			i += 8
		}
		for i < len(s) && plainASCII[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendFloat appends f the way Java's Double.toString (bits 64) or
// Float.toString (bits 32) writes it: "1.0", "0.001", "1.0E7", "1.5E-4".
// NaN and infinities are written as the strings Jackson writes for them.
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, bits)
		b = append(b, s...)
		if !strings.ContainsRune(s, '.') {
			b = append(b, ".0"...)
		}
		return b
	}
	s := strconv.FormatFloat(f, 'E', -1, bits)
	mant, exp, _ := strings.Cut(s, "E")
	b = append(b, mant...)
	if !strings.ContainsRune(mant, '.') {
		b = append(b, ".0"...)
	}
	e, _ := strconv.Atoi(exp)
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(e), 10)
}
