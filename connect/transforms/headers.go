package transforms

import (
	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/converter"
	"github.com/tributary-streams/tributary/connect/data"
)

// InsertHeader adds a header whose value is value.literal, its type
// inferred as Kafka's Values.parseString does (through
// SimpleHeaderConverter: true/false, the smallest integer type, a float,
// else a string). DropHeaders removes every header whose key is listed.

const (
	headerKey       = "header"
	valueLiteralKey = "value.literal"
	headersKey      = "headers"
)

var insertHeaderConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: headerKey, Required: true, Importance: connect.ImportanceHigh,
		Documentation: "The name of the header."}).
	Define(connect.ConfigKey{Name: valueLiteralKey, Required: true, Importance: connect.ImportanceHigh,
		Documentation: "The literal value that is to be set as the header value on all records."})

type insertHeader struct {
	header string
	schema *data.Schema
	value  any
}

func (t *insertHeader) Config() *connect.ConfigDef { return insertHeaderConfig }

func (t *insertHeader) Configure(config map[string]string) error {
	c, err := insertHeaderConfig.Parse(config)
	if err != nil {
		return err
	}
	t.header = c.String(headerKey)
	t.schema, t.value, err = converter.SimpleHeaderConverter{}.ToConnectHeader("", t.header, []byte(c.String(valueLiteralKey)))
	if err != nil {
		return connect.FieldError{Key: valueLiteralKey, Message: err.Error()}
	}
	return nil
}

func (t *insertHeader) Apply(r *connect.Record) (*connect.Record, error) {
	r.Headers = r.Headers.With(t.header, t.schema, t.value)
	return r, nil
}

func (t *insertHeader) Close() error { return nil }

var dropHeadersConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: headersKey, Type: connect.TypeList, Required: true, Validator: connect.NonEmpty(),
		Importance: connect.ImportanceHigh, Documentation: "The name of the headers to be removed."})

type dropHeaders struct {
	headers []string
}

func (t *dropHeaders) Config() *connect.ConfigDef { return dropHeadersConfig }

func (t *dropHeaders) Configure(config map[string]string) error {
	c, err := dropHeadersConfig.Parse(config)
	if err != nil {
		return err
	}
	t.headers = c.List(headersKey)
	return nil
}

func (t *dropHeaders) Apply(r *connect.Record) (*connect.Record, error) {
	for _, h := range r.Headers {
		for _, name := range t.headers {
			if h.Key == name {
				r.Headers = r.Headers.Without(t.headers...)
				return r, nil
			}
		}
	}
	return r, nil
}

func (t *dropHeaders) Close() error { return nil }
