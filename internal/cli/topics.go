package cli

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topics: the kafka-topics.sh analogue. Partitions and replication factor
// default to -1, which asks the broker for its defaults (CreateTopics v4+),
// as kafka-topics.sh does.

func newTopicsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topics",
		Short: "Create, list, describe, alter and delete topics (like kafka-topics.sh)",
	}
	makeGroupCommand(cmd)
	cmd.AddCommand(
		newTopicsCreateCommand(),
		newTopicsListCommand(),
		newTopicsDescribeCommand(),
		newTopicsAlterCommand(),
		newTopicsDeleteCommand(),
	)
	return cmd
}

func newTopicsCreateCommand() *cobra.Command {
	var (
		topic             string
		partitions        int32
		replicationFactor int16
		configs           []string
		ifNotExists       bool
	)
	cmd := &cobra.Command{
		Use:   "create --topic T [--partitions N] [--replication-factor R] [--config k=v ...]",
		Short: "Create a topic",
		Args:  noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	fs := cmd.Flags()
	fs.StringVar(&topic, "topic", "", "topic to create (required)")
	positiveIntVar(fs, &partitions, "partitions", -1, "number of partitions (default: the broker's num.partitions)")
	positiveIntVar(fs, &replicationFactor, "replication-factor", -1, "replicas per partition (default: the broker's default.replication.factor)")
	fs.StringArrayVar(&configs, "config", nil, "topic config override key=value; repeat for more")
	fs.BoolVar(&ifNotExists, "if-not-exists", false, "succeed without change if the topic already exists")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := requireFlag(topic, "topic", "name the topic to create"); err != nil {
			return err
		}
		cfg, _, err := parseKeyValues("config", configs, false)
		if err != nil {
			return err
		}
		cfgPtrs := make(map[string]*string, len(cfg))
		for k, v := range cfg {
			cfgPtrs[k] = kadm.StringPtr(v)
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		resps, err := adm.CreateTopics(ctx, partitions, replicationFactor, cfgPtrs, topic)
		if err != nil {
			return conn.explain(fmt.Errorf("create topic %q: %w", topic, err))
		}
		resp, err := resps.On(topic, nil)
		created, err := topicAnswer("create", topic, err, resp.Err, resp.ErrMessage, ifNotExists, kerr.TopicAlreadyExists)
		if err != nil {
			return err
		}
		text := fmt.Sprintf("Created topic %s.\n", topic)
		if !created {
			text = fmt.Sprintf("Topic %s already exists.\n", topic)
		}
		return writeResult(cmd.OutOrStdout(), *output, map[string]any{
			"topic":              topic,
			"created":            created,
			"partitions":         resp.NumPartitions,
			"replication_factor": resp.ReplicationFactor,
		}, text)
	}
	return cmd
}

func newTopicsListCommand() *cobra.Command {
	var excludeInternal bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List topic names",
		Args:  noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	cmd.Flags().BoolVar(&excludeInternal, "exclude-internal", false, "leave out internal topics such as __consumer_offsets")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		topics, err := adm.ListTopicsWithInternal(ctx)
		if err != nil {
			return conn.explain(fmt.Errorf("list topics: %w", err))
		}
		if excludeInternal {
			topics.FilterInternal()
		}
		out := cmd.OutOrStdout()
		if *output == outputJSON {
			list := make([]map[string]any, 0, len(topics))
			for _, t := range topics.Sorted() {
				list = append(list, map[string]any{
					"topic":              t.Topic,
					"internal":           t.IsInternal,
					"partitions":         len(t.Partitions),
					"replication_factor": t.Partitions.NumReplicas(),
				})
			}
			return writeJSON(out, list)
		}
		for _, name := range topics.Names() {
			fmt.Fprintln(out, name)
		}
		return nil
	}
	return cmd
}

// topicDescription is one topic as `topics describe` shows it; the JSON
// field names are part of the CLI's contract.
type topicDescription struct {
	Topic             string                 `json:"topic"`
	ID                string                 `json:"id"`
	Internal          bool                   `json:"internal"`
	PartitionCount    int                    `json:"partition_count"`
	ReplicationFactor int                    `json:"replication_factor"`
	Configs           map[string]string      `json:"configs"`
	Partitions        []partitionDescription `json:"partitions"`
}

