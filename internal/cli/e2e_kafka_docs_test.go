package cli_test

// TestKafkaDocsCommandLines runs command lines copied from Apache Kafka's
// documentation (the quickstart and the operations chapter), with
// `bin/kafka-topics.sh` and friends replaced by `tributary topics` etc.,
// and checks what each did on the broker. The only other edits: the
// documentation's names get a unique suffix (so the test can share a
// cluster), replication factor 3 becomes 1 (one broker), and the console
// consumer, which the documentation stops with Ctrl-C, gets --max-messages.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/tributary-streams/tributary/internal/testkit"
)

var kafkaTools = map[string]string{
	"bin/kafka-topics.sh":           "topics",
	"bin/kafka-configs.sh":          "configs",
	"bin/kafka-console-producer.sh": "produce",
	"bin/kafka-console-consumer.sh": "consume",
	"bin/kafka-consumer-groups.sh":  "groups",
}

// kafkaCommandLine turns a documented command line into tributary's
// arguments: the tool becomes the subcommand, localhost:9092 the test's
// cluster, and each of names gets the suffix.
func kafkaCommandLine(t *testing.T, line, bs, suffix string, names []string) []string {
	t.Helper()
	fields := strings.Fields(line)
	tool, ok := kafkaTools[fields[0]]
	if !ok {
		t.Fatalf("unknown tool in %q", line)
	}
	args := []string{tool}
	for _, f := range fields[1:] {
		f = strings.ReplaceAll(f, "localhost:9092", bs)
		for _, n := range names {
			f = replaceName(f, n, n+suffix)
		}
		args = append(args, f)
	}
	return args
}

// replaceName replaces whole comma-separated names (and name:partitions).
func replaceName(field, name, with string) string {
	parts := strings.Split(field, ",")
	for i, p := range parts {
		if p == name {
			parts[i] = with
		} else if rest, ok := strings.CutPrefix(p, name+":"); ok {
			parts[i] = with + ":" + rest
		}
	}
	return strings.Join(parts, ",")
}

