package connect

import (
	"errors"
	"fmt"
	"strings"
)

// Chain is a connector's configured transformations, applied in order, each
// guarded by its optional predicate. It is built from the connector config
// keys Kafka Connect uses:
//
//	transforms                    comma-separated aliases, in order
//	transforms.<alias>.type       transformation class name or alias (required)
//	transforms.<alias>.predicate  alias of a predicate (optional)
//	transforms.<alias>.negate     apply when the predicate does NOT match (default false)
//	transforms.<alias>.<key>      the transformation's own config
//	predicates                    comma-separated predicate aliases
//	predicates.<alias>.type       predicate class name or alias (required)
//	predicates.<alias>.<key>      the predicate's own config
//
// A Chain is used from one goroutine at a time.
type Chain struct {
	steps      []chainStep
	predicates []Predicate
}

type chainStep struct {
	alias     string
	class     string
	transform Transformation
	predicate Predicate
	negate    bool
}

// Config keys of the chain.
const (
	TransformsKey = "transforms"
	PredicatesKey = "predicates"
)

// NewChain builds and configures the chain a connector config describes
// (an empty chain when it has no transforms). The error is a *ConfigError
// naming each bad key (transforms.<alias>.type, ...).
func NewChain(config map[string]string) (*Chain, error) {
	c := &Chain{}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, FieldError{Key: key, Message: fmt.Sprintf(format, args...)})
	}

	preds := map[string]Predicate{}
	predAliases, err := aliasList(config, PredicatesKey)
	if err != nil {
		errs = append(errs, err)
	}
	for _, alias := range predAliases {
		prefix := PredicatesKey + "." + alias + "."
		class := strings.TrimSpace(config[prefix+"type"])
		if class == "" {
			bad(prefix+"type", "missing: the class name or alias of predicate %q", alias)
			continue
		}
		p, _, err := NewPredicate(class)
		if err != nil {
			bad(prefix+"type", "%v", err)
			continue
		}
		if err := p.Configure(subConfig(config, prefix, "type")); err != nil {
			errs = append(errs, prefixed(prefix, err))
			continue
		}
		preds[alias] = p
		c.predicates = append(c.predicates, p)
	}

	aliases, err := aliasList(config, TransformsKey)
	if err != nil {
		errs = append(errs, err)
	}
	for _, alias := range aliases {
		prefix := TransformsKey + "." + alias + "."
		step := chainStep{alias: alias, class: strings.TrimSpace(config[prefix+"type"])}
		if step.class == "" {
			bad(prefix+"type", "missing: the class name or alias of transformation %q", alias)
			continue
		}
		t, p, err := NewTransformation(step.class)
		if err != nil {
			bad(prefix+"type", "%v", err)
			continue
		}
		step.class = p.Class
		if name, ok := config[prefix+"predicate"]; ok && strings.TrimSpace(name) != "" {
			name = strings.TrimSpace(name)
			pred, found := preds[name]
			if !found && !containsAlias(predAliases, name) {
				bad(prefix+"predicate", "%q is not listed in predicates (%s)", name, orNone(predAliases))
			}
			step.predicate = pred
		}
		if neg, ok := config[prefix+"negate"]; ok {
			switch strings.ToLower(strings.TrimSpace(neg)) {
			case "true":
				step.negate = true
			case "false":
			default:
				bad(prefix+"negate", "invalid value %q: want true or false", neg)
			}
			if step.negate && strings.TrimSpace(config[prefix+"predicate"]) == "" {
				bad(prefix+"negate", "negate needs a predicate (%spredicate)", prefix)
			}
		}
		if err := t.Configure(subConfig(config, prefix, "type", "predicate", "negate")); err != nil {
			errs = append(errs, prefixed(prefix, err))
			continue
		}
		step.transform = t
		c.steps = append(c.steps, step)
	}
	if err := ConfigErrors(errs...); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// aliasList reads a comma-separated alias list and rejects duplicates.
func aliasList(config map[string]string, key string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(config[key], ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if containsAlias(out, a) {
			return out, FieldError{Key: key, Message: fmt.Sprintf("alias %q is listed twice", a)}
		}
		out = append(out, a)
	}
	return out, nil
}

func containsAlias(list []string, a string) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// subConfig returns the keys under prefix, stripped of it, without the
// excluded ones.
func subConfig(config map[string]string, prefix string, exclude ...string) map[string]string {
	out := map[string]string{}
	for k, v := range config {
		if rest, ok := strings.CutPrefix(k, prefix); ok && !containsAlias(exclude, rest) {
			out[rest] = v
		}
	}
	return out
}

// prefixed puts prefix in front of the keys of a plugin's config error.
func prefixed(prefix string, err error) error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		out := &ConfigError{}
		for _, f := range ce.Errors {
			f.Key = prefix + f.Key
			out.Errors = append(out.Errors, f)
		}
		return out
	}
	return FieldError{Key: strings.TrimSuffix(prefix, "."), Message: err.Error()}
}

// Len returns the number of transformations.
func (c *Chain) Len() int { return len(c.steps) }

// Apply runs r through the chain. It returns the final record, or nil when
// a transformation dropped it. An error names the failing transformation
// and is a *DataError, for errors.tolerance.
func (c *Chain) Apply(r *Record) (*Record, error) {
	for _, s := range c.steps {
		if s.predicate != nil && s.predicate.Test(r) == s.negate {
			continue
		}
		out, err := s.transform.Apply(r)
		if err != nil {
			return nil, &DataError{Err: fmt.Errorf("transformation %s (%s): %w", s.alias, s.class, err)}
		}
		if out == nil {
			return nil, nil
		}
		r = out
	}
	return r, nil
}

// Close closes every transformation and predicate and returns their errors
// joined.
func (c *Chain) Close() error {
	var errs []error
	for _, s := range c.steps {
		if s.transform != nil {
			errs = append(errs, s.transform.Close())
		}
	}
	for _, p := range c.predicates {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}
