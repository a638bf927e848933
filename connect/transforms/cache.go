package transforms

import "github.com/tributary-streams/tributary/connect/data"

// schemaCacheSize is how many input schemas a transformation remembers
// what it built for, as Kafka's LRUCache(16).
const schemaCacheSize = 16

// schemaCache maps input schemas to what a transformation built for them
// (usually the output schema), so that records of one schema share one
// output schema, and the converters downstream can cache by it. Lookups
// compare pointers first, the usual case, then structure. Most recently
// used first; used from one goroutine (the Transformation contract).
type schemaCache[T any] struct {
	entries []schemaCacheEntry[T]
}

type schemaCacheEntry[T any] struct {
	in  *data.Schema
	out T
}

// get returns what is cached for in.
func (c *schemaCache[T]) get(in *data.Schema) (T, bool) {
	for i, e := range c.entries {
		if e.in == in {
			if i > 0 {
				copy(c.entries[1:i+1], c.entries[:i])
				c.entries[0] = e
			}
			return e.out, true
		}
	}
	for _, e := range c.entries {
		if e.in.Equal(in) {
			c.put(in, e.out)
			return e.out, true
		}
	}
	var zero T
	return zero, false
}

// put remembers out for in, evicting the least recently used entry when
// full.
func (c *schemaCache[T]) put(in *data.Schema, out T) {
	if len(c.entries) < schemaCacheSize {
		c.entries = append(c.entries, schemaCacheEntry[T]{})
	}
	copy(c.entries[1:], c.entries[:len(c.entries)-1])
	c.entries[0] = schemaCacheEntry[T]{in: in, out: out}
}

// getOrBuild returns what is cached for in, or builds, caches and returns
// it.
func (c *schemaCache[T]) getOrBuild(in *data.Schema, build func(*data.Schema) (T, error)) (T, error) {
	if out, ok := c.get(in); ok {
		return out, nil
	}
	out, err := build(in)
	if err != nil {
		return out, err
	}
	c.put(in, out)
	return out, nil
}
