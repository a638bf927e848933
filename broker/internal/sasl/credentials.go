package sasl

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/tributary-streams/tributary/broker/internal/metafile"
)

// ErrNoCredential is returned when deleting a credential a user does not
// have.
var ErrNoCredential = errors.New("sasl: no such credential")

// CredentialsFile is the store's file name in the data dir.
const CredentialsFile = "scram-credentials.json"

// Credentials is the durable store of SCRAM credentials: one per user and
// mechanism. Every change is written (checksummed, atomically, the
// previous version kept) before it is visible, so a credential that was
// acknowledged survives a crash. Safe for concurrent use.
type Credentials struct {
	path string
	// mu guards users; writes hold it across the file write, so the file
	// and the map change in one order.
	mu    sync.RWMutex
	users map[string]map[string]Credential // user → mechanism → credential
}

type credentialsFile struct {
	Version int                              `json:"version"`
	Users   map[string]map[string]Credential `json:"users"`
}

// OpenCredentials reads the store at path, or starts an empty one if the
// file does not exist.
func OpenCredentials(path string) (*Credentials, error) {
	c := &Credentials{path: path, users: map[string]map[string]Credential{}}
	var f credentialsFile
	if _, err := metafile.ReadJSON("SCRAM credentials", path, &f); err != nil {
		return nil, err
	}
	for user, mechs := range f.Users {
		for mech, cred := range mechs {
			if _, ok := ScramByName(mech); !ok || CheckIterations(cred.Iterations) != nil || len(cred.StoredKey) == 0 || len(cred.ServerKey) == 0 {
				return nil, fmt.Errorf("SCRAM credentials %s: user %q has a damaged %s credential", path, user, mech)
			}
		}
		c.users[user] = mechs
	}
	return c, nil
}

// Lookup returns user's credential for mechanism.
func (c *Credentials) Lookup(mechanism, user string) (Credential, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cred, ok := c.users[user][mechanism]
	return cred, ok
}

// CheckPassword reports whether password matches any of user's SCRAM
// credentials: PLAIN's check when no user list is configured.
func (c *Credentials) CheckPassword(user, password string) bool {
	c.mu.RLock()
	mechs := c.users[user]
	c.mu.RUnlock()
	for _, m := range ScramMechanisms() {
		if cred, ok := mechs[m.name]; ok {
			return m.Matches(cred, password)
		}
	}
	// Same work for an unknown user, so timing does not tell.
	scramSHA256.Matches(Credential{Salt: []byte("unknown"), Iterations: MinIterations}, password)
	return false
}

// Change is one upsertion (Credential set) or deletion (Delete set).
type Change struct {
	User      string
	Mechanism string
	Delete    bool
	Credential
}

// Apply makes all changes in one durable write. A deletion of a credential
// that does not exist fails alone (its error is ErrNoCredential at its
// index) while the others apply. The returned error is the write's.
func (c *Credentials) Apply(changes []Change) (perChange []error, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := make(map[string]map[string]Credential, len(c.users))
	for u, m := range c.users {
		cp := make(map[string]Credential, len(m))
		for k, v := range m {
			cp[k] = v
		}
		next[u] = cp
	}
	perChange = make([]error, len(changes))
	changed := false
	for i, ch := range changes {
		if _, ok := ScramByName(ch.Mechanism); !ok {
			perChange[i] = fmt.Errorf("unknown mechanism %q (accepted: %s, %s)", ch.Mechanism, ScramSHA256, ScramSHA512)
			continue
		}
		if ch.Delete {
			if _, ok := next[ch.User][ch.Mechanism]; !ok {
				perChange[i] = fmt.Errorf("%w: user %q has no %s credential", ErrNoCredential, ch.User, ch.Mechanism)
				continue
			}
			delete(next[ch.User], ch.Mechanism)
			if len(next[ch.User]) == 0 {
				delete(next, ch.User)
			}
		} else {
			if next[ch.User] == nil {
				next[ch.User] = map[string]Credential{}
			}
			next[ch.User][ch.Mechanism] = ch.Credential
		}
		changed = true
	}
	if !changed {
		return perChange, nil
	}
	if err := metafile.WriteJSON("SCRAM credentials", c.path, credentialsFile{Version: 1, Users: next}); err != nil {
		return perChange, err
	}
	c.users = next
	return perChange, nil
}

// UserMechanism is one credential's public description.
type UserMechanism struct {
	Mechanism  string
	Iterations int
}

// Describe returns the credentials' mechanisms and iterations by user, for
// the users named (all users when names is empty). Users without
// credentials are absent from the map.
func (c *Credentials) Describe(names []string) map[string][]UserMechanism {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := map[string][]UserMechanism{}
	add := func(user string) {
		mechs, ok := c.users[user]
		if !ok {
			return
		}
		list := make([]UserMechanism, 0, len(mechs))
		for m, cred := range mechs {
			list = append(list, UserMechanism{Mechanism: m, Iterations: cred.Iterations})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Mechanism < list[j].Mechanism })
		out[user] = list
	}
	if len(names) == 0 {
		for u := range c.users {
			add(u)
		}
	}
	for _, n := range names {
		add(n)
	}
	return out
}
