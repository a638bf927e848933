package broker

// DescribeUserScramCredentials v0 and AlterUserScramCredentials v0: the
// SCRAM credentials in <data-dir>/scram-credentials.json. Alter carries
// salted passwords, never passwords (the client salts them); the broker
// keeps only StoredKey and ServerKey. A user's changes in one request
// apply together or not at all; errors are Kafka's: UNACCEPTABLE_CREDENTIAL
// (empty name, salt or password, iterations outside 4096..16384),
// UNSUPPORTED_SASL_MECHANISM, DUPLICATE_RESOURCE (a user and mechanism
// twice in one request), RESOURCE_NOT_FOUND (deleting a credential that
// does not exist, describing a user without credentials).

import (
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/sasl"
)

// scramMechanismByType maps the protocol's mechanism numbers.
var scramMechanismByType = map[int8]string{1: sasl.ScramSHA256, 2: sasl.ScramSHA512}

func scramMechanismType(name string) int8 {
	for t, n := range scramMechanismByType {
		if n == name {
			return t
		}
	}
	return 0
}

func (b *Broker) handleDescribeUserSCRAMCredentials(c *clientConn, req *kmsg.DescribeUserSCRAMCredentialsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeUserSCRAMCredentialsResponse)
	var names []string
	seen := map[string]int{}
	for _, u := range req.Users {
		seen[u.Name]++
		if seen[u.Name] == 1 {
			names = append(names, u.Name)
		}
	}
	described := b.credentials.Describe(names)
	result := func(user string) kmsg.DescribeUserSCRAMCredentialsResponseResult {
		r := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		r.User = user
		switch infos, ok := described[user]; {
		case seen[user] > 1:
			msg := "Cannot describe SCRAM credentials for the same user twice in a single request: " + user
			r.ErrorCode, r.ErrorMessage = kerr.DuplicateResource.Code, &msg
		case !ok:
			msg := "Attempt to describe a user credential that does not exist: " + user
			r.ErrorCode, r.ErrorMessage = kerr.ResourceNotFound.Code, &msg
		default:
			for _, in := range infos {
				ci := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
				ci.Mechanism, ci.Iterations = scramMechanismType(in.Mechanism), int32(in.Iterations)
				r.CredentialInfos = append(r.CredentialInfos, ci)
			}
		}
		return r
	}
	if len(req.Users) == 0 {
		for u := range described {
			names = append(names, u)
		}
		sort.Strings(names)
	}
	for _, u := range names {
		resp.Results = append(resp.Results, result(u))
	}
	return resp
}

func (b *Broker) handleAlterUserSCRAMCredentials(c *clientConn, req *kmsg.AlterUserSCRAMCredentialsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
	type userChanges struct {
		err     error
		code    int16
		changes []sasl.Change
	}
	byUser := map[string]*userChanges{}
	var order []string
	seen := map[string]bool{} // user + mechanism
	fail := func(u *userChanges, code int16, err error) {
		if u.err == nil {
			u.code, u.err = code, err
		}
	}
	get := func(name string, mech int8) (*userChanges, string) {
		u := byUser[name]
		if u == nil {
			u = &userChanges{}
			byUser[name] = u
			order = append(order, name)
		}
		m, ok := scramMechanismByType[mech]
		switch {
		case name == "":
			fail(u, kerr.UnacceptableCredential.Code, errors.New("username must not be empty"))
		case !ok:
			fail(u, kerr.UnsupportedSaslMechanism.Code, fmt.Errorf("unknown SCRAM mechanism %d: accepted 1 (SCRAM-SHA-256) or 2 (SCRAM-SHA-512)", mech))
		case seen[name+"\x00"+m]:
			fail(u, kerr.DuplicateResource.Code, fmt.Errorf("a single request may not alter the %s credential of %s twice", m, name))
		}
		seen[name+"\x00"+m] = true
		return u, m
	}
	for _, d := range req.Deletions {
		u, m := get(d.Name, d.Mechanism)
		u.changes = append(u.changes, sasl.Change{User: d.Name, Mechanism: m, Delete: true})
	}
	for _, up := range req.Upsertions {
		u, m := get(up.Name, up.Mechanism)
		if err := sasl.CheckIterations(int(up.Iterations)); err != nil {
			fail(u, kerr.UnacceptableCredential.Code, err)
		}
		if len(up.Salt) == 0 || len(up.SaltedPassword) == 0 {
			fail(u, kerr.UnacceptableCredential.Code, errors.New("salt and salted password must not be empty"))
		}
		mech, ok := sasl.ScramByName(m)
		if !ok || u.err != nil {
			continue
		}
		u.changes = append(u.changes, sasl.Change{User: up.Name, Mechanism: m,
			Credential: mech.CredentialFromSalted(up.SaltedPassword, up.Salt, int(up.Iterations))})
	}
	// A deletion of a credential that does not exist fails its user.
	var changes []sasl.Change
	for _, name := range order {
		u := byUser[name]
		if u.err != nil {
			continue
		}
		for _, ch := range u.changes {
			if _, ok := b.credentials.Lookup(ch.Mechanism, ch.User); ch.Delete && !ok {
				fail(u, kerr.ResourceNotFound.Code, fmt.Errorf("attempt to delete a user credential that does not exist: %s %s", ch.User, ch.Mechanism))
			}
		}
		if u.err == nil {
			changes = append(changes, u.changes...)
		}
	}
	var writeErr error
	if len(changes) > 0 {
		_, writeErr = b.credentials.Apply(changes)
	}
	for _, name := range order {
		u := byUser[name]
		r := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		r.User = name
		switch {
		case u.err != nil:
			msg := u.err.Error()
			r.ErrorCode, r.ErrorMessage = u.code, &msg
		case writeErr != nil:
			b.logger.Error("alter SCRAM credentials", "err", writeErr)
			msg := writeErr.Error()
			r.ErrorCode, r.ErrorMessage = kerr.UnknownServerError.Code, &msg
		default:
			b.logger.Info("SCRAM credentials altered", "user", name, "by", c.principal)
		}
		resp.Results = append(resp.Results, r)
	}
	return resp
}
