package mirror

// TLS for `security.protocol = SSL`, from Kafka's client keys. Stores must
// be PEM (`ssl.truststore.type = PEM`, `ssl.keystore.type = PEM`), as
// Kafka has accepted since 2.7; JKS and PKCS12 files are refused with an
// error saying to convert them (keytool / openssl). Without a truststore
// the system's roots are trusted. `ssl.endpoint.identification.algorithm`
// empty keeps verifying the chain but not the broker's host name, as in
// Java.

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// sslKeys are the ssl.* client properties used; other ssl.* keys (protocol
// and cipher choices, Java providers) are accepted with a warning.
var sslKeys = []string{
	"ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.certificates",
	"ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.key", "ssl.keystore.certificate.chain",
	"ssl.keystore.password", "ssl.key.password", "ssl.truststore.password",
	"ssl.endpoint.identification.algorithm",
}

// tlsConfig builds the TLS config the ssl.* properties describe.
func tlsConfig(props map[string]string) (*tls.Config, error) {
	var errs []error
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	pemOnly := func(typeKey string) bool {
		t, ok := props[typeKey]
		if !ok || strings.EqualFold(t, "PEM") {
			return true
		}
		errs = append(errs, fmt.Errorf("%s=%q: only PEM is supported; convert the store to PEM (keytool -importkeystore, then openssl) and set %s=PEM", typeKey, t, typeKey))
		return false
	}
	if loc, inline := props["ssl.truststore.location"], props["ssl.truststore.certificates"]; loc != "" || inline != "" {
		if pemOnly("ssl.truststore.type") {
			data := []byte(inline)
			if loc != "" {
				var err error
				if data, err = os.ReadFile(loc); err != nil {
					errs = append(errs, fmt.Errorf("ssl.truststore.location: %w", err))
				}
			}
			pool := x509.NewCertPool()
			if len(data) > 0 && !pool.AppendCertsFromPEM(data) {
				errs = append(errs, errors.New("ssl.truststore: no PEM certificate found"))
			}
			cfg.RootCAs = pool
		}
	} else if _, typed := props["ssl.truststore.type"]; typed {
		pemOnly("ssl.truststore.type")
	}
	if p := props["ssl.key.password"] + props["ssl.keystore.password"]; p != "" && (props["ssl.keystore.location"] != "" || props["ssl.keystore.key"] != "") {
		errs = append(errs, errors.New("ssl.key.password / ssl.keystore.password: encrypted private keys are not supported; give the key unencrypted in PEM"))
	}
	if loc, key := props["ssl.keystore.location"], props["ssl.keystore.key"]; (loc != "" || key != "") && pemOnly("ssl.keystore.type") {
		var certPEM, keyPEM []byte
		if loc != "" {
			data, err := os.ReadFile(loc)
			if err != nil {
				errs = append(errs, fmt.Errorf("ssl.keystore.location: %w", err))
			}
			certPEM, keyPEM = splitPEM(data)
		} else {
			certPEM, keyPEM = []byte(props["ssl.keystore.certificate.chain"]), []byte(key)
		}
		if cert, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
			errs = append(errs, fmt.Errorf("ssl.keystore: %w", err))
		} else {
			cfg.Certificates = []tls.Certificate{cert}
		}
	}
	switch alg := props["ssl.endpoint.identification.algorithm"]; {
	case alg == "" && hasKey(props, "ssl.endpoint.identification.algorithm"):
		// Verify the chain, not the host name.
		roots := cfg.RootCAs
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("broker sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	case alg == "" || strings.EqualFold(alg, "https"):
	default:
		errs = append(errs, fmt.Errorf("ssl.endpoint.identification.algorithm=%q: accepted https (the default) or empty", alg))
	}
	return cfg, errors.Join(errs...)
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// splitPEM separates a PEM file's certificates from its private key.
func splitPEM(data []byte) (certs, key []byte) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return certs, key
		}
		if strings.Contains(block.Type, "PRIVATE KEY") {
			key = append(key, pem.EncodeToMemory(block)...)
		} else {
			certs = append(certs, pem.EncodeToMemory(block)...)
		}
	}
}
