package mirror_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/mirror"
)

// testCA is a certificate authority for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key signed by the CA, for 127.0.0.1
// and localhost.
func (ca *testCA) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// tlsBroker is a broker reachable only through a TLS-terminating proxy,
// which it advertises, so clients must speak TLS to it; with clients set,
// the proxy requires a client certificate from that CA.
func tlsBroker(t *testing.T, ca *testCA, clients *testCA) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	listen := testkit.FreePort(t)
	testkit.StartBroker(t, testkit.WithListen(listen), testkit.WithAdvertise(addr))
	certPEM, keyPEM := ca.issue(t, "broker", x509.ExtKeyUsageServerAuth)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if clients != nil {
		pool := x509.NewCertPool()
		pool.AddCert(clients.cert)
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	tln := tls.NewListener(ln, cfg)
	t.Cleanup(func() { tln.Close() })
	go func() {
		for {
			c, err := tln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", listen)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	return addr
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A flow into a cluster reached over TLS with a client certificate
// (security.protocol = SSL, PEM stores).
func TestCopiesIntoClusterOverMutualTLS(t *testing.T) {
	ca, clientCA := newCA(t), newCA(t)
	a := testkit.StartBroker(t)
	b := tlsBroker(t, ca, clientCA)
	createTopic(t, a.Addr, "orders", 2)
	recs := produce(t, a.Addr, sourceRecords("orders", 2, 10)...)
	cert, key := clientCA.issue(t, "mirror", x509.ExtKeyUsageClientAuth)
	trust := writeFile(t, "ca.pem", ca.pem)
	keystore := writeFile(t, "mirror.pem", append(cert, key...))

	m := startMirror(t, twoClusters(a.Addr, b)+fmt.Sprintf(`
A->B.enabled = true
B.security.protocol = SSL
B.ssl.truststore.type = PEM
B.ssl.truststore.location = %s
B.ssl.keystore.type = PEM
B.ssl.keystore.location = %s
`, trust, keystore))
	testkit.Eventually(t, 30*time.Second, func() error {
		if st := flowStatus(m, "A->B"); st.Err != nil || len(st.Topics) == 0 || st.Topics[0].Partitions != 2 {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	// Read back through the same TLS endpoint, as the mirror wrote.
	got := consumeTLS(t, b, ca, clientCA, "A.orders", len(recs))
	checkCopied(t, recs, got)
}

// The wrong CA, or a JKS store, is a clear error, not a plaintext
// connection.
func TestTLSProblemsAreClearErrors(t *testing.T) {
	ca, other := newCA(t), newCA(t)
	a := testkit.StartBroker(t)
	b := tlsBroker(t, ca, nil)
	wrong := writeFile(t, "other.pem", other.pem)
	m := startMirror(t, twoClusters(a.Addr, b)+fmt.Sprintf(`
A->B.enabled = true
A->B.admin.timeout.ms = 2000
B.security.protocol = SSL
B.ssl.truststore.type = PEM
B.ssl.truststore.location = %s
`, wrong))
	testkit.Eventually(t, 30*time.Second, func() error {
		st := flowStatus(m, "A->B")
		if st.Err == nil || !strings.Contains(st.Err.Error(), "cluster B") || !strings.Contains(st.Err.Error(), "certificate") {
			return fmt.Errorf("status error %v, want an unreachable cluster B with a certificate error", st.Err)
		}
		return nil
	})

	cfgText := twoClusters(a.Addr, b) + "A->B.enabled = true\nB.security.protocol = SSL\nB.ssl.truststore.type = JKS\nB.ssl.truststore.location = /etc/kafka/truststore.jks\nB.security.protocol = SSL\n"
	cfg := parseForTest(t, cfgText)
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `ssl.truststore.type must be PEM, got "JKS"`) {
		t.Fatalf("JKS truststore: %v", err)
	}
	cfg = parseForTest(t, twoClusters(a.Addr, b)+"A->B.enabled = true\nB.security.protocol = SASL_SSL\n")
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "needs sasl.mechanism") {
		t.Fatalf("SASL_SSL without a mechanism: %v", err)
	}
}

func parseForTest(t *testing.T, text string) mirror.Config {
	t.Helper()
	cfg, err := mirror.ParseConfig(strings.NewReader(text), "mm2.properties")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// consumeTLS reads n records of topic through the TLS endpoint.
func consumeTLS(t *testing.T, addr string, ca, clientCA *testCA, topic string, n int) []*kgo.Record {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	certPEM, keyPEM := clientCA.issue(t, "reader", x509.ExtKeyUsageClientAuth)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return consumeN(t, addr, topic, n, 30*time.Second,
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}))
}
