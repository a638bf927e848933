package group

// ListGroups, API key 16, versions 0-5.
//
// v4+ filters by state and v5+ by type ("classic" or "consumer"), both
// case-insensitively as Kafka does. Classic groups report Kafka's classic
// states; KIP-848 groups report Empty, Assigning, Reconciling or Stable and
// protocol type "consumer".

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListGroups lists every group.
func (c *Coordinator) ListGroups(ctx context.Context, req *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	if c.isClosed() {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	matches := func(filter []string, v string) bool {
		if len(filter) == 0 {
			return true
		}
		for _, f := range filter {
			if strings.EqualFold(f, v) {
				return true
			}
		}
		return false
	}
	var states, types []string
	if req.Version >= 4 {
		states = req.StatesFilter
	}
	if req.Version >= 5 {
		types = req.TypesFilter
	}
	for _, id := range c.groupIDs() {
		g := c.lockGroup(id, false)
		if g == nil {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group = id
		lg.GroupType = g.kind.String()
		if g.kind == kindConsumer {
			lg.ProtocolType = "consumer"
			lg.GroupState = g.cg.state()
		} else {
			lg.ProtocolType = g.protocolType
			lg.GroupState = g.state.String()
		}
		g.mu.Unlock()
		if matches(states, lg.GroupState) && matches(types, lg.GroupType) {
			resp.Groups = append(resp.Groups, lg)
		}
	}
	return resp
}
