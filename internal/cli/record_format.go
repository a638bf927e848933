package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

// `consume --format`: rpk's record format strings. Backslash escapes \t \n
// \r \\ \xNN; percent verbs
//
//	%t topic         %T topic length     %k key        %K key length
//	%v value         %V value length     %h{...} each header (inside: %k %v %K %V)
//	%H header count  %p partition        %o offset     %e leader epoch
//	%d timestamp     %a{...} attribute   %x producer id  %y producer epoch
//	%[ log start offset  %| last stable offset  %] high watermark
//	%i the number of records formatted so far   %% %{ %} literal characters
//
// and brace modifiers: for text (%t %k %v) {hex}, {base64}, {base64raw} and
// {json} (the bytes as JSON: as they are when they are valid JSON, else a
// JSON string; a null key or value is null); for numbers {ascii} (the
// default), {hex}, {hex8}..{hex64}, {big8}..{big64}, {little8}..{little64},
// {byte}, {bool}; for %d also {go#LAYOUT#} (Go's time layout; the
// delimiter may be #, [], {} or (), repeated) and {strftime[...]} (UTC);
// for %a one of {compression}, {timestamp-type}, {transactional-bit},
// {control-bit}, optionally followed by ;NUMBER-FORMAT.
//
// A null key or value prints nothing (rpk's behaviour) unless {json}.

// recordFormatter prints records by a parsed --format layout.
type recordFormatter struct {
	parts []formatPart
	calls int64
}

// formatContext is what a verb may print from: the record, the partition
// it was fetched from (may be nil) and the call count.
type formatContext struct {
	r     *kgo.Record
	p     *kgo.FetchPartition
	calls int64
	h     *kgo.RecordHeader // inside %h{...}
}

type formatPart func(b []byte, c *formatContext) []byte

// append formats r (fetched from p, which may be nil) onto b.
func (f *recordFormatter) append(b []byte, r *kgo.Record, p *kgo.FetchPartition) []byte {
	f.calls++
	c := &formatContext{r: r, p: p, calls: f.calls}
	for _, part := range f.parts {
		b = part(b, c)
	}
	return b
}

// parseRecordFormat parses a --format layout. Errors name the position.
func parseRecordFormat(layout string) (*recordFormatter, error) {
	parts, err := parseFormatParts(layout, false)
	if err != nil {
		return nil, err
	}
	return &recordFormatter{parts: parts}, nil
}

// parseFormatParts parses a layout; inHeader restricts the verbs to those
// of a header specification.
func parseFormatParts(layout string, inHeader bool) ([]formatPart, error) {
	var (
		parts   []formatPart
		literal []byte
	)
	flush := func() {
		if len(literal) > 0 {
			lit := literal
			parts = append(parts, func(b []byte, _ *formatContext) []byte { return append(b, lit...) })
			literal = nil
		}
	}
	for i := 0; i < len(layout); {
		ch := layout[i]
		switch ch {
		case '\\':
			if i+1 == len(layout) {
				return nil, errors.New(`ends in a lone backslash (write \\ for one)`)
			}
			switch layout[i+1] {
			case 't':
				literal = append(literal, '\t')
			case 'n':
				literal = append(literal, '\n')
			case 'r':
				literal = append(literal, '\r')
			case '\\':
				literal = append(literal, '\\')
			case 'x':
				if i+4 > len(layout) {
					return nil, fmt.Errorf(`\x at position %d needs two hex digits`, i+1)
				}
				v, err := strconv.ParseUint(layout[i+2:i+4], 16, 8)
				if err != nil {
					return nil, fmt.Errorf(`\x at position %d needs two hex digits, got %q`, i+1, layout[i+2:i+4])
				}
				literal = append(literal, byte(v))
				i += 4
				continue
			default:
				return nil, fmt.Errorf(`unknown escape \%c at position %d (accepted \t \n \r \\ \xNN)`, layout[i+1], i+1)
			}
			i += 2
		case '%':
			if i+1 == len(layout) {
				return nil, errors.New("ends in a lone % (write %% for one)")
			}
			verb := layout[i+1]
			i += 2
			switch verb {
			case '%', '{', '}':
				literal = append(literal, verb)
				continue
			}
			mod, n, err := braceModifier(layout[i:])
			if err != nil {
				return nil, fmt.Errorf("%%%c at position %d: %v", verb, i-1, err)
			}
			i += n
			part, err := verbPart(verb, mod, inHeader)
			if err != nil {
				return nil, fmt.Errorf("%%%c at position %d: %v", verb, i-1-n, err)
			}
			flush()
			parts = append(parts, part)
		default:
			literal = append(literal, ch)
			i++
		}
	}
	flush()
	return parts, nil
}