type partitionDescription struct {
	Partition       int32   `json:"partition"`
	Leader          int32   `json:"leader"`
	LeaderEpoch     int32   `json:"leader_epoch"`
	Replicas        []int32 `json:"replicas"`
	ISR             []int32 `json:"isr"`
	OfflineReplicas []int32 `json:"offline_replicas"`
	Error           string  `json:"error,omitempty"`
}

func newTopicsDescribeCommand() *cobra.Command {
	var (
		topics          []string
		excludeInternal bool
	)
	cmd := &cobra.Command{
		Use:   "describe [--topic T ...]",
		Short: "Show partitions, leaders, replicas, ISR and non-default configs of topics",
		Args:  noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	cmd.Flags().StringArrayVar(&topics, "topic", nil, "topic to describe; repeat for more (default: all topics)")
	cmd.Flags().BoolVar(&excludeInternal, "exclude-internal", false, "when describing all topics, leave out internal ones")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		details, err := adm.ListTopicsWithInternal(ctx, topics...)
		if err != nil {
			return conn.explain(fmt.Errorf("describe topics: %w", err))
		}
		if len(topics) == 0 && excludeInternal {
			details.FilterInternal()
		}
		for _, name := range topics {
			if !details.Has(name) {
				return fmt.Errorf("topic %q does not exist", name)
			}
		}
		for _, td := range details.Sorted() {
			if td.Err != nil {
				return fmt.Errorf("describe topic %q: %w", td.Topic, td.Err)
			}
		}
		names := details.Names()
		var rcs kadm.ResourceConfigs
		if len(names) > 0 {
			rcs, err = adm.DescribeTopicConfigs(ctx, names...)
			if err != nil {
				return conn.explain(fmt.Errorf("describe topic configs: %w", err))
			}
		}
		descs := make([]topicDescription, 0, len(details))
		for _, td := range details.Sorted() {
			d := describeTopic(td)
			rc, err := rcs.On(td.Topic, nil)
			if err == nil && rc.Err != nil {
				return fmt.Errorf("describe configs of topic %q: %w", td.Topic, kafkaError(rc.Err, rc.ErrMessage))
			}
			for _, c := range rc.Configs {
				if c.Source == kmsg.ConfigSourceDynamicTopicConfig {
					d.Configs[c.Key] = configValue(c)
				}
			}
			descs = append(descs, d)
		}
		if *output == outputJSON {
			return writeJSON(cmd.OutOrStdout(), descs)
		}
		return writeTopicDescriptions(cmd.OutOrStdout(), descs)
	}
	return cmd
}

func describeTopic(td kadm.TopicDetail) topicDescription {
	d := topicDescription{
		Topic:             td.Topic,
		ID:                td.ID.String(),
		Internal:          td.IsInternal,
		PartitionCount:    len(td.Partitions),
		ReplicationFactor: td.Partitions.NumReplicas(),
		Configs:           map[string]string{},
		Partitions:        []partitionDescription{},
	}
	for _, p := range td.Partitions.Sorted() {
		pd := partitionDescription{
			Partition:       p.Partition,
			Leader:          p.Leader,
			LeaderEpoch:     p.LeaderEpoch,
			Replicas:        nonNil(p.Replicas),
			ISR:             nonNil(p.ISR),
			OfflineReplicas: nonNil(p.OfflineReplicas),
		}
		if p.Err != nil {
			pd.Error = p.Err.Error()
		}
		d.Partitions = append(d.Partitions, pd)
	}
	return d
}

func nonNil(ns []int32) []int32 {
	if ns == nil {
		return []int32{}
	}
	return ns
}

// configValue shows a config's value, hiding sensitive ones as brokers do.
func configValue(c kadm.Config) string {
	if c.Sensitive {
		return "(sensitive)"
	}
	return c.MaybeValue()
}

// writeTopicDescriptions prints one table of topics and one of partitions.
// Kafka prints the same facts as "Topic: x\tPartition: 0\t..." lines; two
// tables keep columns stable for people and for awk.
func writeTopicDescriptions(w io.Writer, descs []topicDescription) error {
	var topicRows, partRows [][]string
	for _, d := range descs {
		keys := make([]string, 0, len(d.Configs))
		for k := range d.Configs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		cfgs := make([]string, len(keys))
		for i, k := range keys {
			cfgs[i] = k + "=" + d.Configs[k]
		}
		topicRows = append(topicRows, []string{
			d.Topic, fmt.Sprint(d.PartitionCount), fmt.Sprint(d.ReplicationFactor), strings.Join(cfgs, ","),
		})
		for _, p := range d.Partitions {
			leader := fmt.Sprint(p.Leader)
			if p.Leader < 0 {
				leader = "none"
			}
			partRows = append(partRows, []string{
				d.Topic, fmt.Sprint(p.Partition), leader, joinInt32s(p.Replicas), joinInt32s(p.ISR),
			})
		}
	}
	if err := writeTable(w, []string{"TOPIC", "PARTITIONS", "REPLICATION-FACTOR", "CONFIGS"}, topicRows); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return writeTable(w, []string{"TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR"}, partRows)
}

