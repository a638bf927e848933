package transforms

import (
	"fmt"
	"strings"

	"github.com/tributary-streams/tributary/connect"
)

// TimestampRouter: the topic becomes topic.format with ${topic} replaced
// by the topic and ${timestamp} by the record timestamp in
// timestamp.format (a SimpleDateFormat pattern, see date_format.go, in
// UTC), e.g. orders-20240131. A record without a timestamp fails, as in
// Kafka.

const (
	topicFormatKey     = "topic.format"
	timestampFormatKey = "timestamp.format"
)

var timestampRouterConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: topicFormatKey, Default: "${topic}-${timestamp}", Importance: connect.ImportanceHigh,
		Documentation: "Format string which can contain ${topic} and ${timestamp} as placeholders for the topic and timestamp, respectively."}).
	Define(connect.ConfigKey{Name: timestampFormatKey, Default: "yyyyMMdd", Importance: connect.ImportanceHigh,
		Validator: connect.ValidatorFunc("SimpleDateFormat pattern", func(v any) error {
			_, err := parseJavaDateFormat(v.(string))
			return err
		}),
		Documentation: "Format string for the timestamp that is compatible with java.text.SimpleDateFormat."})

type timestampRouter struct {
	topicFormat string
	format      javaDateFormat
}

func (t *timestampRouter) Config() *connect.ConfigDef { return timestampRouterConfig }

func (t *timestampRouter) Configure(config map[string]string) error {
	c, err := timestampRouterConfig.Parse(config)
	if err != nil {
		return err
	}
	t.topicFormat = c.String(topicFormatKey)
	t.format, _ = parseJavaDateFormat(c.String(timestampFormatKey))
	return nil
}

func (t *timestampRouter) Apply(r *connect.Record) (*connect.Record, error) {
	if r.Timestamp.IsZero() {
		return nil, fmt.Errorf("timestamp missing on the record of topic %q: %s needs it", r.Topic, timestampFormatKey)
	}
	topic := strings.ReplaceAll(t.topicFormat, "${topic}", r.Topic)
	r.Topic = strings.ReplaceAll(topic, "${timestamp}", t.format.format(r.Timestamp))
	return r, nil
}

func (t *timestampRouter) Close() error { return nil }
