package cli

import (
	"fmt"
	"sort"
	"strings"
)

// propertyKind says how a --property value is read.
type propertyKind int

const (
	propBool propertyKind = iota // true or false
	propText                     // taken as is, with \t \n \r \\ unescaped
)

// propertySpec describes one key accepted by a command's --property flag.
type propertySpec struct {
	key  string
	kind propertyKind
	def  string
}

// parseProperties reads repeated `--property key=value` arguments against
// the keys a command accepts and returns every key with its value (the
// default when not given). Errors name the argument and what is accepted.
//
// Text values are unescaped so that `--property key.separator='\t'` means a
// tab, as it would in a Java properties file.
func parseProperties(args []string, specs []propertySpec) (map[string]string, error) {
	out := make(map[string]string, len(specs))
	byKey := make(map[string]propertySpec, len(specs))
	keys := make([]string, 0, len(specs))
	for _, s := range specs {
		out[s.key] = s.def
		byKey[s.key] = s
		keys = append(keys, s.key)
	}
	sort.Strings(keys)
	for _, arg := range args {
		k, v, ok := strings.Cut(arg, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, usageErrorf("--property must be key=value, got %q", arg)
		}
		spec, known := byKey[k]
		if !known {
			return nil, usageErrorf("unknown --property %q: accepted %s", k, strings.Join(keys, ", "))
		}
		switch spec.kind {
		case propBool:
			b := strings.ToLower(strings.TrimSpace(v))
			if b != "true" && b != "false" {
				return nil, usageErrorf("--property %s must be true or false, got %q", k, v)
			}
			out[k] = b
		case propText:
			out[k] = unescape(v)
		}
	}
	return out, nil
}

// unescape turns the escapes a shell user types for separators (\t, \n, \r,
// \\) into the characters they stand for. Other backslashes stay as typed.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case '\\':
			b.WriteByte('\\')
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i+1])
		}
		i++
	}
	return b.String()
}

// splitConfigList splits Kafka's `k=v,k2=v2` config lists on commas that are
// not inside square brackets, so list values can be written as
// `k=[a,b],k2=v` as kafka-configs.sh accepts. Brackets are removed from the
// value.
func splitConfigList(s string) ([]string, error) {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced ']' at position %d", i+1)
			}
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unclosed '['")
	}
	return append(parts, s[start:]), nil
}

// parseKeyValues parses repeated flags of `k=v[,k2=v2]` (flag is the flag
// name for error messages). Keys must be unique and non-empty.
func parseKeyValues(flag string, args []string, allowLists bool) (map[string]string, []string, error) {
	out := make(map[string]string)
	var order []string
	for _, arg := range args {
		items := []string{arg}
		if allowLists {
			var err error
			if items, err = splitConfigList(arg); err != nil {
				return nil, nil, usageErrorf("--%s %q: %v", flag, arg, err)
			}
		}
		for _, item := range items {
			k, v, ok := strings.Cut(item, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				return nil, nil, usageErrorf("--%s must be key=value, got %q", flag, item)
			}
			if _, dup := out[k]; dup {
				return nil, nil, usageErrorf("--%s sets %q more than once", flag, k)
			}
			if allowLists && strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
				v = v[1 : len(v)-1]
			}
			out[k] = v
			order = append(order, k)
		}
	}
	return out, order, nil
}
