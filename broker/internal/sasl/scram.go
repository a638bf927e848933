// Package sasl is the server side of the broker's SASL mechanisms: PLAIN
// (RFC 4616) and SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC 7677), and
// the store of SCRAM credentials they check against.
//
// A SCRAM credential is what RFC 5802 calls the server's stored
// information: salt, iteration count, StoredKey and ServerKey. The password
// and the salted password are never kept. As in Apache Kafka, passwords are
// used as their UTF-8 bytes (no SASLprep), so a credential made by Kafka's
// tools or by franz-go's kadm is the same here.
//
// A conversation (Exchange) is fed the client's tokens one at a time and
// answers each; it ends when the client is authenticated or on the first
// error. Every failure wraps ErrAuthenticationFailed, and no error text
// holds a password or a proof.
package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// ErrAuthenticationFailed is wrapped by every failed exchange: bad
// credentials, unknown user, or a malformed message.
var ErrAuthenticationFailed = errors.New("sasl: authentication failed")

// Mechanism names, as in SaslHandshake and sasl.mechanism.
const (
	Plain        = "PLAIN"
	ScramSHA256  = "SCRAM-SHA-256"
	ScramSHA512  = "SCRAM-SHA-512"
	scramSHA1For = "SCRAM-SHA-1" // tests only: RFC 5802's own test vector
)

// Kafka's bounds on SCRAM iterations (ScramMechanism.minIterations, and the
// maximum AlterUserScramCredentials accepts).
const (
	MinIterations = 4096
	MaxIterations = 16384
)

// Scram is one SCRAM mechanism: its name and hash.
type Scram struct {
	name string
	hash func() hash.Hash
}

var (
	scramSHA256 = Scram{ScramSHA256, sha256.New}
	scramSHA512 = Scram{ScramSHA512, sha512.New}
	scramSHA1   = Scram{scramSHA1For, sha1.New}
)

// ScramMechanisms lists the SCRAM mechanisms served.
func ScramMechanisms() []Scram { return []Scram{scramSHA256, scramSHA512} }

// ScramByName returns the SCRAM mechanism named name (SCRAM-SHA-256 or
// SCRAM-SHA-512).
func ScramByName(name string) (Scram, bool) {
	switch name {
	case ScramSHA256:
		return scramSHA256, true
	case ScramSHA512:
		return scramSHA512, true
	}
	return Scram{}, false
}

// Name is the mechanism's name, e.g. SCRAM-SHA-256.
func (m Scram) Name() string { return m.name }

// Credential is the stored form of one user's password for one mechanism.
type Credential struct {
	Salt       []byte `json:"salt"`
	Iterations int    `json:"iterations"`
	StoredKey  []byte `json:"stored_key"`
	ServerKey  []byte `json:"server_key"`
}

// SaltedPassword is RFC 5802's Hi(password, salt, i).
func (m Scram) SaltedPassword(password string, salt []byte, iterations int) []byte {
	// pbkdf2.Key fails only for a key length beyond what FIPS mode allows,
	// which one hash's length never is.
	k, err := pbkdf2.Key(m.hash, password, salt, iterations, m.hash().Size())
	if err != nil {
		panic("sasl: pbkdf2: " + err.Error())
	}
	return k
}

// CredentialFromSalted makes the stored credential from a salted password,
// the form AlterUserScramCredentials carries.
func (m Scram) CredentialFromSalted(salted, salt []byte, iterations int) Credential {
	clientKey := m.hmac(salted, []byte("Client Key"))
	return Credential{
		Salt:       append([]byte(nil), salt...),
		Iterations: iterations,
		StoredKey:  m.digest(clientKey),
		ServerKey:  m.hmac(salted, []byte("Server Key")),
	}
}

