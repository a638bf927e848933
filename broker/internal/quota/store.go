package quota

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/tributary-streams/tributary/broker/internal/metafile"
)

// File is the store's file name in the data dir.
const File = "client-quotas.json"

// Quota keys, as Kafka names them.
const (
	ProducerByteRate       = "producer_byte_rate"
	ConsumerByteRate       = "consumer_byte_rate"
	RequestPercentage      = "request_percentage"
	ControllerMutationRate = "controller_mutation_rate"
)

// Keys are the quota keys accepted, sorted.
var Keys = []string{ConsumerByteRate, ControllerMutationRate, ProducerByteRate, RequestPercentage}

// Entity types.
const (
	User     = "user"
	ClientID = "client-id"
)

// Part is one part of an entity: a user or a client id, by name, or the
// default for all of them (Default set, Name empty).
type Part struct {
	Name    string
	Default bool
}

// Entity is what a quota is set on: a user, a client id, or both; each
// part named or the default. A nil part is absent.
type Entity struct {
	User   *Part
	Client *Part
}

// key is an Entity as a map key.
type key struct {
	hasUser, userDefault, hasClient, clientDefault bool
	user, client                                   string
}

func (e Entity) key() key {
	var k key
	if e.User != nil {
		k.hasUser, k.userDefault, k.user = true, e.User.Default, e.User.Name
	}
	if e.Client != nil {
		k.hasClient, k.clientDefault, k.client = true, e.Client.Default, e.Client.Name
	}
	return k
}

func (k key) entity() Entity {
	var e Entity
	if k.hasUser {
		e.User = &Part{Name: k.user, Default: k.userDefault}
	}
	if k.hasClient {
		e.Client = &Part{Name: k.client, Default: k.clientDefault}
	}
	return e
}

func (e Entity) String() string {
	part := func(typ string, p *Part) string {
		if p.Default {
			return typ + "=<default>"
		}
		return typ + "=" + p.Name
	}
	switch {
	case e.User != nil && e.Client != nil:
		return part(User, e.User) + "," + part(ClientID, e.Client)
	case e.User != nil:
		return part(User, e.User)
	case e.Client != nil:
		return part(ClientID, e.Client)
	}
	return "(none)"
}

// Store holds the configured quotas, durably (checksummed, atomically
// written, previous version kept). Safe for concurrent use.
type Store struct {
	path string
	// mu guards quotas; changes hold it across the file write.
	mu     sync.RWMutex
	quotas map[key]map[string]float64
}

type storedEntry struct {
	User          *string            `json:"user,omitempty"`
	UserDefault   bool               `json:"user_default,omitempty"`
	Client        *string            `json:"client_id,omitempty"`
	ClientDefault bool               `json:"client_id_default,omitempty"`
	Quotas        map[string]float64 `json:"quotas"`
}

// OpenStore reads the store at path (empty if the file does not exist).
func OpenStore(path string) (*Store, error) {
	s := &Store{path: path, quotas: map[key]map[string]float64{}}
	var f struct {
		Entries []storedEntry `json:"entries"`
	}
	if _, err := metafile.ReadJSON("client quotas", path, &f); err != nil {
		return nil, err
	}
	for _, e := range f.Entries {
		var k key
		if e.User != nil || e.UserDefault {
			k.hasUser, k.userDefault = true, e.UserDefault
			if e.User != nil {
				k.user = *e.User
			}
		}
		if e.Client != nil || e.ClientDefault {
			k.hasClient, k.clientDefault = true, e.ClientDefault
			if e.Client != nil {
				k.client = *e.Client
			}
		}
		for qk, v := range e.Quotas {
			if err := CheckValue(qk, v); err != nil {
				return nil, fmt.Errorf("client quotas %s: %s: %w", path, k.entity(), err)
			}
		}
		s.quotas[k] = e.Quotas
	}
	return s, nil
}

