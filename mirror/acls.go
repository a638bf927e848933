package mirror

// Topic ACL sync (sync.topic.acls.enabled): every
// sync.topic.acls.interval.seconds the flow reads the source's topic ACLs
// and creates on the target the bindings MirrorMaker 2 would, for the
// remote topic names. MM2's rules:
//
//   - Only LITERAL topic patterns are copied. A PREFIXED pattern is a set
//     of names the topic selection cannot be checked against, so it is
//     left out, as MM2 leaves it out.
//   - The pattern's name must be one the flow copies (shouldCopy: topics
//     and topics.exclude, or a heartbeats topic; never internal, never a
//     cycle), whether or not such a topic exists yet.
//   - ALLOW WRITE is never copied: only the mirror writes remote topics.
//     For the same reason ALLOW ALL is copied as ALLOW READ.
//   - Everything else is copied unchanged: principal, host, operation,
//     and DENY bindings, whatever their operation. Dropping a DENY while
//     copying the ALLOWs it narrows would grant on the target what the
//     source refuses.
//   - The target binding is LITERAL, on the remote topic name.
//
// As in MM2, the sync only adds: a binding deleted on the source stays on
// the target. Unlike MM2, the wildcard literal "*" (every topic) is not
// copied. MM2 turns it into a binding for the literal topic "A.*", which is
// not a legal topic name, and under IdentityReplicationPolicy into "*",
// which would grant on every topic of the target, not only the copies.
//
// Bindings already on the target are not created again; when the target
// does not let the mirror read its ACLs, every binding is sent (CreateAcls
// of an existing binding changes nothing, as in Kafka).
//
// A source without an authorizer answers DescribeAcls SECURITY_DISABLED.
// The flow logs that once and then asks again quietly at each interval,
// so an authorizer turned on later is picked up. A failure to read the
// source or to create on the target (a principal without Alter on the
// target cluster) is a warning, repeated only when the problem changes;
// copying goes on either way. Every process running the flow syncs; the
// bindings are the same, so it does not matter which one gets there first.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicACL is one ACL binding on a topic pattern.
type topicACL struct {
	name       string
	pattern    kmsg.ACLResourcePatternType
	principal  string
	host       string
	op         kmsg.ACLOperation
	permission kmsg.ACLPermissionType
}

func (a topicACL) String() string {
	return fmt.Sprintf("%s %s %s on topic %s:%s from host %s", a.permission, a.principal, a.op, a.pattern, a.name, a.host)
}

// wildcardTopic is the literal name that stands for every topic.
const wildcardTopic = "*"

// aclSyncState is what the flow remembers between ACL syncs and across
// reconnects. One goroutine at a time uses it: each run's sync loop has
// ended (runAll waits for it) before retry starts the next run.
type aclSyncState struct {
	// sourceDisabled: the source answered SECURITY_DISABLED, and the
	// flow said so.
	sourceDisabled bool
	// problem is the last warning logged, not logged again while the
	// same problem repeats.
	problem string
}

// aclSyncLoop syncs topic ACLs now and then every
// sync.topic.acls.interval.seconds until ctx ends. Its failures are
// logged, never returned: ACLs must not stop the copy.
func (f *flow) aclSyncLoop(ctx context.Context, ep *endpoints) error {
	for {
		f.syncTopicACLs(ctx, ep)
		f.log.Debug("topic ACL sync ran", "next_in", f.cfg.SyncTopicACLsInterval)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(f.cfg.SyncTopicACLsInterval):
		}
	}
}

// remoteACL is MM2's rule for one source binding: the binding to create
// on the target, or false when it is not copied. See the file comment.
func (f *flow) remoteACL(a topicACL) (topicACL, bool) {
	if a.pattern != kmsg.ACLResourcePatternTypeLiteral || a.name == wildcardTopic || !f.shouldCopy(a.name) {
		return topicACL{}, false
	}
	if a.permission == kmsg.ACLPermissionTypeAllow {
		switch a.op {
		case kmsg.ACLOperationWrite:
			return topicACL{}, false
		case kmsg.ACLOperationAll:
			a.op = kmsg.ACLOperationRead
		}
	}
	a.name = f.policy.FormatRemoteTopic(f.cfg.Source, a.name)
	return a, true
}

