package broker

// DescribeConfigs v0-4 for topics (resource type 2) and this broker (type
// 4). Topic configs report where each value comes from: the topic's own
// override, a dynamic broker default, the static broker configuration or
// the built-in default, with synonyms (v1+) and documentation (v3+). The
// broker resource lists the dynamic topic-default keys (updatable) and the
// static keys (read-only).

import (
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	resourceTopic  = kmsg.ConfigResourceTypeTopic
	resourceBroker = kmsg.ConfigResourceTypeBroker
)

// errResourceType answers a config resource type other than topic and
// broker, for DescribeConfigs, AlterConfigs and IncrementalAlterConfigs.
func errResourceType(t kmsg.ConfigResourceType) error {
	return kerrWith(kerr.InvalidRequest, fmt.Sprintf("resource type %d is not served; accepted: 2 (topic), 4 (broker)", t))
}

func (b *Broker) handleDescribeConfigs(c *clientConn, req *kmsg.DescribeConfigsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range req.Resources {
		res := kmsg.DescribeConfigsResponseResource{ResourceType: rr.ResourceType, ResourceName: rr.ResourceName}
		want := func(name string) bool {
			if rr.ConfigNames == nil {
				return true
			}
			for _, n := range rr.ConfigNames {
				if n == name {
					return true
				}
			}
			return false
		}
		switch rr.ResourceType {
		case resourceTopic:
			t := b.topics.get(rr.ResourceName)
			if t == nil {
				res.ErrorCode = kerr.UnknownTopicOrPartition.Code
				break
			}
			overrides := b.topics.configsOf(t)
			for _, d := range topicConfigDefs {
				if want(d.name) {
					res.Configs = append(res.Configs, b.describeTopicConfig(req, d, overrides))
				}
			}
		case resourceBroker:
			if rr.ResourceName != "" && rr.ResourceName != strconv.Itoa(int(b.cfg.NodeID)) {
				res.ErrorCode = kerr.InvalidRequest.Code
				msg := fmt.Sprintf("broker %q does not exist; this node is %d", rr.ResourceName, b.cfg.NodeID)
				res.ErrorMessage = &msg
				break
			}
			for _, cfg := range b.describeBrokerConfigs(req) {
				if want(cfg.Name) {
					res.Configs = append(res.Configs, cfg)
				}
			}
		default:
			err := errResourceType(rr.ResourceType)
			res.ErrorCode, res.ErrorMessage = errorCode(err), errorMessage(err)
		}
		resp.Resources = append(resp.Resources, res)
	}
	return resp
}

func (b *Broker) describeTopicConfig(req *kmsg.DescribeConfigsRequest, d topicConfigDef, overrides map[string]string) kmsg.DescribeConfigsResponseResourceConfig {
	type layer struct {
		name   string
		value  string
		source kmsg.ConfigSource
		ok     bool
	}
	ov, hasOv := overrides[d.name]
	dyn, hasDyn := b.dynamic()[d.synonym]
	static, hasStatic := b.staticDefaults[d.name]
	hasStatic = hasStatic && static != d.def
	layers := []layer{
		{d.name, ov, kmsg.ConfigSourceDynamicTopicConfig, hasOv},
		{d.synonym, dyn, kmsg.ConfigSourceDynamicDefaultBrokerConfig, hasDyn},
		{d.synonym, static, kmsg.ConfigSourceStaticBrokerConfig, hasStatic},
		{d.synonym, d.def, kmsg.ConfigSourceDefaultConfig, true},
	}
	cfg := kmsg.DescribeConfigsResponseResourceConfig{Name: d.name, ConfigType: kmsg.ConfigType(d.typ)}
	for _, l := range layers {
		if !l.ok {
			continue
		}
		v := l.value
		if cfg.Value == nil {
			cfg.Value, cfg.Source = &v, l.source
			cfg.IsDefault = l.source == kmsg.ConfigSourceDefaultConfig
		}
		if req.IncludeSynonyms {
			cfg.ConfigSynonyms = append(cfg.ConfigSynonyms, kmsg.DescribeConfigsResponseResourceConfigConfigSynonym{Name: l.name, Value: &v, Source: l.source})
		}
	}
	if req.IncludeDocumentation {
		doc := d.doc
		cfg.Documentation = &doc
	}
	return cfg
}

