package broker

// Listeners: each named listener binds its address and serves its security
// protocol. SSL and SASL_SSL listeners wrap connections in TLS (server
// certificate and optional client-certificate check from PEM files);
// SASL_PLAINTEXT and SASL_SSL connections must authenticate with
// SaslHandshake/SaslAuthenticate before anything but ApiVersions
// (sasl_authenticate.go). Clients are told the advertised address of the
// listener they connected to, in Metadata, FindCoordinator and
// DescribeCluster, as Kafka does.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/sasl"
	"github.com/tributary-streams/tributary/internal/pemfile"
)

// listener is a running listener.
type listener struct {
	resolvedListener
	ln      net.Listener
	tls     *tls.Config // nil for PLAINTEXT and SASL_PLAINTEXT
	advHost string
	advPort int32
	// mechanisms are the SASL mechanisms enabled (SASL listeners only).
	mechanisms []string
	// plainUsers is the PLAIN user list of the listener's JAAS entry; nil
	// means PLAIN checks the SCRAM credentials.
	plainUsers sasl.PlainUsers
	limits     *listenerLimits
}

// Addr is the advertised host:port of the listener.
func (l *listener) Addr() string { return net.JoinHostPort(l.advHost, strconv.Itoa(int(l.advPort))) }

// startListeners binds every listener.
func (b *Broker) startListeners() error {
	resolved, err := b.cfg.resolveListeners()
	if err != nil {
		return err
	}
	for _, r := range resolved {
		l := &listener{resolvedListener: r}
		if usesTLS(r.Protocol) {
			if l.tls, err = r.tlsConfig(); err != nil {
				return err
			}
		}
		if usesSASL(r.Protocol) {
			l.mechanisms, _ = r.mechanisms() // checked by Validate
			if v, ok := r.settings["plain.sasl.jaas.config"]; ok {
				l.plainUsers, _ = sasl.ParsePlainUsers(v)
			}
		}
		if l.ln, err = net.Listen("tcp", r.Address); err != nil {
			return fmt.Errorf("listener %s: listen on %s: %w", r.Name, r.Address, err)
		}
		b.listeners = append(b.listeners, l)
		if err := b.resolveAdvertised(l); err != nil {
			return err
		}
		l.limits = b.newListenerLimits(l)
	}
	return nil
}

// resolveAdvertised sets the address clients of l are told.
func (b *Broker) resolveAdvertised(l *listener) error {
	adv := l.Advertise
	if adv == "" {
		adv = l.ln.Addr().String()
	}
	host, portStr, err := net.SplitHostPort(adv)
	if err != nil {
		return fmt.Errorf("listener %s: advertise %q: %w", l.Name, adv, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		// An unspecified address can't be dialled: tell clients loopback,
		// and say so, since remote clients will need --advertise.
		host = "127.0.0.1"
		b.logger.Warn("listening on all interfaces without an advertised address: advertising 127.0.0.1, which only local clients can reach",
			"listener", l.Name)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 {
		return fmt.Errorf("listener %s: advertise %q: bad port", l.Name, adv)
	}
	l.advHost, l.advPort = host, int32(port)
	return nil
}

// ListenerAddr is the advertised host:port of the named listener, or ""
// if there is none.
func (b *Broker) ListenerAddr(name string) string {
	for _, l := range b.listeners {
		if strings.EqualFold(l.Name, name) {
			return l.Addr()
		}
	}
	return ""
}

// minTLSVersion reads ssl.enabled.protocols / ssl.protocol.
func (r resolvedListener) minTLSVersion() (uint16, error) {
	version := func(key, p string) (uint16, error) {
		switch strings.TrimSpace(p) {
		case "TLSv1.2", "TLS":
			return tls.VersionTLS12, nil
		case "TLSv1.3":
			return tls.VersionTLS13, nil
		}
		return 0, fmt.Errorf("%s: %q is not accepted: accepted TLSv1.2, TLSv1.3 (older versions are not served)", key, p)
	}
	if v, ok := r.settings["ssl.enabled.protocols"]; ok {
		lowest := uint16(0)
		for _, p := range strings.Split(v, ",") {
			n, err := version("ssl.enabled.protocols", p)
			if err != nil {
				return 0, err
			}
			if lowest == 0 || n < lowest {
				lowest = n
			}
		}
		return lowest, nil
	}
	if v, ok := r.settings["ssl.protocol"]; ok {
		return version("ssl.protocol", v)
	}
	return tls.VersionTLS12, nil
}

// tlsConfig builds the listener's server TLS configuration from its PEM
// files.
func (r resolvedListener) tlsConfig() (*tls.Config, error) {
	what := fmt.Sprintf("listener %s: ssl.keystore", r.Name)
	var cert tls.Certificate
	var err error
	if chain := r.settings["ssl.keystore.certificate.chain"]; chain != "" {
		cert, err = pemfile.KeyPair(what, []byte(chain), []byte(r.settings["ssl.keystore.key"]))
	} else {
		cert, err = pemfile.ReadKeyPair(what+".location", r.settings["ssl.keystore.location"], r.settings["ssl.key.location"])
	}
	if err != nil {
		return nil, err
	}
	minVersion, _ := r.minTLSVersion()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: minVersion}
	var pool *x509.CertPool
	switch {
	case r.settings["ssl.truststore.certificates"] != "":
		pool, err = pemfile.CertPool(fmt.Sprintf("listener %s: ssl.truststore.certificates", r.Name), []byte(r.settings["ssl.truststore.certificates"]))
	case r.settings["ssl.truststore.location"] != "":
		pool, err = pemfile.ReadCertPool(fmt.Sprintf("listener %s: ssl.truststore.location", r.Name), r.settings["ssl.truststore.location"])
	}
	if err != nil {
		return nil, err
	}
	cfg.ClientCAs = pool
	switch strings.ToLower(strings.TrimSpace(r.settings["ssl.client.auth"])) {
	case "required":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case "requested":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// errTLSHandshake wraps failed TLS handshakes.
var errTLSHandshake = errors.New("TLS handshake failed")

// startTLS runs the TLS handshake of a connection to a TLS listener
// (bounded by a deadline, so a client that sends nothing cannot hold a
// goroutine) and returns the principal of its client certificate, or
// ANONYMOUS without one.
func (c *clientConn) startTLS(tc *tls.Conn) (string, error) {
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	defer tc.SetDeadline(time.Time{})
	if err := tc.HandshakeContext(c.ctx); err != nil {
		return "", fmt.Errorf("%w: %v", errTLSHandshake, err)
	}
	if pc := tc.ConnectionState().PeerCertificates; len(pc) > 0 {
		return "User:" + pc[0].Subject.String(), nil
	}
	return anonymous, nil
}

// anonymous is the principal of an unauthenticated client, as in Kafka.
const anonymous = "User:ANONYMOUS"

// advertisedListeners is advertised.listeners as Kafka prints it:
// NAME://host:port,...
func (b *Broker) advertisedListeners() string {
	parts := make([]string, 0, len(b.listeners))
	for _, l := range b.listeners {
		parts = append(parts, l.Name+"://"+l.Addr())
	}
	return strings.Join(parts, ",")
}

// Listeners are the broker's listeners as they run: name, security
// protocol, bound address and advertised address.
func (b *Broker) Listeners() []Listener {
	out := make([]Listener, len(b.listeners))
	for i, l := range b.listeners {
		out[i] = Listener{Name: l.Name, Protocol: l.Protocol, Address: l.ln.Addr().String(), Advertise: l.Addr()}
	}
	return out
}
