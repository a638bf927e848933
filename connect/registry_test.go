package connect_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tributary-streams/tributary/connect"
)

func TestFindPluginByClassAndAlias(t *testing.T) {
	for _, name := range []string{"test.transforms.SuffixTopic$Value", "SuffixTopic$Value", "suffixtopic$value"} {
		p, err := connect.FindPlugin(name, connect.PluginTransformation)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Class != "test.transforms.SuffixTopic$Value" || p.Version != connect.Version {
			t.Errorf("%s: found %+v", name, p.PluginInfo)
		}
	}
	_, err := connect.FindPlugin("SuffixTopic$Value", connect.PluginPredicate)
	if !errors.Is(err, connect.ErrUnknownPlugin) || !strings.Contains(err.Error(), "TopicIs (test.predicates.TopicIs)") {
		t.Fatalf("wrong type must not match, and the error lists what is installed: %v", err)
	}
}

func TestRegistryAliasesAndAmbiguity(t *testing.T) {
	connect.RegisterSink(connect.PluginInfo{Class: "a.b.DemoSinkConnector", Aliases: []string{"demo"}}, nil)
	connect.RegisterSink(connect.PluginInfo{Class: "c.d.DemoSinkConnector"}, nil)
	p, err := connect.FindPlugin("demo", connect.PluginSource, connect.PluginSink)
	if err != nil || p.Class != "a.b.DemoSinkConnector" {
		t.Fatalf("explicit alias: %v %v", p.Class, err)
	}
	if strings.Join(p.Names, ",") != "a.b.DemoSinkConnector,DemoSinkConnector,DemoSink,demo" {
		t.Errorf("names: %v", p.Names)
	}
	_, err = connect.FindPlugin("DemoSink", connect.PluginSink)
	if err == nil || !strings.Contains(err.Error(), "ambiguous") || !strings.Contains(err.Error(), "c.d.DemoSinkConnector") {
		t.Fatalf("ambiguous alias: %v", err)
	}
	if _, err := connect.FindPlugin("c.d.DemoSinkConnector", connect.PluginSink); err != nil {
		t.Fatalf("full name of an ambiguous alias: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a class twice did not panic")
		}
	}()
	connect.RegisterSink(connect.PluginInfo{Class: "c.d.DemoSinkConnector"}, nil)
}

func TestHeaders(t *testing.T) {
	h := connect.Headers{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "a", Value: "3"}}
	if last, ok := h.Last("a"); !ok || last.Value != "3" || len(h.All("a")) != 2 {
		t.Fatal("Last/All")
	}
	w := h[:1].With("c", nil, "4")
	if h[1].Key != "b" || len(w) != 2 {
		t.Fatal("With must copy, not append into the shared backing array")
	}
	if got := h.Without("a"); len(got) != 1 || got[0].Key != "b" || len(h) != 3 {
		t.Fatalf("Without: %v", got)
	}
}