func TestKafkaDocsCommandLines(t *testing.T) {
	bs := testkit.Bootstrap(t)
	suffix := uniqueName("")
	names := []string{"quickstart-events", "my_topic_name", "my-topic", "topic1", "topic2", "keyed", "my-group", "my-other-group", "consumergroup1"}
	adm := testkit.Admin(t, bs)
	ctx := func() context.Context {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		t.Cleanup(cancel)
		return c
	}
	n := func(name string) string { return name + suffix }
	partitions := func(topic string) int {
		// A new client: franz-go answers metadata from a short-lived cache.
		d, err := testkit.Admin(t, bs).ListTopics(ctx(), n(topic))
		if err != nil {
			t.Fatal(err)
		}
		if !d.Has(n(topic)) {
			return -1
		}
		return len(d[n(topic)].Partitions)
	}
	topicConfig := func(topic, key string) (string, string) {
		rcs, err := adm.DescribeTopicConfigs(ctx(), n(topic))
		if err != nil || len(rcs) != 1 {
			t.Fatalf("describe %s: %v", topic, err)
		}
		for _, c := range rcs[0].Configs {
			if c.Key == key {
				return c.MaybeValue(), c.Source.String()
			}
		}
		return "", ""
	}
	committed := func(group, topic string) map[int32]int64 {
		fetched, err := adm.FetchOffsets(ctx(), n(group))
		if err != nil {
			t.Fatal(err)
		}
		out := map[int32]int64{}
		fetched.Each(func(o kadm.OffsetResponse) {
			if o.Topic == n(topic) {
				out[o.Partition] = o.At
			}
		})
		return out
	}
	groupExists := func(group string) bool {
		listed, err := adm.ListGroups(ctx())
		if err != nil {
			t.Fatal(err)
		}
		_, ok := listed[n(group)]
		return ok
	}

	steps := []struct {
		line  string
		stdin string
		check func(r result) error
	}{
		{line: "bin/kafka-topics.sh --create --topic quickstart-events --bootstrap-server localhost:9092", check: func(r result) error {
			if partitions("quickstart-events") < 1 || r.stdout != "Created topic "+n("quickstart-events")+".\n" {
				return fmt.Errorf("topic not created: %q", r.stdout)
			}
			return nil
		}},
		{line: "bin/kafka-topics.sh --describe --topic quickstart-events --bootstrap-server localhost:9092", check: func(r result) error {
			if !strings.HasPrefix(r.stdout, "Topic: "+n("quickstart-events")+"\tTopicId: ") || !strings.Contains(r.stdout, "\tPartition: 0\tLeader: ") {
				return fmt.Errorf("describe output: %q", r.stdout)
			}
			return nil
		}},
		{line: "bin/kafka-console-producer.sh --topic quickstart-events --bootstrap-server localhost:9092", stdin: "This is my first event\nThis is my second event\n", check: func(r result) error {
			recs := testkit.Consume(t, bs, n("quickstart-events"), 2)
			if string(recs[0].Value) != "This is my first event" || string(recs[1].Value) != "This is my second event" {
				return fmt.Errorf("records: %q, %q", recs[0].Value, recs[1].Value)
			}
			return nil
		}},
		{line: "bin/kafka-console-consumer.sh --topic quickstart-events --from-beginning --bootstrap-server localhost:9092 --max-messages 2", check: func(r result) error {
			if r.stdout != "This is my first event\nThis is my second event\n" {
				return fmt.Errorf("consumed %q", r.stdout)
			}
			return nil
		}},
		{line: "bin/kafka-topics.sh --bootstrap-server localhost:9092 --create --topic my_topic_name --partitions 20 --replication-factor 1 --config max.message.bytes=64000 --config flush.messages=1", check: func(r result) error {
			if p := partitions("my_topic_name"); p != 20 {
				return fmt.Errorf("%d partitions", p)
			}
			if v, _ := topicConfig("my_topic_name", "max.message.bytes"); v != "64000" {
				return fmt.Errorf("max.message.bytes = %q", v)
			}
			return nil
		}},
		{line: "bin/kafka-topics.sh --bootstrap-server localhost:9092 --alter --topic my_topic_name --partitions 40", check: func(r result) error {
			if p := partitions("my_topic_name"); p != 40 {
				return fmt.Errorf("%d partitions", p)
			}
			return nil
		}},
		{line: "bin/kafka-configs.sh --bootstrap-server localhost:9092 --entity-type topics --entity-name my_topic_name --alter --add-config max.message.bytes=128000", check: func(r result) error {
			if v, src := topicConfig("my_topic_name", "max.message.bytes"); v != "128000" || src != "DYNAMIC_TOPIC_CONFIG" {
				return fmt.Errorf("max.message.bytes = %q from %s", v, src)
			}
			if r.stdout != "Completed updating config for topic "+n("my_topic_name")+".\n" {
				return fmt.Errorf("output %q", r.stdout)
			}
			return nil
		}},
		{line: "bin/kafka-configs.sh --bootstrap-server localhost:9092 --entity-type topics --entity-name my_topic_name --describe", check: func(r result) error {
			if !strings.Contains(r.stdout, "Dynamic configs for topic "+n("my_topic_name")+" are:\n  ") || !strings.Contains(r.stdout, "  max.message.bytes=128000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:max.message.bytes=128000") {
				return fmt.Errorf("describe output: %q", r.stdout)
			}
			return nil
		}},
		{line: "bin/kafka-configs.sh --bootstrap-server localhost:9092 --entity-type topics --entity-name my_topic_name --alter --delete-config max.message.bytes", check: func(r result) error {
			if _, src := topicConfig("my_topic_name", "max.message.bytes"); src == "DYNAMIC_TOPIC_CONFIG" {
				return fmt.Errorf("max.message.bytes still set on the topic")
			}
			return nil
		}},
		{line: "bin/kafka-topics.sh --bootstrap-server localhost:9092 --create --topic topic1 --partitions 2 --replication-factor 1"},
		{line: "bin/kafka-topics.sh --bootstrap-server localhost:9092 --create --topic topic2 --partitions 1 --replication-factor 1"},
		{line: "bin/kafka-console-producer.sh --bootstrap-server localhost:9092 --topic topic1 --property parse.key=true --property key.separator=:", stdin: "a:1\nb:2\nc:3\nd:4\n"},
		{line: "bin/kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic topic1 --group my-group --from-beginning --max-messages 4", check: func(r result) error {
			if c := committed("my-group", "topic1"); c[0]+c[1] != 4 {
				return fmt.Errorf("my-group committed %v, want 4 records' worth", c)
			}
			return nil
		}},
		{line: "bin/kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic topic1 --group my-other-group --from-beginning --max-messages 1"},
		{line: "bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --list", check: func(r result) error {
			if !containsLine(r.stdout, n("my-group")) || !containsLine(r.stdout, n("my-other-group")) {
				return fmt.Errorf("list: %q", r.stdout)
			}
			return nil
		}},
		{line: "bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --list --state", check: func(r result) error {
			if !containsFields(r.stdout, []string{n("my-group"), "Empty"}) {
				return fmt.Errorf("list --state: %q", r.stdout)
			}
			return nil
		}},
		{line: "bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --list --state empty", check: func(r result) error {
			if !containsFields(r.stdout, []string{n("my-group"), "Empty"}) {
				return fmt.Errorf("list --state empty: %q", r.stdout)
			}
			return nil
		}},
		{line: "bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group my-group", check: func(r result) error {
			if !strings.HasPrefix(r.stdout, "GROUP") || !strings.Contains(r.stdout, n("topic1")) || !strings.Contains(r.stderr, "has no active members") {
				return fmt.Errorf("describe: %q %q", r.stdout, r.stderr)
			}
			return nil
		}},
		{line: "bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group my-group --members"},
		{line: "bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group my-group --members --verbose"},
		{line: "bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group my-group --offsets"},
		{line: "bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group my-group --state", check: func(r result) error {
			if !strings.Contains(r.stdout, "COORDINATOR (ID)") || !strings.Contains(r.stdout, "Empty") {
				return fmt.Errorf("state: %q", r.stdout)
			}
			return nil
		}},
		{line: "bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --reset-offsets --group my-group --topic topic1 --to-earliest", check: func(r result) error {
			if c := committed("my-group", "topic1"); c[0]+c[1] != 4 {
				return fmt.Errorf("a dry run changed offsets: %v", c)
			}
			return nil
		}},
		{line: "bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --reset-offsets --group my-group --topic topic1 --to-earliest --execute", check: func(r result) error {
			if c := committed("my-group", "topic1"); c[0] != 0 || c[1] != 0 {
				return fmt.Errorf("after --to-earliest --execute: %v", c)
			}
			return nil
		}},
		{line: "bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --reset-offsets --group my-group --topic topic1:1 --shift-by 1 --execute", check: func(r result) error {
			if c := committed("my-group", "topic1"); c[0] != 0 || c[1] != 1 {
				return fmt.Errorf("after shifting partition 1: %v", c)
			}
			return nil
		}},
		{line: "bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --reset-offsets --group my-group --group my-other-group --all-topics --to-latest --execute", check: func(r result) error {
			ends, err := adm.ListEndOffsets(ctx(), n("topic1"))
			if err != nil {
				return err
			}
			// --all-topics is every partition the group has committed to.
			for _, g := range []string{"my-group", "my-other-group"} {
				c := committed(g, "topic1")
				for p, at := range c {
					if end, _ := ends.Lookup(n("topic1"), p); at != end.Offset {
						return fmt.Errorf("%s partition %d after --to-latest: %d, want the end %d", g, p, at, end.Offset)
					}
				}
				if len(c) == 0 {
					return fmt.Errorf("%s has no committed offsets", g)
				}
			}
			return nil
		}},
		{line: "bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --delete --group my-group --group my-other-group", check: func(r result) error {
			if groupExists("my-group") || groupExists("my-other-group") {
				return fmt.Errorf("a group survived --delete: %q", r.stdout)
			}
			return nil
		}},
		{line: "bin/kafka-configs.sh --bootstrap-server localhost:9092 --entity-type brokers --entity-default --describe", check: func(r result) error {
			if !strings.HasPrefix(r.stdout, "Default configs for brokers in the cluster are:\n") {
				return fmt.Errorf("describe default: %q", r.stdout)
			}
			return nil
		}},
		{line: "bin/kafka-topics.sh --bootstrap-server localhost:9092 --describe --under-replicated-partitions", check: func(r result) error {
			if r.stdout != "" {
				return fmt.Errorf("a single node has no under-replicated partitions: %q", r.stdout)
			}
			return nil
		}},
		{line: "bin/kafka-topics.sh --bootstrap-server localhost:9092 --list --exclude-internal", check: func(r result) error {
			if !containsLine(r.stdout, n("topic1")) || strings.Contains(r.stdout, "__consumer_offsets") {
				return fmt.Errorf("list: %q", r.stdout)
			}
			return nil
		}},
		{line: "bin/kafka-topics.sh --bootstrap-server localhost:9092 --delete --topic topic1,topic2", check: func(r result) error {
			return eventuallyGone(t, adm, n("topic1"), n("topic2"))
		}},
		{line: "bin/kafka-topics.sh --bootstrap-server localhost:9092 --delete --topic quickstart-events --topic my_topic_name", check: func(r result) error {
			return eventuallyGone(t, adm, n("quickstart-events"), n("my_topic_name"))
		}},
	}
	for i, st := range steps {
		args := kafkaCommandLine(t, st.line, bs, suffix, names)
		r := run(t, st.stdin, args...)
		if r.code != 0 {
			t.Fatalf("step %d: %s\nexit %d\nstdout:\n%s\nstderr:\n%s", i+1, st.line, r.code, r.stdout, r.stderr)
		}
		if st.check != nil {
			if err := st.check(r); err != nil {
				t.Fatalf("step %d: %s\n%v", i+1, st.line, err)
			}
		}
	}
}

func eventuallyGone(t *testing.T, adm *kadm.Client, topics ...string) error {
	testkit.Eventually(t, 10*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d, err := adm.ListTopics(ctx, topics...)
		if err != nil {
			return err
		}
		for _, topic := range topics {
			if d.Has(topic) {
				return fmt.Errorf("topic %s still there after delete", topic)
			}
		}
		return nil
	})
	return nil
}
