package streams

import (
	"strings"
	"testing"
)

func TestWithClientProperties(t *testing.T) {
	good := map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256",
		"sasl.username": "app", "sasl.password": "app-secret"}
	c, err := newConfig([]Option{WithApplicationID("app"), WithBootstrapServers("127.0.0.1:9092"), WithClientProperties(good)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.validate(true); err != nil {
		t.Fatal(err)
	}
	n := len(c.clientOpts)
	if n != 2 { // TLS and SASL
		t.Fatalf("%d client options, want 2", n)
	}
	if err := c.validate(true); err != nil || len(c.clientOpts) != n {
		t.Fatalf("validating twice added options again: %d", len(c.clientOpts))
	}
	for _, bad := range []struct {
		props map[string]string
		want  string
	}{
		{map[string]string{"acks": "all"}, `client property "acks"`},
		{map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"}, "needs credentials"},
		{map[string]string{"ssl.truststore.type": "JKS"}, "ssl.truststore.type must be PEM"},
	} {
		c, err := newConfig([]Option{WithApplicationID("app"), WithBootstrapServers("127.0.0.1:9092"), WithClientProperties(bad.props)})
		if err == nil {
			err = c.validate(true)
		}
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want %q", bad.props, err, bad.want)
		}
	}
}
