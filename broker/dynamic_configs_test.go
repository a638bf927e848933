package broker_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// brokerConfig describes one broker resource ("" for the cluster default)
// and returns key's entry.
func brokerConfig(t *testing.T, adm *kadm.Client, key string, ids ...int32) kadm.Config {
	t.Helper()
	rcs, err := adm.DescribeBrokerConfigs(ctxT(t), ids...)
	if err != nil || len(rcs) != 1 || rcs[0].Err != nil {
		t.Fatalf("describe broker %v: %v %+v", ids, err, rcs)
	}
	for _, c := range rcs[0].Configs {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("broker %v has no config %s", ids, key)
	return kadm.Config{}
}

func alterBroker(t *testing.T, adm *kadm.Client, op kadm.IncrementalOp, key, value string, ids ...int32) {
	t.Helper()
	var v *string
	if op == kadm.SetConfig {
		v = kmsg.StringPtr(value)
	}
	resp, err := adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{{Op: op, Name: key, Value: v}}, ids...)
	if err != nil || len(resp) != 1 || resp[0].Err != nil {
		t.Fatalf("alter broker %v %s: %v %+v", ids, key, err, resp)
	}
}

// TestPerBrokerDynamicConfigs: a value set on broker 0 itself takes
// precedence over the cluster-wide default, is reported as
// DYNAMIC_BROKER_CONFIG, survives a later change of the default and a
// restart, and deleting it falls back to the default, as in Kafka.
func TestPerBrokerDynamicConfigs(t *testing.T) {
	b := testkit.StartBroker(t)
	adm := admin(t, b.Addr)
	createTopic(t, b.Addr, "plain", 1, nil)

	def := synonym{"log.retention.ms", "604800000", kmsg.ConfigSourceDefaultConfig}
	alterBroker(t, adm, kadm.SetConfig, "log.retention.ms", "3600000", 0)
	alterBroker(t, adm, kadm.SetConfig, "log.retention.ms", "7200000") // the default, set after
	node := synonym{"log.retention.ms", "3600000", kmsg.ConfigSourceDynamicBrokerConfig}
	clusterDefault := synonym{"log.retention.ms", "7200000", kmsg.ConfigSourceDynamicDefaultBrokerConfig}

	check := func() {
		t.Helper()
		checkConfig(t, topicConfig(t, adm, "plain", "retention.ms"), "3600000", kmsg.ConfigSourceDynamicBrokerConfig, node, clusterDefault, def)
		checkConfig(t, brokerConfig(t, adm, "log.retention.ms", 0), "3600000", kmsg.ConfigSourceDynamicBrokerConfig, node, clusterDefault, def)
		checkConfig(t, brokerConfig(t, adm, "log.retention.ms"), "7200000", kmsg.ConfigSourceDynamicDefaultBrokerConfig, clusterDefault, def)
	}
	check()
	b.Restart()
	adm = admin(t, b.Addr)
	check()

	// A topic's own value still wins over both.
	createTopic(t, b.Addr, "own", 1, map[string]*string{"retention.ms": kmsg.StringPtr("1000")})
	checkConfig(t, topicConfig(t, adm, "own", "retention.ms"), "1000", kmsg.ConfigSourceDynamicTopicConfig,
		synonym{"retention.ms", "1000", kmsg.ConfigSourceDynamicTopicConfig}, node, clusterDefault, def)

	// AlterConfigs (replace) on the broker replaces its own values only.
	resp, err := adm.AlterBrokerConfigsState(ctxT(t), []kadm.AlterConfig{{Name: "log.segment.bytes", Value: kmsg.StringPtr("2097152")}}, 0)
	if err != nil || resp[0].Err != nil {
		t.Fatalf("replace broker 0 configs: %v %+v", err, resp)
	}
	checkConfig(t, topicConfig(t, adm, "plain", "retention.ms"), "7200000", kmsg.ConfigSourceDynamicDefaultBrokerConfig, clusterDefault, def)
	checkConfig(t, topicConfig(t, adm, "plain", "segment.bytes"), "2097152", kmsg.ConfigSourceDynamicBrokerConfig,
		synonym{"log.segment.bytes", "2097152", kmsg.ConfigSourceDynamicBrokerConfig}, synonym{"log.segment.bytes", "1073741824", kmsg.ConfigSourceDefaultConfig})
	// The cluster default's view does not include broker 0's own values.
	if c := brokerConfig(t, adm, "log.segment.bytes"); c.MaybeValue() != "1073741824" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Fatalf("cluster default log.segment.bytes = %q from %v", c.MaybeValue(), c.Source)
	}

	// Deleting the broker's own value falls back to the default.
	alterBroker(t, adm, kadm.DeleteConfig, "log.segment.bytes", "", 0)
	checkConfig(t, topicConfig(t, adm, "plain", "segment.bytes"), "1073741824", kmsg.ConfigSourceDefaultConfig,
		synonym{"log.segment.bytes", "1073741824", kmsg.ConfigSourceDefaultConfig})

	// Another broker id is refused.
	bad, err := adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: kmsg.StringPtr("1")}}, 7)
	if err == nil && len(bad) == 1 && bad[0].Err == nil {
		t.Fatal("altering broker 7 of a one-broker cluster succeeded")
	}
}
