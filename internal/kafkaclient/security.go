// Package kafkaclient turns standard Kafka client properties into franz-go
// options, for every client inside Tributary: the CLI (--command-config,
// profiles), streams apps, connect workers and their connectors, and
// mirror flows. Settings reads the properties of the Java client that have
// a franz-go counterpart (client.id, request.timeout.ms, acks, linger.ms,
// max.poll.records, ...; see PropertyKeys) and the security ones; each
// caller decides which of them it takes.
//
// The security properties are read the same way everywhere:
//
//	security.protocol                       PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL
//	sasl.mechanism                          PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (Kafka's default, GSSAPI, is not supported)
//	sasl.jaas.config                        PlainLoginModule or ScramLoginModule with username="..." password="..."
//	sasl.username, sasl.password            the same credentials, librdkafka's way
//	ssl.truststore.location                 PEM CA bundle (ssl.truststore.type=PEM); ssl.ca.location is a synonym
//	ssl.truststore.certificates             the CA bundle inline, as PEM
//	ssl.keystore.location                   PEM client certificate chain, and its key unless ssl.key.location is set
//	ssl.key.location, ssl.certificate.location  client key and certificate files (librdkafka's names)
//	ssl.keystore.certificate.chain, ssl.keystore.key  the client chain and key inline, as PEM
//	ssl.endpoint.identification.algorithm   https (default: the broker's name is checked) or empty (chain checked, name not)
//	ssl.protocol, ssl.enabled.protocols     TLSv1.2, TLSv1.3: the lowest enabled is the minimum version
//
// Without a truststore the system's CAs are trusted, as the JVM's default
// truststore is. Only PEM is read: JKS and PKCS#12 files are refused with
// the commands that convert them (see internal/pemfile). Unsupported values
// are errors naming the key and what is accepted; no error or log shows a
// password, a JAAS entry or a private key.
package kafkaclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/tributary-streams/tributary/internal/jaas"
	"github.com/tributary-streams/tributary/internal/pemfile"
)

// ErrConfig matches (errors.Is) every bad security setting. The errors
// themselves read as "<key> must be <what is accepted>, got ..." or name
// the keys that do not fit together, without a package prefix, so a
// program can put where the setting came from in front.
var ErrConfig = errors.New("kafkaclient: bad security config")

type configError struct{ msg string }

func (e *configError) Error() string        { return e.msg }
func (e *configError) Is(target error) bool { return target == ErrConfig }

func errorf(format string, args ...any) error {
	return &configError{msg: fmt.Sprintf(format, args...)}
}

// Security protocols, as security.protocol names them.
const (
	Plaintext     = "PLAINTEXT"
	SSL           = "SSL"
	SASLPlaintext = "SASL_PLAINTEXT"
	SASLSSL       = "SASL_SSL"
)

// Security is a client's security settings, built with Set from the
// properties and turned into options with Opts. The zero value is
// PLAINTEXT.
type Security struct {
	Protocol  string // "" = PLAINTEXT
	Mechanism string // "" = not set
	Username  string
	Password  string // never shown

	TrustStoreFile string
	TrustStorePEM  string
	CertFile       string // client chain (ssl.keystore.location or ssl.certificate.location)
	KeyFile        string // "" = the key is in CertFile
	CertPEM        string
	KeyPEM         string // never shown
	// NoHostnameCheck is ssl.endpoint.identification.algorithm="".
	NoHostnameCheck bool
	MinVersion      uint16 // 0 = TLS 1.2

	jaasModule string // the login module of sasl.jaas.config, to check against the mechanism
}