func (b *Broker) describeBrokerConfigs(req *kmsg.DescribeConfigsRequest) []kmsg.DescribeConfigsResponseResourceConfig {
	var out []kmsg.DescribeConfigsResponseResourceConfig
	add := func(name, value string, readOnly bool, source kmsg.ConfigSource, typ kmsg.ConfigType) {
		v := value
		cfg := kmsg.DescribeConfigsResponseResourceConfig{Name: name, Value: &v, ReadOnly: readOnly, Source: source,
			IsDefault: source == kmsg.ConfigSourceDefaultConfig, ConfigType: typ}
		if req.IncludeSynonyms {
			cfg.ConfigSynonyms = []kmsg.DescribeConfigsResponseResourceConfigConfigSynonym{{Name: name, Value: &v, Source: source}}
		}
		out = append(out, cfg)
	}
	dynamic := b.dynamic()
	for _, d := range topicConfigDefs {
		value, source := d.def, kmsg.ConfigSourceDefaultConfig
		if v, ok := b.staticDefaults[d.name]; ok && v != d.def {
			value, source = v, kmsg.ConfigSourceStaticBrokerConfig
		}
		if v, ok := dynamic[d.synonym]; ok {
			value, source = v, kmsg.ConfigSourceDynamicDefaultBrokerConfig
		}
		add(d.synonym, value, false, source, kmsg.ConfigType(d.typ))
	}
	static := kmsg.ConfigSourceStaticBrokerConfig
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	bo := strconv.FormatBool
	add("node.id", i(int64(b.cfg.NodeID)), true, static, kmsg.ConfigTypeInt)
	add("advertised.listeners", "PLAINTEXT://"+b.Addr(), true, static, kmsg.ConfigTypeString)
	add("log.dirs", b.cfg.DataDir, true, static, kmsg.ConfigTypeString)
	add("num.partitions", i(int64(b.cfg.NumPartitions)), true, static, kmsg.ConfigTypeInt)
	add("default.replication.factor", i(int64(b.cfg.DefaultReplicationFactor)), true, static, kmsg.ConfigTypeInt)
	add("auto.create.topics.enable", bo(!b.cfg.DisableAutoCreateTopics), true, static, kmsg.ConfigTypeBoolean)
	add("delete.topic.enable", bo(!b.cfg.DisableTopicDeletion), true, static, kmsg.ConfigTypeBoolean)
	add("socket.request.max.bytes", i(int64(b.cfg.SocketRequestMaxBytes)), true, static, kmsg.ConfigTypeInt)
	add("fetch.max.bytes", i(int64(b.cfg.FetchMaxBytes)), true, static, kmsg.ConfigTypeInt)
	add("log.cleaner.enable", bo(!b.cfg.DisableLogCleaner), true, static, kmsg.ConfigTypeBoolean)
	add("log.retention.check.interval.ms", i(b.cfg.RetentionCheckIntervalMs), true, static, kmsg.ConfigTypeLong)
	add("group.initial.rebalance.delay.ms", i(int64(orNone(b.cfg.GroupInitialRebalanceDelayMs))), true, static, kmsg.ConfigTypeInt)
	add("group.min.session.timeout.ms", i(int64(b.cfg.GroupMinSessionTimeoutMs)), true, static, kmsg.ConfigTypeInt)
	add("group.max.session.timeout.ms", i(int64(b.cfg.GroupMaxSessionTimeoutMs)), true, static, kmsg.ConfigTypeInt)
	add("offsets.retention.minutes", i(b.cfg.OffsetsRetentionMinutes), true, static, kmsg.ConfigTypeInt)
	add("transaction.max.timeout.ms", i(int64(b.cfg.TransactionMaxTimeoutMs)), true, static, kmsg.ConfigTypeInt)
	add("offsets.topic.replication.factor", "1", true, static, kmsg.ConfigTypeShort)
	add("offsets.topic.num.partitions", i(int64(b.cfg.OffsetsTopicNumPartitions)), true, static, kmsg.ConfigTypeInt)
	add("transaction.state.log.num.partitions", i(int64(b.cfg.TransactionStateLogNumPartitions)), true, static, kmsg.ConfigTypeInt)
	add("transactional.id.expiration.ms", i(b.cfg.TransactionalIDExpirationMs), true, static, kmsg.ConfigTypeInt)
	add("transaction.state.log.replication.factor", "1", true, static, kmsg.ConfigTypeShort)
	add("transaction.state.log.min.isr", "1", true, static, kmsg.ConfigTypeInt)
	return out
}
