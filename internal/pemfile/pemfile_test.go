package pemfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-streams/tributary/internal/pemfile"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestRead(t *testing.T) {
	certs := testkit.NewCerts(t)
	if _, err := pemfile.ReadCertPool("ssl.truststore.location", certs.CAFile); err != nil {
		t.Fatal(err)
	}
	if _, err := pemfile.ReadKeyPair("ssl.keystore.location", certs.ServerKeystore, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := pemfile.ReadKeyPair("ssl.keystore.location", certs.ServerCert, certs.ServerKey); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o600)
		return p
	}
	jks := write("a.jks", []byte{0xfe, 0xed, 0xfe, 0xed, 1, 2})
	p12 := write("a.p12", []byte{0x30, 0x82, 0x01, 0x00})
	text := write("a.txt", []byte("hello"))
	enc := write("enc.pem", []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	for _, c := range []struct {
		err  error
		want string
	}{
		{func() error { _, err := pemfile.ReadCertPool("t", jks); return err }(), "JKS keystore"},
		{func() error { _, err := pemfile.ReadCertPool("t", p12); return err }(), "PKCS#12"},
		{func() error { _, err := pemfile.ReadCertPool("t", text); return err }(), "no CERTIFICATE block"},
		{func() error { _, err := pemfile.ReadCertPool("t", certs.ServerKey); return err }(), "no CERTIFICATE block"},
		{func() error { _, err := pemfile.ReadKeyPair("k", certs.ServerCert, enc); return err }(), "encrypted"},
		{func() error { _, err := pemfile.ReadKeyPair("k", certs.ServerCert, ""); return err }(), "PRIVATE KEY"},
		{func() error { _, err := pemfile.ReadKeyPair("k", jks, ""); return err }(), "JKS"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("err = %v, want %q", c.err, c.want)
		}
	}
	_, err := pemfile.ReadCertPool("t", jks)
	if !errors.Is(err, pemfile.ErrNotPEM) {
		t.Errorf("%v does not wrap ErrNotPEM", err)
	}
}
