package broker

// IncrementalAlterConfigs v0-1: SET (0), DELETE (1), APPEND (2) and
// SUBTRACT (3) on individual keys; APPEND and SUBTRACT apply to list configs
// (cleanup.policy). Topics and the broker's dynamic topic defaults are
// served. A resource's changes apply all or nothing. Kafka's internal topics
// are TOPIC_AUTHORIZATION_FAILED (internal_topics.go).

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleIncrementalAlterConfigs(c *clientConn, req *kmsg.IncrementalAlterConfigsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for _, rr := range req.Resources {
		res := kmsg.IncrementalAlterConfigsResponseResource{ResourceType: rr.ResourceType, ResourceName: rr.ResourceName}
		var err error
		switch rr.ResourceType {
		case resourceTopic:
			err = b.incrementalAlterTopic(rr, req.ValidateOnly)
		case resourceBroker:
			ops := map[string]*string{}
			for _, cfg := range rr.Configs {
				switch cfg.Op {
				case kmsg.IncrementalAlterConfigOpSet:
					if cfg.Value == nil {
						err = kerrWith(kerr.InvalidRequest, fmt.Sprintf("SET %s needs a value", cfg.Name))
					}
					ops[cfg.Name] = cfg.Value
				case kmsg.IncrementalAlterConfigOpDelete:
					ops[cfg.Name] = nil
				default:
					err = kerrWith(kerr.InvalidRequest, fmt.Sprintf("operation %d on broker config %s: accepted SET (0) or DELETE (1)", cfg.Op, cfg.Name))
				}
			}
			if err == nil {
				err = b.alterBrokerConfigs(rr.ResourceName, ops, false, req.ValidateOnly)
			}
		default:
			err = errResourceType(rr.ResourceType)
		}
		if err != nil {
			res.ErrorCode, res.ErrorMessage = errorCode(err), errorMessage(err)
		}
		resp.Resources = append(resp.Resources, res)
	}
	return resp
}

func (b *Broker) incrementalAlterTopic(rr kmsg.IncrementalAlterConfigsRequestResource, validateOnly bool) error {
	t := b.topics.get(rr.ResourceName)
	if t == nil {
		return fmt.Errorf("%w: %q", errTopicNotFound, rr.ResourceName)
	}
	next := b.topics.configsOf(t)
	for _, cfg := range rr.Configs {
		d, ok := topicConfigByName[cfg.Name]
		if !ok {
			return fmt.Errorf("%w: unknown topic config %q", errInvalidConfig, cfg.Name)
		}
		switch cfg.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			if cfg.Value == nil {
				return kerrWith(kerr.InvalidRequest, fmt.Sprintf("SET %s needs a value", cfg.Name))
			}
			next[cfg.Name] = *cfg.Value
		case kmsg.IncrementalAlterConfigOpDelete:
			delete(next, cfg.Name)
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			if d.typ != 7 {
				return kerrWith(kerr.InvalidRequest, fmt.Sprintf("APPEND/SUBTRACT apply to list configs; %s is not a list", cfg.Name))
			}
			if cfg.Value == nil {
				return kerrWith(kerr.InvalidRequest, fmt.Sprintf("APPEND/SUBTRACT %s needs a value", cfg.Name))
			}
			cur := strings.Split(effectiveTopicConfig(next, b.defaults(), cfg.Name), ",")
			next[cfg.Name] = strings.Join(applyListOp(cur, strings.Split(*cfg.Value, ","), cfg.Op == kmsg.IncrementalAlterConfigOpAppend), ",")
		default:
			return kerrWith(kerr.InvalidRequest, fmt.Sprintf("operation %d: accepted SET (0), DELETE (1), APPEND (2), SUBTRACT (3)", cfg.Op))
		}
	}
	return b.topics.setConfigs(t.name, next, validateOnly)
}

func applyListOp(cur, values []string, add bool) []string {
	has := func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	}
	var out []string
	if add {
		out = append(out, cur...)
		for _, v := range values {
			if !has(out, v) {
				out = append(out, v)
			}
		}
		return out
	}
	for _, v := range cur {
		if !has(values, v) {
			out = append(out, v)
		}
	}
	return out
}
