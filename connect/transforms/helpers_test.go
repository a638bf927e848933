package transforms_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
	_ "github.com/tributary-streams/tributary/connect/transforms"
)

// configure makes and configures a transformation by class name or alias,
// from key, value pairs.
func configure(t *testing.T, class string, kv ...string) connect.Transformation {
	t.Helper()
	tr, _, err := connect.NewTransformation(class)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Configure(pairs(kv)); err != nil {
		t.Fatalf("configure %s %v: %v", class, kv, err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func pairs(kv []string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// configError configures class and returns the messages of the keys in
// the *ConfigError it must fail with.
func configError(t *testing.T, class string, kv ...string) map[string][]string {
	t.Helper()
	tr, _, err := connect.NewTransformation(class)
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Configure(pairs(kv))
	if err == nil {
		t.Fatalf("configure %s %v: no error", class, kv)
	}
	return byKey(t, err)
}

func byKey(t *testing.T, err error) map[string][]string {
	t.Helper()
	var ce *connect.ConfigError
	if errors.As(err, &ce) {
		return ce.ByKey()
	}
	var fe connect.FieldError
	if errors.As(err, &fe) {
		return map[string][]string{fe.Key: {fe.Message}}
	}
	t.Fatalf("config error %v is neither a *ConfigError nor a FieldError", err)
	return nil
}

// wantConfigError checks that the messages for key contain every want.
func wantConfigError(t *testing.T, errs map[string][]string, key string, want ...string) {
	t.Helper()
	msg := strings.Join(errs[key], "; ")
	if msg == "" {
		t.Fatalf("no error for %s; got %v", key, errs)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error for %s is %q, want it to mention %q", key, msg, w)
		}
	}
}

func apply(t *testing.T, tr connect.Transformation, r *connect.Record) *connect.Record {
	t.Helper()
	out, err := tr.Apply(r)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return out
}

func applyErr(t *testing.T, tr connect.Transformation, r *connect.Record, want ...string) {
	t.Helper()
	_, err := tr.Apply(r)
	if err == nil {
		t.Fatalf("apply: no error, want one mentioning %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("apply error %q does not mention %q", err, w)
		}
	}
}

// newStruct builds a struct of schema s from name, value pairs.
func newStruct(t *testing.T, s *data.Schema, kv ...any) *data.Struct {
	t.Helper()
	st := data.NewStruct(s)
	for i := 0; i+1 < len(kv); i += 2 {
		if err := st.Put(kv[i].(string), kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	return st
}

// wantValue compares a value with data.Equal and prints both.
func wantValue(t *testing.T, what string, got, want any) {
	t.Helper()
	if !data.Equal(got, want) {
		t.Errorf("%s:\n got %v (%T)\nwant %v (%T)", what, got, got, want, want)
	}
}

func wantSchema(t *testing.T, what string, got, want *data.Schema) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s schema:\n got %s\nwant %s", what, got, want)
	}
	if got != nil {
		if err := got.Check(); err != nil {
			t.Errorf("%s schema %s is not well formed: %v", what, got, err)
		}
	}
}

// valueRecord is a sink-side record with a value schema and value.
func valueRecord(s *data.Schema, v any) *connect.Record {
	return &connect.Record{Topic: "orders", Partition: 3, Offset: 42, ValueSchema: s, Value: v,
		Timestamp: time.UnixMilli(1700000000123).UTC()}
}

// unchanged keeps a deep copy of a value to check later that a
// transformation did not modify it in place.
type unchanged struct {
	orig any
	copy any
}

func keep(v any) unchanged { return unchanged{orig: v, copy: deepCopy(v)} }

func (u unchanged) check(t *testing.T) {
	t.Helper()
	if !data.Equal(u.orig, u.copy) {
		t.Errorf("the input value was modified in place:\n now %v\nwas %v", u.orig, u.copy)
	}
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case map[any]any:
		m := make(map[any]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	case []byte:
		return append([]byte(nil), x...)
	case *data.Struct:
		c := data.NewStruct(x.Schema())
		for i := range x.Schema().Fields {
			if err := c.PutAt(i, deepCopy(x.AtWithoutDefault(i))); err != nil {
				panic(err)
			}
		}
		return c
	}
	return v
}
