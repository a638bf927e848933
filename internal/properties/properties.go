// Package properties reads Java properties files, the format of Kafka's
// server.properties, connect-*.properties, connector configs and
// mm2.properties, with java.util.Properties' rules, so a file that works
// with Kafka's tools means the same here:
//
//   - A logical line is a natural line plus its continuations: a line that
//     ends in an odd number of backslashes continues on the next, whose
//     leading whitespace is dropped.
//   - Blank lines and lines whose first non-blank character is # or ! are
//     comments.
//   - The key ends at the first unescaped '=', ':' or whitespace; then
//     whitespace, at most one '=' or ':', and more whitespace are skipped,
//     and the rest of the line is the value (trailing whitespace included,
//     as in Java). So "a==b" is key "a" with value "=b", and "key" alone
//     has an empty value.
//   - In keys and values, \t \n \r \f and \uXXXX stand for their
//     characters, and a backslash before any other character stands for
//     that character ("a\=b" is "a=b"; "C:\\dir" is "C:\dir").
//
// Unlike Java, a line with no key ("=value") and a malformed \u escape are
// errors naming the line, and input is read as UTF-8, not ISO-8859-1.
package properties

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Property is one key and value, with the line its logical line starts on.
type Property struct {
	Key, Value string
	Line       int
}

// LineError is a line that cannot be read.
type LineError struct {
	Line   int
	Reason string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// maxLine bounds one natural line, so a file without newlines cannot make
// the reader buffer without limit.
const maxLine = 1 << 20

// Parse reads every property in file order. A key given twice appears
// twice; Map keeps the last, as Java does.
func Parse(r io.Reader) ([]Property, error) {
	var out []Property
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	lineNo, start := 0, 0
	var logical strings.Builder
	continuing := false
	for sc.Scan() {
		lineNo++
		line := strings.TrimLeft(sc.Text(), " \t\f")
		line = strings.TrimSuffix(line, "\r")
		if !continuing {
			if line == "" || line[0] == '#' || line[0] == '!' {
				continue
			}
			start = lineNo
		}
		if trailingBackslashes(line)%2 == 1 {
			logical.WriteString(line[:len(line)-1])
			continuing = true
			continue
		}
		logical.WriteString(line)
		continuing = false
		p, err := parseLogical(logical.String(), start)
		logical.Reset()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &LineError{Line: lineNo + 1, Reason: fmt.Sprintf("longer than %d bytes", maxLine)}
		}
		return nil, err
	}
	if continuing { // a continuation at end of input ends the line
		p, err := parseLogical(logical.String(), start)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseFile is Parse of a file; errors name the file (and line).
func ParseFile(path string) ([]Property, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	props, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return props, nil
}

// Map returns the properties as a map; a later duplicate key wins.
func Map(props []Property) map[string]string {
	m := make(map[string]string, len(props))
	for _, p := range props {
		m[p.Key] = p.Value
	}
	return m
}

func trailingBackslashes(s string) int {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n
}

func parseLogical(s string, line int) (Property, error) {
	// Find the end of the key: the first separator not escaped.
	end := len(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			end = i
			break
		}
	}
	rest := strings.TrimLeft(s[end:], " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	if end == 0 {
		return Property{}, &LineError{Line: line, Reason: fmt.Sprintf("no key before the separator in %q: want key=value", s)}
	}
	key, err := unescape(s[:end])
	if err != nil {
		return Property{}, &LineError{Line: line, Reason: fmt.Sprintf("key %q: %v", s[:end], err)}
	}
	value, err := unescape(rest)
	if err != nil {
		return Property{}, &LineError{Line: line, Reason: fmt.Sprintf("value of %q: %v", key, err)}
	}
	return Property{Key: key, Value: value, Line: line}, nil
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			break // a lone trailing backslash stands for nothing, as in Java
		}
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf(`malformed \u escape %q: want 4 hex digits`, s[i-1:])
			}
			n, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", fmt.Errorf(`malformed \u escape %q: want 4 hex digits`, s[i-1:i+5])
			}
			b.WriteRune(rune(n))
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}
