package cli

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The golden files pin the text tables' columns: scripts and people read
// them, so a change must be deliberate (go test -update rewrites them).

func TestTopicDescribeGolden(t *testing.T) {
	details := kadm.TopicDetails{
		"orders": {Topic: "orders", Partitions: kadm.PartitionDetails{
			0: {Topic: "orders", Partition: 0, Leader: 1, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}},
			1: {Topic: "orders", Partition: 1, Leader: 2, Replicas: []int32{2, 3, 1}, ISR: []int32{2, 3}},
			2: {Topic: "orders", Partition: 2, Leader: -1, Replicas: []int32{3, 1, 2}, ISR: nil, Err: kerr.LeaderNotAvailable},
		}},
		"payments-eu": {Topic: "payments-eu", Partitions: kadm.PartitionDetails{
			0: {Topic: "payments-eu", Partition: 0, Leader: 1, Replicas: []int32{1}, ISR: []int32{1}},
		}},
	}
	var descs []topicDescription
	for _, td := range details.Sorted() {
		d := describeTopic(td)
		if td.Topic == "orders" {
			d.Configs["retention.ms"] = "86400000"
			d.Configs["cleanup.policy"] = "compact"
		}
		descs = append(descs, d)
	}
	var b bytes.Buffer
	writeKafkaTopicLines(&b, descs, true, true)
	golden(t, "topics_describe.golden", b.String())
	b.Reset()
	if err := writeTopicTables(&b, descs, true, true); err != nil {
		t.Fatal(err)
	}
	golden(t, "topics_describe_table.golden", b.String())
}

func TestConfigsDescribeGolden(t *testing.T) {
	syn := func(name, value string, src kmsg.ConfigSource) configSynonym {
		return configSynonym{Name: name, Value: kadm.StringPtr(value), Source: src.String()}
	}
	results := []entityConfigs{
		{EntityType: entityTopics, EntityName: "orders", Configs: []configEntry{
			{Name: "cleanup.policy", Value: kadm.StringPtr("compact"), Source: kmsg.ConfigSourceDynamicTopicConfig.String(), Synonyms: []configSynonym{
				syn("cleanup.policy", "compact", kmsg.ConfigSourceDynamicTopicConfig), syn("log.cleanup.policy", "delete", kmsg.ConfigSourceDefaultConfig)}},
			{Name: "retention.ms", Value: kadm.StringPtr("86400000"), Source: kmsg.ConfigSourceDynamicTopicConfig.String(), Synonyms: []configSynonym{
				syn("retention.ms", "86400000", kmsg.ConfigSourceDynamicTopicConfig), syn("log.retention.ms", "3600000", kmsg.ConfigSourceDynamicBrokerConfig)}},
		}},
		{EntityType: entityTopics, EntityName: "empty", Configs: []configEntry{}},
	}
	brokers := []entityConfigs{
		{EntityType: entityBrokers, EntityName: "1", Configs: []configEntry{
			{Name: "log.retention.hours", Value: kadm.StringPtr("168"), Source: kmsg.ConfigSourceDefaultConfig.String(), Synonyms: []configSynonym{
				syn("log.retention.hours", "168", kmsg.ConfigSourceDefaultConfig)}},
			{Name: "ssl.key.password", Sensitive: true, Source: kmsg.ConfigSourceStaticBrokerConfig.String(), Synonyms: []configSynonym{
				{Name: "ssl.key.password", Source: kmsg.ConfigSourceStaticBrokerConfig.String()}}},
		}},
		{EntityType: entityBrokers, EntityName: "", Configs: []configEntry{
			{Name: "log.retention.ms", Value: kadm.StringPtr("7200000"), Source: kmsg.ConfigSourceDynamicDefaultBrokerConfig.String(), Synonyms: []configSynonym{
				syn("log.retention.ms", "7200000", kmsg.ConfigSourceDynamicDefaultBrokerConfig)}},
		}},
	}
	var b bytes.Buffer
	writeKafkaConfigs(&b, false, results)
	writeKafkaConfigs(&b, true, brokers)
	golden(t, "configs_describe.golden", b.String())
	b.Reset()
	if err := writeConfigTables(&b, false, results); err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n")
	if err := writeConfigTables(&b, true, brokers); err != nil {
		t.Fatal(err)
	}
	golden(t, "configs_describe_table.golden", b.String())
}

func TestGroupDescribeGolden(t *testing.T) {
	members := []kadm.DescribedGroupMember{
		{MemberID: "consumer-1-3f2a", ClientID: "consumer-1", ClientHost: "/10.0.0.5"},
		{MemberID: "consumer-2-9b1c", ClientID: "consumer-2", ClientHost: "/10.0.0.6"},
	}
	commit := func(topic string, p int32, at int64) kadm.Offset {
		return kadm.Offset{Topic: topic, Partition: p, At: at}
	}
	end := func(topic string, p int32, at int64) kadm.ListedOffset {
		return kadm.ListedOffset{Topic: topic, Partition: p, Offset: at}
	}
	gl := kadm.DescribedGroupLag{
		Group: "billing", State: "Stable", ProtocolType: "consumer", Protocol: "cooperative-sticky",
		Members: members,
		Lag: kadm.GroupLag{
			"orders": {
				0: {Member: &members[0], Topic: "orders", Partition: 0, Commit: commit("orders", 0, 120), End: end("orders", 0, 125), Lag: 5},
				1: {Member: &members[0], Topic: "orders", Partition: 1, Commit: commit("orders", 1, -1), End: end("orders", 1, 40), Lag: 40},
			},
			"audit": {
				0: {Topic: "audit", Partition: 0, Commit: commit("audit", 0, 7), End: kadm.ListedOffset{Err: kerr.UnknownTopicOrPartition}, Lag: -1, Err: kerr.UnknownTopicOrPartition},
			},
		},
	}
	var b bytes.Buffer
	if err := writeGroupOffsets(&b, describeGroupLag(gl), false); err != nil {
		t.Fatal(err)
	}
	golden(t, "groups_describe.golden", b.String())
}
