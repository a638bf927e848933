package security_test

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/kafkaclient"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// TestReauthentication (KIP-368): with connections.max.reauth.ms, the
// broker tells the client its session lifetime; franz-go re-authenticates
// on the same connection and keeps working; a client that does not is
// disconnected at its next request after the session ends.
func TestReauthentication(t *testing.T) {
	s := startSecured(t, testkit.WithConfig("connections.max.reauth.ms", "1000"))
	testkit.CreateTopic(t, s.ListenerAddr("PLAINTEXT"), "reauth", 1)
	cl := s.client(t, "SASL_PLAINTEXT", "SCRAM-SHA-256", "alice", alicePassword, kgo.DefaultProduceTopic("reauth"))
	deadline := time.Now().Add(3500 * time.Millisecond)
	n := 0
	for time.Now().Before(deadline) {
		if err := cl.ProduceSync(ctxT(t), &kgo.Record{Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatalf("produce %d across re-authentications: %v", n, err)
		}
		n++
	}
	// A raw client that authenticates once and never again.
	c := dialRaw(t, s.ListenerAddr("SASL_PLAINTEXT"), nil)
	handshake(t, c, "PLAIN")
	auth := kmsg.NewPtrSASLAuthenticateRequest()
	auth.Version, auth.SASLAuthBytes = 1, []byte("\x00alice\x00"+alicePassword)
	c.send(auth)
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	resp.Version = 1
	if err := c.recv(resp); err != nil || resp.ErrorCode != 0 {
		t.Fatalf("authenticate: %v %d", err, resp.ErrorCode)
	}
	if resp.SessionLifetimeMillis != 1000 {
		t.Fatalf("session lifetime %d ms, want connections.max.reauth.ms=1000", resp.SessionLifetimeMillis)
	}
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 1
	c.send(md)
	if err := c.recv(kmsg.NewPtrMetadataResponse()); err != nil {
		t.Fatalf("metadata within the session: %v", err)
	}
	time.Sleep(1200 * time.Millisecond) // past the session: nothing to poll for
	c.send(md)
	if !c.closed() {
		t.Fatal("a request after the session ended was served")
	}
}

// TestClientCertificatePrincipal: with ssl.client.auth=required the
// principal is the certificate's subject, which ACLs name; a client
// without a certificate cannot connect.
func TestClientCertificatePrincipal(t *testing.T) {
	certs := testkit.NewCerts(t)
	b := testkit.StartBroker(t,
		testkit.WithConfig("listeners", "SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0"),
		testkit.WithConfig("ssl.keystore.location", certs.ServerKeystore),
		testkit.WithConfig("ssl.truststore.location", certs.CAFile),
		testkit.WithConfig("listener.name.ssl.ssl.client.auth", "required"),
		testkit.WithConfig("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer"),
		testkit.WithConfig("super.users", "User:CN=admin,O=ops"))
	adminCert, adminKey := certs.Issue("admin", pkix.Name{CommonName: "admin", Organization: []string{"ops"}}, false)
	aliceCert, aliceKey := certs.Issue("alice", pkix.Name{CommonName: "alice", Organization: []string{"apps"}}, false)
	client := func(cert, key string) *kgo.Client {
		props := map[string]string{"security.protocol": "SSL", "ssl.truststore.location": certs.CAFile}
		if cert != "" {
			props["ssl.certificate.location"], props["ssl.key.location"] = cert, key
		}
		opts, err := kafkaclient.Opts(props)
		if err != nil {
			t.Fatal(err)
		}
		return testkit.Client(t, b.ListenerAddr("SSL"), append(opts, kgo.RequestRetries(0), kgo.RetryTimeout(time.Second), kgo.DisableIdempotentWrite())...)
	}
	admin := kadm.NewClient(client(adminCert, adminKey))
	ctx := ctxT(t)
	if _, err := admin.CreateTopic(ctx, 1, 1, nil, "certs"); err != nil {
		t.Fatal(err)
	}
	alice := client(aliceCert, aliceKey)
	produce := func() error {
		return alice.ProduceSync(ctx, &kgo.Record{Topic: "certs", Value: []byte("v")}).FirstErr()
	}
	if err := produce(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("alice without an ACL: %v", err)
	}
	acl := kadm.NewACLs().Allow("User:CN=alice,O=apps").AllowHosts("*").Operations(kadm.OpWrite, kadm.OpDescribe).Topics("certs")
	if _, err := admin.CreateACLs(ctx, acl); err != nil {
		t.Fatal(err)
	}
	if err := produce(); err != nil {
		t.Fatalf("alice with an ACL on her certificate's subject: %v", err)
	}
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client("", "").Ping(c); err == nil {
		t.Fatal("a client without a certificate was served")
	}
}
