package security_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// xdgSCRAM adapts github.com/xdg-go/scram to sarama's SCRAMClient, as
// sarama's own examples do.
type xdgSCRAM struct {
	hash scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

func (x *xdgSCRAM) Begin(user, password, authzID string) error {
	c, err := x.hash.NewClient(user, password, authzID)
	if err != nil {
		return err
	}
	x.conv = c.NewConversation()
	return nil
}
func (x *xdgSCRAM) Step(challenge string) (string, error) { return x.conv.Step(challenge) }
func (x *xdgSCRAM) Done() bool                            { return x.conv.Done() }

func (s *secured) saramaConfig(listener, mech, user, password string, handshake int16) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.ClientID = "sarama-security-test"
	cfg.Net.DialTimeout, cfg.Net.ReadTimeout = 5*time.Second, 5*time.Second
	cfg.Metadata.Retry.Max = 0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	if strings.HasSuffix(listener, "SSL") {
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = s.certs.ClientTLS("", "")
	}
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.User, cfg.Net.SASL.Password = user, password
	cfg.Net.SASL.Version = handshake
	// sarama sends no ApiVersions before a v0 handshake, as the oldest
	// clients did.
	cfg.ApiVersionsRequest = handshake != sarama.SASLHandshakeV0
	switch mech {
	case "PLAIN":
		cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	case "SCRAM-SHA-256":
		cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &xdgSCRAM{hash: sha256.New} }
	case "SCRAM-SHA-512":
		cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &xdgSCRAM{hash: sha512.New} }
	}
	return cfg
}

// TestSaramaAuthentication: sarama with PLAIN (SaslHandshake v1, and v0
// with raw tokens) and both SCRAMs over SASL_PLAINTEXT and SASL_SSL.
func TestSaramaAuthentication(t *testing.T) {
	s := startSecured(t)
	testkit.CreateTopic(t, s.ListenerAddr("PLAINTEXT"), "sarama-auth", 1)
	for _, listener := range []string{"SASL_PLAINTEXT", "SASL_SSL"} {
		for _, c := range []struct {
			mech      string
			handshake int16
		}{{"PLAIN", sarama.SASLHandshakeV1}, {"PLAIN", sarama.SASLHandshakeV0}, {"SCRAM-SHA-256", sarama.SASLHandshakeV1}, {"SCRAM-SHA-512", sarama.SASLHandshakeV1}} {
			t.Run(fmt.Sprintf("%s/%s/handshake-v%d", listener, c.mech, c.handshake), func(t *testing.T) {
				addr := []string{s.ListenerAddr(listener)}
				prod, err := sarama.NewSyncProducer(addr, s.saramaConfig(listener, c.mech, "bob", bobPassword, c.handshake))
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				defer prod.Close()
				value := fmt.Sprintf("sarama %s %s v%d", listener, c.mech, c.handshake)
				if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: "sarama-auth", Value: sarama.StringEncoder(value)}); err != nil {
					t.Fatalf("produce: %v", err)
				}
				for _, bad := range [][2]string{{"bob", "wrong-password"}, {"nobody", bobPassword}} {
					err := saramaConnect(addr[0], s.saramaConfig(listener, c.mech, bad[0], bad[1], c.handshake))
					if err == nil {
						t.Fatalf("%v: connected", bad)
					}
					// Over a v0 handshake a failure can only close the
					// connection; otherwise the error is Kafka's.
					if c.handshake == sarama.SASLHandshakeV1 && !errors.Is(err, sarama.ErrSASLAuthenticationFailed) {
						t.Errorf("%v: err = %v, want SASL_AUTHENTICATION_FAILED", bad, err)
					}
				}
			})
		}
	}
	err := saramaConnect(s.ListenerAddr("SCRAM512ONLY"), s.saramaConfig("SCRAM512ONLY", "SCRAM-SHA-256", "bob", bobPassword, sarama.SASLHandshakeV1))
	if !errors.Is(err, sarama.ErrUnsupportedSASLMechanism) {
		t.Errorf("SCRAM-SHA-256 on a SCRAM-SHA-512 listener: err = %v, want UNSUPPORTED_SASL_MECHANISM", err)
	}
}

// saramaConnect opens one sarama broker connection (with its SASL
// exchange) and sends a metadata request, returning the first error.
func saramaConnect(addr string, cfg *sarama.Config) error {
	br := sarama.NewBroker(addr)
	if err := br.Open(cfg); err != nil {
		return err
	}
	defer br.Close()
	_, err := br.GetMetadata(&sarama.MetadataRequest{})
	return err
}

// kcat runs kcat (librdkafka) against a listener with SASL settings.
func (s *secured) kcat(t *testing.T, listener, mech, user, password string, stdin string, args ...string) (string, error) {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat not installed (make test-deps installs it)")
	}
	all := []string{"-b", s.ListenerAddr(listener), "-X", "security.protocol=" + listener, "-X", "ssl.ca.location=" + s.certs.CAFile,
		"-X", "sasl.mechanisms=" + mech, "-X", "sasl.username=" + user, "-X", "sasl.password=" + password}
	cmd := exec.Command(path, append(all, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestKcatAuthentication: kcat with PLAIN and both SCRAMs over
// SASL_PLAINTEXT and SASL_SSL; wrong passwords and unknown users fail with
// librdkafka's report of SASL_AUTHENTICATION_FAILED, a mechanism the
// listener lacks with its report of the enabled ones.
func TestKcatAuthentication(t *testing.T) {
	s := startSecured(t)
	testkit.CreateTopic(t, s.ListenerAddr("PLAINTEXT"), "kcat-auth", 1)
	n := 0
	var wg sync.WaitGroup
	for _, listener := range []string{"SASL_PLAINTEXT", "SASL_SSL"} {
		for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
			t.Run(listener+"/"+mech, func(t *testing.T) {
				value := fmt.Sprintf("kcat %s %s", listener, mech)
				if out, err := s.kcat(t, listener, mech, "alice", alicePassword, value+"\n", "-P", "-t", "kcat-auth"); err != nil {
					t.Fatalf("produce: %v: %s", err, out)
				}
				n++
				out, err := s.kcat(t, listener, mech, "alice", alicePassword, "", "-C", "-t", "kcat-auth", "-o", "beginning", "-c", fmt.Sprint(n), "-e", "-q")
				if err != nil || !strings.Contains(out, value) {
					t.Fatalf("consume: %v: %q", err, out)
				}
			})
			// Failures wait out kcat's metadata timeout: run them at once.
			for _, bad := range [][2]string{{"alice", "wrong-password"}, {"nobody", alicePassword}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out, err := s.kcat(t, listener, mech, bad[0], bad[1], "", "-L", "-m", "3")
					if err == nil || !strings.Contains(out, "Authentication failed") {
						t.Errorf("%s %s %v: err = %v, output %q", listener, mech, bad, err, out)
					}
					if strings.Contains(out, bad[1]) {
						t.Errorf("the password is in kcat's output: %q", out)
					}
				}()
			}
		}
	}
	defer wg.Wait()
	out, err := func() (string, error) {
		path, _ := exec.LookPath("kcat")
		cmd := exec.Command(path, "-b", s.ListenerAddr("SCRAM512ONLY"), "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN",
			"-X", "sasl.username=alice", "-X", "sasl.password="+alicePassword, "-L", "-m", "3")
		b, err := cmd.CombinedOutput()
		return string(b), err
	}()
	if err == nil || !strings.Contains(out, "SCRAM-SHA-512") {
		t.Errorf("PLAIN on a SCRAM-SHA-512 listener: err = %v, output %q (want the enabled mechanisms named)", err, out)
	}
}