func newTopicsAlterCommand() *cobra.Command {
	var (
		topic      string
		partitions int32
	)
	cmd := &cobra.Command{
		Use:   "alter --topic T --partitions N",
		Short: "Raise a topic's partition count (CreatePartitions)",
		Args:  noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	fs := cmd.Flags()
	fs.StringVar(&topic, "topic", "", "topic to alter (required)")
	positiveIntVar(fs, &partitions, "partitions", 0, "new total number of partitions; must exceed the current count (required)")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := requireFlag(topic, "topic", "name the topic to alter"); err != nil {
			return err
		}
		if partitions <= 0 {
			return usageErrorf("--partitions is required: give the new total partition count")
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		// Check the current count first: the broker's INVALID_PARTITIONS
		// does not say what the count is.
		details, err := adm.ListTopics(ctx, topic)
		if err != nil {
			return conn.explain(fmt.Errorf("alter topic %q: %w", topic, err))
		}
		if !details.Has(topic) {
			return fmt.Errorf("topic %q does not exist", topic)
		}
		current := len(details[topic].Partitions)
		if int(partitions) <= current {
			return fmt.Errorf("topic %q has %d partitions: --partitions must be more than that (partitions can only be added), got %d",
				topic, current, partitions)
		}
		resps, err := adm.UpdatePartitions(ctx, int(partitions), topic)
		if err != nil {
			return conn.explain(fmt.Errorf("alter topic %q: %w", topic, err))
		}
		resp, err := resps.On(topic, nil)
		if _, err := topicAnswer("alter", topic, err, resp.Err, resp.ErrMessage, false, nil); err != nil {
			return err
		}
		return writeResult(cmd.OutOrStdout(), *output,
			map[string]any{"topic": topic, "partitions": partitions, "previous_partitions": current},
			fmt.Sprintf("Topic %s now has %d partitions (was %d).\n", topic, partitions, current))
	}
	return cmd
}

func newTopicsDeleteCommand() *cobra.Command {
	var (
		topic    string
		ifExists bool
	)
	cmd := &cobra.Command{
		Use:   "delete --topic T",
		Short: "Delete a topic",
		Args:  noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	cmd.Flags().StringVar(&topic, "topic", "", "topic to delete (required)")
	cmd.Flags().BoolVar(&ifExists, "if-exists", false, "succeed without change if the topic does not exist")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := requireFlag(topic, "topic", "name the topic to delete"); err != nil {
			return err
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		resps, err := adm.DeleteTopics(ctx, topic)
		if err != nil {
			return conn.explain(fmt.Errorf("delete topic %q: %w", topic, err))
		}
		resp, err := resps.On(topic, nil)
		deleted, err := topicAnswer("delete", topic, err, resp.Err, resp.ErrMessage, ifExists, kerr.UnknownTopicOrPartition)
		if err != nil {
			return err
		}
		text := fmt.Sprintf("Deleted topic %s.\n", topic)
		if !deleted {
			text = fmt.Sprintf("Topic %s does not exist.\n", topic)
		}
		return writeResult(cmd.OutOrStdout(), *output, map[string]any{"topic": topic, "deleted": deleted}, text)
	}
	return cmd
}

// topicAnswer checks the broker's answer for one topic of a create, alter or
// delete: onErr is the error of finding the topic's answer, respErr and
// message the answer's error. changed is false when the answer is the error
// the user said to accept (tolerate, e.g. --if-exists, and tolerated).
func topicAnswer(action, topic string, onErr, respErr error, message string, tolerate bool, tolerated error) (changed bool, err error) {
	if onErr != nil {
		return false, fmt.Errorf("%s topic %q: broker did not answer for it", action, topic)
	}
	if respErr == nil {
		return true, nil
	}
	if tolerate && errors.Is(respErr, tolerated) {
		return false, nil
	}
	return false, fmt.Errorf("%s topic %q: %w", action, topic, kafkaError(respErr, message))
}
