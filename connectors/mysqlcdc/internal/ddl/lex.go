package ddl

import (
	"fmt"
	"strings"
)

// kind is a token kind.
type kind uint8

const (
	tEOF    kind = iota
	tWord        // a bare word: keyword or unquoted identifier
	tQuoted      // a `back-quoted` identifier
	tString      // a '...' or "..." string literal, unescaped
	tNumber      // a numeric literal, as written
	tHex         // X'..', 0x.., b'..' literals, as written
	tPunct       // one punctuation character
)

// token is one lexical token. text holds the identifier, the unescaped
// string, the number or the punctuation character.
type token struct {
	kind kind
	text string
	pos  int
}

// is reports whether t is the bare keyword kw (case-insensitive).
func (t token) is(kw string) bool { return t.kind == tWord && strings.EqualFold(t.text, kw) }

// isPunct reports whether t is the punctuation character c.
func (t token) isPunct(c byte) bool { return t.kind == tPunct && len(t.text) == 1 && t.text[0] == c }

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of statement"
	case tString:
		return fmt.Sprintf("'%s'", t.text)
	case tQuoted:
		return "`" + t.text + "`"
	}
	return fmt.Sprintf("%q", t.text)
}

// lex splits a statement into tokens. Comments are dropped, except that
// the body of an executable comment (/*! ... */, /*!50100 ... */, and
// MariaDB's /*M! ... */) is lexed as code, as the server does. Charset
// introducers (_utf8mb4'x') are dropped in front of the string they mark.
func lex(sql string) ([]token, error) {
	var toks []token
	i := 0
	n := len(sql)
	for i < n {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '#':
			i = skipLine(sql, i)
		case c == '-' && i+1 < n && sql[i+1] == '-' && (i+2 == n || isSpace(sql[i+2])):
			i = skipLine(sql, i)
		case c == '/' && i+1 < n && sql[i+1] == '*':
			body := i + 2
			exec := false
			if body < n && sql[body] == '!' {
				exec, body = true, body+1
			} else if body+1 < n && (sql[body] == 'M' || sql[body] == 'm') && sql[body+1] == '!' {
				exec, body = true, body+2
			}
			rel := strings.Index(sql[body:], "*/")
			if rel < 0 {
				return nil, fmt.Errorf("unterminated comment at offset %d", i)
			}
			end := body + rel
			if exec {
				// Skip the version number, then lex the body as code.
				for body < end && sql[body] >= '0' && sql[body] <= '9' {
					body++
				}
				inner, err := lex(sql[body:end])
				if err != nil {
					return nil, err
				}
				for _, t := range inner {
					t.pos += body
					toks = append(toks, t)
				}
			}
			i = end + 2
		case c == '`':
			s, next, err := quoted(sql, i, '`')
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tQuoted, s, i})
			i = next
		case c == '\'' || c == '"':
			s, next, err := quoted(sql, i, c)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tString, s, i})
			i = next
		case (c == 'x' || c == 'X' || c == 'b' || c == 'B') && i+1 < n && sql[i+1] == '\'':
			end := strings.IndexByte(sql[i+2:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated literal at offset %d", i)
			}
			toks = append(toks, token{tHex, sql[i : i+3+end], i})
			i += 3 + end
		case c >= '0' && c <= '9' || c == '.' && i+1 < n && sql[i+1] >= '0' && sql[i+1] <= '9':
			start := i
			if c == '0' && i+1 < n && (sql[i+1] == 'x' || sql[i+1] == 'b') {
				i += 2
				for i < n && isWordByte(sql[i]) {
					i++
				}
				toks = append(toks, token{tHex, sql[start:i], start})
				continue
			}
			for i < n && (sql[i] >= '0' && sql[i] <= '9' || sql[i] == '.') {
				i++
			}
			if i < n && (sql[i] == 'e' || sql[i] == 'E') {
				j := i + 1
				if j < n && (sql[j] == '+' || sql[j] == '-') {
					j++
				}
				if j < n && sql[j] >= '0' && sql[j] <= '9' {
					i = j
					for i < n && sql[i] >= '0' && sql[i] <= '9' {
						i++
					}
				}
			}
			// 1abc is an identifier in MySQL.
			if i < n && isWordByte(sql[i]) {
				for i < n && isWordByte(sql[i]) {
					i++
				}
				toks = append(toks, token{tWord, sql[start:i], start})
				continue
			}
			toks = append(toks, token{tNumber, sql[start:i], start})
		case isWordByte(c):
			start := i
			for i < n && isWordByte(sql[i]) {
				i++
			}
			w := sql[start:i]
			// A charset introducer (_latin1'abc', _binary 0x41) is dropped.
			if w[0] == '_' && len(w) > 1 && literalAt(sql, i) {
				continue
			}
			toks = append(toks, token{tWord, w, start})
		default:
			toks = append(toks, token{tPunct, sql[i : i+1], i})
			i++
		}
	}
	return toks, nil
}

// literalAt reports whether a string or hex/bit literal starts at s[i],
// after spaces.
func literalAt(s string, i int) bool {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i >= len(s) {
		return false
	}
	c := s[i]
	if c == '\'' || c == '"' {
		return true
	}
	if i+1 >= len(s) {
		return false
	}
	switch c {
	case 'x', 'X', 'b', 'B':
		return s[i+1] == '\''
	case '0':
		return s[i+1] == 'x' || s[i+1] == 'b'
	}
	return false
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isWordByte reports bytes of a bare identifier: letters, digits, _, $ and
// every byte of a multi-byte UTF-8 character.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

func skipLine(s string, i int) int {
	end := strings.IndexByte(s[i:], '\n')
	if end < 0 {
		return len(s)
	}
	return i + end + 1
}

// quoted reads a literal or identifier opened by q at s[i]: a doubled
// quote stands for one; in strings (not identifiers) a backslash escapes
// the next character as MySQL's default sql_mode does.
func quoted(s string, i int, q byte) (string, int, error) {
	var b strings.Builder
	j := i + 1
	for j < len(s) {
		c := s[j]
		switch {
		case c == q:
			if j+1 < len(s) && s[j+1] == q {
				b.WriteByte(q)
				j += 2
				continue
			}
			return b.String(), j + 1, nil
		case c == '\\' && q != '`' && j+1 < len(s):
			j++
			switch s[j] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case 'b':
				b.WriteByte('\b')
			case 'Z':
				b.WriteByte(26)
			case '%', '_':
				// LIKE wildcards keep their backslash.
				b.WriteByte('\\')
				b.WriteByte(s[j])
			default:
				b.WriteByte(s[j])
			}
			j++
		default:
			b.WriteByte(c)
			j++
		}
	}
	what := "string"
	if q == '`' {
		what = "quoted identifier"
	}
	return "", 0, fmt.Errorf("unterminated %s at offset %d", what, i)
}
