package sasl

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	ksasl "github.com/twmb/franz-go/pkg/sasl"
	kplain "github.com/twmb/franz-go/pkg/sasl/plain"
	kscram "github.com/twmb/franz-go/pkg/sasl/scram"
)

// rfcVector is one of the example exchanges of RFC 5802 (section 5,
// SCRAM-SHA-1) and RFC 7677 (section 3, SCRAM-SHA-256), user "user" with
// password "pencil".
type rfcVector struct {
	mech                                  Scram
	salt                                  string
	clientFirst, serverFirst, clientFinal string
	serverFinal                           string
}

var rfcVectors = []rfcVector{
	{
		mech:        scramSHA1,
		salt:        "QSXCR+Q6sek8bf92",
		clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
		clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
	},
	{
		mech:        scramSHA256,
		salt:        "W22ZaJ0SNY7soEsUEjb6gQ==",
		clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
	},
}

// vectorExchange is a server for v whose nonce is the vector's.
func vectorExchange(t *testing.T, v rfcVector, password string) *scramExchange {
	t.Helper()
	salt, err := base64.StdEncoding.DecodeString(v.salt)
	if err != nil {
		t.Fatal(err)
	}
	cred := v.mech.CredentialFromSalted(v.mech.SaltedPassword(password, salt, 4096), salt, 4096)
	x := NewScramExchange(v.mech, func(mech, user string) (Credential, bool) {
		if mech == v.mech.name && user == "user" {
			return cred, true
		}
		return Credential{}, false
	}, []byte("key")).(*scramExchange)
	cnonce := strings.TrimPrefix(v.clientFirst[strings.Index(v.clientFirst, "r="):], "r=")
	snonce := strings.TrimPrefix(strings.Split(v.serverFirst, ",")[0], "r="+cnonce)
	x.serverNonce = func() string { return snonce }
	return x
}

func TestScramRFCVectors(t *testing.T) {
	for _, v := range rfcVectors {
		t.Run(v.mech.name, func(t *testing.T) {
			x := vectorExchange(t, v, "pencil")
			got, done, err := x.Next([]byte(v.clientFirst))
			if err != nil || done || string(got) != v.serverFirst {
				t.Fatalf("server-first = %q, %v, %v; want %q", got, done, err, v.serverFirst)
			}
			got, done, err = x.Next([]byte(v.clientFinal))
			if err != nil || !done || string(got) != v.serverFinal {
				t.Fatalf("server-final = %q, %v, %v; want %q", got, done, err, v.serverFinal)
			}
			if x.User() != "user" {
				t.Fatalf("user = %q", x.User())
			}
			// The same client messages against another password fail on
			// the proof.
			x = vectorExchange(t, v, "pencils")
			x.Next([]byte(v.clientFirst))
			if _, _, err := x.Next([]byte(v.clientFinal)); !errors.Is(err, ErrAuthenticationFailed) {
				t.Fatalf("wrong password: err = %v", err)
			}
		})
	}
}

// TestScramWithFranzGo runs franz-go's SCRAM client (an independent
// implementation) against the server for both mechanisms.
func TestScramWithFranzGo(t *testing.T) {
	for _, m := range ScramMechanisms() {
		t.Run(m.name, func(t *testing.T) {
			cred, err := m.NewCredential("s3cret", MinIterations)
			if err != nil {
				t.Fatal(err)
			}
			lookup := func(mech, user string) (Credential, bool) {
				return cred, mech == m.name && user == "alice"
			}
			auth := func(user, pass string) error {
				var client ksasl.Mechanism = kscram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
				if m.name == ScramSHA512 {
					client = kscram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
				}
				return converse(t, client, NewScramExchange(m, lookup, []byte("k")))
			}
			if err := auth("alice", "s3cret"); err != nil {
				t.Fatalf("right password: %v", err)
			}
			for _, c := range []struct{ user, pass, want string }{
				{"alice", "guess-1", "wrong password"},
				{"mallory", "s3cret", "unknown user"},
				{"a,b=c", "s3cret", "unknown user"},
			} {
				err := auth(c.user, c.pass)
				if !errors.Is(err, ErrAuthenticationFailed) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s/%s: err = %v, want %q", c.user, c.pass, err, c.want)
				}
				if err != nil && strings.Contains(err.Error(), c.pass) {
					t.Errorf("error shows the password: %v", err)
				}
			}
		})
	}
}

// converse runs a client mechanism against a server exchange, as the broker
// relays tokens.
func converse(t *testing.T, client ksasl.Mechanism, server Exchange) error {
	t.Helper()
	sess, msg, err := client.Authenticate(context.Background(), "127.0.0.1:9092")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		challenge, done, err := server.Next(msg)
		if err != nil {
			return err
		}
		clientDone, next, err := sess.Challenge(challenge)
		if err != nil {
			t.Fatalf("client rejects the server's answer: %v", err)
		}
		if done {
			if !clientDone {
				t.Fatal("server done, client not")
			}
			return nil
		}
		msg = next
	}
	t.Fatal("exchange did not end")
	return nil
}

