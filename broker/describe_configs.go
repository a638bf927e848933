package broker

// DescribeConfigs v0-4 for topics (resource type 2) and this broker (type
// 4). Topic configs report where each value comes from: the topic's own
// override, this broker's dynamic value, the cluster-wide dynamic default,
// the static broker configuration or the built-in default, with synonyms
// (v1+) and documentation (v3+). The broker resource lists the dynamic
// topic-default keys (updatable) and the static keys (read-only). Named by
// node.id it reports this broker's values (DYNAMIC_BROKER_CONFIG first);
// named "" it reports the cluster-wide view without this broker's own
// values (Kafka answers "" with the dynamic defaults alone; the static and
// default entries are extra).

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
			for _, cfg := range b.describeBrokerConfigs(req, rr.ResourceName != "") {
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
	dynamic := b.dynamic()
	node, hasNode := dynamic.node[d.synonym]
	dyn, hasDyn := dynamic.clusterDefault[d.synonym]
	static, hasStatic := b.staticDefaults[d.name]
	hasStatic = hasStatic && static != d.def
	layers := []layer{
		{d.name, ov, kmsg.ConfigSourceDynamicTopicConfig, hasOv},
		{d.synonym, node, kmsg.ConfigSourceDynamicBrokerConfig, hasNode},
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

// describeBrokerConfigs lists the broker's configs; perBroker includes
// this broker's own dynamic values (the resource named by node.id).
func (b *Broker) describeBrokerConfigs(req *kmsg.DescribeConfigsRequest, perBroker bool) []kmsg.DescribeConfigsResponseResourceConfig {
	var out []kmsg.DescribeConfigsResponseResourceConfig
	type synonym struct {
		value  string
		source kmsg.ConfigSource
	}
	// add lists a config; layers are its values, the effective one first.
	add := func(name string, readOnly bool, typ kmsg.ConfigType, layers ...synonym) {
		v := layers[0].value
		cfg := kmsg.DescribeConfigsResponseResourceConfig{Name: name, Value: &v, ReadOnly: readOnly, Source: layers[0].source,
			IsDefault: layers[0].source == kmsg.ConfigSourceDefaultConfig, ConfigType: typ}
		if req.IncludeSynonyms {
			for _, l := range layers {
				lv := l.value
				cfg.ConfigSynonyms = append(cfg.ConfigSynonyms, kmsg.DescribeConfigsResponseResourceConfigConfigSynonym{Name: name, Value: &lv, Source: l.source})
			}
		}
		out = append(out, cfg)
	}
	dynamic := b.dynamic()
	for _, d := range topicConfigDefs {
		var layers []synonym
		if v, ok := dynamic.node[d.synonym]; ok && perBroker {
			layers = append(layers, synonym{v, kmsg.ConfigSourceDynamicBrokerConfig})
		}
		if v, ok := dynamic.clusterDefault[d.synonym]; ok {
			layers = append(layers, synonym{v, kmsg.ConfigSourceDynamicDefaultBrokerConfig})
		}
		if v, ok := b.staticDefaults[d.name]; ok && v != d.def {
			layers = append(layers, synonym{v, kmsg.ConfigSourceStaticBrokerConfig})
		}
		layers = append(layers, synonym{d.def, kmsg.ConfigSourceDefaultConfig})
		add(d.synonym, false, kmsg.ConfigType(d.typ), layers...)
	}
	static := func(name, value string, typ kmsg.ConfigType) {
		add(name, true, typ, synonym{value, kmsg.ConfigSourceStaticBrokerConfig})
	}
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	bo := strconv.FormatBool
	static("node.id", i(int64(b.cfg.NodeID)), kmsg.ConfigTypeInt)
	static("advertised.listeners", b.advertisedListeners(), kmsg.ConfigTypeString)
	static("log.dirs", b.cfg.DataDir, kmsg.ConfigTypeString)
	static("num.partitions", i(int64(b.cfg.NumPartitions)), kmsg.ConfigTypeInt)
	static("default.replication.factor", i(int64(b.cfg.DefaultReplicationFactor)), kmsg.ConfigTypeInt)
	static("auto.create.topics.enable", bo(!b.cfg.DisableAutoCreateTopics), kmsg.ConfigTypeBoolean)
	static("delete.topic.enable", bo(!b.cfg.DisableTopicDeletion), kmsg.ConfigTypeBoolean)
	static("socket.request.max.bytes", i(int64(b.cfg.SocketRequestMaxBytes)), kmsg.ConfigTypeInt)
	static("fetch.max.bytes", i(int64(b.cfg.FetchMaxBytes)), kmsg.ConfigTypeInt)
	static("log.cleaner.enable", bo(!b.cfg.DisableLogCleaner), kmsg.ConfigTypeBoolean)
	static("log.retention.check.interval.ms", i(b.cfg.RetentionCheckIntervalMs), kmsg.ConfigTypeLong)
	static("group.initial.rebalance.delay.ms", i(int64(orNone(b.cfg.GroupInitialRebalanceDelayMs))), kmsg.ConfigTypeInt)
	static("group.min.session.timeout.ms", i(int64(b.cfg.GroupMinSessionTimeoutMs)), kmsg.ConfigTypeInt)
	static("group.max.session.timeout.ms", i(int64(b.cfg.GroupMaxSessionTimeoutMs)), kmsg.ConfigTypeInt)
	static("offsets.retention.minutes", i(b.cfg.OffsetsRetentionMinutes), kmsg.ConfigTypeInt)
	static("transaction.max.timeout.ms", i(int64(b.cfg.TransactionMaxTimeoutMs)), kmsg.ConfigTypeInt)
	static("offsets.topic.replication.factor", "1", kmsg.ConfigTypeShort)
	static("offsets.topic.num.partitions", i(int64(b.cfg.OffsetsTopicNumPartitions)), kmsg.ConfigTypeInt)
	static("transaction.state.log.num.partitions", i(int64(b.cfg.TransactionStateLogNumPartitions)), kmsg.ConfigTypeInt)
	static("transactional.id.expiration.ms", i(b.cfg.TransactionalIDExpirationMs), kmsg.ConfigTypeInt)
	static("transaction.state.log.replication.factor", "1", kmsg.ConfigTypeShort)
	static("transaction.state.log.min.isr", "1", kmsg.ConfigTypeInt)
	return out
}