// braceModifier reads an optional {...} right after a verb, braces
// balanced, and returns its content and the bytes consumed.
func braceModifier(s string) (mod string, n int, err error) {
	if !strings.HasPrefix(s, "{") {
		return "", 0, nil
	}
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return s[1:i], i + 1, nil
			}
		}
	}
	return "", 0, errors.New("unclosed { modifier")
}

func verbPart(verb byte, mod string, inHeader bool) (formatPart, error) {
	if inHeader {
		switch verb {
		case 'k':
			return textPart(mod, func(c *formatContext) ([]byte, bool) { return []byte(c.h.Key), true })
		case 'v':
			return textPart(mod, func(c *formatContext) ([]byte, bool) { return c.h.Value, c.h.Value != nil })
		case 'K':
			return numberPart(mod, func(c *formatContext) int64 { return int64(len(c.h.Key)) })
		case 'V':
			return numberPart(mod, func(c *formatContext) int64 { return int64(len(c.h.Value)) })
		}
		return nil, fmt.Errorf("not accepted inside %%h{...}: use %%k %%v %%K %%V")
	}
	switch verb {
	case 't':
		return textPart(mod, func(c *formatContext) ([]byte, bool) { return []byte(c.r.Topic), true })
	case 'k':
		return textPart(mod, func(c *formatContext) ([]byte, bool) { return c.r.Key, c.r.Key != nil })
	case 'v':
		return textPart(mod, func(c *formatContext) ([]byte, bool) { return c.r.Value, c.r.Value != nil })
	case 'T':
		return numberPart(mod, func(c *formatContext) int64 { return int64(len(c.r.Topic)) })
	case 'K':
		return numberPart(mod, func(c *formatContext) int64 { return int64(len(c.r.Key)) })
	case 'V':
		return numberPart(mod, func(c *formatContext) int64 { return int64(len(c.r.Value)) })
	case 'H':
		return numberPart(mod, func(c *formatContext) int64 { return int64(len(c.r.Headers)) })
	case 'p':
		return numberPart(mod, func(c *formatContext) int64 { return int64(c.r.Partition) })
	case 'o':
		return numberPart(mod, func(c *formatContext) int64 { return c.r.Offset })
	case 'e':
		return numberPart(mod, func(c *formatContext) int64 { return int64(c.r.LeaderEpoch) })
	case 'x':
		return numberPart(mod, func(c *formatContext) int64 { return c.r.ProducerID })
	case 'y':
		return numberPart(mod, func(c *formatContext) int64 { return int64(c.r.ProducerEpoch) })
	case 'i':
		return numberPart(mod, func(c *formatContext) int64 { return c.calls })
	case '[':
		return numberPart(mod, func(c *formatContext) int64 {
			return partitionOffset(c, func(p *kgo.FetchPartition) int64 { return p.LogStartOffset })
		})
	case '|':
		return numberPart(mod, func(c *formatContext) int64 {
			return partitionOffset(c, func(p *kgo.FetchPartition) int64 { return p.LastStableOffset })
		})
	case ']':
		return numberPart(mod, func(c *formatContext) int64 {
			return partitionOffset(c, func(p *kgo.FetchPartition) int64 { return p.HighWatermark })
		})
	case 'd':
		return timestampPart(mod)
	case 'a':
		return attributePart(mod)
	case 'h':
		if mod == "" {
			return nil, errors.New("needs a header specification, e.g. %h{%k=%v;}")
		}
		inner, err := parseFormatParts(mod, true)
		if err != nil {
			return nil, fmt.Errorf("in the header specification: %v", err)
		}
		return func(b []byte, c *formatContext) []byte {
			for i := range c.r.Headers {
				hc := *c
				hc.h = &c.r.Headers[i]
				for _, part := range inner {
					b = part(b, &hc)
				}
			}
			return b
		}, nil
	}
	return nil, errors.New("unknown verb (accepted %t %T %k %K %v %V %h %H %p %o %e %d %a %x %y %i %[ %| %] %% %{ %})")
}

func partitionOffset(c *formatContext, get func(*kgo.FetchPartition) int64) int64 {
	if c.p == nil {
		return -1
	}
	return get(c.p)
}

