package acl

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/metafile"
)

// File is the ACL store's file name in the data dir.
const File = "acls.json"

// Authorizer holds the ACLs and decides requests. Every change is written
// to its file (checksummed, atomically, the previous version kept) before
// it takes effect, so ACLs that were acknowledged survive a crash. Safe for
// concurrent use.
type Authorizer struct {
	path         string
	superUsers   map[string]bool
	allowIfNoACL bool

	// mu guards acls; changes hold it across the file write.
	mu   sync.RWMutex
	acls []Binding
}

// Open reads the ACLs at path (none if the file does not exist).
// superUsers are principals ("User:admin") allowed everything;
// allowIfNoACL is allow.everyone.if.no.acl.found.
func Open(path string, superUsers []string, allowIfNoACL bool) (*Authorizer, error) {
	a := &Authorizer{path: path, superUsers: map[string]bool{}, allowIfNoACL: allowIfNoACL}
	for _, u := range superUsers {
		a.superUsers[u] = true
	}
	var f aclFile
	if _, err := metafile.ReadJSON("ACLs", path, &f); err != nil {
		return nil, err
	}
	for i, s := range f.ACLs {
		b, err := s.binding()
		if err == nil {
			err = b.Validate()
		}
		if err != nil {
			return nil, fmt.Errorf("ACLs %s: entry %d: %w", path, i, err)
		}
		a.acls = append(a.acls, b)
	}
	return a, nil
}

// IsSuperUser reports whether principal is in super.users.
func (a *Authorizer) IsSuperUser(principal string) bool { return a.superUsers[principal] }

