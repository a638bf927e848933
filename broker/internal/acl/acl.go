// Package acl is the broker's authorizer: ACL bindings, their durable
// store, and the decision of whether a principal may perform an operation
// on a resource, with the rules of Apache Kafka's StandardAuthorizer:
//
//   - A principal listed in super.users may do anything.
//   - An ACL applies to a resource when its pattern matches the resource's
//     name: LITERAL patterns by equality (the name "*" matches every
//     resource of its type), PREFIXED patterns by prefix.
//   - An ACL applies to a principal when its principal is the principal or
//     the wildcard "User:*", and to a host when its host is the client's IP
//     address or "*".
//   - A DENY for the operation (or for All) wins over every ALLOW.
//   - An ALLOW grants its operation; All grants every operation; Read,
//     Write, Delete and Alter also grant Describe; AlterConfigs also
//     grants DescribeConfigs.
//   - A resource that no ACL applies to (for any principal or operation)
//     is allowed only with allow.everyone.if.no.acl.found=true.
//
// Resource types served: Topic, Group, Cluster (named kafka-cluster) and
// TransactionalId. The enumerations are kmsg's, whose numbers are Kafka's.
package acl

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrInvalid is wrapped by every invalid binding or filter.
var ErrInvalid = errors.New("acl: invalid")

// ClusterName is the name of the single Cluster resource, as in Kafka.
const ClusterName = "kafka-cluster"

// WildcardPrincipal and WildcardHost match every principal and host.
const (
	WildcardPrincipal = "User:*"
	WildcardHost      = "*"
	WildcardResource  = "*"
)

// Binding is one ACL: a resource pattern and an access control entry.
type Binding struct {
	ResourceType kmsg.ACLResourceType
	ResourceName string
	PatternType  kmsg.ACLResourcePatternType // Literal or Prefixed
	Principal    string                      // "User:alice", "User:*"
	Host         string                      // an IP address, or "*"
	Operation    kmsg.ACLOperation
	Permission   kmsg.ACLPermissionType // Allow or Deny
}

func (b Binding) String() string {
	return fmt.Sprintf("(principal=%s, host=%s, operation=%s, permission=%s) on %s:%s:%s",
		b.Principal, b.Host, b.Operation.String(), b.Permission.String(),
		b.ResourceType.String(), b.PatternType.String(), b.ResourceName)
}

// Validate checks a binding as CreateAcls does.
func (b Binding) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	switch b.ResourceType {
	case kmsg.ACLResourceTypeTopic, kmsg.ACLResourceTypeGroup, kmsg.ACLResourceTypeTransactionalId:
	case kmsg.ACLResourceTypeCluster:
		if b.ResourceName != ClusterName {
			return bad("the only valid name for the CLUSTER resource is %s, got %q", ClusterName, b.ResourceName)
		}
	default:
		return bad("resource type %s: accepted TOPIC, GROUP, CLUSTER or TRANSACTIONAL_ID", b.ResourceType.String())
	}
	if b.ResourceName == "" {
		return bad("empty resource name")
	}
	switch b.PatternType {
	case kmsg.ACLResourcePatternTypeLiteral, kmsg.ACLResourcePatternTypePrefixed:
	default:
		return bad("pattern type %s: accepted LITERAL or PREFIXED", b.PatternType.String())
	}
	if _, _, err := ParsePrincipal(b.Principal); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if b.Host != WildcardHost && net.ParseIP(b.Host) == nil {
		return bad("host %q: accepted an IP address or *", b.Host)
	}
	switch b.Operation {
	case kmsg.ACLOperationUnknown, kmsg.ACLOperationAny:
		return bad("operation %s: accepted a concrete operation (Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All)", b.Operation.String())
	}
	if b.Operation > kmsg.ACLOperationIdempotentWrite {
		return bad("operation %s is not supported", b.Operation.String())
	}
	switch b.Permission {
	case kmsg.ACLPermissionTypeAllow, kmsg.ACLPermissionTypeDeny:
	default:
		return bad("permission %s: accepted ALLOW or DENY", b.Permission.String())
	}
	return nil
}

// ParsePrincipal splits "User:alice" into its type and name.
func ParsePrincipal(p string) (typ, name string, err error) {
	typ, name, ok := strings.Cut(p, ":")
	if !ok || typ == "" || name == "" {
		return "", "", fmt.Errorf("principal %q: want Type:name, e.g. User:alice", p)
	}
	return typ, name, nil
}

// appliesTo reports whether the binding's pattern matches a resource.
func (b Binding) appliesTo(rt kmsg.ACLResourceType, name string) bool {
	if b.ResourceType != rt {
		return false
	}
	if b.PatternType == kmsg.ACLResourcePatternTypePrefixed {
		return strings.HasPrefix(name, b.ResourceName)
	}
	return b.ResourceName == name || b.ResourceName == WildcardResource
}

// grants reports whether an ALLOW for acl's operation grants op.
func grants(aclOp, op kmsg.ACLOperation) bool {
	if aclOp == op || aclOp == kmsg.ACLOperationAll {
		return true
	}
	switch op {
	case kmsg.ACLOperationDescribe:
		switch aclOp {
		case kmsg.ACLOperationRead, kmsg.ACLOperationWrite, kmsg.ACLOperationDelete, kmsg.ACLOperationAlter:
			return true
		}
	case kmsg.ACLOperationDescribeConfigs:
		return aclOp == kmsg.ACLOperationAlterConfigs
	}
	return false
}

// Filter selects bindings, as DescribeAcls and DeleteAcls carry it. A nil
// string matches anything; Any matches any value of an enumeration.
// PatternType Match selects every binding that applies to the named
// resource (literal equal or "*", prefixed by a prefix of the name).
type Filter struct {
	ResourceType kmsg.ACLResourceType
	ResourceName *string
	PatternType  kmsg.ACLResourcePatternType
	Principal    *string
	Host         *string
	Operation    kmsg.ACLOperation
	Permission   kmsg.ACLPermissionType
}

// Validate checks a filter's enumerations.
func (f Filter) Validate() error {
	if f.ResourceType == kmsg.ACLResourceTypeUnknown || f.PatternType == kmsg.ACLResourcePatternTypeUnknown ||
		f.Operation == kmsg.ACLOperationUnknown || f.Permission == kmsg.ACLPermissionTypeUnknown {
		return fmt.Errorf("%w: filter has an UNKNOWN resource type, pattern type, operation or permission", ErrInvalid)
	}
	return nil
}

// Matches reports whether the filter selects b.
func (f Filter) Matches(b Binding) bool {
	if f.ResourceType != kmsg.ACLResourceTypeAny && f.ResourceType != b.ResourceType {
		return false
	}
	switch f.PatternType {
	case kmsg.ACLResourcePatternTypeAny:
		if f.ResourceName != nil && *f.ResourceName != b.ResourceName {
			return false
		}
	case kmsg.ACLResourcePatternTypeMatch:
		if f.ResourceName != nil && !b.appliesTo(b.ResourceType, *f.ResourceName) {
			return false
		}
	default:
		if f.PatternType != b.PatternType || (f.ResourceName != nil && *f.ResourceName != b.ResourceName) {
			return false
		}
	}
	if f.Principal != nil && *f.Principal != b.Principal {
		return false
	}
	if f.Host != nil && *f.Host != b.Host {
		return false
	}
	if f.Operation != kmsg.ACLOperationAny && f.Operation != b.Operation {
		return false
	}
	return f.Permission == kmsg.ACLPermissionTypeAny || f.Permission == b.Permission
}