// textPart prints bytes with a text modifier; get reports false for null.
func textPart(mod string, get func(*formatContext) ([]byte, bool)) (formatPart, error) {
	switch mod {
	case "", "text":
		return func(b []byte, c *formatContext) []byte { v, _ := get(c); return append(b, v...) }, nil
	case "hex":
		return func(b []byte, c *formatContext) []byte { v, _ := get(c); return hex.AppendEncode(b, v) }, nil
	case "base64":
		return func(b []byte, c *formatContext) []byte { v, _ := get(c); return base64.StdEncoding.AppendEncode(b, v) }, nil
	case "base64raw":
		return func(b []byte, c *formatContext) []byte {
			v, _ := get(c)
			return base64.RawStdEncoding.AppendEncode(b, v)
		}, nil
	case "json":
		return func(b []byte, c *formatContext) []byte {
			v, ok := get(c)
			return appendJSONBytes(b, v, ok)
		}, nil
	}
	return nil, fmt.Errorf("unknown text modifier {%s} (accepted hex, base64, base64raw, json)", mod)
}

// appendJSONBytes writes v as JSON: as it is when it is valid JSON
// (compacted), else as a JSON string (invalid UTF-8 replaced); null when
// absent.
func appendJSONBytes(b, v []byte, present bool) []byte {
	if !present {
		return append(b, "null"...)
	}
	if json.Valid(v) {
		var compact bytes.Buffer
		if json.Compact(&compact, v) == nil {
			return append(b, compact.Bytes()...)
		}
	}
	s := string(v)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	quoted, _ := json.Marshal(s)
	return append(b, quoted...)
}

// numberPart prints a number with a number modifier.
func numberPart(mod string, get func(*formatContext) int64) (formatPart, error) {
	write, err := numberWriter(mod)
	if err != nil {
		return nil, err
	}
	return func(b []byte, c *formatContext) []byte { return write(b, get(c)) }, nil
}

func numberWriter(mod string) (func([]byte, int64) []byte, error) {
	// hexN prints exactly digits hex digits, truncating as Kafka's
	// formatter (and rpk) do.
	hexN := func(digits int) func([]byte, int64) []byte {
		mask := ^uint64(0)
		if digits < 16 {
			mask = 1<<(4*digits) - 1
		}
		return func(b []byte, n int64) []byte { return fmt.Appendf(b, "%0*x", digits, uint64(n)&mask) }
	}
	switch mod {
	case "", "ascii", "number":
		return func(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }, nil
	case "hex":
		return func(b []byte, n int64) []byte { return strconv.AppendUint(b, uint64(n), 16) }, nil
	case "hex64":
		return hexN(16), nil
	case "hex32":
		return hexN(8), nil
	case "hex16":
		return hexN(4), nil
	case "hex8":
		return hexN(2), nil
	case "big64":
		return func(b []byte, n int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(n)) }, nil
	case "big32":
		return func(b []byte, n int64) []byte { return binary.BigEndian.AppendUint32(b, uint32(n)) }, nil
	case "big16":
		return func(b []byte, n int64) []byte { return binary.BigEndian.AppendUint16(b, uint16(n)) }, nil
	case "little64":
		return func(b []byte, n int64) []byte { return binary.LittleEndian.AppendUint64(b, uint64(n)) }, nil
	case "little32":
		return func(b []byte, n int64) []byte { return binary.LittleEndian.AppendUint32(b, uint32(n)) }, nil
	case "little16":
		return func(b []byte, n int64) []byte { return binary.LittleEndian.AppendUint16(b, uint16(n)) }, nil
	case "big8", "little8", "byte":
		return func(b []byte, n int64) []byte { return append(b, byte(n)) }, nil
	case "bool":
		return func(b []byte, n int64) []byte { return strconv.AppendBool(b, n != 0) }, nil
	}
	return nil, fmt.Errorf("unknown number modifier {%s} (accepted ascii, hex, hex8, hex16, hex32, hex64, big8..big64, little8..little64, byte, bool)", mod)
}

