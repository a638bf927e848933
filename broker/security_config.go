package broker

// Security configuration: listeners and their security protocols, TLS from
// PEM files, SASL mechanisms, the authorizer, re-authentication, quotas'
// windows and connection limits. Keys are Apache Kafka's:
//
//	listeners=PLAINTEXT://127.0.0.1:9092,SASL_SSL://:9093
//	listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL (the default)
//	advertised.listeners=PLAINTEXT://kafka.example:9092,SASL_SSL://kafka.example:9093
//	sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
//	ssl.keystore.location=/etc/tributary/server.pem   (PEM: certificate chain, and the key unless ssl.key.location is set)
//	ssl.key.location=/etc/tributary/server-key.pem    (not a Kafka broker key: librdkafka's name, for a separate key file)
//	ssl.truststore.location=/etc/tributary/ca.pem     (PEM CA bundle, for ssl.client.auth)
//	ssl.client.auth=required                          (none, requested or required)
//	authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
//	super.users=User:admin;User:CN=ops,O=acme
//
// Every listener-level key can be given for one listener as
// listener.name.<listener name, lower case>.<key>, which wins over the
// unprefixed key, as in Kafka. PLAIN's user list is listener-scoped, as
// Kafka requires: listener.name.<l>.plain.sasl.jaas.config with a
// PlainLoginModule entry of user_<name>="<password>" options. A listener
// without one checks PLAIN passwords against the SCRAM credentials (so
// users made with `tributary users create` can use PLAIN too); its
// passwords are then never stored, only their SCRAM hashes.
//
// Differences from Kafka, each refused with a clear error rather than
// ignored: only PEM keystores and truststores are read (JKS and PKCS#12
// are refused with how to convert them); encrypted private keys are not
// supported; GSSAPI and OAUTHBEARER are not served; sasl.enabled.mechanisms
// defaults to SCRAM-SHA-256,SCRAM-SHA-512 rather than Kafka's GSSAPI (PLAIN,
// which sends the password itself, must be enabled explicitly);
// ssl.principal.mapping.rules accepts only DEFAULT (the principal is the
// certificate subject's RFC 2253 name, "User:CN=alice,O=acme").

import (
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tributary-streams/tributary/broker/internal/sasl"
)

// Listener is one named listener.
type Listener struct {
	// Name is the listener name (PLAINTEXT, SASL_SSL, EXTERNAL, ...).
	Name string
	// Protocol is its security protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or
	// SASL_SSL (from listener.security.protocol.map, which by default maps
	// each protocol's name to itself).
	Protocol string
	// Address is the host:port it binds.
	Address string
	// Advertise is the host:port clients that connect to this listener
	// are given (advertised.listeners). Default: Address, with an
	// unspecified host replaced by 127.0.0.1.
	Advertise string
}

// Security protocols.
const (
	protocolPlaintext     = "PLAINTEXT"
	protocolSSL           = "SSL"
	protocolSASLPlaintext = "SASL_PLAINTEXT"
	protocolSASLSSL       = "SASL_SSL"
)

var securityProtocols = []string{protocolPlaintext, protocolSSL, protocolSASLPlaintext, protocolSASLSSL}

func usesTLS(protocol string) bool { return protocol == protocolSSL || protocol == protocolSASLSSL }
func usesSASL(protocol string) bool {
	return protocol == protocolSASLPlaintext || protocol == protocolSASLSSL
}

// Authorizer class names accepted by authorizer.class.name: Kafka's
// KRaft and ZooKeeper-era ACL authorizers both mean the built-in one.
var authorizerClasses = []string{
	"org.apache.kafka.metadata.authorizer.StandardAuthorizer",
	"kafka.security.authorizer.AclAuthorizer",
}

// listenerKeys are the keys that may be set per listener, with what each
// accepts (checked when the listener is resolved).
var listenerKeys = map[string]string{
	"ssl.keystore.type":                     "PEM",
	"ssl.keystore.location":                 "a PEM file with the certificate chain (and key)",
	"ssl.key.location":                      "a PEM file with the private key",
	"ssl.keystore.certificate.chain":        "PEM certificates",
	"ssl.keystore.key":                      "a PEM private key",
	"ssl.keystore.password":                 "empty (PEM keystores have no password)",
	"ssl.key.password":                      "empty (encrypted private keys are not supported)",
	"ssl.truststore.type":                   "PEM",
	"ssl.truststore.location":               "a PEM file of CA certificates",
	"ssl.truststore.certificates":           "PEM CA certificates",
	"ssl.truststore.password":               "empty (PEM truststores have no password)",
	"ssl.client.auth":                       "none, requested or required",
	"ssl.enabled.protocols":                 "a comma-separated list of TLSv1.2, TLSv1.3",
	"ssl.protocol":                          "TLSv1.2, TLSv1.3 or TLS",
	"ssl.principal.mapping.rules":           "DEFAULT",
	"ssl.endpoint.identification.algorithm": "https or empty (a client setting; accepted and unused by the broker)",
	"sasl.enabled.mechanisms":               "a comma-separated list of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512",
	"max.connections":                       "a positive integer",
	"max.connection.creation.rate":          "a positive integer (connections per second)",
}

