package group

// DeleteGroups, API key 42, versions 0-3.
//
// A group with members answers NON_EMPTY_GROUP, an unknown one
// GROUP_ID_NOT_FOUND; otherwise its offsets (committed and staged) and
// metadata are deleted durably.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteGroups deletes empty groups.
func (c *Coordinator) DeleteGroups(ctx context.Context, req *kmsg.DeleteGroupsRequest) *kmsg.DeleteGroupsResponse {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, id := range req.Groups {
		dg := kmsg.NewDeleteGroupsResponseGroup()
		dg.Group = id
		code, msg := c.deleteGroup(id)
		dg.ErrorCode = code
		if code != 0 && req.Version >= 3 {
			dg.ErrorMessage = kmsg.StringPtr(msg)
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

func (c *Coordinator) deleteGroup(id string) (int16, string) {
	if c.isClosed() {
		return kerr.CoordinatorNotAvailable.Code, "coordinator is closing"
	}
	g := c.lockGroup(id, false)
	if g == nil {
		return kerr.GroupIDNotFound.Code, fmt.Sprintf("group %s not found", id)
	}
	defer g.mu.Unlock()
	if g.hasMembers() {
		return kerr.NonEmptyGroup.Code, fmt.Sprintf("group %s has members", id)
	}
	if err := g.delete(); err != nil {
		return kerr.CoordinatorNotAvailable.Code, err.Error()
	}
	c.log.Info("group deleted", "group", id)
	return 0, ""
}
