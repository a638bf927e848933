package transforms

import "github.com/tributary-streams/tributary/connect"

// The predicates of Kafka's org.apache.kafka.connect.transforms.predicates:
//
//	TopicNameMatches   pattern: a Java regular expression (see java_regex.go)
//	                   that the whole topic name matches
//	HasHeaderKey       name: the record has at least one header with the key
//	RecordIsTombstone  the record value is null

const (
	patternKey = "pattern"
	nameKey    = "name"
)

var topicNameMatchesConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: patternKey, Required: true, Importance: connect.ImportanceMedium,
		Validator:     connect.ValidatorFunc("non-empty string, valid regex", nonEmptyRegex),
		Documentation: "A Java regular expression for matching against the name of a record's topic."})

func nonEmptyRegex(v any) error {
	if err := connect.NonEmpty().Validate(v); err != nil {
		return err
	}
	return javaRegexValidator().Validate(v)
}

type topicNameMatches struct {
	regex   *javaRegex
	matches map[string]bool
}

func (p *topicNameMatches) Config() *connect.ConfigDef { return topicNameMatchesConfig }

func (p *topicNameMatches) Configure(config map[string]string) error {
	c, err := topicNameMatchesConfig.Parse(config)
	if err != nil {
		return err
	}
	p.regex, _ = compileJavaRegex(c.String(patternKey))
	p.matches = map[string]bool{}
	return nil
}

// Test reports whether the topic matches; results are remembered per
// topic (the predicate's own memo, not the record).
func (p *topicNameMatches) Test(r *connect.Record) bool {
	m, ok := p.matches[r.Topic]
	if !ok {
		m = p.regex.matches(r.Topic)
		if len(p.matches) >= topicCacheSize {
			clear(p.matches)
		}
		p.matches[r.Topic] = m
	}
	return m
}

func (p *topicNameMatches) Close() error { return nil }

var hasHeaderKeyConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: nameKey, Required: true, Validator: connect.NonEmpty(), Importance: connect.ImportanceMedium,
		Documentation: "The header name."})

type hasHeaderKey struct{ name string }

func (p *hasHeaderKey) Config() *connect.ConfigDef { return hasHeaderKeyConfig }

func (p *hasHeaderKey) Configure(config map[string]string) error {
	c, err := hasHeaderKeyConfig.Parse(config)
	if err != nil {
		return err
	}
	p.name = c.String(nameKey)
	return nil
}

func (p *hasHeaderKey) Test(r *connect.Record) bool {
	_, ok := r.Headers.Last(p.name)
	return ok
}

func (p *hasHeaderKey) Close() error { return nil }

type recordIsTombstone struct{}

func (recordIsTombstone) Config() *connect.ConfigDef        { return connect.NewConfigDef() }
func (recordIsTombstone) Configure(map[string]string) error { return nil }
func (recordIsTombstone) Test(r *connect.Record) bool       { return r.Value == nil }
func (recordIsTombstone) Close() error                      { return nil }