// listenerOnlyKeys are keys Kafka takes only with a listener prefix:
// <mechanism>.sasl.jaas.config.
func isListenerOnlyKey(key string) bool {
	return key == "plain.sasl.jaas.config" || key == "scram-sha-256.sasl.jaas.config" || key == "scram-sha-512.sasl.jaas.config"
}

// securityKeys are the broker keys of this file that are not per listener.
var securityKeys = map[string]brokerKey{
	"listener.security.protocol.map": stringKey(func(c *Config, v string) { c.ListenerSecurityProtocolMap = v }),
	"inter.broker.listener.name":     stringKey(func(c *Config, v string) {}), // a single node talks to no other broker
	"authorizer.class.name": {set: func(c *Config, v string) error {
		v = strings.TrimSpace(v)
		if v != "" && !slices.Contains(authorizerClasses, v) {
			return fmt.Errorf("accepted: empty (no authorization) or %s", strings.Join(authorizerClasses, " or "))
		}
		c.AuthorizerClassName = v
		return nil
	}},
	"super.users": stringKey(func(c *Config, v string) {
		c.SuperUsers = nil
		for _, u := range strings.Split(v, ";") {
			if u = strings.TrimSpace(u); u != "" {
				c.SuperUsers = append(c.SuperUsers, u)
			}
		}
	}),
	"allow.everyone.if.no.acl.found": boolKey(func(c *Config, v bool) { c.AllowEveryoneIfNoACLFound = v }),
	"connections.max.reauth.ms": intKey("an integer >= 0 (0: no re-authentication)", 0, math.MaxInt64, func(c *Config, v int64) {
		c.ConnectionsMaxReauthMs = noneIfZero(v)
	}),
	"connection.failed.authentication.delay.ms": intKey("an integer >= 0", 0, math.MaxInt32, func(c *Config, v int64) {
		c.ConnectionFailedAuthenticationDelayMs = int32(noneIfZero(v))
	}),
	"sasl.server.max.receive.size": intKey("an integer 1024..2147483647 (bytes)", 1024, math.MaxInt32, func(c *Config, v int64) {
		c.SASLServerMaxReceiveSize = int32(v)
	}),
	"max.connections.per.ip": intKey("a positive integer", 1, math.MaxInt32, func(c *Config, v int64) {
		c.MaxConnectionsPerIP = int(v)
	}),
	"max.connections.per.ip.overrides": {set: func(c *Config, v string) error {
		m, err := parseIPOverrides(v)
		if err != nil {
			return err
		}
		c.MaxConnectionsPerIPOverrides = m
		return nil
	}},
	"quota.window.num": intKey("an integer >= 2", 2, 1000, func(c *Config, v int64) { c.QuotaWindowNum = int(v) }),
	"quota.window.size.seconds": intKey("an integer >= 1", 1, 3600, func(c *Config, v int64) {
		c.QuotaWindowSizeSeconds = int(v)
	}),
	"controller.quota.window.num": intKey("an integer >= 2", 2, 1000, func(c *Config, v int64) {
		c.ControllerQuotaWindowNum = int(v)
	}),
	"controller.quota.window.size.seconds": intKey("an integer >= 1", 1, 3600, func(c *Config, v int64) {
		c.ControllerQuotaWindowSizeSeconds = int(v)
	}),
}

func init() {
	for k, v := range securityKeys {
		brokerKeys[k] = v
	}
	for k := range listenerKeys {
		k := k
		brokerKeys[k] = brokerKey{set: func(c *Config, v string) error { return c.setListenerKey(k, v) }}
	}
}

// setListenerKey stores a listener-level key ("" listener: every
// listener's default), checked when listeners are resolved; key may be
// prefixed by listener.name.<l>.
func (c *Config) setListenerKey(key, value string) error {
	if c.ListenerConfigs == nil {
		c.ListenerConfigs = map[string]string{}
	}
	c.ListenerConfigs[key] = value
	return nil
}

