package security_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// TestFranzGoAuthentication: franz-go authenticates with PLAIN and both
// SCRAMs over SASL_PLAINTEXT and SASL_SSL, produces and consumes; a wrong
// password and an unknown user get SASL_AUTHENTICATION_FAILED, a
// mechanism the listener does not enable UNSUPPORTED_SASL_MECHANISM.
func TestFranzGoAuthentication(t *testing.T) {
	s := startSecured(t)
	testkit.CreateTopic(t, s.ListenerAddr("PLAINTEXT"), "auth", 1)
	for _, listener := range []string{"SASL_PLAINTEXT", "SASL_SSL"} {
		for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
			t.Run(listener+"/"+mech, func(t *testing.T) {
				cl := s.client(t, listener, mech, "alice", alicePassword)
				value := fmt.Sprintf("%s-%s", listener, mech)
				if err := cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "auth", Value: []byte(value)}).FirstErr(); err != nil {
					t.Fatalf("produce: %v", err)
				}
				recs := testkit.Consume(t, s.ListenerAddr(listener), "auth", 1, s.securityOpts(t, listener, mech, "alice", alicePassword)...)
				if len(recs) == 0 {
					t.Fatal("nothing consumed")
				}
				for _, c := range []struct {
					user, pass string
				}{{"alice", "not-her-password"}, {"mallory", alicePassword}} {
					bad := s.client(t, listener, mech, c.user, c.pass)
					err := metadata(t, bad)
					if !errors.Is(err, kerr.SaslAuthenticationFailed) {
						t.Errorf("%s/%s: err = %v, want SASL_AUTHENTICATION_FAILED", c.user, c.pass, err)
					}
				}
			})
		}
	}
	t.Run("mechanism not enabled", func(t *testing.T) {
		for _, mech := range []string{"PLAIN", "SCRAM-SHA-256"} {
			err := metadata(t, s.client(t, "SCRAM512ONLY", mech, "alice", alicePassword))
			if !errors.Is(err, kerr.UnsupportedSaslMechanism) {
				t.Errorf("%s on a SCRAM-SHA-512 listener: err = %v, want UNSUPPORTED_SASL_MECHANISM", mech, err)
			}
		}
		if err := metadata(t, s.client(t, "SCRAM512ONLY", "SCRAM-SHA-512", "alice", alicePassword)); err != nil {
			t.Errorf("SCRAM-SHA-512: %v", err)
		}
	})
	t.Run("SSL", func(t *testing.T) {
		if err := metadata(t, s.client(t, "SSL", "", "", "")); err != nil {
			t.Fatal(err)
		}
	})
}

// metadata issues one Metadata request, returning the connection's error.
func metadata(t *testing.T, cl *kgo.Client) error {
	t.Helper()
	_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t), cl)
	if err != nil && strings.Contains(err.Error(), "context deadline") {
		t.Fatalf("no answer: %v", err)
	}
	return err
}

// TestFailedAuthenticationIsLogged: a failed attempt is logged with the
// client's address and the mechanism, and no log line holds a password.
func TestFailedAuthenticationIsLogged(t *testing.T) {
	logs := &testkit.SyncBuffer{}
	s := startSecured(t, testkit.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256"} {
		if err := metadata(t, s.client(t, "SASL_PLAINTEXT", mech, "alice", "guess-zebra-42")); !errors.Is(err, kerr.SaslAuthenticationFailed) {
			t.Fatalf("%s: %v", mech, err)
		}
		if err := metadata(t, s.client(t, "SASL_PLAINTEXT", mech, "alice", alicePassword)); err != nil {
			t.Fatalf("%s: %v", mech, err)
		}
	}
	out := logs.String()
	for _, want := range []string{`msg="authentication failed" remote=127.0.0.1:`, "mechanism=PLAIN", "mechanism=SCRAM-SHA-256", "user=alice"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	for _, secret := range []string{"guess-zebra-42", alicePassword} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows a password")
		}
	}
}
