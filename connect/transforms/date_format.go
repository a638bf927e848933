package transforms

import (
	"fmt"
	"strings"
	"time"
)

// Java's java.text.SimpleDateFormat patterns, as TimestampConverter's
// format and TimestampRouter's timestamp.format take them, translated to a
// Go time layout. Times are formatted in UTC, as Kafka does.
//
//	pattern letters         Go layout     example
//	yyyy, yyy, y            2006          2024
//	yy                      06            24
//	M, MM, MMM, MMMM        1 01 Jan January
//	d, dd                   2 02
//	DDD (day of year)       002
//	E, EE, EEE; EEEE        Mon; Monday
//	a                       PM
//	HH                      15
//	h, hh                   3 03
//	m, mm                   4 04
//	s, ss                   5 05
//	.SSS or ,SSS            .000 ,000     milliseconds, after a '.' or ','
//	z, zz, zzz              MST           UTC
//	Z                       -0700         +0000
//	X, XX, XXX              Z07 Z0700 Z07:00
//	'text', ''              literal text, a single quote
//
// Everything else is rejected with an error naming the letter: the week
// fields (Y, w, W, F, u), era (G), k and K, single H (Go pads the hour),
// S other than three after a separator (Java counts milliseconds, Go
// writes fractions), D other than DDD, and literal text that Go would read
// as part of its layout (digits, "Jan", "Mon", "PM", "MST", ...).
//
// Parsing differs from SimpleDateFormat, which is lenient: here the input
// must match the pattern exactly (widths included, no trailing text), and
// a zone abbreviation other than UTC or GMT parses with a zero offset.

// javaDateFormat is a translated pattern.
type javaDateFormat struct {
	pattern string
	layout  string
}

// dateSegment is one piece of a translated pattern: a Go layout element or
// literal text.
type dateSegment struct {
	text    string
	literal bool
}

func parseJavaDateFormat(pattern string) (javaDateFormat, error) {
	var segs []dateSegment
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			segs = append(segs, dateSegment{text: lit.String(), literal: true})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			if i+1 < len(pattern) && pattern[i+1] == '\'' {
				lit.WriteByte('\'')
				i += 2
				continue
			}
			end := i + 1
			for {
				j := strings.IndexByte(pattern[end:], '\'')
				if j < 0 {
					return javaDateFormat{}, fmt.Errorf("pattern %q: unterminated quote at position %d", pattern, i)
				}
				lit.WriteString(pattern[end : end+j])
				end += j + 1
				if end < len(pattern) && pattern[end] == '\'' { // '' inside quotes
					lit.WriteByte('\'')
					end++
					continue
				}
				break
			}
			i = end
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			n := 1
			for i+n < len(pattern) && pattern[i+n] == c {
				n++
			}
			elem, err := javaDateElement(c, n)
			if err != nil {
				return javaDateFormat{}, fmt.Errorf("pattern %q: %w", pattern, err)
			}
			if c == 'S' {
				// Go writes fractional seconds after a '.' or ',': take
				// the separator from the literal text before.
				s := lit.String()
				if s == "" || (s[len(s)-1] != '.' && s[len(s)-1] != ',') {
					return javaDateFormat{}, fmt.Errorf("pattern %q: SSS (milliseconds) must follow a '.' or ',' here", pattern)
				}
				lit.Reset()
				lit.WriteString(s[:len(s)-1])
				elem = s[len(s)-1:] + elem
			}
			flush()
			segs = append(segs, dateSegment{text: elem})
			i += n
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	var layout strings.Builder
	for _, s := range segs {
		layout.WriteString(s.text)
	}
	f := javaDateFormat{pattern: pattern, layout: layout.String()}
	if err := f.check(segs); err != nil {
		return javaDateFormat{}, err
	}
	return f, nil
}

