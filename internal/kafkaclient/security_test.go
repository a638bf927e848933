package kafkaclient_test

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-streams/tributary/internal/kafkaclient"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestFromPropertiesErrors(t *testing.T) {
	dir := t.TempDir()
	jks := filepath.Join(dir, "store.jks")
	os.WriteFile(jks, []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2}, 0o600)
	cases := []struct {
		props map[string]string
		want  string // in the error of FromProperties or Opts
	}{
		{map[string]string{"security.protocol": "TLS"}, `security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got "TLS"`},
		{map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "GSSAPI"}, "GSSAPI is not supported"},
		{map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.username": "a", "sasl.password": "p"}, "needs sasl.mechanism"},
		{map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN"}, "needs credentials"},
		{map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-256",
			"sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="topsecret";`}, "uses PlainLoginModule but sasl.mechanism=SCRAM-SHA-256"},
		{map[string]string{"sasl.jaas.config": `com.sun.security.auth.module.Krb5LoginModule required;`}, "login module com.sun.security.auth.module.Krb5LoginModule is not supported"},
		{map[string]string{"sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="topsecret"`}, "missing ';'"},
		{map[string]string{"ssl.truststore.type": "JKS"}, "convert them to PEM"},
		{map[string]string{"security.protocol": "SSL", "ssl.truststore.location": jks}, "JKS keystore; convert it to PEM"},
		{map[string]string{"security.protocol": "SSL", "ssl.truststore.location": filepath.Join(dir, "missing.pem")}, "no such file"},
		{map[string]string{"security.protocol": "SSL", "ssl.key.location": jks}, "without its certificate"},
		{map[string]string{"ssl.key.password": "topsecret"}, "only unencrypted PEM files"},
		{map[string]string{"ssl.cipher.suites": "x"}, "ssl.cipher.suites is not supported"},
		{map[string]string{"sasl.login.callback.handler.class": "x"}, "is not supported"},
		{map[string]string{"ssl.endpoint.identification.algorithm": "http"}, "https, or empty"},
	}
	for _, c := range cases {
		s, err := kafkaclient.FromProperties(c.props)
		if err == nil {
			_, err = s.Opts()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, kafkaclient.ErrConfig) {
			t.Errorf("%v: err = %v, want %q", c.props, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "topsecret") {
			t.Errorf("%v: the error shows a secret: %v", c.props, err)
		}
	}
	for _, ok := range []map[string]string{
		{},
		{"security.protocol": "plaintext", "sasl.mechanism": "PLAIN"}, // ignored, as in Kafka
		{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512",
			"sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="a" password="p";`},
		{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.username": "a", "sasl.password": "p"},
		{"bootstrap.servers": "x:1", "acks": "all"}, // not security keys: ignored here
	} {
		if _, err := kafkaclient.Opts(ok); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}

// TestTLSConfig checks the TLS settings with real handshakes against a
// server holding a certificate for 127.0.0.1 and localhost.
func TestTLSConfig(t *testing.T) {
	certs := testkit.NewCerts(t)
	serverPair, err := tls.LoadX509KeyPair(certs.ServerCert, certs.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{serverPair}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: certs.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peers := make(chan string, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			if tc.Handshake() == nil {
				cn := ""
				if pc := tc.ConnectionState().PeerCertificates; len(pc) > 0 {
					cn = pc[0].Subject.CommonName
				}
				peers <- cn
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	clientCert, clientKey := certs.Issue("alice", pkix.Name{CommonName: "alice"}, false)
	caPEM, _ := os.ReadFile(certs.CAFile)
	certPEM, _ := os.ReadFile(clientCert)
	keyPEM, _ := os.ReadFile(clientKey)
	other := testkit.NewCerts(t) // a CA the server's certificate is not from

	handshake := func(name string, props map[string]string) (string, error) {
		t.Helper()
		s, err := kafkaclient.FromProperties(props)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := s.TLSConfig()
		if err != nil {
			t.Fatal(err)
		}
		if !s.NoHostnameCheck {
			cfg.ServerName = name // franz-go sets it to the dialled host
		}
		c, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", port), cfg)
		if err != nil {
			return "", err
		}
		defer c.Close()
		return <-peers, nil
	}
	if _, err := handshake("127.0.0.1", map[string]string{"ssl.truststore.location": certs.CAFile}); err != nil {
		t.Fatalf("trusted CA: %v", err)
	}
	if _, err := handshake("localhost", map[string]string{"ssl.truststore.certificates": string(caPEM)}); err != nil {
		t.Fatalf("inline CA: %v", err)
	}
	if _, err := handshake("127.0.0.1", map[string]string{"ssl.truststore.location": other.CAFile}); err == nil {
		t.Fatal("a server from another CA was trusted")
	}
	if _, err := handshake("127.0.0.1", map[string]string{"ssl.truststore.location": other.CAFile, "ssl.endpoint.identification.algorithm": ""}); err == nil {
		t.Fatal("no host name check also skipped the chain check")
	}
	// A name the certificate does not carry: refused with the check, fine
	// without it.
	if _, err := handshake("kafka.example", map[string]string{"ssl.truststore.location": certs.CAFile}); err == nil {
		t.Fatal("a certificate without the host's name was accepted")
	}
	if _, err := handshake("kafka.example", map[string]string{"ssl.truststore.location": certs.CAFile, "ssl.endpoint.identification.algorithm": ""}); err != nil {
		t.Fatalf("no host name check: %v", err)
	}
	cn, err := handshake("127.0.0.1", map[string]string{"ssl.ca.location": certs.CAFile, "ssl.certificate.location": clientCert, "ssl.key.location": clientKey})
	if err != nil || cn != "alice" {
		t.Fatalf("client certificate (files): cn=%q err=%v", cn, err)
	}
	cn, err = handshake("127.0.0.1", map[string]string{"ssl.truststore.location": certs.CAFile,
		"ssl.keystore.certificate.chain": string(certPEM), "ssl.keystore.key": string(keyPEM)})
	if err != nil || cn != "alice" {
		t.Fatalf("client certificate (inline): cn=%q err=%v", cn, err)
	}
	keystore := filepath.Join(t.TempDir(), "keystore.pem")
	os.WriteFile(keystore, append(certPEM, keyPEM...), 0o600)
	cn, err = handshake("127.0.0.1", map[string]string{"ssl.truststore.location": certs.CAFile, "ssl.keystore.location": keystore, "ssl.keystore.type": "PEM"})
	if err != nil || cn != "alice" {
		t.Fatalf("client keystore: cn=%q err=%v", cn, err)
	}
}

func TestShow(t *testing.T) {
	for _, k := range []string{"sasl.jaas.config", "sasl.password", "ssl.keystore.key", "ssl.key.password"} {
		if kafkaclient.Show(k, "x") != "(hidden)" {
			t.Errorf("%s shown", k)
		}
	}
	if kafkaclient.Show("sasl.username", "alice") != "alice" {
		t.Error("sasl.username hidden")
	}
}
