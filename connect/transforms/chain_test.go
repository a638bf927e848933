package transforms_test

import (
	"errors"
	"testing"

	"github.com/tributary-streams/tributary/connect"
)

// A connector's transforms= chain with every predicate, negate included,
// built by connect.NewChain from the keys Kafka Connect uses.
func TestChainWithPredicates(t *testing.T) {
	chain, err := connect.NewChain(map[string]string{
		"transforms":                          "addSource,route,dropTombstones,dropUntraced",
		"transforms.addSource.type":           "org.apache.kafka.connect.transforms.InsertField$Value",
		"transforms.addSource.static.field":   "source",
		"transforms.addSource.static.value":   "orders-db",
		"transforms.addSource.predicate":      "isOrders",
		"transforms.route.type":               "RegexRouter",
		"transforms.route.regex":              "orders-(.*)",
		"transforms.route.replacement":        "$1-archive",
		"transforms.route.predicate":          "isOrders",
		"transforms.dropTombstones.type":      "Filter",
		"transforms.dropTombstones.predicate": "isTombstone",
		"transforms.dropUntraced.type":        "org.apache.kafka.connect.transforms.Filter",
		"transforms.dropUntraced.predicate":   "hasTrace",
		"transforms.dropUntraced.negate":      "true",
		"predicates":                          "isOrders,isTombstone,hasTrace",
		"predicates.isOrders.type":            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"predicates.isOrders.pattern":         "orders-.*",
		"predicates.isTombstone.type":         "RecordIsTombstone",
		"predicates.hasTrace.type":            "HasHeaderKey",
		"predicates.hasTrace.name":            "trace",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	trace := connect.Headers{{Key: "trace", Value: "1"}}
	cases := []struct {
		name  string
		in    connect.Record
		topic string // "" when the record is dropped
		value any
	}{
		{"orders, traced", connect.Record{Topic: "orders-eu", Value: map[string]any{"id": int64(1)}, Headers: trace},
			"eu-archive", map[string]any{"id": int64(1), "source": "orders-db"}},
		{"other topic, traced", connect.Record{Topic: "users", Value: map[string]any{"id": int64(2)}, Headers: trace},
			"users", map[string]any{"id": int64(2)}},
		{"orders tombstone", connect.Record{Topic: "orders-us", Headers: trace}, "", nil},
		{"untraced", connect.Record{Topic: "users", Value: map[string]any{"id": int64(3)}}, "", nil},
	}
	for _, c := range cases {
		r := c.in
		out, err := chain.Apply(&r)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.topic == "" {
			if out != nil {
				t.Errorf("%s: kept as %+v, want it dropped", c.name, out)
			}
			continue
		}
		if out == nil {
			t.Fatalf("%s: dropped", c.name)
		}
		if out.Topic != c.topic {
			t.Errorf("%s: topic %q, want %q", c.name, out.Topic, c.topic)
		}
		wantValue(t, c.name, out.Value, c.value)
	}

	// A record that fails names the alias and class of the transformation.
	_, err = chain.Apply(&connect.Record{Topic: "orders-x", Value: "not a map", Headers: trace})
	var de *connect.DataError
	if !errors.As(err, &de) {
		t.Fatalf("got %v, want a *connect.DataError", err)
	}
	wantConfigError(t, map[string][]string{"": {err.Error()}}, "",
		"transformation addSource (org.apache.kafka.connect.transforms.InsertField$Value)", "map[string]any", "string")
}

func TestChainConfigErrorsNameKeys(t *testing.T) {
	_, err := connect.NewChain(map[string]string{
		"transforms":                   "route,cast",
		"transforms.route.type":        "RegexRouter",
		"transforms.route.regex":       "(?<=x)y",
		"transforms.route.replacement": "$1",
		"transforms.cast.type":         "Cast$Value",
		"transforms.cast.spec":         "a:decimal",
		"predicates":                   "p,h",
		"predicates.p.type":            "TopicNameMatches",
		"predicates.p.pattern":         "",
		"predicates.h.type":            "HasHeaderKey",
	})
	if !errors.Is(err, connect.ErrInvalidConfig) {
		t.Fatalf("got %v", err)
	}
	errs := byKey(t, err)
	wantConfigError(t, errs, "transforms.route.regex", "lookbehind")
	wantConfigError(t, errs, "transforms.cast.spec", `unknown type "decimal"`, "int8, int16")
	wantConfigError(t, errs, "predicates.p.pattern", "must not be empty")
	wantConfigError(t, errs, "predicates.h.name", "missing required")
}

func TestPredicatesAlone(t *testing.T) {
	p, _, err := connect.NewPredicate("TopicNameMatches")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Configure(map[string]string{"pattern": "(?i)ORDERS.*"}); err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]bool{"orders": true, "Orders-eu": true, "my-orders": false, "": false} {
		for range 2 {
			if got := p.Test(&connect.Record{Topic: topic}); got != want {
				t.Errorf("TopicNameMatches %q: %v, want %v", topic, got, want)
			}
		}
	}
	tomb, _, _ := connect.NewPredicate("org.apache.kafka.connect.transforms.predicates.RecordIsTombstone")
	if !tomb.Test(&connect.Record{Key: "k"}) || tomb.Test(&connect.Record{Value: 0}) {
		t.Error("RecordIsTombstone")
	}
	has, _, _ := connect.NewPredicate("HasHeaderKey")
	if err := has.Configure(map[string]string{"name": "h"}); err != nil {
		t.Fatal(err)
	}
	if !has.Test(&connect.Record{Headers: connect.Headers{{Key: "x"}, {Key: "h"}}}) || has.Test(&connect.Record{}) {
		t.Error("HasHeaderKey")
	}
}

// Every transformation and predicate Kafka ships is registered under its
// class name and its simple name.
func TestRegistered(t *testing.T) {
	kv := []string{"InsertField", "ReplaceField", "MaskField", "ExtractField", "HoistField", "Cast", "Flatten",
		"TimestampConverter", "HeaderFrom"}
	var names []string
	for _, n := range kv {
		names = append(names, n+"$Key", n+"$Value")
	}
	names = append(names, "ValueToKey", "RegexRouter", "TimestampRouter", "Filter", "InsertHeader", "DropHeaders")
	for _, n := range names {
		for _, name := range []string{"org.apache.kafka.connect.transforms." + n, n} {
			if _, p, err := connect.NewTransformation(name); err != nil || p.Class != "org.apache.kafka.connect.transforms."+n {
				t.Errorf("%s: %v (%s)", name, err, p.Class)
			}
		}
	}
	for _, n := range []string{"TopicNameMatches", "HasHeaderKey", "RecordIsTombstone"} {
		for _, name := range []string{"org.apache.kafka.connect.transforms.predicates." + n, n} {
			if _, _, err := connect.NewPredicate(name); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}
