package sasl

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/tributary-streams/tributary/internal/jaas"
)

// PasswordCheck reports whether password is user's. It answers false for
// an unknown user.
type PasswordCheck func(user, password string) bool

// plainExchange is RFC 4616's PLAIN: one token, authzid NUL authcid NUL
// passwd, checked by check.
type plainExchange struct {
	check PasswordCheck
	user  string
	done  bool
}

// NewPlainExchange starts a PLAIN conversation that checks passwords with
// check.
func NewPlainExchange(check PasswordCheck) Exchange { return &plainExchange{check: check} }

func (x *plainExchange) Mechanism() string { return Plain }
func (x *plainExchange) User() string      { return x.user }

func (x *plainExchange) Next(token []byte) ([]byte, bool, error) {
	if x.done {
		return nil, false, fmt.Errorf("%w: PLAIN: unexpected message after the exchange ended", ErrAuthenticationFailed)
	}
	x.done = true
	parts := bytes.Split(token, []byte{0})
	if len(parts) != 3 {
		return nil, false, fmt.Errorf("%w: PLAIN: malformed message: want authzid NUL username NUL password", ErrAuthenticationFailed)
	}
	authzid, user, password := string(parts[0]), string(parts[1]), string(parts[2])
	if user == "" {
		return nil, false, fmt.Errorf("%w: PLAIN: empty username", ErrAuthenticationFailed)
	}
	x.user = user
	if authzid != "" && authzid != user {
		return nil, false, fmt.Errorf("%w: PLAIN: authorization id %q differs from the user name", ErrAuthenticationFailed, authzid)
	}
	if !x.check(user, password) {
		return nil, false, fmt.Errorf("%w: PLAIN: invalid username or password", ErrAuthenticationFailed)
	}
	return nil, true, nil
}

// PlainUsers is the user list of a broker's PlainLoginModule entry, Kafka's
// form:
//
//	org.apache.kafka.common.security.plain.PlainLoginModule required
//	    username="admin" password="admin-secret"
//	    user_admin="admin-secret" user_alice="alice-secret";
//
// Each user_<name>="<password>" option is a user. username and password
// are the broker's own client identity in Kafka (for inter-broker links);
// a single node has none, so they are accepted and unused.
type PlainUsers map[string]string

// ParsePlainUsers reads a PlainLoginModule entry's user list.
func ParsePlainUsers(jaasConfig string) (PlainUsers, error) {
	e, err := jaas.Parse(jaasConfig)
	if err != nil {
		return nil, err
	}
	if e.ShortModule() != "PlainLoginModule" {
		return nil, fmt.Errorf("login module %s: a PLAIN user list is a %s entry", e.Module, jaas.PlainLoginModule)
	}
	users := PlainUsers{}
	for k, v := range e.Options {
		if name, ok := strings.CutPrefix(k, "user_"); ok && name != "" {
			users[name] = v
		}
	}
	return users, nil
}

// Check is a PasswordCheck against the list.
func (u PlainUsers) Check(user, password string) bool {
	want, ok := u[user]
	if !ok {
		want = "\x00unknown user" // compared anyway, so timing does not tell
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1 && ok
}
