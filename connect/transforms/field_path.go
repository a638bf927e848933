package transforms

import (
	"fmt"
	"strings"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// Field paths (KIP-821), as ExtractField's field.syntax.version selects
// them:
//
//	V1  the whole text names one top-level field (the default).
//	V2  dots separate nested fields: "after.id". A step in backticks may
//	    contain dots: "`a.b`.c" is field "a.b", then "c". Inside backticks,
//	    \` before a dot stands for a backtick. A path ending in a dot ends
//	    with the empty name.

const fieldSyntaxVersionKey = "field.syntax.version"

func fieldSyntaxDef() connect.ConfigKey {
	return connect.ConfigKey{Name: fieldSyntaxVersionKey, Default: "V1", Validator: connect.OneOf("V1", "V2"),
		Documentation: "Defines the version of the syntax to access fields. If set to V1, then the field paths are " +
			"limited to access the elements at the root level of the struct or map. If set to V2, the syntax will " +
			"support accessing nested elements. To access nested elements, dotted notation is used. If dots are " +
			"already included in the field name, then backtick pairs can be used to wrap field names containing " +
			"dots. E.g. to access the subfield baz from a field named \"foo.bar\" in a struct/map the following " +
			"format can be used to access its elements: \"`foo.bar`.baz\"."}
}

// fieldPath is a parsed path: one step per nesting level.
type fieldPath struct {
	text  string
	steps []string
}

// parseFieldPath parses path in the given syntax version (V1 or V2, any
// case).
func parseFieldPath(path, version string) (fieldPath, error) {
	if !strings.EqualFold(version, "V2") {
		return fieldPath{text: path, steps: []string{path}}, nil
	}
	steps, err := splitFieldPathV2(path)
	return fieldPath{text: path, steps: steps}, err
}

func splitFieldPathV2(path string) ([]string, error) {
	if path == "" {
		return []string{""}, nil
	}
	var steps []string
	for i := 0; i < len(path); {
		if path[i] != '`' {
			j := strings.IndexByte(path[i:], '.')
			if j < 0 {
				steps = append(steps, path[i:])
				break
			}
			steps = append(steps, path[i:i+j])
			i += j + 1
			continue
		}
		// A quoted step ends at a backtick followed by a dot, or at a
		// backtick ending the path. \` before a dot is a backtick.
		open := i
		var step strings.Builder
		start, from := i+1, i+1
		for {
			j := strings.IndexByte(path[from:], '`')
			if j < 0 {
				return nil, incompleteBackticks(path, open)
			}
			j += from
			escaped := path[j-1] == '\\'
			if j == len(path)-1 {
				if escaped {
					return nil, incompleteBackticks(path, open)
				}
				step.WriteString(path[start:j])
				i = len(path)
				break
			}
			if path[j+1] != '.' {
				from = j + 1
				continue
			}
			if escaped {
				step.WriteString(path[start : j-1])
				step.WriteByte('`')
				start, from = j+1, j+1
				continue
			}
			step.WriteString(path[start:j])
			i = j + 2
			break
		}
		steps = append(steps, step.String())
	}
	if strings.HasSuffix(path, ".") {
		steps = append(steps, "")
	}
	return steps, nil
}

func incompleteBackticks(path string, at int) error {
	return fmt.Errorf("incomplete backtick pair in path %q: add a backslash before the backtick at position %d to escape it", path, at)
}

// resolve returns the field indexes of the path in a struct schema and the
// schema of the field it ends at.
func (p fieldPath) resolve(s *data.Schema) ([]int, *data.Schema, error) {
	idx := make([]int, 0, len(p.steps))
	cur := s
	for i, step := range p.steps {
		if cur.Type != data.TypeStruct {
			if i == 0 {
				return nil, nil, fmt.Errorf("cannot look up field %q in a %s schema: fields exist only in structs", p.text, cur)
			}
			return nil, nil, fmt.Errorf("cannot look up field %q: %q is a %s, not a struct", p.text, strings.Join(p.steps[:i], "."), cur)
		}
		f, ok := cur.Field(step)
		if !ok {
			return nil, nil, fmt.Errorf("unknown field %q in schema %s", p.text, s)
		}
		idx = append(idx, f.Index)
		cur = f.Schema
	}
	return idx, cur, nil
}

// structValue follows resolved indexes through a struct; a null on the way
// gives null.
func structValue(st *data.Struct, idx []int, withDefault bool) (any, error) {
	for _, i := range idx[:len(idx)-1] {
		sub := st.At(i)
		if sub == nil {
			return nil, nil
		}
		next, ok := sub.(*data.Struct)
		if !ok {
			return nil, fmt.Errorf("nested field access: want a struct, got %s", typeName(sub))
		}
		st = next
	}
	return fieldValue(st, idx[len(idx)-1], withDefault), nil
}

// mapValue follows the path through nested maps; a missing or null map on
// the way gives null.
func (p fieldPath) mapValue(m map[string]any) (any, error) {
	for _, step := range p.steps[:len(p.steps)-1] {
		sub := m[step]
		if sub == nil {
			return nil, nil
		}
		next, ok := sub.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("nested field access to %q: %q must be a map[string]any, got %s", p.text, step, typeName(sub))
		}
		m = next
	}
	return m[p.steps[len(p.steps)-1]], nil
}