// keys are the properties Set understands.
var keys = map[string]string{
	"security.protocol":                     "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL",
	"sasl.mechanism":                        "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
	"sasl.jaas.config":                      `a JAAS entry: org.apache.kafka.common.security.plain.PlainLoginModule (or scram.ScramLoginModule) required username="..." password="...";`,
	"sasl.username":                         "a user name",
	"sasl.password":                         "a password",
	"ssl.truststore.location":               "a PEM file of CA certificates",
	"ssl.ca.location":                       "a PEM file of CA certificates",
	"ssl.truststore.certificates":           "PEM CA certificates",
	"ssl.truststore.type":                   "PEM",
	"ssl.keystore.location":                 "a PEM file with the client certificate chain (and key)",
	"ssl.certificate.location":              "a PEM file with the client certificate chain",
	"ssl.key.location":                      "a PEM file with the client private key",
	"ssl.keystore.certificate.chain":        "PEM certificates",
	"ssl.keystore.key":                      "a PEM private key",
	"ssl.keystore.type":                     "PEM",
	"ssl.endpoint.identification.algorithm": "https, or empty for no host name check",
	"ssl.protocol":                          "TLSv1.2, TLSv1.3 or TLS",
	"ssl.enabled.protocols":                 "a comma-separated list of TLSv1.2, TLSv1.3",
	"ssl.key.password":                      "empty (encrypted private keys are not supported)",
	"ssl.keystore.password":                 "empty (PEM keystores have no password)",
	"ssl.truststore.password":               "empty (PEM truststores have no password)",
}

