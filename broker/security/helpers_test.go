// Package security_test runs the broker's security end to end: listeners
// of every security protocol, SASL with franz-go, sarama and kcat, ACLs,
// quotas, connection limits and bad input, against in-process brokers
// with throwaway certificates.
package security_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/kafkaclient"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestMain(m *testing.M) {
	testkit.RunChildIfRequested()
	os.Exit(m.Run())
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// secured is a broker with a listener of every security protocol, plus
// SCRAM512ONLY (SASL_PLAINTEXT with only SCRAM-SHA-512 enabled).
type secured struct {
	*testkit.Broker
	certs *testkit.Certs
}

// The users every secured broker has.
const (
	alicePassword = "alice-secret"
	bobPassword   = "bob-secret"
	adminPassword = "admin-secret"
)

func startSecured(t testing.TB, opts ...testkit.BrokerOption) *secured {
	t.Helper()
	certs := testkit.NewCerts(t)
	base := []testkit.BrokerOption{
		testkit.WithConfig("listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SCRAM512ONLY://127.0.0.1:0"),
		testkit.WithConfig("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,SCRAM512ONLY:SASL_PLAINTEXT"),
		testkit.WithConfig("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"),
		testkit.WithConfig("listener.name.scram512only.sasl.enabled.mechanisms", "SCRAM-SHA-512"),
		testkit.WithConfig("ssl.keystore.location", certs.ServerKeystore),
		testkit.WithConfig("connection.failed.authentication.delay.ms", "20"),
	}
	for user, pw := range map[string]string{"alice": alicePassword, "bob": bobPassword, "admin": adminPassword} {
		for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-512"} {
			base = append(base, testkit.WithSCRAM(fmt.Sprintf("%s=[name=%s,password=%s]", mech, user, pw)))
		}
	}
	b := testkit.StartBroker(t, append(base, opts...)...)
	s := &secured{Broker: b, certs: certs}
	return s
}

// props are the client properties for a listener, mechanism and user.
func (s *secured) props(listener, mechanism, user, password string) map[string]string {
	p := map[string]string{"ssl.truststore.location": s.certs.CAFile}
	switch listener {
	case "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL":
		p["security.protocol"] = listener
	default:
		p["security.protocol"] = "SASL_PLAINTEXT"
	}
	if mechanism != "" {
		p["sasl.mechanism"] = mechanism
		module := "org.apache.kafka.common.security.scram.ScramLoginModule"
		if mechanism == "PLAIN" {
			module = "org.apache.kafka.common.security.plain.PlainLoginModule"
		}
		p["sasl.jaas.config"] = fmt.Sprintf(`%s required username="%s" password="%s";`, module, user, password)
	}
	return p
}

// client is a franz-go client built by the shared security builder.
func (s *secured) client(t testing.TB, listener, mechanism, user, password string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	sec, err := kafkaclient.Opts(s.props(listener, mechanism, user, password))
	if err != nil {
		t.Fatal(err)
	}
	return testkit.Client(t, s.ListenerAddr(listener), append(append(sec, kgo.RequestRetries(0), kgo.RetryTimeout(time.Second)), opts...)...)
}

// securityOpts are the kgo options of the shared builder for a listener.
func (s *secured) securityOpts(t testing.TB, listener, mechanism, user, password string) []kgo.Opt {
	t.Helper()
	sec, err := kafkaclient.Opts(s.props(listener, mechanism, user, password))
	if err != nil {
		t.Fatal(err)
	}
	return sec
}
