package broker

// AlterConfigs v0-2: replaces a resource's whole set of overrides (keys not
// given go back to their defaults), as in Kafka. Topics and the broker's
// dynamic topic defaults are served; see dynamic_configs.go. Kafka's
// internal topics are TOPIC_AUTHORIZATION_FAILED (internal_topics.go).

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleAlterConfigs(c *clientConn, req *kmsg.AlterConfigsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	for _, rr := range req.Resources {
		res := kmsg.AlterConfigsResponseResource{ResourceType: rr.ResourceType, ResourceName: rr.ResourceName}
		var err error
		switch rr.ResourceType {
		case resourceTopic:
			next := map[string]string{}
			for _, cfg := range rr.Configs {
				if cfg.Value != nil {
					next[cfg.Name] = *cfg.Value
				}
			}
			err = b.topics.setConfigs(rr.ResourceName, next, req.ValidateOnly)
		case resourceBroker:
			ops := map[string]*string{}
			for _, cfg := range rr.Configs {
				ops[cfg.Name] = cfg.Value
			}
			err = b.alterBrokerConfigs(rr.ResourceName, ops, true, req.ValidateOnly)
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