func boolInt(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// timestampPart prints %d: milliseconds by default, a Go layout with
// {go#...#} or a strftime layout with {strftime[...]}, in UTC.
func timestampPart(mod string) (formatPart, error) {
	for _, kind := range []string{"go", "strftime"} {
		rest, ok := strings.CutPrefix(mod, kind)
		if !ok {
			continue
		}
		layout, err := delimited(rest)
		if err != nil {
			return nil, fmt.Errorf("{%s...}: %v", kind, err)
		}
		if kind == "go" {
			return func(b []byte, c *formatContext) []byte { return c.r.Timestamp.UTC().AppendFormat(b, layout) }, nil
		}
		return func(b []byte, c *formatContext) []byte { return appendStrftime(b, c.r.Timestamp.UTC(), layout) }, nil
	}
	write, err := numberWriter(mod)
	if err != nil {
		return nil, fmt.Errorf("%v; or go#LAYOUT# or strftime[LAYOUT]", err)
	}
	return func(b []byte, c *formatContext) []byte { return write(b, c.r.Timestamp.UnixMilli()) }, nil
}

// delimited reads a layout enclosed in #...#, [...], {...} or (...), the
// opening run repeated as often as needed: ##a#b## is "a#b".
func delimited(s string) (string, error) {
	if s == "" {
		return "", errors.New("needs a layout in #...#, [...], {...} or (...)")
	}
	closer := map[byte]byte{'#': '#', '[': ']', '{': '}', '(': ')'}
	c, ok := closer[s[0]]
	if !ok {
		return "", fmt.Errorf("layout must start with #, [, { or (, got %q", s[0])
	}
	n := 0
	for n < len(s) && s[n] == s[0] {
		n++
	}
	end := strings.Repeat(string(c), n)
	if !strings.HasSuffix(s, end) || len(s) < 2*n {
		return "", fmt.Errorf("layout is not closed with %q", end)
	}
	return s[n : len(s)-n], nil
}

// appendStrftime formats t by the common strftime conversions.
func appendStrftime(b []byte, t time.Time, layout string) []byte {
	for i := 0; i < len(layout); i++ {
		if layout[i] != '%' || i+1 == len(layout) {
			b = append(b, layout[i])
			continue
		}
		i++
		switch layout[i] {
		case 'Y':
			b = t.AppendFormat(b, "2006")
		case 'y':
			b = t.AppendFormat(b, "06")
		case 'm':
			b = t.AppendFormat(b, "01")
		case 'd':
			b = t.AppendFormat(b, "02")
		case 'e':
			b = t.AppendFormat(b, "_2")
		case 'H':
			b = t.AppendFormat(b, "15")
		case 'I':
			b = t.AppendFormat(b, "03")
		case 'p':
			b = t.AppendFormat(b, "PM")
		case 'M':
			b = t.AppendFormat(b, "04")
		case 'S':
			b = t.AppendFormat(b, "05")
		case 'L': // milliseconds
			b = fmt.Appendf(b, "%03d", t.Nanosecond()/1e6)
		case 'j':
			b = fmt.Appendf(b, "%03d", t.YearDay())
		case 'a':
			b = t.AppendFormat(b, "Mon")
		case 'A':
			b = t.AppendFormat(b, "Monday")
		case 'b', 'h':
			b = t.AppendFormat(b, "Jan")
		case 'B':
			b = t.AppendFormat(b, "January")
		case 'F':
			b = t.AppendFormat(b, "2006-01-02")
		case 'T':
			b = t.AppendFormat(b, "15:04:05")
		case 'D':
			b = t.AppendFormat(b, "01/02/06")
		case 'R':
			b = t.AppendFormat(b, "15:04")
		case 'z':
			b = t.AppendFormat(b, "-0700")
		case 'Z':
			b = t.AppendFormat(b, "MST")
		case 's':
			b = strconv.AppendInt(b, t.Unix(), 10)
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case '%':
			b = append(b, '%')
		default:
			b = append(b, '%', layout[i])
		}
	}
	return b
}

// attributePart prints %a{ATTRIBUTE[;NUMBER-FORMAT]}.
func attributePart(mod string) (formatPart, error) {
	attr, numFmt, hasNum := strings.Cut(mod, ";")
	var write func([]byte, int64) []byte
	if hasNum {
		var err error
		if write, err = numberWriter(numFmt); err != nil {
			return nil, err
		}
	}
	number := func(get func(*kgo.Record) int64) formatPart {
		if write == nil {
			write, _ = numberWriter("")
		}
		return func(b []byte, c *formatContext) []byte { return write(b, get(c.r)) }
	}
	switch attr {
	case "compression":
		if hasNum {
			return number(func(r *kgo.Record) int64 { return int64(r.Attrs.CompressionType()) }), nil
		}
		names := []string{"none", "gzip", "snappy", "lz4", "zstd"}
		return func(b []byte, c *formatContext) []byte {
			if t := int(c.r.Attrs.CompressionType()); t < len(names) {
				return append(b, names[t]...)
			}
			return append(b, "unknown"...)
		}, nil
	case "timestamp-type":
		return number(func(r *kgo.Record) int64 { return int64(r.Attrs.TimestampType()) }), nil
	case "transactional-bit":
		return number(func(r *kgo.Record) int64 { return int64(boolInt(r.Attrs.IsTransactional())) }), nil
	case "control-bit":
		return number(func(r *kgo.Record) int64 { return int64(boolInt(r.Attrs.IsControl())) }), nil
	case "":
		return nil, errors.New("needs an attribute: {compression}, {timestamp-type}, {transactional-bit} or {control-bit}")
	}
	return nil, fmt.Errorf("unknown attribute %q (accepted compression, timestamp-type, transactional-bit, control-bit)", attr)
}
