package group

// DescribeGroups, API key 15, versions 0-6.
//
// As Kafka: member metadata and assignments are reported only while the
// group is Stable; an unknown group is reported as Dead (v6+ with
// GROUP_ID_NOT_FOUND), and so is a KIP-848 group (use
// ConsumerGroupDescribe). Authorized operations, when asked for, are all
// group operations (READ, DELETE, DESCRIBE): the broker has no ACLs.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupOps is the ACL-operation bitfield of every operation on a group:
// READ (3), DELETE (6), DESCRIBE (8).
const groupOps = 1<<3 | 1<<6 | 1<<8

// DescribeGroups describes classic groups.
func (c *Coordinator) DescribeGroups(ctx context.Context, req *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range req.Groups {
		dg := kmsg.NewDescribeGroupsResponseGroup()
		dg.Group = id
		if req.Version >= 3 && req.IncludeAuthorizedOperations {
			dg.AuthorizedOperations = groupOps
		}
		c.describeGroup(id, req.Version, &dg)
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

func (c *Coordinator) describeGroup(id string, version int16, dg *kmsg.DescribeGroupsResponseGroup) {
	if c.isClosed() {
		dg.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return
	}
	notFound := func(msg string) {
		dg.State = "Dead"
		if version >= 6 {
			dg.ErrorCode = kerr.GroupIDNotFound.Code
			dg.ErrorMessage = kmsg.StringPtr(msg)
		}
	}
	g := c.lockGroup(id, false)
	if g == nil {
		notFound(fmt.Sprintf("group %s not found", id))
		return
	}
	defer g.mu.Unlock()
	if g.kind == kindConsumer {
		notFound(fmt.Sprintf("group %s is not a classic group", id))
		return
	}
	dg.State = g.state.String()
	dg.ProtocolType = g.protocolType
	stable := g.state == stateStable
	if stable {
		dg.Protocol = g.protocol
	}
	for _, m := range g.sortedMembers() {
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID = m.id
		dm.InstanceID = m.instanceID
		dm.ClientID = m.clientID
		dm.ClientHost = m.clientHost
		dm.ProtocolMetadata = []byte{}
		dm.MemberAssignment = []byte{}
		if stable {
			if md := m.metadataFor(g.protocol); md != nil {
				dm.ProtocolMetadata = md
			}
			if m.assignment != nil {
				dm.MemberAssignment = m.assignment
			}
		}
		dg.Members = append(dg.Members, dm)
	}
}