// CheckValue checks a quota key and value as AlterClientQuotas does.
func CheckValue(k string, v float64) error {
	switch k {
	case ProducerByteRate, ConsumerByteRate:
		if v <= 0 || v != float64(int64(v)) {
			return fmt.Errorf("%s=%v: accepted a whole number of bytes per second above 0", k, v)
		}
	case RequestPercentage, ControllerMutationRate:
		if v <= 0 {
			return fmt.Errorf("%s=%v: accepted a number above 0", k, v)
		}
	default:
		return fmt.Errorf("unknown quota %q: accepted %v", k, Keys)
	}
	return nil
}

// Op is one change: Set the key to Value, or Remove it.
type Op struct {
	Key    string
	Value  float64
	Remove bool
}

// Alter applies ops to e in one durable write.
func (s *Store) Alter(e Entity, ops []Op) error {
	for _, op := range ops {
		if !op.Remove {
			if err := CheckValue(op.Key, op.Value); err != nil {
				return err
			}
		} else if !slices.Contains(Keys, op.Key) {
			return fmt.Errorf("unknown quota %q: accepted %v", op.Key, Keys)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[key]map[string]float64, len(s.quotas)+1)
	for k, v := range s.quotas {
		next[k] = v
	}
	k := e.key()
	m := map[string]float64{}
	for qk, v := range next[k] {
		m[qk] = v
	}
	for _, op := range ops {
		if op.Remove {
			delete(m, op.Key)
		} else {
			m[op.Key] = op.Value
		}
	}
	if len(m) == 0 {
		delete(next, k)
	} else {
		next[k] = m
	}
	if err := s.write(next); err != nil {
		return err
	}
	s.quotas = next
	return nil
}

func (s *Store) write(q map[key]map[string]float64) error {
	var f struct {
		Entries []storedEntry `json:"entries"`
	}
	for k, v := range q {
		e := storedEntry{UserDefault: k.userDefault, ClientDefault: k.clientDefault, Quotas: v}
		if k.hasUser && !k.userDefault {
			e.User = &k.user
		}
		if k.hasClient && !k.clientDefault {
			e.Client = &k.client
		}
		f.Entries = append(f.Entries, e)
	}
	sort.Slice(f.Entries, func(i, j int) bool {
		a, _ := json.Marshal(f.Entries[i])
		b, _ := json.Marshal(f.Entries[j])
		return string(a) < string(b)
	})
	return metafile.WriteJSON("client quotas", s.path, f)
}

// Entry is one entity's quotas.
type Entry struct {
	Entity Entity
	Quotas map[string]float64
}

// All returns every entity's quotas.
func (s *Store) All() []Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Entry, 0, len(s.quotas))
	for k, v := range s.quotas {
		cp := make(map[string]float64, len(v))
		for qk, qv := range v {
			cp[qk] = qv
		}
		out = append(out, Entry{Entity: k.entity(), Quotas: cp})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Entity.String() < out[j].Entity.String() })
	return out
}

// Resolve finds the quota quotaKey for a client (user, client id), by
// Kafka's precedence:
//
//	user+client-id, user+<default> client-id, user,
//	<default> user+client-id, <default> user+<default> client-id, <default> user,
//	client-id, <default> client-id
//
// It returns the entity the quota is set on (clients that resolve to the
// same entity share one rate, as in Kafka), or ok false when none is set.
func (s *Store) Resolve(quotaKey, user, client string) (e Entity, value float64, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.quotas) == 0 {
		return Entity{}, 0, false
	}
	u := key{hasUser: true, user: user}
	ud := key{hasUser: true, userDefault: true}
	for _, k := range []key{
		{hasUser: true, user: user, hasClient: true, client: client},
		{hasUser: true, user: user, hasClient: true, clientDefault: true},
		u,
		{hasUser: true, userDefault: true, hasClient: true, client: client},
		{hasUser: true, userDefault: true, hasClient: true, clientDefault: true},
		ud,
		{hasClient: true, client: client},
		{hasClient: true, clientDefault: true},
	} {
		if v, found := s.quotas[k][quotaKey]; found {
			// A user-level quota is shared by all the user's clients, a
			// default-user one by each user separately, as Kafka's
			// sensors are.
			shared := k
			if k.userDefault {
				shared.userDefault, shared.user = false, user
			}
			if k.clientDefault {
				shared.clientDefault, shared.client = false, client
			}
			return shared.entity(), v, true
		}
	}
	return Entity{}, 0, false
}
