package transforms

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// ReplaceField$Key / ReplaceField$Value: keep only the included fields
// (all when include is empty), drop the excluded ones (exclude wins), and
// rename fields. The names Kafka deprecated in 2.6, whitelist (include) and
// blacklist (exclude), are still accepted with a warning; when both the
// old and the new key are set the new one wins, as in Kafka. A null key or
// value passes through unchanged.

const (
	excludeKey = "exclude"
	includeKey = "include"
	renamesKey = "renames"
)

var replaceFieldConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: excludeKey, Type: connect.TypeList,
		Documentation: "Fields to exclude. This takes precedence over the fields to include."}).
	Define(connect.ConfigKey{Name: includeKey, Type: connect.TypeList,
		Documentation: "Fields to include. If specified, only these fields will be used."}).
	Define(connect.ConfigKey{Name: renamesKey, Type: connect.TypeList, Documentation: "Field rename mappings.",
		Validator: connect.ValidatorFunc("list of colon-delimited pairs, e.g. foo:bar,abc:xyz", func(v any) error {
			_, err := parseRenames(v.([]string))
			return err
		})}).
	Define(replaceNullDef())

// deprecatedReplaceFieldKeys maps Kafka's pre-2.6 key names to today's.
var deprecatedReplaceFieldKeys = [][2]string{{"whitelist", includeKey}, {"blacklist", excludeKey}}

func parseRenames(list []string) (map[string]string, error) {
	out := make(map[string]string, len(list))
	for _, m := range list {
		from, to, ok := strings.Cut(m, ":")
		if !ok || from == "" || to == "" || strings.Contains(to, ":") {
			return nil, fmt.Errorf("invalid rename mapping %q: want old:new", m)
		}
		if _, dup := out[from]; dup {
			return nil, fmt.Errorf("field %q is renamed twice", from)
		}
		out[from] = to
	}
	return out, nil
}

type replaceField struct {
	side        side
	exclude     map[string]bool
	include     map[string]bool
	renames     map[string]string
	replaceNull bool
	cache       schemaCache[replacePlan]
}

// replacePlan is the output schema for one input schema and, per output
// field, the index of the input field it comes from.
type replacePlan struct {
	schema *data.Schema
	from   []int
}

func (t *replaceField) Config() *connect.ConfigDef { return replaceFieldConfig }

func (t *replaceField) Configure(config map[string]string) error {
	config = translateDeprecated(config, deprecatedReplaceFieldKeys)
	c, err := replaceFieldConfig.Parse(config)
	if err != nil {
		return err
	}
	t.exclude = set(c.List(excludeKey))
	t.include = set(c.List(includeKey))
	t.renames, _ = parseRenames(c.List(renamesKey))
	t.replaceNull = c.Bool(replaceNullKey)
	seen := map[string]string{}
	for from, to := range t.renames {
		if !t.keep(from) {
			continue
		}
		if other, dup := seen[to]; dup {
			return connect.FieldError{Key: renamesKey, Message: fmt.Sprintf("fields %q and %q are both renamed to %q", other, from, to)}
		}
		seen[to] = from
	}
	return nil
}

// translateDeprecated returns config with deprecated keys moved to their
// new names (Kafka's ConfigUtils.translateDeprecatedConfigs).
func translateDeprecated(config map[string]string, pairs [][2]string) map[string]string {
	var out map[string]string
	for _, p := range pairs {
		old, key := p[0], p[1]
		v, ok := config[old]
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(config))
			for k, v := range config {
				out[k] = v
			}
		}
		delete(out, old)
		if _, set := config[key]; set {
			slog.Warn("both a configuration key and its deprecated alias are set; using the new one", "key", key, "deprecated", old)
			continue
		}
		slog.Warn("configuration key is deprecated; use the new name", "deprecated", old, "key", key)
		out[key] = v
	}
	if out == nil {
		return config
	}
	return out
}

func set(list []string) map[string]bool {
	out := make(map[string]bool, len(list))
	for _, s := range list {
		out[s] = true
	}
	return out
}

func (t *replaceField) keep(name string) bool {
	return !t.exclude[name] && (len(t.include) == 0 || t.include[name])
}

func (t *replaceField) renamed(name string) string {
	if to, ok := t.renames[name]; ok {
		return to
	}
	return name
}

const replacePurpose = "field replacement"

func (t *replaceField) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	if schema == nil {
		m, err := t.side.requireMap(v, replacePurpose)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			if t.keep(k) {
				out[t.renamed(k)] = e
			}
		}
		t.side.set(r, nil, out)
		return r, nil
	}
	st, err := t.side.requireStruct(schema, v, replacePurpose)
	if err != nil {
		return nil, err
	}
	plan, err := t.cache.getOrBuild(st.Schema(), t.plan)
	if err != nil {
		return nil, err
	}
	out := data.NewStruct(plan.schema)
	for i, from := range plan.from {
		if err := copyField(out, i, st, from, t.replaceNull); err != nil {
			return nil, err
		}
	}
	t.side.set(r, plan.schema, out)
	return r, nil
}

func (t *replaceField) plan(in *data.Schema) (replacePlan, error) {
	var p replacePlan
	var fields []data.Field
	for _, f := range in.Fields {
		if !t.keep(f.Name) {
			continue
		}
		name := t.renamed(f.Name)
		if _, clash := in.Field(name); clash && name != f.Name && t.keep(name) && t.renamed(name) == name {
			return p, fmt.Errorf("%s: renaming field %q to %q clashes with the existing field %q of the %s struct %s",
				renamesKey, f.Name, name, name, t.side, in)
		}
		fields = append(fields, data.NewField(name, f.Schema))
		p.from = append(p.from, f.Index)
	}
	p.schema = structLike(in, fields)
	return p, nil
}

func (t *replaceField) Close() error { return nil }