// syncTopicACLs runs one sync.
func (f *flow) syncTopicACLs(ctx context.Context, ep *endpoints) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.AdminTimeout)
	defer cancel()
	src, err := describeTopicACLs(ctx, ep.srcCl, kmsg.ACLResourcePatternTypeAny)
	switch {
	case errors.Is(err, kerr.SecurityDisabled):
		if f.acls.sourceDisabled {
			f.log.Debug("topic ACL sync: cluster " + f.cfg.Source + " still has no authorizer")
			return
		}
		f.acls.sourceDisabled = true
		f.log.Info(fmt.Sprintf("topic ACL sync off: cluster %s has no authorizer (DescribeAcls answered SECURITY_DISABLED), "+
			"so there are no ACLs to copy; set sync.topic.acls.enabled = false to stop asking", f.cfg.Source))
		return
	case err != nil:
		f.aclProblem(fmt.Errorf("describe topic ACLs on cluster %s: %w", f.cfg.Source, err))
		return
	}
	if f.acls.sourceDisabled {
		f.acls.sourceDisabled = false
		f.log.Info("topic ACL sync on: cluster " + f.cfg.Source + " now has an authorizer")
	}
	var want []topicACL
	seen := map[topicACL]bool{}
	for _, a := range src {
		if r, ok := f.remoteACL(a); ok && !seen[r] {
			seen[r] = true
			want = append(want, r)
		}
	}
	if len(want) == 0 {
		f.acls.problem = ""
		return
	}
	have := map[topicACL]bool{}
	if tgt, err := describeTopicACLs(ctx, ep.tgtCl, kmsg.ACLResourcePatternTypeLiteral); err != nil {
		f.log.Debug("topic ACL sync: cannot read the target's ACLs, sending every binding", "cluster", f.cfg.Target, "err", err)
	} else {
		for _, a := range tgt {
			have[a] = true
		}
	}
	var missing []topicACL
	for _, a := range want {
		if !have[a] {
			missing = append(missing, a)
		}
	}
	if len(missing) == 0 {
		f.acls.problem = ""
		return
	}
	errs, err := createTopicACLs(ctx, ep.tgtCl, missing)
	if err != nil {
		f.aclProblem(fmt.Errorf("create %d topic ACLs on cluster %s: %w", len(missing), f.cfg.Target, err))
		return
	}
	var created, refused []string
	// Refusals grouped by error, so that a principal without Alter is
	// one error followed by the bindings it refused.
	type refusal struct {
		err      error
		bindings []string
	}
	var refusals []*refusal
	byErr := map[string]*refusal{}
	for i, a := range missing {
		if errs[i] == nil {
			created = append(created, a.String())
			continue
		}
		refused = append(refused, a.String())
		r := byErr[errs[i].Error()]
		if r == nil {
			r = &refusal{err: errs[i]}
			byErr[errs[i].Error()] = r
			refusals = append(refusals, r)
		}
		r.bindings = append(r.bindings, a.String())
	}
	if len(created) > 0 {
		f.log.Info("synced topic ACLs", "cluster", f.cfg.Target, "created", len(created), "acls", strings.Join(created, "; "))
	}
	if len(refused) == 0 {
		f.acls.problem = ""
		return
	}
	var parts []error
	for _, r := range refusals {
		parts = append(parts, fmt.Errorf("%w (%s)", r.err, strings.Join(r.bindings, "; ")))
	}
	f.aclProblem(fmt.Errorf("cluster %s refused %d of %d topic ACLs: %w", f.cfg.Target, len(refused), len(missing), errors.Join(parts...)))
}

// aclProblem warns of a failed sync, once while the same problem repeats.
func (f *flow) aclProblem(err error) {
	msg := err.Error()
	if errors.Is(err, kerr.ClusterAuthorizationFailed) {
		msg += "; the mirror's principal needs Describe (to read ACLs) and Alter (to create them) on that cluster"
	}
	if msg == f.acls.problem {
		f.log.Debug("topic ACL sync failed again", "err", msg)
		return
	}
	f.acls.problem = msg
	f.log.Warn("topic ACL sync failed; copying goes on, the sync is tried again every sync.topic.acls.interval.seconds", "err", msg)
}

// describeTopicACLs returns a cluster's ACL bindings on topic patterns of
// the given pattern type (Any for every one).
func describeTopicACLs(ctx context.Context, cl *kgo.Client, pattern kmsg.ACLResourcePatternType) ([]topicACL, error) {
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType = kmsg.ACLResourceTypeTopic
	req.ResourcePatternType = pattern
	req.Operation = kmsg.ACLOperationAny
	req.PermissionType = kmsg.ACLPermissionTypeAny
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	if err := errorWithMessage(resp.ErrorCode, resp.ErrorMessage); err != nil {
		return nil, err
	}
	var out []topicACL
	for _, r := range resp.Resources {
		if r.ResourceType != kmsg.ACLResourceTypeTopic {
			continue
		}
		for _, a := range r.ACLs {
			out = append(out, topicACL{name: r.ResourceName, pattern: r.ResourcePatternType,
				principal: a.Principal, host: a.Host, op: a.Operation, permission: a.PermissionType})
		}
	}
	return out, nil
}

// createTopicACLs creates literal topic bindings in one request and
// returns each one's error; the error is the request's.
func createTopicACLs(ctx context.Context, cl *kgo.Client, acls []topicACL) ([]error, error) {
	req := kmsg.NewPtrCreateACLsRequest()
	for _, a := range acls {
		c := kmsg.NewCreateACLsRequestCreation()
		c.ResourceType, c.ResourceName, c.ResourcePatternType = kmsg.ACLResourceTypeTopic, a.name, kmsg.ACLResourcePatternTypeLiteral
		c.Principal, c.Host, c.Operation, c.PermissionType = a.principal, a.host, a.op, a.permission
		req.Creations = append(req.Creations, c)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	if len(resp.Results) != len(acls) {
		return nil, fmt.Errorf("CreateAcls answered %d results for %d bindings", len(resp.Results), len(acls))
	}
	errs := make([]error, len(acls))
	for i, r := range resp.Results {
		errs[i] = errorWithMessage(r.ErrorCode, r.ErrorMessage)
	}
	return errs, nil
}

// errorWithMessage is the kerr error of code, with the broker's message
// when it sent one; nil for code 0.
func errorWithMessage(code int16, msg *string) error {
	err := kerr.ErrorForCode(code)
	if err == nil || msg == nil || *msg == "" {
		return err
	}
	return fmt.Errorf("%w: %s", err, *msg)
}
