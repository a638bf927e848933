package broker

// Error counts for every API, in one place: after a handler returns, every
// ErrorCode field anywhere in the response (top level, per topic, per
// partition, per group, ...) is counted in tributary_request_errors_total
// under the API and the error's name. Handlers do not count errors
// themselves, so a new API is counted without anyone remembering to.
//
// The walk is planned once per response type by reflection, visiting only
// the fields that can lead to an ErrorCode; record bytes and other leaves
// are never touched, so a fetch response costs one read per partition.

import (
	"reflect"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// codeWalker visits every error code under v.
type codeWalker func(v reflect.Value, visit func(code int16))

var codeWalkers sync.Map // reflect.Type (a struct type) -> codeWalker (nil: no codes)

// countResponseErrors counts every non-zero error code in resp under key.
func (b *Broker) countResponseErrors(key int16, resp kmsg.Response) {
	v := reflect.ValueOf(resp)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	w := walkerFor(v.Elem().Type())
	if w == nil {
		return
	}
	w(v.Elem(), func(code int16) {
		if code != 0 {
			b.metrics.countError(key, code)
		}
	})
}

// walkerFor returns the walker of struct type t, planning it on first use.
func walkerFor(t reflect.Type) codeWalker {
	if w, ok := codeWalkers.Load(t); ok {
		return w.(codeWalker)
	}
	w := planWalker(t, map[reflect.Type]bool{})
	codeWalkers.Store(t, w)
	return w
}

// planWalker builds the walker of struct type t; seen guards against
// recursive types (kmsg has none today).
func planWalker(t reflect.Type, seen map[reflect.Type]bool) codeWalker {
	if seen[t] {
		return nil
	}
	seen[t] = true
	defer delete(seen, t)
	var steps []codeWalker
	for i := range t.NumField() {
		f := t.Field(i)
		idx := i
		switch {
		case f.Name == "ErrorCode" && f.Type.Kind() == reflect.Int16:
			steps = append(steps, func(v reflect.Value, visit func(int16)) { visit(int16(v.Field(idx).Int())) })
		case f.Type.Kind() == reflect.Struct:
			if sub := planWalker(f.Type, seen); sub != nil {
				steps = append(steps, func(v reflect.Value, visit func(int16)) { sub(v.Field(idx), visit) })
			}
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
			if sub := planWalker(f.Type.Elem(), seen); sub != nil {
				steps = append(steps, func(v reflect.Value, visit func(int16)) {
					if p := v.Field(idx); !p.IsNil() {
						sub(p.Elem(), visit)
					}
				})
			}
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			if sub := planWalker(f.Type.Elem(), seen); sub != nil {
				steps = append(steps, func(v reflect.Value, visit func(int16)) {
					s := v.Field(idx)
					for j := range s.Len() {
						sub(s.Index(j), visit)
					}
				})
			}
		}
	}
	if len(steps) == 0 {
		return nil
	}
	return func(v reflect.Value, visit func(int16)) {
		for _, step := range steps {
			step(v, visit)
		}
	}
}