func TestUnknownUserLooksLikeKnown(t *testing.T) {
	cred, _ := scramSHA256.NewCredential("pw", MinIterations)
	lookup := func(_, user string) (Credential, bool) { return cred, user == "alice" }
	first := func(user string) string {
		x := NewScramExchange(scramSHA256, lookup, []byte("k"))
		got, _, err := x.Next([]byte("n,,n=" + user + ",r=abc"))
		if err != nil {
			t.Fatalf("client-first of %s: %v", user, err)
		}
		return string(got)
	}
	a, b := first("nobody"), first("nobody")
	salt := func(s string) string { return strings.Split(s, ",")[1] }
	if salt(a) != salt(b) {
		t.Fatalf("an unknown user's salt changes between attempts: %q vs %q", a, b)
	}
	if !strings.HasSuffix(a, ",i=4096") {
		t.Fatalf("server-first for unknown user = %q", a)
	}
}

func TestScramMalformed(t *testing.T) {
	cred, _ := scramSHA256.NewCredential("pw", MinIterations)
	lookup := func(_, user string) (Credential, bool) { return cred, user == "alice" }
	for _, first := range []string{
		"", "garbage", "n,", "x,,n=alice,r=a", "p=tls-unique,,n=alice,r=a", "n,,r=a,n=alice",
		"n,,n=alice", "n,,n=,r=a", "n,,n=al=ice,r=a", "n,,n=alice,r=", "n,b,n=alice,r=a",
		"n,a=bob,n=alice,r=a", "n,,n=alice,r=a,tokenauth=true", "n,,n=alice,r=a\x00b",
	} {
		x := NewScramExchange(scramSHA256, lookup, []byte("k"))
		if _, _, err := x.Next([]byte(first)); !errors.Is(err, ErrAuthenticationFailed) {
			t.Errorf("client-first %q: err = %v", first, err)
		}
		if _, _, err := x.Next([]byte("c=biws,r=a,p=AAAA")); err == nil {
			t.Errorf("client-first %q: a final message after a failure was accepted", first)
		}
	}
	for _, final := range []string{
		"", "garbage", "c=biws,r=abc", "c=!!,r=%s,p=AAAA", "c=eSws,r=%s,p=AAAA", "c=biws,r=other,p=AAAA",
		"c=biws,r=%s,p=!!", "c=biws,r=%s,p=AAAA", "r=%s,c=biws,p=AAAA",
	} {
		x := NewScramExchange(scramSHA256, lookup, []byte("k")).(*scramExchange)
		if _, _, err := x.Next([]byte("n,,n=alice,r=abc")); err != nil {
			t.Fatal(err)
		}
		msg := strings.ReplaceAll(final, "%s", x.nonce)
		if _, _, err := x.Next([]byte(msg)); !errors.Is(err, ErrAuthenticationFailed) {
			t.Errorf("client-final %q: err = %v", msg, err)
		}
	}
}

func TestPlain(t *testing.T) {
	users, err := ParsePlainUsers(`org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";`)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 {
		t.Fatalf("users = %d, want 2 (username/password are not a user)", len(users))
	}
	auth := func(user, pass string) error {
		client := kplain.Auth{User: user, Pass: pass}.AsMechanism()
		return converse(t, client, NewPlainExchange(users.Check))
	}
	if err := auth("alice", "alice-secret"); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{"alice", "admin-secret"}, {"bob", "alice-secret"}} {
		if err := auth(c[0], c[1]); !errors.Is(err, ErrAuthenticationFailed) {
			t.Errorf("%v: err = %v", c, err)
		}
	}
	for _, tok := range []string{"", "alice", "\x00alice\x00", "\x00alice", "\x00\x00pw", "bob\x00alice\x00alice-secret", "a\x00b\x00c\x00d"} {
		x := NewPlainExchange(users.Check)
		if _, _, err := x.Next([]byte(tok)); !errors.Is(err, ErrAuthenticationFailed) || strings.Contains(err.Error(), "secret") {
			t.Errorf("token %q: err = %v", tok, err)
		}
	}
	x := NewPlainExchange(users.Check)
	if _, done, err := x.Next([]byte("alice\x00alice\x00alice-secret")); err != nil || !done {
		t.Fatalf("authzid equal to the user: %v", err)
	}
	if _, err := ParsePlainUsers(`org.apache.kafka.common.security.scram.ScramLoginModule required;`); err == nil {
		t.Fatal("a SCRAM entry was taken as a PLAIN user list")
	}
}

func FuzzScramExchange(f *testing.F) {
	f.Add([]byte("n,,n=alice,r=abc"), []byte("c=biws,r=abc,p=AAAA"))
	f.Add([]byte("n,a=alice,n=alice,r=abc,ext=1"), []byte("c=bixhPWFsaWNlLA==,r=x,p=="))
	cred, _ := scramSHA512.NewCredential("pw", MinIterations)
	f.Fuzz(func(t *testing.T, first, final []byte) {
		x := NewScramExchange(scramSHA512, func(_, u string) (Credential, bool) { return cred, u == "alice" }, []byte("k"))
		if _, done, err := x.Next(first); done || (err != nil && !errors.Is(err, ErrAuthenticationFailed)) {
			t.Fatalf("first: done=%v err=%v", done, err)
		}
		if _, done, err := x.Next(final); done || err == nil {
			t.Fatalf("final: a random proof was accepted")
		}
	})
}

func FuzzPlainExchange(f *testing.F) {
	f.Add([]byte("\x00alice\x00pw"))
	users := PlainUsers{"alice": "pw"}
	f.Fuzz(func(t *testing.T, tok []byte) {
		x := NewPlainExchange(users.Check)
		_, done, err := x.Next(tok)
		if done != (err == nil) {
			t.Fatalf("done=%v err=%v", done, err)
		}
	})
}
