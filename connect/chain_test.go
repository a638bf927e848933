package connect_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tributary-streams/tributary/connect"
)

// suffixTopic is a test-only transformation: it appends its "suffix" config
// to the topic, or drops the record when "drop" is true.
type suffixTopic struct {
	suffix string
	drop   bool
	closed *int
}

func (s *suffixTopic) Config() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "suffix", Type: connect.TypeString, Required: true, Validator: connect.NonEmpty(), Documentation: "Text appended to the topic."}).
		Define(connect.ConfigKey{Name: "drop", Type: connect.TypeBoolean, Default: "false"})
}

func (s *suffixTopic) Configure(config map[string]string) error {
	c, err := s.Config().Parse(config)
	if err != nil {
		return err
	}
	s.suffix, s.drop = c.String("suffix"), c.Bool("drop")
	return nil
}

func (s *suffixTopic) Apply(r *connect.Record) (*connect.Record, error) {
	if s.drop {
		return nil, nil
	}
	if r.Topic == "poison" {
		return nil, errors.New("poisoned topic")
	}
	r.Topic += s.suffix
	return r, nil
}

func (s *suffixTopic) Close() error {
	if s.closed != nil {
		*s.closed++
	}
	return nil
}

// topicIs is a test-only predicate matching one topic name.
type topicIs struct{ topic string }

func (p *topicIs) Config() *connect.ConfigDef {
	return connect.NewConfigDef().Define(connect.ConfigKey{Name: "topic", Required: true})
}
func (p *topicIs) Configure(config map[string]string) error {
	c, err := p.Config().Parse(config)
	if err != nil {
		return err
	}
	p.topic = c.String("topic")
	return nil
}
func (p *topicIs) Test(r *connect.Record) bool { return r.Topic == p.topic }
func (p *topicIs) Close() error                { return nil }

var closes int

func init() {
	connect.RegisterTransformation(connect.PluginInfo{Class: "test.transforms.SuffixTopic$Value"},
		func() connect.Transformation { return &suffixTopic{closed: &closes} })
	connect.RegisterPredicate(connect.PluginInfo{Class: "test.predicates.TopicIs"},
		func() connect.Predicate { return &topicIs{} })
}

func TestChainAppliesInOrderWithPredicates(t *testing.T) {
	chain, err := connect.NewChain(map[string]string{
		"transforms":                 "a,b,c",
		"transforms.a.type":          "test.transforms.SuffixTopic$Value",
		"transforms.a.suffix":        "-a",
		"transforms.b.type":          "SuffixTopic$Value", // alias: the simple name
		"transforms.b.suffix":        "-b",
		"transforms.b.predicate":     "isOrders",
		"transforms.c.type":          "SuffixTopic$Value",
		"transforms.c.suffix":        "-c",
		"transforms.c.predicate":     "isOrdersB",
		"transforms.c.negate":        "true",
		"predicates":                 "isOrders,isOrdersB",
		"predicates.isOrdersB.type":  "test.predicates.TopicIs",
		"predicates.isOrdersB.topic": "orders-a-b",
		"predicates.isOrders.type":   "TopicIs",
		"predicates.isOrders.topic":  "orders-a",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	for in, want := range map[string]string{"orders": "orders-a-b", "users": "users-a-c"} {
		out, err := chain.Apply(&connect.Record{Topic: in})
		if err != nil {
			t.Fatal(err)
		}
		if out.Topic != want {
			t.Errorf("%s: got topic %q, want %q", in, out.Topic, want)
		}
	}
	_, err = chain.Apply(&connect.Record{Topic: "poison"})
	var de *connect.DataError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "transformation a (test.transforms.SuffixTopic$Value)") {
		t.Errorf("a failing transformation: got %v, want a DataError naming alias and class", err)
	}
	before := closes
	if err := chain.Close(); err != nil {
		t.Fatal(err)
	}
	if closes-before != 3 {
		t.Errorf("Close closed %d transformations, want 3", closes-before)
	}
}

func TestChainDrop(t *testing.T) {
	chain, err := connect.NewChain(map[string]string{
		"transforms": "x", "transforms.x.type": "SuffixTopic$Value", "transforms.x.suffix": "s", "transforms.x.drop": "true",
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := chain.Apply(&connect.Record{Topic: "t"})
	if err != nil || out != nil {
		t.Fatalf("got %v, %v; want the record dropped", out, err)
	}
}

func TestChainEmpty(t *testing.T) {
	chain, err := connect.NewChain(map[string]string{"name": "x"})
	if err != nil {
		t.Fatal(err)
	}
	r := &connect.Record{Topic: "t"}
	if out, err := chain.Apply(r); err != nil || out != r || chain.Len() != 0 {
		t.Fatalf("empty chain changed the record: %v %v", out, err)
	}
}

func TestChainBadConfigNamesEveryKey(t *testing.T) {
	_, err := connect.NewChain(map[string]string{
		"transforms":             "a,b,c,d",
		"transforms.a.type":      "NoSuchTransform",
		"transforms.c.type":      "SuffixTopic$Value", // missing suffix
		"transforms.d.type":      "SuffixTopic$Value",
		"transforms.d.suffix":    "x",
		"transforms.d.predicate": "nope",
		"transforms.d.negate":    "maybe",
		"predicates":             "p",
	})
	if !errors.Is(err, connect.ErrInvalidConfig) {
		t.Fatalf("got %v, want ErrInvalidConfig", err)
	}
	var ce *connect.ConfigError
	errors.As(err, &ce)
	byKey := ce.ByKey()
	for _, key := range []string{"transforms.a.type", "transforms.b.type", "transforms.c.suffix",
		"transforms.d.predicate", "transforms.d.negate", "predicates.p.type"} {
		if len(byKey[key]) == 0 {
			t.Errorf("no error for %s; got %v", key, err)
		}
	}
	if msg := strings.Join(byKey["transforms.a.type"], ""); !strings.Contains(msg, "SuffixTopic$Value") {
		t.Errorf("unknown class message does not list what is installed: %s", msg)
	}
}

func TestChainDuplicateAlias(t *testing.T) {
	_, err := connect.NewChain(map[string]string{"transforms": "a,a", "transforms.a.type": "SuffixTopic$Value", "transforms.a.suffix": "x"})
	if err == nil || !strings.Contains(err.Error(), `alias "a" is listed twice`) {
		t.Fatalf("got %v", err)
	}
}
