package worker

// REST API security, Kafka Connect's way:
//
//   - listeners=https://host:port serves the REST API over TLS. The server
//     certificate and key come from listeners.https.ssl.keystore.location
//     (PEM: chain and key, or the key in listeners.https.ssl.key.location)
//     and, for client certificates, listeners.https.ssl.truststore.location
//     with listeners.https.ssl.client.auth=required|requested; each
//     listeners.https.ssl.* key falls back to the worker's ssl.* key, as in
//     Kafka Connect.
//   - rest.extension.classes=org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension
//     requires HTTP basic authentication on every request. Kafka reads the
//     users from a JAAS PropertyFileLoginModule file; here the file is
//     named by rest.basic.auth.credentials.file (not a Kafka key), in the
//     same user: password form. A failed attempt is answered 401 and logged
//     with the client address, never the password.

import (
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/tributary-streams/tributary/internal/pemfile"
	"github.com/tributary-streams/tributary/internal/properties"
)

// BasicAuthExtension is Kafka Connect's basic-auth REST extension class.
const BasicAuthExtension = "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"

// restSSLKeys are the listeners.https.ssl.* keys the REST server reads.
var restSSLKeys = []string{"ssl.keystore.location", "ssl.key.location", "ssl.keystore.type",
	"ssl.truststore.location", "ssl.truststore.type", "ssl.client.auth", "ssl.keystore.password", "ssl.key.password"}

// setRestKey stores listeners.https.ssl.*, rest.extension.classes and
// rest.basic.auth.credentials.file.
func (c *Config) setRestKey(key, value string) (bool, error) {
	value = strings.TrimSpace(value)
	switch {
	case key == "rest.extension.classes":
		c.RestExtensions = splitList(value)
		for _, e := range c.RestExtensions {
			if e != BasicAuthExtension {
				return true, fmt.Errorf("worker config rest.extension.classes: %q is not available; accepted %s", e, BasicAuthExtension)
			}
		}
		return true, nil
	case key == "rest.basic.auth.credentials.file":
		c.RestBasicAuthFile = value
		return true, nil
	case strings.HasPrefix(key, "listeners.https."):
		sub := strings.TrimPrefix(key, "listeners.https.")
		if !slices.Contains(restSSLKeys, sub) {
			return true, fmt.Errorf("worker config %s: accepted listeners.https.%s", key, strings.Join(restSSLKeys, ", listeners.https."))
		}
		if c.RestSSL == nil {
			c.RestSSL = map[string]string{}
		}
		c.RestSSL[sub] = value
		return true, nil
	}
	return false, nil
}

// restSSL is a REST TLS key: the listeners.https. one, else the worker's.
func (c *Config) restSSL(key string) string {
	if v, ok := c.RestSSL[key]; ok {
		return v
	}
	return c.ClientSecurity[key]
}

// restTLSConfig is the REST server's TLS config, nil without https.
func (c *Config) restTLSConfig() (*tls.Config, error) {
	if !c.RestTLS {
		return nil, nil
	}
	for _, key := range []string{"ssl.keystore.type", "ssl.truststore.type"} {
		if t := c.restSSL(key); t != "" && !strings.EqualFold(t, "PEM") {
			return nil, fmt.Errorf("REST https: %s=%q: only PEM is read; convert the store to PEM", key, t)
		}
	}
	if c.restSSL("ssl.keystore.password") != "" || c.restSSL("ssl.key.password") != "" {
		return nil, errors.New("REST https: ssl.keystore.password / ssl.key.password are set, but only unencrypted PEM keys are read")
	}
	keystore := c.restSSL("ssl.keystore.location")
	if keystore == "" {
		return nil, errors.New("listeners=https://... needs listeners.https.ssl.keystore.location (a PEM file with the certificate chain and key)")
	}
	cert, err := pemfile.ReadKeyPair("REST https: ssl.keystore.location", keystore, c.restSSL("ssl.key.location"))
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	switch auth := strings.ToLower(c.restSSL("ssl.client.auth")); auth {
	case "", "none":
	case "required", "requested":
		ts := c.restSSL("ssl.truststore.location")
		if ts == "" {
			return nil, fmt.Errorf("REST https: ssl.client.auth=%s needs ssl.truststore.location", auth)
		}
		if cfg.ClientCAs, err = pemfile.ReadCertPool("REST https: ssl.truststore.location", ts); err != nil {
			return nil, err
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		if auth == "requested" {
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
		}
	default:
		return nil, fmt.Errorf("REST https: ssl.client.auth=%q: accepted none, requested or required", auth)
	}
	return cfg, nil
}

// basicAuthUsers reads the credentials file; nil when basic auth is off.
func (c *Config) basicAuthUsers() (map[string]string, error) {
	if !slices.Contains(c.RestExtensions, BasicAuthExtension) {
		if c.RestBasicAuthFile != "" {
			return nil, fmt.Errorf("rest.basic.auth.credentials.file is set but rest.extension.classes does not name %s", BasicAuthExtension)
		}
		return nil, nil
	}
	if c.RestBasicAuthFile == "" {
		return nil, fmt.Errorf("rest.extension.classes=%s needs rest.basic.auth.credentials.file (lines of user: password)", BasicAuthExtension)
	}
	props, err := properties.ParseFile(c.RestBasicAuthFile)
	if err != nil {
		return nil, fmt.Errorf("rest.basic.auth.credentials.file: %w", err)
	}
	users := map[string]string{}
	for _, p := range props {
		users[p.Key] = p.Value
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("rest.basic.auth.credentials.file %s lists no user", c.RestBasicAuthFile)
	}
	return users, nil
}

// requireBasicAuth wraps h with HTTP basic authentication against users.
func (s *restServer) requireBasicAuth(users map[string]string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		want, known := users[user]
		if !known {
			want = "\x00unknown user" // compared anyway, so timing does not tell
		}
		if !ok || subtle.ConstantTimeCompare([]byte(pass), []byte(want)) != 1 || !known {
			if ok {
				s.log.Info("REST request refused: bad credentials", "remote", r.RemoteAddr, "user", user, "path", r.URL.Path)
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="connect"`)
			writeError(w, http.StatusUnauthorized, "Unauthorized: this worker requires HTTP basic authentication")
			return
		}
		h.ServeHTTP(w, r)
	})
}
