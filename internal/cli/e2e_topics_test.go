package cli_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestTopicsLifecycle(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic := uniqueName("orders")
	conn := []string{"--bootstrap-server", bs}

	out := mustRun(t, "", append([]string{"topics", "create", "--topic", topic, "--partitions", "3", "--replication-factor", "1",
		"--config", "retention.ms=600000", "--config", "max.message.bytes=65536"}, conn...)...)
	if out != "Created topic "+topic+".\n" {
		t.Errorf("create output: %q", out)
	}
	mustFail(t, exitError, "TOPIC_ALREADY_EXISTS", "", append([]string{"topics", "create", "--topic", topic}, conn...)...)
	out = mustRun(t, "", append([]string{"topics", "create", "--topic", topic, "--if-not-exists"}, conn...)...)
	if !strings.Contains(out, "already exists") {
		t.Errorf("create --if-not-exists output: %q", out)
	}

	out = mustRun(t, "", append([]string{"topics", "list"}, conn...)...)
	if !containsLine(out, topic) {
		t.Errorf("list does not show %s:\n%s", topic, out)
	}
	var listed []struct {
		Topic      string `json:"topic"`
		Partitions int    `json:"partitions"`
	}
	decodeJSON(t, mustRun(t, "", append([]string{"topics", "list", "--exclude-internal", "--output", "json"}, conn...)...), &listed)
	found := false
	for _, l := range listed {
		if l.Topic == topic {
			found = l.Partitions == 3
		}
		if strings.HasPrefix(l.Topic, "__") {
			t.Errorf("--exclude-internal listed %s", l.Topic)
		}
	}
	if !found {
		t.Errorf("json list lacks %s with 3 partitions: %+v", topic, listed)
	}

	out = mustRun(t, "", append([]string{"topics", "describe", "--topic", topic}, conn...)...)
	for _, want := range []string{
		"Topic: " + topic + "\tTopicId: ", "\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: max.message.bytes=65536,retention.ms=600000\n",
		"\tTopic: " + topic + "\tPartition: 2\tLeader: 0\tReplicas: 0\tIsr: 0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(t, "", append([]string{"topics", "describe", "--topic", topic, "--output", "table"}, conn...)...)
	for _, want := range []string{
		"TOPIC", "PARTITIONS", "REPLICATION-FACTOR", "CONFIGS",
		"max.message.bytes=65536,retention.ms=600000",
		"PARTITION", "LEADER", "REPLICAS", "ISR",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
	descs := describeTopicJSON(t, topic, conn)
	if d := descs[0]; d.PartitionCount != 3 || d.ReplicationFactor != 1 || len(d.Partitions) != 3 ||
		d.Configs["retention.ms"] != "600000" || len(d.Configs) != 2 {
		t.Errorf("describe json: %+v", d)
	}
	for i, p := range descs[0].Partitions {
		if p.Partition != int32(i) || p.Leader < 0 || len(p.Replicas) != 1 || len(p.ISR) != 1 {
			t.Errorf("partition %d: %+v", i, p)
		}
	}

	mustRun(t, "", append([]string{"topics", "alter", "--topic", topic, "--partitions", "5"}, conn...)...)
	if d := describeTopicJSON(t, topic, conn)[0]; d.PartitionCount != 5 {
		t.Errorf("after alter: %d partitions, want 5", d.PartitionCount)
	}
	mustFail(t, exitError, "has 5 partitions: --partitions must be more than that", "", append([]string{"topics", "alter", "--topic", topic, "--partitions", "2"}, conn...)...)
	mustFail(t, exitError, `topic "no-such-topic" does not exist`, "", append([]string{"topics", "alter", "--topic", "no-such-topic", "--partitions", "2"}, conn...)...)
	mustFail(t, exitError, `topic "no-such-topic" does not exist`, "", append([]string{"topics", "describe", "--topic", "no-such-topic"}, conn...)...)

	out = mustRun(t, "", append([]string{"topics", "delete", "--topic", topic}, conn...)...)
	if out != "Deleted topic "+topic+".\n" {
		t.Errorf("delete output: %q", out)
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		out := mustRun(t, "", append([]string{"topics", "list"}, conn...)...)
		if containsLine(out, topic) {
			return fmt.Errorf("%s still listed", topic)
		}
		return nil
	})
	mustFail(t, exitError, "UNKNOWN_TOPIC_OR_PARTITION", "", append([]string{"topics", "delete", "--topic", topic}, conn...)...)
	mustRun(t, "", append([]string{"topics", "delete", "--topic", topic, "--if-exists"}, conn...)...)
}

func TestTopicsCreateBrokerDefaults(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic := uniqueName("defaults")
	var created struct {
		Created    bool  `json:"created"`
		Partitions int32 `json:"partitions"`
	}
	decodeJSON(t, mustRun(t, "", "topics", "create", "--topic", topic, "--bootstrap-server", bs, "--output", "json"), &created)
	if !created.Created {
		t.Errorf("json create: %+v", created)
	}
	d := describeTopicJSON(t, topic, []string{"--bootstrap-server", bs})[0]
	if d.PartitionCount < 1 || d.ReplicationFactor < 1 {
		t.Errorf("broker defaults gave %d partitions, replication factor %d", d.PartitionCount, d.ReplicationFactor)
	}
	mustFail(t, exitError, "INVALID_CONFIG", "", "topics", "create", "--topic", uniqueName("badcfg"), "--bootstrap-server", bs, "--config", "retention.ms=soon")
}

// topicJSON is the documented JSON shape of `topics describe`.
type topicJSON struct {
	Topic             string            `json:"topic"`
	PartitionCount    int               `json:"partition_count"`
	ReplicationFactor int               `json:"replication_factor"`
	Configs           map[string]string `json:"configs"`
	Partitions        []struct {
		Partition int32   `json:"partition"`
		Leader    int32   `json:"leader"`
		Replicas  []int32 `json:"replicas"`
		ISR       []int32 `json:"isr"`
	} `json:"partitions"`
}

func describeTopicJSON(t *testing.T, topic string, conn []string) []topicJSON {
	t.Helper()
	var descs []topicJSON
	decodeJSON(t, mustRun(t, "", append([]string{"topics", "describe", "--topic", topic, "--output", "json"}, conn...)...), &descs)
	if len(descs) != 1 || descs[0].Topic != topic {
		t.Fatalf("describe json: %+v", descs)
	}
	return descs
}
