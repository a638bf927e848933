package broker

// DescribeClientQuotas v0-1 and AlterClientQuotas v0-1: the quotas of
// client_quotas.go, stored in <data-dir>/client-quotas.json. Entities are
// user, client-id or both, each named or the default (a null name).
// Quotas on ip entities (connection_creation_rate) are not served: they
// are refused with INVALID_REQUEST naming max.connection.creation.rate
// and max.connections.per.ip.overrides, which are.

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/quota"
)

func (b *Broker) handleDescribeClientQuotas(c *clientConn, req *kmsg.DescribeClientQuotasRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeClientQuotasResponse)
	for _, comp := range req.Components {
		if comp.EntityType != quota.User && comp.EntityType != quota.ClientID {
			msg := fmt.Sprintf("entity type %q: accepted %s or %s (ip quotas are not served)", comp.EntityType, quota.User, quota.ClientID)
			resp.ErrorCode, resp.ErrorMessage = kerr.InvalidRequest.Code, &msg
			return resp
		}
		if comp.MatchType == kmsg.QuotasMatchTypeExact && comp.Match == nil {
			msg := "an exact match needs a name"
			resp.ErrorCode, resp.ErrorMessage = kerr.InvalidRequest.Code, &msg
			return resp
		}
	}
	for _, e := range b.quotas.store.All() {
		if !quotaEntityMatches(e.Entity, req.Components, req.Strict) {
			continue
		}
		entry := kmsg.NewDescribeClientQuotasResponseEntry()
		entry.Entity = quotaEntityParts(e.Entity)
		for _, k := range quota.Keys {
			if v, ok := e.Quotas[k]; ok {
				val := kmsg.NewDescribeClientQuotasResponseEntryValue()
				val.Key, val.Value = k, v
				entry.Values = append(entry.Values, val)
			}
		}
		resp.Entries = append(resp.Entries, entry)
	}
	return resp
}

// quotaEntityMatches is DescribeClientQuotas' filter: every component
// matches a part of the entity (exact name, default, or any), and with
// strict the entity has no other parts.
func quotaEntityMatches(e quota.Entity, comps []kmsg.DescribeClientQuotasRequestComponent, strict bool) bool {
	for _, comp := range comps {
		p := e.User
		if comp.EntityType == quota.ClientID {
			p = e.Client
		}
		if p == nil {
			return false
		}
		switch comp.MatchType {
		case kmsg.QuotasMatchTypeExact:
			if p.Default || p.Name != *comp.Match {
				return false
			}
		case kmsg.QuotasMatchTypeDefault:
			if !p.Default {
				return false
			}
		}
	}
	if strict {
		parts := 0
		if e.User != nil {
			parts++
		}
		if e.Client != nil {
			parts++
		}
		return parts == len(comps)
	}
	return true
}

func quotaEntityParts(e quota.Entity) []kmsg.DescribeClientQuotasResponseEntryEntity {
	var out []kmsg.DescribeClientQuotasResponseEntryEntity
	add := func(typ string, p *quota.Part) {
		if p == nil {
			return
		}
		part := kmsg.NewDescribeClientQuotasResponseEntryEntity()
		part.Type = typ
		if !p.Default {
			name := p.Name
			part.Name = &name
		}
		out = append(out, part)
	}
	add(quota.User, e.User)
	add(quota.ClientID, e.Client)
	return out
}

func (b *Broker) handleAlterClientQuotas(c *clientConn, req *kmsg.AlterClientQuotasRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.AlterClientQuotasResponse)
	changed := false
	for _, in := range req.Entries {
		out := kmsg.NewAlterClientQuotasResponseEntry()
		for _, p := range in.Entity {
			ep := kmsg.NewAlterClientQuotasResponseEntryEntity()
			ep.Type, ep.Name = p.Type, p.Name
			out.Entity = append(out.Entity, ep)
		}
		e, err := parseQuotaEntity(in.Entity)
		var ops []quota.Op
		for _, op := range in.Ops {
			ops = append(ops, quota.Op{Key: op.Key, Value: op.Value, Remove: op.Remove})
		}
		if err == nil {
			for _, op := range ops {
				if !op.Remove {
					if err = quota.CheckValue(op.Key, op.Value); err != nil {
						break
					}
				}
			}
		}
		if err == nil && !req.ValidateOnly {
			if err = b.quotas.store.Alter(e, ops); err == nil {
				changed = true
				b.logger.Info("client quotas altered", "entity", e.String(), "by", c.principal)
			}
		}
		if err != nil {
			msg := err.Error()
			out.ErrorCode, out.ErrorMessage = kerr.InvalidRequest.Code, &msg
		}
		resp.Entries = append(resp.Entries, out)
	}
	if changed {
		b.quotas.forget()
	}
	return resp
}

// parseQuotaEntity reads an AlterClientQuotas entity.
func parseQuotaEntity(parts []kmsg.AlterClientQuotasRequestEntryEntity) (quota.Entity, error) {
	var e quota.Entity
	for _, p := range parts {
		part := &quota.Part{Default: p.Name == nil}
		if p.Name != nil {
			part.Name = *p.Name
		}
		switch p.Type {
		case quota.User:
			if e.User != nil {
				return e, errors.New("entity names user twice")
			}
			e.User = part
		case quota.ClientID:
			if e.Client != nil {
				return e, errors.New("entity names client-id twice")
			}
			e.Client = part
		case "ip":
			return e, errors.New("ip quotas (connection_creation_rate) are not supported: use the broker's max.connection.creation.rate and max.connections.per.ip.overrides")
		default:
			return e, fmt.Errorf("entity type %q: accepted %s or %s", p.Type, quota.User, quota.ClientID)
		}
	}
	if e.User == nil && e.Client == nil {
		return e, errors.New("empty entity: name a user, a client-id or both")
	}
	return e, nil
}