// NewCredential makes a credential for password with a fresh random salt.
func (m Scram) NewCredential(password string, iterations int) (Credential, error) {
	if err := CheckIterations(iterations); err != nil {
		return Credential{}, err
	}
	salt := make([]byte, 32)
	rand.Read(salt)
	return m.CredentialFromSalted(m.SaltedPassword(password, salt, iterations), salt, iterations), nil
}

// CheckIterations checks an iteration count against Kafka's bounds.
func CheckIterations(n int) error {
	if n < MinIterations || n > MaxIterations {
		return fmt.Errorf("iterations %d: accepted %d..%d", n, MinIterations, MaxIterations)
	}
	return nil
}

// Matches reports whether password is the one c was made from.
func (m Scram) Matches(c Credential, password string) bool {
	salted := m.SaltedPassword(password, c.Salt, c.Iterations)
	clientKey := m.hmac(salted, []byte("Client Key"))
	return subtle.ConstantTimeCompare(m.digest(clientKey), c.StoredKey) == 1
}

func (m Scram) hmac(key, msg []byte) []byte {
	h := hmac.New(m.hash, key)
	h.Write(msg)
	return h.Sum(nil)
}

func (m Scram) digest(b []byte) []byte {
	h := m.hash()
	h.Write(b)
	return h.Sum(nil)
}

// Lookup finds a user's credential for a mechanism; ok is false for a
// user with none.
type Lookup func(mechanism, user string) (c Credential, ok bool)

// scramExchange is the server side of one SCRAM conversation.
type scramExchange struct {
	mech   Scram
	lookup Lookup
	// fake makes a stand-in credential for an unknown user, so the server
	// answers as it would for a real one and fails only on the proof:
	// the exchange does not tell who has an account.
	fake func(mech, user string) Credential
	// serverNonce is the server's part of the nonce (tests fix it).
	serverNonce func() string

	step        int
	user        string
	known       bool
	cred        Credential
	gs2Header   string
	clientFirst string // client-first-message-bare
	serverFirst string
	nonce       string // client nonce + server nonce
}

// NewScramExchange starts a SCRAM conversation for mech. fakeKey keys the
// stand-in credentials of unknown users; it should be secret and stable
// for the server's life.
func NewScramExchange(mech Scram, lookup Lookup, fakeKey []byte) Exchange {
	return &scramExchange{mech: mech, lookup: lookup, serverNonce: randomNonce,
		fake: func(mechName, user string) Credential {
			h := hmac.New(sha256.New, fakeKey)
			h.Write([]byte(mechName + "\x00" + user))
			seed := h.Sum(nil)
			return Credential{Salt: seed, Iterations: MinIterations,
				StoredKey: mech.hmac(seed, []byte("stored")), ServerKey: mech.hmac(seed, []byte("server"))}
		}}
}

func randomNonce() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawStdEncoding.EncodeToString(b[:])
}

func (x *scramExchange) Mechanism() string { return x.mech.name }
func (x *scramExchange) User() string      { return x.user }

func (x *scramExchange) Next(token []byte) ([]byte, bool, error) {
	switch x.step {
	case 0:
		x.step++
		return x.first(string(token))
	case 1:
		x.step++
		return x.final(string(token))
	}
	return nil, false, fmt.Errorf("%w: %s: unexpected message after the exchange ended", ErrAuthenticationFailed, x.mech.name)
}

func (x *scramExchange) fail(format string, args ...any) ([]byte, bool, error) {
	x.step = 2
	return nil, false, fmt.Errorf("%w: %s: %s", ErrAuthenticationFailed, x.mech.name, fmt.Sprintf(format, args...))
}