// javaDateElement maps a run of n pattern letters c to a Go layout element.
func javaDateElement(c byte, n int) (string, error) {
	unsupported := func(hint string) (string, error) {
		return "", fmt.Errorf("%s is not supported%s; supported letters: y, M, d, DDD, E, a, HH, h, m, s, SSS, z, Z, X and 'quoted text'",
			strings.Repeat(string(c), n), hint)
	}
	switch c {
	case 'y':
		switch {
		case n == 2:
			return "06", nil
		case n <= 4:
			return "2006", nil
		}
		return unsupported(" (years are written with 4 digits: yyyy)")
	case 'M', 'L':
		switch n {
		case 1:
			return "1", nil
		case 2:
			return "01", nil
		case 3:
			return "Jan", nil
		}
		return "January", nil
	case 'd':
		switch n {
		case 1:
			return "2", nil
		case 2:
			return "02", nil
		}
		return unsupported(" (use d or dd)")
	case 'D':
		if n == 3 {
			return "002", nil
		}
		return unsupported(" (the day of the year is written with 3 digits: DDD)")
	case 'E':
		if n >= 4 {
			return "Monday", nil
		}
		return "Mon", nil
	case 'a':
		return "PM", nil
	case 'H':
		if n == 2 {
			return "15", nil
		}
		return unsupported(" (Go always writes the 24-hour clock with 2 digits: use HH)")
	case 'h':
		switch n {
		case 1:
			return "3", nil
		case 2:
			return "03", nil
		}
		return unsupported(" (use h or hh)")
	case 'm':
		switch n {
		case 1:
			return "4", nil
		case 2:
			return "04", nil
		}
		return unsupported(" (use m or mm)")
	case 's':
		switch n {
		case 1:
			return "5", nil
		case 2:
			return "05", nil
		}
		return unsupported(" (use s or ss)")
	case 'S':
		if n == 3 {
			return "000", nil
		}
		return unsupported(" (only SSS, milliseconds: Java counts milliseconds where Go writes fractions)")
	case 'z':
		if n <= 3 {
			return "MST", nil
		}
		return unsupported(" (use z for the zone abbreviation)")
	case 'Z':
		return "-0700", nil
	case 'X':
		switch n {
		case 1:
			return "Z07", nil
		case 2:
			return "Z0700", nil
		case 3:
			return "Z07:00", nil
		}
		return unsupported("")
	case 'G', 'Y', 'w', 'W', 'F', 'u', 'k', 'K':
		return unsupported("")
	}
	return "", fmt.Errorf("illegal pattern character %q; supported letters: y, M, d, DDD, E, a, HH, h, m, s, SSS, z, Z, X and 'quoted text'", c)
}

// Probe times for check: every field differs from Go's reference time
// and between the two (month, day, hour, AM/PM, year, fraction).
var dateProbes = []time.Time{
	time.Date(2021, 11, 23, 13, 14, 15, 678e6, time.UTC),
	time.Date(2009, 2, 3, 4, 5, 6, 7e6, time.UTC),
}

// check rejects a layout whose pieces Go would read differently once
// joined: literal text that looks like a layout element ("1", "Mon"),
// or elements that run together ("1" then "5" reads as "15"). Formatting
// each piece alone must give what the whole layout gives.
func (f javaDateFormat) check(segs []dateSegment) error {
	for _, t := range dateProbes {
		var want strings.Builder
		for _, s := range segs {
			if s.literal {
				want.WriteString(s.text)
			} else {
				want.WriteString(t.Format(s.text))
			}
		}
		if got := t.Format(f.layout); got != want.String() {
			return fmt.Errorf("pattern %q cannot be expressed as a Go time layout: its literal text or adjacent fields would be read as other fields (%q formats as %q, want %q); quote less text or separate the fields",
				f.pattern, f.layout, got, want.String())
		}
	}
	return nil
}

// format writes t in UTC.
func (f javaDateFormat) format(t time.Time) string { return t.UTC().Format(f.layout) }

// parse reads s; without a zone in the pattern the time is UTC.
func (f javaDateFormat) parse(s string) (time.Time, error) {
	t, err := time.Parse(f.layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("could not parse timestamp: value %q does not match pattern %q", s, f.pattern)
	}
	return t.UTC(), nil
}
