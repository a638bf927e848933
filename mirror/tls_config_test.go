package mirror

import (
	"strings"
	"testing"
)

func TestTLSConfigFromKafkaKeys(t *testing.T) {
	for _, c := range []struct {
		name  string
		props map[string]string
		want  string // error substring, "" for none
	}{
		{"system roots", map[string]string{}, ""},
		{"jks truststore", map[string]string{"ssl.truststore.type": "JKS", "ssl.truststore.location": "/x.jks"}, `ssl.truststore.type="JKS": only PEM is supported`},
		{"pkcs12 keystore", map[string]string{"ssl.keystore.type": "PKCS12", "ssl.keystore.location": "/x.p12"}, `ssl.keystore.type="PKCS12": only PEM is supported`},
		{"missing file", map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": "/nonexistent.pem"}, "ssl.truststore.location: open /nonexistent.pem"},
		{"inline junk", map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.certificates": "not pem"}, "no PEM certificate found"},
		{"encrypted key", map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.key": "k", "ssl.key.password": "secret"}, "encrypted private keys are not supported"},
		{"bad algorithm", map[string]string{"ssl.endpoint.identification.algorithm": "ldap"}, `accepted https (the default) or empty`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := tlsConfig(c.props)
			if c.want == "" {
				if err != nil || cfg == nil {
					t.Fatalf("tlsConfig: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("tlsConfig: %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
	cfg, err := tlsConfig(map[string]string{"ssl.endpoint.identification.algorithm": ""})
	if err != nil || !cfg.InsecureSkipVerify || cfg.VerifyConnection == nil {
		t.Fatalf("empty endpoint identification: the chain must still be verified: %+v %v", cfg, err)
	}
}