// listenerPrefixedKey reports whether key is listener.name.<l>.<listener key>.
func listenerPrefixedKey(key string) bool {
	rest, ok := strings.CutPrefix(key, "listener.name.")
	if !ok {
		return false
	}
	_, sub, ok := strings.Cut(rest, ".")
	if !ok {
		return false
	}
	_, known := listenerKeys[sub]
	return known || isListenerOnlyKey(sub)
}

// parseIPOverrides reads max.connections.per.ip.overrides: host:count,...
func parseIPOverrides(v string) (map[string]int, error) {
	m := map[string]int{}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		i := strings.LastIndexByte(item, ':')
		n, err := strconv.Atoi(strings.TrimSpace(item[i+1:]))
		if i <= 0 || err != nil || n < 0 {
			return nil, fmt.Errorf("entry %q: accepted host:count,... (an IP address or host name, and a count >= 0)", item)
		}
		host := strings.TrimSpace(item[:i])
		if ip := net.ParseIP(host); ip != nil {
			host = ip.String()
		}
		m[host] = n
	}
	return m, nil
}

// parseListeners reads listeners / advertised.listeners:
// NAME://host:port,NAME://host:port.
func parseListeners(key, v string) ([]Listener, error) {
	var out []Listener
	seen := map[string]bool{}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, addr, ok := strings.Cut(item, "://")
		if !ok || name == "" {
			return nil, fmt.Errorf("entry %q: want NAME://host:port, e.g. PLAINTEXT://127.0.0.1:9092", item)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("entry %q: want NAME://host:port (host may be empty for all interfaces)", item)
		}
		name = strings.ToUpper(name)
		if seen[name] {
			return nil, fmt.Errorf("listener name %s appears twice", name)
		}
		seen[name] = true
		out = append(out, Listener{Name: name, Address: addr})
	}
	if len(out) == 0 {
		return nil, errors.New("no listener given: want NAME://host:port[,NAME://host:port...]")
	}
	return out, nil
}

// resolvedListener is a listener with its settings resolved.
type resolvedListener struct {
	Listener
	settings map[string]string // listener-level keys, prefixed ones applied
}

// get returns a listener-level key's value: listener-prefixed, else the
// unprefixed default.
func (c Config) listenerSetting(name, key string) (string, bool) {
	if v, ok := c.ListenerConfigs["listener.name."+strings.ToLower(name)+"."+key]; ok {
		return v, true
	}
	if isListenerOnlyKey(key) {
		return "", false
	}
	// Kafka applies ssl.client.auth to a SASL_SSL listener only when it is
	// listener-prefixed (KIP-684): the client is authenticated by SASL.
	v, ok := c.ListenerConfigs[key]
	return v, ok
}

