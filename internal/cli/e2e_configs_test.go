package cli_test

import (
	"strings"
	"testing"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// configsJSON is the documented JSON shape of `configs describe`.
type configsJSON []struct {
	EntityType string `json:"entity_type"`
	EntityName string `json:"entity_name"`
	Configs    []struct {
		Name   string  `json:"name"`
		Value  *string `json:"value"`
		Source string  `json:"source"`
	} `json:"configs"`
}

func (c configsJSON) lookup(name string) (value, source string, ok bool) {
	for _, e := range c {
		for _, cfg := range e.Configs {
			if cfg.Name == name {
				if cfg.Value != nil {
					value = *cfg.Value
				}
				return value, cfg.Source, true
			}
		}
	}
	return "", "", false
}

func TestConfigsTopic(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic := uniqueName("cfg")
	mustRun(t, "", "topics", "create", "--topic", topic, "--partitions", "1", "--bootstrap-server", bs)
	entity := []string{"--bootstrap-server", bs, "--entity-type", "topics", "--entity-name", topic}

	describe := func(extra ...string) configsJSON {
		t.Helper()
		var c configsJSON
		decodeJSON(t, mustRun(t, "", append(append([]string{"configs", "describe", "--output", "json"}, entity...), extra...)...), &c)
		if len(c) != 1 || c[0].EntityName != topic || c[0].EntityType != "topics" {
			t.Fatalf("describe json: %+v", c)
		}
		return c
	}
	if c := describe(); len(c[0].Configs) != 0 {
		t.Errorf("a new topic should have no dynamic configs, got %+v", c[0].Configs)
	}

	out := mustRun(t, "", append([]string{"configs", "alter", "--add-config", "retention.ms=120000,max.message.bytes=2048"}, entity...)...)
	if out != "Completed updating config for topic "+topic+".\n" {
		t.Errorf("alter output: %q", out)
	}
	c := describe()
	if v, src, ok := c.lookup("retention.ms"); !ok || v != "120000" || src != "DYNAMIC_TOPIC_CONFIG" {
		t.Errorf("retention.ms = %q from %s (found %v)", v, src, ok)
	}
	if v, _, ok := c.lookup("max.message.bytes"); !ok || v != "2048" {
		t.Errorf("max.message.bytes = %q (found %v)", v, ok)
	}
	text := mustRun(t, "", append([]string{"configs", "describe"}, entity...)...)
	for _, want := range []string{"Dynamic configs for topic " + topic + " are:\n",
		"\n  retention.ms=120000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=120000, DEFAULT_CONFIG:log.retention.ms=604800000}\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("describe text lacks %q:\n%s", want, text)
		}
	}
	text = mustRun(t, "", append([]string{"configs", "describe", "--output", "table"}, entity...)...)
	for _, want := range []string{"Dynamic configs for topic " + topic + ":", "NAME", "VALUE", "SOURCE", "retention.ms", "120000", "DYNAMIC_TOPIC_CONFIG"} {
		if !strings.Contains(text, want) {
			t.Errorf("describe text lacks %q:\n%s", want, text)
		}
	}

	// Incremental: deleting one key leaves the other.
	mustRun(t, "", append([]string{"configs", "alter", "--delete-config", "retention.ms"}, entity...)...)
	c = describe()
	if _, _, ok := c.lookup("retention.ms"); ok {
		t.Errorf("retention.ms still dynamic after --delete-config: %+v", c)
	}
	if v, _, ok := c.lookup("max.message.bytes"); !ok || v != "2048" {
		t.Errorf("max.message.bytes lost by an unrelated delete: %q %v", v, ok)
	}
	// --all shows defaults too.
	c = describe("--all")
	if _, src, ok := c.lookup("retention.ms"); !ok || src == "DYNAMIC_TOPIC_CONFIG" {
		t.Errorf("--all: retention.ms from %q (found %v), want a default source", src, ok)
	}

	mustFail(t, exitError, "UNKNOWN_TOPIC_OR_PARTITION", "", "configs", "describe", "--bootstrap-server", bs, "--entity-type", "topics", "--entity-name", "no-such-topic")
}

func TestConfigsBroker(t *testing.T) {
	bs := testkit.Bootstrap(t)
	var all configsJSON
	decodeJSON(t, mustRun(t, "", "configs", "describe", "--bootstrap-server", bs, "--entity-type", "brokers", "--all", "--output", "json"), &all)
	if len(all) == 0 || len(all[0].Configs) == 0 {
		t.Fatalf("no broker configs described: %+v", all)
	}
	id := all[0].EntityName
	out := mustRun(t, "", "configs", "describe", "--bootstrap-server", bs, "--entity-type", "brokers", "--entity-name", id, "--all")
	if !strings.Contains(out, "All configs for broker "+id+" are:\n") {
		t.Errorf("broker describe text:\n%s", out)
	}
}
