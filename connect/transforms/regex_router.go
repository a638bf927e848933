package transforms

import (
	"github.com/tributary-streams/tributary/connect"
)

// RegexRouter: when the whole topic name matches regex (Java's
// Matcher.matches), the topic becomes the first match replaced by
// replacement ($1, ${name}: see javaReplacement); other topics are left
// alone. The regex is a Java pattern run on Go's RE2 (see java_regex.go).
// Results are remembered per topic, since a task sees few topics.

const regexKey = "regex"

var regexRouterConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: regexKey, Required: true, Importance: connect.ImportanceHigh, Validator: javaRegexValidator(),
		Documentation: "Regular expression to use for matching."}).
	Define(connect.ConfigKey{Name: replacementKey, Required: true, Importance: connect.ImportanceHigh,
		Documentation: "Replacement string."})

// javaRegexValidator accepts a Java regular expression that Go's RE2 can
// run (Kafka's RegexValidator).
func javaRegexValidator() connect.Validator {
	return connect.ValidatorFunc("valid regex", func(v any) error {
		_, err := compileJavaRegex(v.(string))
		return err
	})
}

// topicCacheSize bounds the per-topic memo of routers and predicates.
const topicCacheSize = 1024

type regexRouter struct {
	regex       *javaRegex
	replacement javaReplacement
	routes      map[string]string
}

func (t *regexRouter) Config() *connect.ConfigDef { return regexRouterConfig }

func (t *regexRouter) Configure(config map[string]string) error {
	c, err := regexRouterConfig.Parse(config)
	if err != nil {
		return err
	}
	t.regex, _ = compileJavaRegex(c.String(regexKey))
	if t.replacement, err = parseJavaReplacement(c.String(replacementKey), t.regex.find); err != nil {
		return connect.FieldError{Key: replacementKey, Message: err.Error()}
	}
	t.routes = map[string]string{}
	return nil
}

func (t *regexRouter) Apply(r *connect.Record) (*connect.Record, error) {
	topic, ok := t.routes[r.Topic]
	if !ok {
		topic = r.Topic
		if t.regex.matches(r.Topic) {
			topic = t.replacement.replaceFirst(t.regex, r.Topic)
		}
		if len(t.routes) >= topicCacheSize {
			clear(t.routes)
		}
		t.routes[r.Topic] = topic
	}
	r.Topic = topic
	return r, nil
}

func (t *regexRouter) Close() error { return nil }