// resolveListeners returns the listeners with protocols, advertised
// addresses and settings, or every problem found.
func (c Config) resolveListeners() ([]resolvedListener, error) {
	var errs []error
	list := c.Listeners
	implicit := len(list) == 0 // Listen and Advertise, checked by Validate
	if implicit {
		list = []Listener{{Name: protocolPlaintext, Protocol: protocolPlaintext, Address: c.Listen, Advertise: c.Advertise}}
	}
	protoMap := map[string]string{}
	for _, p := range securityProtocols {
		protoMap[p] = p
	}
	if c.ListenerSecurityProtocolMap != "" {
		protoMap = map[string]string{}
		for _, item := range strings.Split(c.ListenerSecurityProtocolMap, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			name, proto, ok := strings.Cut(item, ":")
			proto = strings.ToUpper(strings.TrimSpace(proto))
			if !ok || !slices.Contains(securityProtocols, proto) {
				errs = append(errs, fmt.Errorf("listener.security.protocol.map entry %q: want NAME:PROTOCOL, PROTOCOL one of %s", item, strings.Join(securityProtocols, ", ")))
				continue
			}
			protoMap[strings.ToUpper(strings.TrimSpace(name))] = proto
		}
	}
	var out []resolvedListener
	for _, l := range list {
		if l.Protocol == "" {
			p, ok := protoMap[l.Name]
			if !ok {
				errs = append(errs, fmt.Errorf("listener %s: no security protocol: add %s:<PROTOCOL> to listener.security.protocol.map", l.Name, l.Name))
				continue
			}
			l.Protocol = p
		} else if !slices.Contains(securityProtocols, l.Protocol) {
			errs = append(errs, fmt.Errorf("listener %s: security protocol %q: accepted %s", l.Name, l.Protocol, strings.Join(securityProtocols, ", ")))
			continue
		}
		if _, _, err := net.SplitHostPort(l.Address); err != nil && !implicit {
			errs = append(errs, fmt.Errorf("listener %s: address %q: want host:port", l.Name, l.Address))
		}
		if l.Advertise != "" && !implicit {
			if _, port, err := net.SplitHostPort(l.Advertise); err != nil || port == "0" {
				errs = append(errs, fmt.Errorf("listener %s: advertised address %q (advertised.listeners): want a reachable host:port with a non-zero port", l.Name, l.Advertise))
			}
		}
		r := resolvedListener{Listener: l, settings: map[string]string{}}
		for key := range listenerKeys {
			if v, ok := c.listenerSetting(l.Name, key); ok {
				if key == "ssl.client.auth" && l.Protocol == protocolSASLSSL {
					if _, prefixed := c.ListenerConfigs["listener.name."+strings.ToLower(l.Name)+"."+key]; !prefixed {
						continue
					}
				}
				r.settings[key] = v
			}
		}
		if v, ok := c.listenerSetting(l.Name, "plain.sasl.jaas.config"); ok {
			r.settings["plain.sasl.jaas.config"] = v
		}
		if err := r.check(); err != nil {
			errs = append(errs, err)
		}
		out = append(out, r)
	}
	for _, a := range c.advertisedListeners {
		found := false
		for i := range out {
			if out[i].Name == a.Name {
				out[i].Advertise, found = a.Address, true
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("advertised.listeners names %s, which is not in listeners", a.Name))
		}
	}
	// Listener-prefixed keys must name a listener.
	for key := range c.ListenerConfigs {
		if rest, ok := strings.CutPrefix(key, "listener.name."); ok {
			name, _, _ := strings.Cut(rest, ".")
			if !slices.ContainsFunc(out, func(r resolvedListener) bool { return strings.EqualFold(r.Name, name) }) {
				errs = append(errs, fmt.Errorf("%s: there is no listener named %s", key, strings.ToUpper(name)))
			}
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return out, errors.Join(errs...)
}

// check validates the listener's own settings (values, not files: the
// files are read when the listener starts).
func (r resolvedListener) check() error {
	var errs []error
	bad := func(key, accepted string) {
		errs = append(errs, fmt.Errorf("listener %s: %s=%q: accepted %s", r.Name, key, r.settings[key], accepted))
	}
	for _, key := range []string{"ssl.keystore.type", "ssl.truststore.type"} {
		if v, ok := r.settings[key]; ok && !strings.EqualFold(strings.TrimSpace(v), "PEM") {
			bad(key, "PEM (convert JKS or PKCS#12 stores with `keytool -importkeystore ... -deststoretype PKCS12` and `openssl pkcs12 -nodes`)")
		}
	}
	for _, key := range []string{"ssl.keystore.password", "ssl.key.password", "ssl.truststore.password"} {
		if v := r.settings[key]; v != "" {
			errs = append(errs, fmt.Errorf("listener %s: %s is set, but only unencrypted PEM files are read (decrypt a key with `openssl pkey -in key.pem -out key-decrypted.pem`)", r.Name, key))
		}
	}
	if v, ok := r.settings["ssl.client.auth"]; ok && !slices.Contains([]string{"none", "requested", "required"}, strings.ToLower(strings.TrimSpace(v))) {
		bad("ssl.client.auth", listenerKeys["ssl.client.auth"])
	}
	if _, err := r.minTLSVersion(); err != nil {
		errs = append(errs, fmt.Errorf("listener %s: %w", r.Name, err))
	}
	if v, ok := r.settings["ssl.principal.mapping.rules"]; ok && strings.TrimSpace(v) != "DEFAULT" {
		bad("ssl.principal.mapping.rules", "DEFAULT (the certificate subject's name)")
	}
	if _, err := r.mechanisms(); err != nil {
		errs = append(errs, fmt.Errorf("listener %s: %w", r.Name, err))
	}
	if v, ok := r.settings["plain.sasl.jaas.config"]; ok {
		if _, err := sasl.ParsePlainUsers(v); err != nil {
			errs = append(errs, fmt.Errorf("listener %s: listener.name.%s.plain.sasl.jaas.config: %w", r.Name, strings.ToLower(r.Name), err))
		}
	}
	for _, key := range []string{"max.connections", "max.connection.creation.rate"} {
		if v, ok := r.settings[key]; ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || n < 1 {
				bad(key, "a positive integer")
			}
		}
	}
	if usesTLS(r.Protocol) {
		_, file := r.settings["ssl.keystore.location"]
		_, inline := r.settings["ssl.keystore.certificate.chain"]
		if !file && !inline {
			errs = append(errs, fmt.Errorf("listener %s (%s) needs a server certificate: ssl.keystore.location (a PEM file) or ssl.keystore.certificate.chain and ssl.keystore.key", r.Name, r.Protocol))
		}
		if strings.EqualFold(r.settings["ssl.client.auth"], "required") || strings.EqualFold(r.settings["ssl.client.auth"], "requested") {
			if r.settings["ssl.truststore.location"] == "" && r.settings["ssl.truststore.certificates"] == "" {
				errs = append(errs, fmt.Errorf("listener %s: ssl.client.auth=%s needs ssl.truststore.location (the CAs client certificates are checked against)", r.Name, r.settings["ssl.client.auth"]))
			}
		}
	}
	return errors.Join(errs...)
}

// mechanisms returns the listener's enabled SASL mechanisms.
func (r resolvedListener) mechanisms() ([]string, error) {
	v, ok := r.settings["sasl.enabled.mechanisms"]
	if !ok {
		return []string{sasl.ScramSHA256, sasl.ScramSHA512}, nil
	}
	var out []string
	for _, m := range strings.Split(v, ",") {
		m = strings.ToUpper(strings.TrimSpace(m))
		switch m {
		case "":
		case sasl.Plain, sasl.ScramSHA256, sasl.ScramSHA512:
			out = append(out, m)
		case "GSSAPI", "OAUTHBEARER":
			return nil, fmt.Errorf("sasl.enabled.mechanisms: %s is not supported; accepted PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", m)
		default:
			return nil, fmt.Errorf("sasl.enabled.mechanisms: unknown mechanism %q; accepted PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", m)
		}
	}
	if len(out) == 0 && usesSASL(r.Protocol) {
		return nil, errors.New("sasl.enabled.mechanisms is empty; accepted PLAIN, SCRAM-SHA-256, SCRAM-SHA-512")
	}
	return out, nil
}

// SecurityConfig is the security part of Config (embedded in it; see the
// keys at the top of this file). Zero fields take the defaults named.
type SecurityConfig struct {
	// Listeners are the named listeners (listeners). Default: one
	// PLAINTEXT listener on Config.Listen, advertised as Config.Advertise.
	Listeners []Listener
	// ListenerSecurityProtocolMap is listener.security.protocol.map.
	// Default: each security protocol's name maps to itself.
	ListenerSecurityProtocolMap string
	// ListenerConfigs holds the listener-level keys (ssl.*,
	// sasl.enabled.mechanisms, max.connections, ...), unprefixed or as
	// listener.name.<l>.<key>. Default: none (PLAINTEXT needs none).
	ListenerConfigs map[string]string
	// advertisedListeners is advertised.listeners, applied to Listeners
	// by name when they are resolved.
	advertisedListeners []Listener

	// AuthorizerClassName is authorizer.class.name: "" (the default)
	// authorizes nothing, as Kafka without an authorizer; Kafka's
	// StandardAuthorizer or AclAuthorizer class name turns ACLs on.
	AuthorizerClassName string
	// SuperUsers is super.users: principals allowed everything.
	SuperUsers []string
	// AllowEveryoneIfNoACLFound is allow.everyone.if.no.acl.found.
	// Default false.
	AllowEveryoneIfNoACLFound bool

	// ConnectionsMaxReauthMs is connections.max.reauth.ms: the longest a
	// SASL session lasts before the client must re-authenticate (KIP-368).
	// Default 0: sessions do not expire.
	ConnectionsMaxReauthMs int64
	// ConnectionFailedAuthenticationDelayMs is
	// connection.failed.authentication.delay.ms: how long the answer to a
	// failed authentication is held back. Default 100; -1 for none.
	ConnectionFailedAuthenticationDelayMs int32
	// SASLServerMaxReceiveSize is sasl.server.max.receive.size: the
	// largest frame read before a client is authenticated. Default 524288.
	SASLServerMaxReceiveSize int32
	// AddSCRAM are SCRAM credentials, in kafka-storage.sh's --add-scram
	// syntax ('SCRAM-SHA-256=[name=admin,password=secret]'), stored at
	// start for each user and mechanism that has no credential yet (so a
	// password changed later is never reset). Default none.
	AddSCRAM []string

	// MaxConnectionsPerIP is max.connections.per.ip. Default 0: unlimited
	// (Kafka's default, 2147483647).
	MaxConnectionsPerIP int
	// MaxConnectionsPerIPOverrides is max.connections.per.ip.overrides:
	// per-host limits, by IP address or host name.
	MaxConnectionsPerIPOverrides map[string]int

	// QuotaWindowNum and QuotaWindowSizeSeconds are quota.window.num
	// (default 11) and quota.window.size.seconds (default 1): the samples
	// client quotas are measured over. The controller.* pair (same
	// defaults) is for controller_mutation_rate.
	QuotaWindowNum                   int
	QuotaWindowSizeSeconds           int
	ControllerQuotaWindowNum         int
	ControllerQuotaWindowSizeSeconds int
}

func (s *SecurityConfig) defaults() {
	setDefault(&s.ConnectionFailedAuthenticationDelayMs, 100)
	setDefault(&s.SASLServerMaxReceiveSize, 524288)
	setDefault(&s.QuotaWindowNum, 11)
	setDefault(&s.QuotaWindowSizeSeconds, 1)
	setDefault(&s.ControllerQuotaWindowNum, 11)
	setDefault(&s.ControllerQuotaWindowSizeSeconds, 1)
}

// validateSecurity checks the security settings of c.
func (c Config) validateSecurity() error {
	var errs []error
	if _, err := c.resolveListeners(); err != nil {
		errs = append(errs, err)
	}
	for _, u := range c.SuperUsers {
		if typ, name, ok := strings.Cut(u, ":"); !ok || typ == "" || name == "" {
			errs = append(errs, fmt.Errorf("super.users entry %q: want Type:name, e.g. User:admin (entries separated by ';')", u))
		}
	}
	for _, a := range c.AddSCRAM {
		if _, err := parseAddSCRAM(a); err != nil {
			errs = append(errs, err)
		}
	}
	if c.ConnectionsMaxReauthMs < 0 {
		errs = append(errs, fmt.Errorf("connections.max.reauth.ms=%d: must be at least 0", c.ConnectionsMaxReauthMs))
	}
	if c.MaxConnectionsPerIP < 0 {
		errs = append(errs, fmt.Errorf("max.connections.per.ip=%d: must be positive", c.MaxConnectionsPerIP))
	}
	return errors.Join(errs...)
}

// scramToAdd is one --add-scram entry.
type scramToAdd struct {
	mechanism, user, password string
	iterations                int
}

// parseAddSCRAM reads kafka-storage.sh's --add-scram form:
// SCRAM-SHA-256=[name=alice,password=alice-secret] (iterations=N is
// optional; salt and saltedpassword are not accepted here).
func parseAddSCRAM(v string) (scramToAdd, error) {
	s := scramToAdd{iterations: sasl.MinIterations}
	mech, body, ok := strings.Cut(strings.TrimSpace(v), "=")
	bad := func(why string) (scramToAdd, error) {
		return s, fmt.Errorf("--add-scram %s...: %s; want 'SCRAM-SHA-256=[name=alice,password=alice-secret]'", mech, why)
	}
	if !ok || !strings.HasPrefix(body, "[") || !strings.HasSuffix(body, "]") {
		return bad("malformed")
	}
	if _, known := sasl.ScramByName(strings.ToUpper(mech)); !known {
		return bad("unknown mechanism (accepted SCRAM-SHA-256 or SCRAM-SHA-512)")
	}
	s.mechanism = strings.ToUpper(mech)
	for _, kv := range splitUnquoted(body[1 : len(body)-1]) {
		k, val, ok := strings.Cut(kv, "=")
		val = strings.Trim(val, `"`)
		switch k = strings.TrimSpace(k); {
		case !ok:
			return bad(fmt.Sprintf("entry %q is not key=value", k))
		case k == "name":
			s.user = val
		case k == "password":
			s.password = val
		case k == "iterations":
			n, err := strconv.Atoi(val)
			if err != nil || sasl.CheckIterations(n) != nil {
				return bad(fmt.Sprintf("iterations %q: accepted %d..%d", val, sasl.MinIterations, sasl.MaxIterations))
			}
			s.iterations = n
		default:
			return bad(fmt.Sprintf("key %q: accepted name, password, iterations", k))
		}
	}
	if s.user == "" || s.password == "" {
		return bad("name and password are required")
	}
	return s, nil
}

// splitUnquoted splits on commas outside double quotes.
func splitUnquoted(s string) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