// first reads client-first-message and answers server-first-message.
func (x *scramExchange) first(msg string) ([]byte, bool, error) {
	// gs2-header: cbind-flag "," [authzid] ","
	flag, rest, ok := strings.Cut(msg, ",")
	if !ok {
		return x.fail("malformed client-first-message")
	}
	switch {
	case flag == "n" || flag == "y":
	case strings.HasPrefix(flag, "p="):
		return x.fail("channel binding is not supported")
	default:
		return x.fail("malformed client-first-message: bad gs2 channel-binding flag")
	}
	authzField, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return x.fail("malformed client-first-message")
	}
	authzid := ""
	if authzField != "" {
		if !strings.HasPrefix(authzField, "a=") {
			return x.fail("malformed client-first-message: bad authzid")
		}
		var err error
		if authzid, err = decodeSaslName(authzField[2:]); err != nil {
			return x.fail("authzid: %v", err)
		}
	}
	x.gs2Header = msg[:len(msg)-len(bare)]
	x.clientFirst = bare
	attrs := strings.Split(bare, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return x.fail("malformed client-first-message-bare: want n=<user>,r=<nonce>")
	}
	user, err := decodeSaslName(attrs[0][2:])
	if err != nil {
		return x.fail("username: %v", err)
	}
	if user == "" {
		return x.fail("empty username")
	}
	cnonce := attrs[1][2:]
	if cnonce == "" || !printable(cnonce) {
		return x.fail("malformed client nonce")
	}
	for _, ext := range attrs[2:] {
		// Kafka's extension: tokenauth=true asks for a delegation token.
		if k, v, _ := strings.Cut(ext, "="); k == "tokenauth" && strings.EqualFold(v, "true") {
			return x.fail("delegation tokens are not supported")
		}
	}
	if authzid != "" && authzid != user {
		return x.fail("authorization id %q differs from the user name", authzid)
	}
	x.user = user
	x.cred, x.known = x.lookup(x.mech.name, user)
	if !x.known {
		x.cred = x.fake(x.mech.name, user)
	}
	x.nonce = cnonce + x.serverNonce()
	x.serverFirst = "r=" + x.nonce + ",s=" + base64.StdEncoding.EncodeToString(x.cred.Salt) + ",i=" + strconv.Itoa(x.cred.Iterations)
	return []byte(x.serverFirst), false, nil
}

// final reads client-final-message, checks the proof and answers
// server-final-message.
func (x *scramExchange) final(msg string) ([]byte, bool, error) {
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return x.fail("malformed client-final-message: no proof")
	}
	withoutProof, proofB64 := msg[:i], msg[i+3:]
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return x.fail("malformed client-final-message: want c=<binding>,r=<nonce>,...,p=<proof>")
	}
	binding, err := base64.StdEncoding.DecodeString(attrs[0][2:])
	if err != nil || string(binding) != x.gs2Header {
		return x.fail("channel binding does not match the gs2 header")
	}
	// Kafka's ScramSaslServer accepts a final nonce that ends with the
	// server-first nonce, and librdkafka relies on it (it sends its own
	// nonce again in front); the server's random part is still required,
	// so a replayed exchange still fails.
	if !strings.HasSuffix(attrs[1][2:], x.nonce) {
		return x.fail("nonce does not match")
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != x.mech.hash().Size() {
		return x.fail("malformed client proof")
	}
	authMessage := []byte(x.clientFirst + "," + x.serverFirst + "," + withoutProof)
	clientSig := x.mech.hmac(x.cred.StoredKey, authMessage)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ clientSig[i]
	}
	if subtle.ConstantTimeCompare(x.mech.digest(clientKey), x.cred.StoredKey) != 1 || !x.known {
		if !x.known {
			return x.fail("unknown user")
		}
		return x.fail("wrong password")
	}
	serverSig := x.mech.hmac(x.cred.ServerKey, authMessage)
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSig)), true, nil
}

// decodeSaslName undoes RFC 5802's escaping of ',' and '=' in names.
func decodeSaslName(s string) (string, error) {
	if !strings.Contains(s, "=") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", errors.New("bad escape (only =2C and =3D are allowed)")
		}
		i += 2
	}
	return b.String(), nil
}

// printable is RFC 5802's printable: %x21-2B / %x2D-7E.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}
