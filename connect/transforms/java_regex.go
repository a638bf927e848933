package transforms

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Java regular expressions (java.util.regex, what Kafka's RegexRouter and
// TopicNameMatches take) run here on Go's RE2 engine, which agrees on the
// common syntax: literals, classes, \d \w \s \b, anchors, groups, named
// groups (?<name>...), alternation, greedy and lazy quantifiers, \Q...\E,
// (?i) (?m) (?s). The Java features RE2 lacks, or reads differently, are
// rejected with an error naming them, rather than silently matching
// something else:
//
//   - lookahead and lookbehind, (?=...) (?!...) (?<=...) (?<!...)
//   - backreferences, \1 ... \9 and \k<name>
//   - atomic groups (?>...) and possessive quantifiers (a*+, a++, a?+)
//   - class intersection [a-z&&[^aeiou]] and nested classes [a[bc]]
//     (Go would take "&&" and "[" as literal characters)
//   - the flags (?x) (comments), (?d) (Unix lines) and (?U) (in Go, lazy
//     quantifiers); (?u) is dropped: Go's case folding is always Unicode
//   - \v (Java: any vertical space; Go: the VT character), and escapes Go
//     does not know (\h \H \R \X \G \Z \e \cX ...)
//   - repetition counts above 1000
//
// Java's POSIX classes \p{Lower} \p{Upper} \p{ASCII} \p{Alpha} \p{Digit}
// \p{Alnum} \p{Punct} \p{Graph} \p{Print} \p{Blank} \p{Cntrl} \p{XDigit}
// \p{Space} (and \P{...}) are translated to Go's [[:lower:]] and so on.
// Smaller differences that cannot matter for topic names: Java's $ also
// matches before a final line terminator, its . excludes \r and \u2028
// besides \n, and its \s includes \x0B.

// javaRegex is a compiled Java pattern.
type javaRegex struct {
	pattern string
	find    *regexp.Regexp // the pattern, for Matcher.find
	full    *regexp.Regexp // anchored at both ends, for Matcher.matches
}

func compileJavaRegex(pattern string) (*javaRegex, error) {
	translated, err := translateJavaRegex(pattern)
	if err != nil {
		return nil, fmt.Errorf("regular expression %q: %w", pattern, err)
	}
	find, err := regexp.Compile(translated)
	if err != nil {
		return nil, fmt.Errorf("regular expression %q cannot be compiled by Go's RE2 engine: %w", pattern, err)
	}
	full, err := regexp.Compile(`\A(?:` + translated + `)\z`)
	if err != nil {
		return nil, fmt.Errorf("regular expression %q cannot be anchored for a whole-name match: %w", pattern, err)
	}
	return &javaRegex{pattern: pattern, find: find, full: full}, nil
}

// matches reports whether the whole of s matches (Matcher.matches).
func (r *javaRegex) matches(s string) bool { return r.full.MatchString(s) }

var javaPosixClasses = map[string]string{
	"Lower": "lower", "Upper": "upper", "ASCII": "ascii", "Alpha": "alpha", "Digit": "digit",
	"Alnum": "alnum", "Punct": "punct", "Graph": "graph", "Print": "print", "Blank": "blank",
	"Cntrl": "cntrl", "XDigit": "xdigit", "Space": "space",
}

// translateJavaRegex rewrites a Java pattern for RE2, or says which Java
// feature it uses that RE2 lacks.
func translateJavaRegex(p string) (string, error) {
	var b strings.Builder
	inClass := false // inside [...]
	classStart := 0  // b.Len() just after the class's '[' (and a '^')
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return "", fmt.Errorf("trailing backslash")
			}
			e := p[i+1]
			switch {
			case e == 'Q':
				end := strings.Index(p[i+2:], `\E`)
				if end < 0 {
					b.WriteString(regexp.QuoteMeta(p[i+2:]))
					return b.String(), nil
				}
				b.WriteString(regexp.QuoteMeta(p[i+2 : i+2+end]))
				i += 2 + end + 1
				continue
			case e >= '1' && e <= '9' && !inClass:
				return "", fmt.Errorf("backreferences (\\%c) are not supported by Go's RE2 engine", e)
			case e == 'k':
				return "", fmt.Errorf("backreferences (\\k<name>) are not supported by Go's RE2 engine")
			case e == 'v':
				return "", fmt.Errorf("\\v means any vertical whitespace in Java but the VT character in Go: write [\\n\\x0B\\f\\r] instead")
			case e == 'p' || e == 'P':
				if i+2 < len(p) && p[i+2] == '{' {
					end := strings.IndexByte(p[i+2:], '}')
					if end > 0 {
						name := p[i+3 : i+2+end]
						if posix, ok := javaPosixClasses[name]; ok {
							neg := ""
							if e == 'P' {
								neg = "^"
							}
							if inClass {
								if neg != "" {
									return "", fmt.Errorf("\\P{%s} inside a character class is not supported", name)
								}
								b.WriteString("[:" + posix + ":]")
							} else {
								b.WriteString("[" + neg + "[:" + posix + ":]]")
							}
							i += 2 + end
							continue
						}
						if strings.HasPrefix(name, "java") || strings.HasPrefix(name, "Is") || strings.HasPrefix(name, "In") {
							return "", fmt.Errorf("the Java class \\%c{%s} is not supported; Go knows Unicode categories and scripts such as \\p{L}, \\p{Lu}, \\p{Greek}", e, name)
						}
					}
				}
			}
			b.WriteByte(c)
			b.WriteByte(e)
			i++
		case inClass:
			switch {
			case c == ']' && b.Len() > classStart:
				inClass = false
			case c == '[':
				return "", fmt.Errorf("nested character classes ([a[bc]]) are not supported by Go's RE2 engine, which would read '[' literally; list the characters in one class")
			case c == '&' && i+1 < len(p) && p[i+1] == '&':
				return "", fmt.Errorf("character class intersection (&&) is not supported by Go's RE2 engine, which would read it literally")
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			classStart = b.Len()
			// A ']' first in the class is a literal in both dialects.
		case c == '(' && i+1 < len(p) && p[i+1] == '?':
			rest := p[i+2:]
			switch {
			case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"):
				return "", fmt.Errorf("lookahead (?%c...) is not supported by Go's RE2 engine", rest[0])
			case strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
				return "", fmt.Errorf("lookbehind (?%s...) is not supported by Go's RE2 engine", rest[:2])
			case strings.HasPrefix(rest, ">"):
				return "", fmt.Errorf("atomic groups (?>...) are not supported by Go's RE2 engine")
			case strings.HasPrefix(rest, "<"), strings.HasPrefix(rest, "P<"), strings.HasPrefix(rest, ":"):
				b.WriteString("(?")
				i++
			default:
				// Inline flags: (?idmsux-idmsux) or (?flags:...).
				j := 0
				for j < len(rest) && strings.IndexByte("idmsuxU-", rest[j]) >= 0 {
					j++
				}
				flags := rest[:j]
				for _, f := range flags {
					switch f {
					case 'x':
						return "", fmt.Errorf("the comments flag (?x) is not supported by Go's RE2 engine")
					case 'd':
						return "", fmt.Errorf("the Unix-lines flag (?d) is not supported by Go's RE2 engine")
					case 'U':
						return "", fmt.Errorf("the flag (?U) means Unicode classes in Java but lazy quantifiers in Go, and is not supported")
					}
				}
				kept := strings.ReplaceAll(flags, "u", "")
				if strings.Trim(kept, "-") == "" && j < len(rest) && rest[j] == ')' {
					i += 2 + j // (?u) alone: drop it
					continue
				}
				if strings.HasSuffix(kept, "-") {
					kept = strings.TrimSuffix(kept, "-")
				}
				b.WriteString("(?" + kept)
				i += 1 + j
			}
		case (c == '*' || c == '+' || c == '?') && i+1 < len(p) && p[i+1] == '+':
			return "", fmt.Errorf("possessive quantifiers (%c+) are not supported by Go's RE2 engine", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// javaReplacement is a parsed Matcher.replaceFirst replacement: literal
// text and group references. Syntax, as Java's: $n is group n (digits are
// taken while the number stays a group of the pattern, so with 2 groups
// "$12" is group 1 then "2"), ${name} a named group, \x the character x
// (\$ a dollar, \\ a backslash). A group that did not take part in the
// match adds nothing.
type javaReplacement []replacementPart

type replacementPart struct {
	literal string
	group   int // -1 for literal text
}

// parseJavaReplacement parses repl against the groups of re. A reference
// to a group the pattern lacks is an error here (Java finds it only when a
// topic matches).
func parseJavaReplacement(repl string, re *regexp.Regexp) (javaReplacement, error) {
	var parts javaReplacement
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, replacementPart{literal: lit.String(), group: -1})
			lit.Reset()
		}
	}
	groups := re.NumSubexp()
	for i := 0; i < len(repl); i++ {
		switch c := repl[i]; c {
		case '\\':
			if i+1 >= len(repl) {
				return nil, fmt.Errorf("replacement %q: character to be escaped is missing after the final backslash", repl)
			}
			i++
			lit.WriteByte(repl[i])
		case '$':
			if i+1 >= len(repl) {
				return nil, fmt.Errorf("replacement %q: illegal group reference: '$' at the end (write \\$ for a dollar sign)", repl)
			}
			if repl[i+1] == '{' {
				end := strings.IndexByte(repl[i+2:], '}')
				if end < 0 {
					return nil, fmt.Errorf("replacement %q: named group reference ${ is missing its '}'", repl)
				}
				name := repl[i+2 : i+2+end]
				if !validGroupName(name) {
					return nil, fmt.Errorf("replacement %q: %q is not a group name (a letter, then letters or digits)", repl, name)
				}
				idx := re.SubexpIndex(name)
				if idx < 0 {
					return nil, fmt.Errorf("replacement %q: the pattern has no group named %q", repl, name)
				}
				flush()
				parts = append(parts, replacementPart{group: idx})
				i += 2 + end
				continue
			}
			d := repl[i+1]
			if d < '0' || d > '9' {
				return nil, fmt.Errorf("replacement %q: illegal group reference at position %d: want $n or ${name} (write \\$ for a dollar sign)", repl, i)
			}
			n := int(d - '0')
			j := i + 2
			for j < len(repl) && repl[j] >= '0' && repl[j] <= '9' {
				next := n*10 + int(repl[j]-'0')
				if next > groups {
					break
				}
				n = next
				j++
			}
			if n > groups {
				return nil, fmt.Errorf("replacement %q: no group %d: the pattern has %d", repl, n, groups)
			}
			flush()
			parts = append(parts, replacementPart{group: n})
			i = j - 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return parts, nil
}

func validGroupName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// replaceFirst is Matcher.replaceFirst: the first match of re in s
// replaced by the expansion of the replacement.
func (r javaReplacement) replaceFirst(re *javaRegex, s string) string {
	m := re.find.FindStringSubmatchIndex(s)
	if m == nil {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:m[0]])
	for _, p := range r {
		if p.group < 0 {
			b.WriteString(p.literal)
		} else if start := m[2*p.group]; start >= 0 {
			b.WriteString(s[start:m[2*p.group+1]])
		}
	}
	b.WriteString(s[m[1]:])
	return b.String()
}

// String renders the parts for messages and tests: literals quoted, groups
// as $n.
func (r javaReplacement) String() string {
	var b strings.Builder
	for _, p := range r {
		if p.group < 0 {
			b.WriteString(strconv.Quote(p.literal))
		} else {
			b.WriteString("$" + strconv.Itoa(p.group))
		}
	}
	return b.String()
}
