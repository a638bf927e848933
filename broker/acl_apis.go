package broker

// DescribeAcls v0-3, CreateAcls v0-3, DeleteAcls v0-3: the ACLs of the
// authorizer (broker/internal/acl), stored in <data-dir>/acls.json. Without
// authorizer.class.name they are answered SECURITY_DISABLED, as Kafka
// does. v0 requests carry no pattern type: they mean LITERAL. Invalid
// bindings and filters are answered INVALID_REQUEST naming the problem.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/acl"
)

var securityDisabledMsg = "no authorizer is configured on the broker: set authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"

func literalForV0(version int16, pt kmsg.ACLResourcePatternType) kmsg.ACLResourcePatternType {
	if version == 0 {
		return kmsg.ACLResourcePatternTypeLiteral
	}
	return pt
}

func (b *Broker) handleDescribeACLs(c *clientConn, req *kmsg.DescribeACLsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeACLsResponse)
	if b.authorizer == nil {
		resp.ErrorCode, resp.ErrorMessage = kerr.SecurityDisabled.Code, &securityDisabledMsg
		return resp
	}
	f := acl.Filter{ResourceType: req.ResourceType, ResourceName: req.ResourceName,
		PatternType: literalForV0(req.Version, req.ResourcePatternType),
		Principal:   req.Principal, Host: req.Host, Operation: req.Operation, Permission: req.PermissionType}
	if err := f.Validate(); err != nil {
		msg := err.Error()
		resp.ErrorCode, resp.ErrorMessage = kerr.InvalidRequest.Code, &msg
		return resp
	}
	for _, bd := range b.authorizer.Describe(f) {
		n := len(resp.Resources)
		if n == 0 || resp.Resources[n-1].ResourceType != bd.ResourceType || resp.Resources[n-1].ResourceName != bd.ResourceName ||
			resp.Resources[n-1].ResourcePatternType != bd.PatternType {
			r := kmsg.NewDescribeACLsResponseResource()
			r.ResourceType, r.ResourceName, r.ResourcePatternType = bd.ResourceType, bd.ResourceName, bd.PatternType
			resp.Resources = append(resp.Resources, r)
			n++
		}
		a := kmsg.NewDescribeACLsResponseResourceACL()
		a.Principal, a.Host, a.Operation, a.PermissionType = bd.Principal, bd.Host, bd.Operation, bd.Permission
		resp.Resources[n-1].ACLs = append(resp.Resources[n-1].ACLs, a)
	}
	return resp
}

func (b *Broker) handleCreateACLs(c *clientConn, req *kmsg.CreateACLsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.CreateACLsResponse)
	resp.Results = make([]kmsg.CreateACLsResponseResult, len(req.Creations))
	if b.authorizer == nil {
		for i := range resp.Results {
			resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = kerr.SecurityDisabled.Code, &securityDisabledMsg
		}
		return resp
	}
	bindings := make([]acl.Binding, len(req.Creations))
	for i, cr := range req.Creations {
		bindings[i] = acl.Binding{ResourceType: cr.ResourceType, ResourceName: cr.ResourceName,
			PatternType: literalForV0(req.Version, cr.ResourcePatternType),
			Principal:   cr.Principal, Host: cr.Host, Operation: cr.Operation, Permission: cr.PermissionType}
	}
	errs, err := b.authorizer.Create(bindings)
	for i := range resp.Results {
		switch {
		case errs[i] != nil:
			msg := errs[i].Error()
			resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = kerr.InvalidRequest.Code, &msg
		case err != nil:
			b.logger.Error("create ACLs", "err", err)
			msg := err.Error()
			resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = kerr.UnknownServerError.Code, &msg
		default:
			b.logger.Info("ACL added", "acl", bindings[i].String(), "by", c.principal)
		}
	}
	return resp
}

func (b *Broker) handleDeleteACLs(c *clientConn, req *kmsg.DeleteACLsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DeleteACLsResponse)
	resp.Results = make([]kmsg.DeleteACLsResponseResult, len(req.Filters))
	if b.authorizer == nil {
		for i := range resp.Results {
			resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = kerr.SecurityDisabled.Code, &securityDisabledMsg
		}
		return resp
	}
	var filters []acl.Filter
	var at []int // result index of each valid filter
	for i, rf := range req.Filters {
		f := acl.Filter{ResourceType: rf.ResourceType, ResourceName: rf.ResourceName,
			PatternType: literalForV0(req.Version, rf.ResourcePatternType),
			Principal:   rf.Principal, Host: rf.Host, Operation: rf.Operation, Permission: rf.PermissionType}
		if err := f.Validate(); err != nil {
			msg := err.Error()
			resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = kerr.InvalidRequest.Code, &msg
			continue
		}
		filters, at = append(filters, f), append(at, i)
	}
	matched, err := b.authorizer.Delete(filters)
	if err != nil {
		b.logger.Error("delete ACLs", "err", err)
		msg := err.Error()
		for _, i := range at {
			resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = kerr.UnknownServerError.Code, &msg
		}
		return resp
	}
	for j, i := range at {
		for _, bd := range matched[j] {
			m := kmsg.NewDeleteACLsResponseResultMatchingACL()
			m.ResourceType, m.ResourceName, m.ResourcePatternType = bd.ResourceType, bd.ResourceName, bd.PatternType
			m.Principal, m.Host, m.Operation, m.PermissionType = bd.Principal, bd.Host, bd.Operation, bd.Permission
			resp.Results[i].MatchingACLs = append(resp.Results[i].MatchingACLs, m)
			b.logger.Info("ACL removed", "acl", bd.String(), "by", c.principal)
		}
	}
	return resp
}
