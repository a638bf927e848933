package broker

import (
	"strings"
	"testing"
)

func TestSecurityConfigKeys(t *testing.T) {
	var c Config
	for k, v := range map[string]string{
		"listeners":                                      "PLAINTEXT://127.0.0.1:0,EXTERNAL://:0",
		"advertised.listeners":                           "EXTERNAL://kafka.example:9093",
		"listener.security.protocol.map":                 "PLAINTEXT:PLAINTEXT,EXTERNAL:SASL_SSL",
		"ssl.keystore.location":                          "/etc/server.pem",
		"listener.name.external.sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512",
		"listener.name.external.plain.sasl.jaas.config":  `org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="a";`,
		"super.users":                                    "User:admin; User:CN=ops,O=acme",
		"authorizer.class.name":                          "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
		"max.connections.per.ip.overrides":               "10.0.0.1:5,::1:7",
		"connections.max.reauth.ms":                      "60000",
	} {
		if err := c.Set(k, v); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	c.DataDir = "/tmp/x"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	ls, err := c.resolveListeners()
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[1].Protocol != protocolSASLSSL || ls[1].Advertise != "kafka.example:9093" || ls[0].Protocol != protocolPlaintext {
		t.Fatalf("listeners %+v", ls)
	}
	if m, _ := ls[1].mechanisms(); len(m) != 2 || m[0] != "PLAIN" {
		t.Fatalf("mechanisms %v", m)
	}
	if m, _ := ls[0].mechanisms(); len(m) != 2 || m[0] != "SCRAM-SHA-256" {
		t.Fatalf("default mechanisms %v, want SCRAM-SHA-256,SCRAM-SHA-512", m)
	}
	if len(c.SuperUsers) != 2 || c.SuperUsers[1] != "User:CN=ops,O=acme" || c.MaxConnectionsPerIPOverrides["::1"] != 7 {
		t.Fatalf("super users %v, overrides %v", c.SuperUsers, c.MaxConnectionsPerIPOverrides)
	}
}

func TestSecurityConfigErrors(t *testing.T) {
	for _, c := range []struct {
		sets map[string]string
		want string
	}{
		{map[string]string{"listeners": "127.0.0.1:9092"}, "want NAME://host:port"},
		{map[string]string{"listeners": "PLAINTEXT://a:1,PLAINTEXT://a:2"}, "appears twice"},
		{map[string]string{"listeners": "INTERNAL://:0"}, "listener INTERNAL: no security protocol"},
		{map[string]string{"listeners": "SSL://:0"}, "needs a server certificate"},
		{map[string]string{"listeners": "SASL_PLAINTEXT://:0", "sasl.enabled.mechanisms": "GSSAPI"}, "GSSAPI is not supported"},
		{map[string]string{"listeners": "SSL://:0", "ssl.keystore.location": "/x", "ssl.keystore.type": "JKS"}, "ssl.keystore.type=\"JKS\": accepted PEM"},
		{map[string]string{"listeners": "SSL://:0", "ssl.keystore.location": "/x", "ssl.key.password": "hunter2"}, "only unencrypted PEM"},
		{map[string]string{"listeners": "SSL://:0", "ssl.keystore.location": "/x", "ssl.client.auth": "required"}, "needs ssl.truststore.location"},
		{map[string]string{"listeners": "SSL://:0", "ssl.keystore.location": "/x", "ssl.enabled.protocols": "TLSv1.1"}, "older versions are not served"},
		{map[string]string{"listener.name.nope.ssl.client.auth": "required"}, "there is no listener named NOPE"},
		{map[string]string{"advertised.listeners": "EXTERNAL://h:1"}, "not in listeners"},
		{map[string]string{"super.users": "admin"}, "want Type:name"},
		{map[string]string{"listeners": "SASL_SSL://:0", "ssl.keystore.location": "/x", "listener.name.sasl_ssl.plain.sasl.jaas.config": "x"}, "plain.sasl.jaas.config"},
	} {
		var cfg Config
		cfg.DataDir = "/tmp/x"
		var err error
		for k, v := range c.sets {
			if e := cfg.Set(k, v); e != nil {
				err = e
			}
		}
		if err == nil {
			err = cfg.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.sets, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%v: the error shows a password", c.sets)
		}
	}
	var cfg Config
	if err := cfg.Set("authorizer.class.name", "com.example.Custom"); err == nil {
		t.Error("an unknown authorizer was accepted")
	}
	for _, bad := range []string{"SCRAM-SHA-1=[name=a,password=b]", "SCRAM-SHA-256=[name=a]", "SCRAM-SHA-256=name=a,password=b", "SCRAM-SHA-256=[name=a,password=b,iterations=10]"} {
		if _, err := parseAddSCRAM(bad); err == nil {
			t.Errorf("--add-scram %q accepted", bad)
		} else if strings.Contains(err.Error(), "password=b") {
			t.Errorf("--add-scram error shows the password: %v", err)
		}
	}
	s, err := parseAddSCRAM(`SCRAM-SHA-512=[name=admin,password="p,w",iterations=8192]`)
	if err != nil || s.user != "admin" || s.password != "p,w" || s.iterations != 8192 {
		t.Errorf("parseAddSCRAM: %+v %v", s, err)
	}
}

// TestEveryAPIHasAnAuthorizationRule: a served API without a rule would be
// refused under an authorizer (see serveAuthorized), so every one has one.
func TestEveryAPIHasAnAuthorizationRule(t *testing.T) {
	b := &Broker{metrics: newMetrics()}
	for key, a := range b.apiTable() {
		if _, ok := authorizations[a.key]; !ok {
			t.Errorf("API %d (%s) has no authorization rule", key, a.key.Name())
		}
	}
}
