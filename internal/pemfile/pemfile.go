// Package pemfile reads the PEM certificates and private keys that TLS
// settings name (ssl.truststore.location, ssl.keystore.location,
// ssl.key.location, ...), for the broker's listeners, Tributary's Kafka
// clients and the Connect REST server alike.
//
// Only PEM is read. A Java keystore (JKS) or PKCS#12 file is recognised
// and refused with the commands that convert it; so is an encrypted
// private key, which Go's standard library cannot decrypt.
package pemfile

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// ErrNotPEM is wrapped when a file or value holds no usable PEM.
var ErrNotPEM = errors.New("pemfile: not PEM")

// Read reads a file for a setting, refusing keystore formats other than
// PEM with how to convert them. what names the setting, for messages.
func Read(what, path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := refuseOtherFormats(raw); err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return raw, nil
}

func refuseOtherFormats(raw []byte) error {
	switch {
	case bytes.HasPrefix(raw, []byte{0xfe, 0xed, 0xfe, 0xed}):
		return fmt.Errorf("%w: this is a JKS keystore; convert it to PEM, e.g. "+
			"`keytool -importkeystore -srckeystore store.jks -destkeystore store.p12 -deststoretype PKCS12` then "+
			"`openssl pkcs12 -in store.p12 -out store.pem -nodes`", ErrNotPEM)
	case len(raw) > 0 && raw[0] == 0x30 && !bytes.Contains(raw, []byte("-----BEGIN")):
		return fmt.Errorf("%w: this looks like a PKCS#12 or DER file; convert it to PEM, e.g. "+
			"`openssl pkcs12 -in store.p12 -out store.pem -nodes` (or `openssl x509 -inform der -in cert.der -out cert.pem`)", ErrNotPEM)
	}
	return nil
}

// CertPool parses PEM certificates (a CA bundle) into a pool.
func CertPool(what string, pemBytes []byte) (*x509.CertPool, error) {
	if err := refuseOtherFormats(pemBytes); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := pemBytes; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", what, n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: %w: no CERTIFICATE block found (want PEM, -----BEGIN CERTIFICATE-----)", what, ErrNotPEM)
	}
	return pool, nil
}

// ReadCertPool reads a PEM CA bundle file.
func ReadCertPool(what, path string) (*x509.CertPool, error) {
	raw, err := Read(what, path)
	if err != nil {
		return nil, err
	}
	return CertPool(what+" "+path, raw)
}

// KeyPair parses a PEM certificate chain and its private key. keyPEM may
// be nil when certPEM holds the key too (Kafka's PEM keystore file).
func KeyPair(what string, certPEM, keyPEM []byte) (tls.Certificate, error) {
	if keyPEM == nil {
		keyPEM = certPEM
	}
	for _, b := range [][]byte{certPEM, keyPEM} {
		if err := refuseOtherFormats(b); err != nil {
			return tls.Certificate{}, fmt.Errorf("%s: %w", what, err)
		}
	}
	if bytes.Contains(keyPEM, []byte("ENCRYPTED")) {
		return tls.Certificate{}, fmt.Errorf("%s: the private key is encrypted, which is not supported; "+
			"store it decrypted with restricted file permissions, e.g. `openssl pkey -in key.pem -out key-decrypted.pem`", what)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: %w (want PEM: -----BEGIN CERTIFICATE----- blocks and one PRIVATE KEY block)", what, err)
	}
	return cert, nil
}

// ReadKeyPair reads a certificate chain file and a private key file;
// keyPath "" means the key is in certPath.
func ReadKeyPair(what, certPath, keyPath string) (tls.Certificate, error) {
	certPEM, err := Read(what, certPath)
	if err != nil {
		return tls.Certificate{}, err
	}
	var keyPEM []byte
	if keyPath != "" {
		if keyPEM, err = Read(what, keyPath); err != nil {
			return tls.Certificate{}, err
		}
	}
	return KeyPair(what+" "+certPath, certPEM, keyPEM)
}