// Keys lists the properties Set understands, sorted.
func Keys() []string {
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// IsSecurityKey reports whether key is a security property: one Set
// understands, or any other sasl.* or ssl.* key (which Set refuses).
func IsSecurityKey(key string) bool {
	_, ok := keys[key]
	return ok || strings.HasPrefix(key, "sasl.") || strings.HasPrefix(key, "ssl.")
}

// IsSecret reports whether a property's value must never be shown.
func IsSecret(key string) bool {
	return strings.HasSuffix(key, ".password") || key == "sasl.jaas.config" || key == "ssl.keystore.key" ||
		strings.HasSuffix(key, "basic.auth.user.info")
}

// Show is value as it may appear in a message or log: "(hidden)" for a
// secret key.
func Show(key, value string) string {
	if IsSecret(key) {
		return "(hidden)"
	}
	return value
}

// FromProperties reads the security properties of props, ignoring the
// others, and reports every bad one at once.
func FromProperties(props map[string]string) (Security, error) {
	var s Security
	var errs []error
	names := make([]string, 0, len(props))
	for k := range props {
		if IsSecurityKey(k) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		if err := s.Set(k, props[k]); err != nil {
			errs = append(errs, err)
		}
	}
	return s, errors.Join(errs...)
}

// Set applies one security property. The error names the key and what is
// accepted; a secret's value is never in it.
func (s *Security) Set(key, value string) error {
	accepted, ok := keys[key]
	if !ok {
		return errorf("%s is not supported (supported security properties: %s)", key, strings.Join(Keys(), ", "))
	}
	v := strings.TrimSpace(value)
	bad := func(why string) error {
		if why != "" {
			why = ": " + why
		}
		return errorf("%s must be %s, got %q%s", key, accepted, Show(key, value), why)
	}
	switch key {
	case "security.protocol":
		p := strings.ToUpper(v)
		if !slices.Contains([]string{Plaintext, SSL, SASLPlaintext, SASLSSL}, p) {
			return bad("")
		}
		s.Protocol = p
	case "sasl.mechanism":
		m := strings.ToUpper(v)
		switch m {
		case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
			s.Mechanism = m
		case "GSSAPI", "OAUTHBEARER", "AWS_MSK_IAM":
			return bad(m + " is not supported")
		default:
			return bad("unknown mechanism")
		}
	case "sasl.jaas.config":
		e, err := jaas.Parse(v)
		if err != nil {
			return errorf("sasl.jaas.config must be %s (%v)", keys["sasl.jaas.config"], err)
		}
		switch e.ShortModule() {
		case "PlainLoginModule", "ScramLoginModule":
		default:
			return errorf("sasl.jaas.config: login module %s is not supported; accepted %s or %s", e.Module, jaas.PlainLoginModule, jaas.ScramLoginModule)
		}
		if e.Options["username"] == "" || e.Options["password"] == "" {
			return errorf("sasl.jaas.config: %s needs username=\"...\" and password=\"...\"", e.ShortModule())
		}
		if e.Options["tokenauth"] == "true" {
			return errorf("sasl.jaas.config: tokenauth (delegation tokens) is not supported")
		}
		s.jaasModule = e.ShortModule()
		s.Username, s.Password = e.Options["username"], e.Options["password"]
	case "sasl.username":
		if v == "" {
			return bad("empty")
		}
		s.Username = v
	case "sasl.password":
		s.Password = value
	case "ssl.truststore.location", "ssl.ca.location":
		if v == "" {
			return bad("empty")
		}
		s.TrustStoreFile = v
	case "ssl.truststore.certificates":
		s.TrustStorePEM = v
	case "ssl.truststore.type", "ssl.keystore.type":
		if !strings.EqualFold(v, "PEM") {
			return bad(v + " files are not read: convert them to PEM (see `openssl pkcs12 -nodes` and `keytool -importkeystore`)")
		}
	case "ssl.keystore.location", "ssl.certificate.location":
		if v == "" {
			return bad("empty")
		}
		s.CertFile = v
	case "ssl.key.location":
		if v == "" {
			return bad("empty")
		}
		s.KeyFile = v
	case "ssl.keystore.certificate.chain":
		s.CertPEM = v
	case "ssl.keystore.key":
		s.KeyPEM = v
	case "ssl.endpoint.identification.algorithm":
		switch strings.ToLower(v) {
		case "https":
			s.NoHostnameCheck = false
		case "", "none":
			s.NoHostnameCheck = true
		default:
			return bad("")
		}
	case "ssl.protocol":
		switch v {
		case "TLSv1.2", "TLS":
			s.MinVersion = tls.VersionTLS12
		case "TLSv1.3":
			s.MinVersion = tls.VersionTLS13
		default:
			return bad("")
		}
	case "ssl.enabled.protocols":
		lowest := uint16(0)
		for _, p := range strings.Split(v, ",") {
			var ver uint16
			switch strings.TrimSpace(p) {
			case "TLSv1.2":
				ver = tls.VersionTLS12
			case "TLSv1.3":
				ver = tls.VersionTLS13
			default:
				return bad("")
			}
			if lowest == 0 || ver < lowest {
				lowest = ver
			}
		}
		s.MinVersion = lowest
	case "ssl.key.password", "ssl.keystore.password", "ssl.truststore.password":
		if value != "" {
			return errorf("%s is set, but only unencrypted PEM files are read (decrypt a key with `openssl pkey -in key.pem -out key-decrypted.pem`)", key)
		}
	}
	return nil
}

// UsesTLS reports whether the protocol is SSL or SASL_SSL.
func (s Security) UsesTLS() bool { return s.Protocol == SSL || s.Protocol == SASLSSL }

// UsesSASL reports whether the protocol is SASL_PLAINTEXT or SASL_SSL.
func (s Security) UsesSASL() bool { return s.Protocol == SASLPlaintext || s.Protocol == SASLSSL }

// Validate checks the settings together (a SASL protocol needs a mechanism
// and credentials, a JAAS module must suit the mechanism, files must hold
// PEM), reporting every problem at once.
func (s Security) Validate() error {
	_, err := s.Opts()
	return err
}

// Opts returns the franz-go options for the settings: kgo.DialTLSConfig
// for SSL and SASL_SSL, kgo.SASL for SASL_*. PLAINTEXT gives none. TLS and
// SASL settings given with a protocol that does not use them are ignored,
// as Kafka's clients ignore them.
func (s Security) Opts() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	var errs []error
	if s.UsesTLS() {
		cfg, err := s.TLSConfig()
		if err != nil {
			errs = append(errs, flatten(err)...)
		} else {
			opts = append(opts, kgo.DialTLSConfig(cfg))
		}
	}
	if s.UsesSASL() {
		m, err := s.saslMechanism()
		if err != nil {
			errs = append(errs, flatten(err)...)
		} else {
			opts = append(opts, kgo.SASL(m))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return opts, nil
}

// flatten is the errors a joined error holds, so every problem is one
// error of the join Opts returns.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func (s Security) saslMechanism() (sasl.Mechanism, error) {
	var errs []error
	mech := s.Mechanism
	if mech == "" {
		errs = append(errs, errorf("security.protocol=%s needs sasl.mechanism (Kafka's default, GSSAPI, is not supported): set PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.Protocol))
	}
	if s.Username == "" || s.Password == "" {
		errs = append(errs, errorf("security.protocol=%s needs credentials: sasl.jaas.config with username and password, or sasl.username and sasl.password", s.Protocol))
	}
	switch {
	case s.jaasModule == "PlainLoginModule" && strings.HasPrefix(mech, "SCRAM"),
		s.jaasModule == "ScramLoginModule" && mech == "PLAIN":
		errs = append(errs, errorf("sasl.jaas.config uses %s but sasl.mechanism=%s; use %s", s.jaasModule, mech, map[string]string{
			"PlainLoginModule": jaas.PlainLoginModule + " for PLAIN",
			"ScramLoginModule": jaas.ScramLoginModule + " for SCRAM-SHA-256/512",
		}[s.jaasModule]))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	switch mech {
	case "PLAIN":
		return plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism(), nil
	default:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism(), nil
	}
}

// TLSConfig is the client TLS configuration the ssl.* settings describe.
func (s Security) TLSConfig() (*tls.Config, error) {
	var errs []error
	cfg := &tls.Config{MinVersion: max(s.MinVersion, tls.VersionTLS12)}
	var roots *x509.CertPool
	switch {
	case s.TrustStoreFile != "" && s.TrustStorePEM != "":
		errs = append(errs, errorf("set one of ssl.truststore.location and ssl.truststore.certificates"))
	case s.TrustStoreFile != "":
		pool, err := pemfile.ReadCertPool("ssl.truststore.location", s.TrustStoreFile)
		if err != nil {
			errs = append(errs, errorf("%v", err))
		}
		roots = pool
	case s.TrustStorePEM != "":
		pool, err := pemfile.CertPool("ssl.truststore.certificates", []byte(s.TrustStorePEM))
		if err != nil {
			errs = append(errs, errorf("%v", err))
		}
		roots = pool
	}
	cfg.RootCAs = roots // nil: the system's CAs
	switch {
	case s.CertFile != "" && s.CertPEM != "":
		errs = append(errs, errorf("set one of ssl.keystore.location and ssl.keystore.certificate.chain"))
	case s.CertFile != "":
		pair, err := pemfile.ReadKeyPair("ssl.keystore.location", s.CertFile, s.KeyFile)
		if err != nil {
			errs = append(errs, errorf("%v", err))
		}
		cfg.Certificates = []tls.Certificate{pair}
	case s.CertPEM != "":
		if s.KeyPEM == "" {
			errs = append(errs, errorf("ssl.keystore.certificate.chain needs ssl.keystore.key"))
			break
		}
		pair, err := pemfile.KeyPair("ssl.keystore.certificate.chain", []byte(s.CertPEM), []byte(s.KeyPEM))
		if err != nil {
			errs = append(errs, errorf("%v", err))
		}
		cfg.Certificates = []tls.Certificate{pair}
	case s.KeyFile != "" || s.KeyPEM != "":
		errs = append(errs, errorf("a client key is set without its certificate (ssl.keystore.location or ssl.keystore.certificate.chain)"))
	}
	if s.NoHostnameCheck {
		// The chain is still checked against the truststore; only the
		// broker's name is not (Kafka's empty
		// ssl.endpoint.identification.algorithm).
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
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Opts reads props' security properties and returns their options: the
// one call most clients need.
func Opts(props map[string]string) ([]kgo.Opt, error) {
	s, err := FromProperties(props)
	if err != nil {
		return nil, err
	}
	return s.Opts()
}
