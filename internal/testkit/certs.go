package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Certs is a throwaway certificate authority made for one test, with a
// server certificate for 127.0.0.1 and localhost, written as PEM files in
// a temp dir. Its keys exist only for the test's life: nothing of value is
// ever committed.
type Certs struct {
	// CAFile is the CA certificate (a truststore: ssl.truststore.location).
	CAFile string
	// ServerCert and ServerKey are the server's chain and key files;
	// ServerKeystore holds both (Kafka's PEM keystore form).
	ServerCert, ServerKey, ServerKeystore string

	t     testing.TB
	dir   string
	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
	pool  *x509.CertPool
}

// NewCerts makes a CA and a server certificate.
func NewCerts(t testing.TB) *Certs {
	t.Helper()
	c := &Certs{t: t, dir: t.TempDir()}
	c.caKey = newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Tributary Test CA", Organization: []string{"Tributary tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &c.caKey.PublicKey, c.caKey)
	if err != nil {
		t.Fatalf("testkit: make CA: %v", err)
	}
	c.ca, _ = x509.ParseCertificate(der)
	c.pool = x509.NewCertPool()
	c.pool.AddCert(c.ca)
	c.CAFile = c.write("ca.pem", pemBlock("CERTIFICATE", der))
	c.ServerCert, c.ServerKey = c.Issue("server", pkix.Name{CommonName: "localhost"}, true)
	cert, _ := os.ReadFile(c.ServerCert)
	key, _ := os.ReadFile(c.ServerKey)
	c.ServerKeystore = c.write("server-keystore.pem", append(cert, key...))
	return c
}

// Issue makes a certificate signed by the CA with subject, for a server
// (127.0.0.1 and localhost) or a client, and returns its cert and key
// files, named after name.
func (c *Certs) Issue(name string, subject pkix.Name, server bool) (certFile, keyFile string) {
	c.t.Helper()
	key := newKey(c.t)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.ca, &key.PublicKey, c.caKey)
	if err != nil {
		c.t.Fatalf("testkit: issue %s: %v", name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.write(name+".pem", pemBlock("CERTIFICATE", der)), c.write(name+"-key.pem", pemBlock("PRIVATE KEY", keyDER))
}

// ClientTLS is a client TLS config that trusts the CA, presenting the
// given client certificate when certFile is not empty.
func (c *Certs) ClientTLS(certFile, keyFile string) *tls.Config {
	c.t.Helper()
	cfg := &tls.Config{RootCAs: c.pool, MinVersion: tls.VersionTLS12}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			c.t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}

// Pool is the CA as a certificate pool.
func (c *Certs) Pool() *x509.CertPool { return c.pool }

func (c *Certs) write(name string, data []byte) string {
	path := filepath.Join(c.dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		c.t.Fatal(err)
	}
	return path
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