// Authorize decides whether principal, connecting from host (an IP
// address), may perform op on the resource (rt, name). See the package
// documentation for the rules.
func (a *Authorizer) Authorize(principal, host string, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	if a.superUsers[principal] {
		return true
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	found, allowed := false, false
	for _, b := range a.acls {
		if !b.appliesTo(rt, name) {
			continue
		}
		found = true
		if (b.Principal != principal && b.Principal != WildcardPrincipal) || (b.Host != WildcardHost && b.Host != host) {
			continue
		}
		if b.Permission == kmsg.ACLPermissionTypeDeny {
			if b.Operation == op || b.Operation == kmsg.ACLOperationAll {
				return false // deny wins
			}
			continue
		}
		if grants(b.Operation, op) {
			allowed = true
		}
	}
	if !found {
		return a.allowIfNoACL
	}
	return allowed
}

// AuthorizeAny decides whether principal may perform op on at least one
// resource of type rt, Kafka's authorizeByResourceType (used, e.g., to let
// a producer that may write some topic be idempotent): an ALLOW that would
// grant op on some resource, unless a DENY of op on every resource ("*" or
// the empty prefix) applies. With no ACL of type rt at all, the answer is
// allow.everyone.if.no.acl.found.
func (a *Authorizer) AuthorizeAny(principal, host string, op kmsg.ACLOperation, rt kmsg.ACLResourceType) bool {
	if a.superUsers[principal] {
		return true
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	found, allowed := false, false
	for _, b := range a.acls {
		if b.ResourceType != rt {
			continue
		}
		found = true
		if (b.Principal != principal && b.Principal != WildcardPrincipal) || (b.Host != WildcardHost && b.Host != host) {
			continue
		}
		if b.Permission == kmsg.ACLPermissionTypeDeny {
			everything := (b.PatternType == kmsg.ACLResourcePatternTypeLiteral && b.ResourceName == WildcardResource) ||
				(b.PatternType == kmsg.ACLResourcePatternTypePrefixed && b.ResourceName == "")
			if everything && (b.Operation == op || b.Operation == kmsg.ACLOperationAll) {
				return false
			}
			continue
		}
		if grants(b.Operation, op) {
			allowed = true
		}
	}
	if !found {
		return a.allowIfNoACL
	}
	return allowed
}

// Create adds bindings in one durable write. An invalid binding fails
// alone (its error at its index) while the others are added; a binding
// already present is a success that adds nothing. The returned error is
// the write's: then nothing was added.
func (a *Authorizer) Create(bindings []Binding) (perBinding []error, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	perBinding = make([]error, len(bindings))
	next := append([]Binding(nil), a.acls...)
	have := make(map[Binding]bool, len(next))
	for _, b := range next {
		have[b] = true
	}
	for i, b := range bindings {
		if err := b.Validate(); err != nil {
			perBinding[i] = err
			continue
		}
		if !have[b] {
			have[b] = true
			next = append(next, b)
		}
	}
	if len(next) == len(a.acls) {
		return perBinding, nil
	}
	if err := a.write(next); err != nil {
		return perBinding, err
	}
	a.acls = next
	return perBinding, nil
}

// Describe returns the bindings f selects, sorted.
func (a *Authorizer) Describe(f Filter) []Binding {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []Binding
	for _, b := range a.acls {
		if f.Matches(b) {
			out = append(out, b)
		}
	}
	sortBindings(out)
	return out
}

// Delete removes every binding any filter selects, in one durable write,
// and returns what each filter selected (a binding selected by two
// filters is reported under both).
func (a *Authorizer) Delete(filters []Filter) ([][]Binding, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	matched := make([][]Binding, len(filters))
	var keep []Binding
	for _, b := range a.acls {
		hit := false
		for i, f := range filters {
			if f.Matches(b) {
				matched[i] = append(matched[i], b)
				hit = true
			}
		}
		if !hit {
			keep = append(keep, b)
		}
	}
	if len(keep) == len(a.acls) {
		return matched, nil
	}
	if err := a.write(keep); err != nil {
		return nil, err
	}
	a.acls = keep
	for _, m := range matched {
		sortBindings(m)
	}
	return matched, nil
}

func sortBindings(bs []Binding) {
	sort.Slice(bs, func(i, j int) bool {
		x, y := bs[i], bs[j]
		if x.ResourceType != y.ResourceType {
			return x.ResourceType < y.ResourceType
		}
		if x.ResourceName != y.ResourceName {
			return x.ResourceName < y.ResourceName
		}
		if x.PatternType != y.PatternType {
			return x.PatternType < y.PatternType
		}
		if x.Principal != y.Principal {
			return x.Principal < y.Principal
		}
		if x.Host != y.Host {
			return x.Host < y.Host
		}
		if x.Operation != y.Operation {
			return x.Operation < y.Operation
		}
		return x.Permission < y.Permission
	})
}

// aclFile is the store's JSON form, enumerations by Kafka's names so the
// file reads like kafka-acls.sh output.
type aclFile struct {
	Version int         `json:"version"`
	ACLs    []storedACL `json:"acls"`
}

type storedACL struct {
	ResourceType string `json:"resource_type"`
	ResourceName string `json:"resource_name"`
	PatternType  string `json:"pattern_type"`
	Principal    string `json:"principal"`
	Host         string `json:"host"`
	Operation    string `json:"operation"`
	Permission   string `json:"permission"`
}

func (s storedACL) binding() (Binding, error) {
	b := Binding{ResourceName: s.ResourceName, Principal: s.Principal, Host: s.Host}
	var errs []error
	var err error
	if b.ResourceType, err = kmsg.ParseACLResourceType(s.ResourceType); err != nil {
		errs = append(errs, err)
	}
	if b.PatternType, err = kmsg.ParseACLResourcePatternType(s.PatternType); err != nil {
		errs = append(errs, err)
	}
	if b.Operation, err = kmsg.ParseACLOperation(s.Operation); err != nil {
		errs = append(errs, err)
	}
	if b.Permission, err = kmsg.ParseACLPermissionType(s.Permission); err != nil {
		errs = append(errs, err)
	}
	return b, errors.Join(errs...)
}

func (a *Authorizer) write(acls []Binding) error {
	f := aclFile{Version: 1, ACLs: make([]storedACL, 0, len(acls))}
	for _, b := range acls {
		f.ACLs = append(f.ACLs, storedACL{
			ResourceType: b.ResourceType.String(), ResourceName: b.ResourceName, PatternType: b.PatternType.String(),
			Principal: b.Principal, Host: b.Host, Operation: b.Operation.String(), Permission: b.Permission.String(),
		})
	}
	return metafile.WriteJSON("ACLs", a.path, f)
}
