package cli

import (
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// `topics describe`: kafka-topics.sh --describe. The default output is
// Kafka's own lines,
//
//	Topic: orders	TopicId: 3Tb...	PartitionCount: 3	ReplicationFactor: 1	Configs: retention.ms=600000
//		Topic: orders	Partition: 0	Leader: 0	Replicas: 0	Isr: 0
//
// so scripts written against kafka-topics.sh keep working (Kafka 3.7+ also
// prints Elr and LastKnownElr, which the Kafka protocol's metadata does not
// carry to franz-go; they are left out). --output table prints the same
// facts as two aligned tables, --output json as documented objects.
// Configs lists every config not at its default, as Kafka does.

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

// partitionReport is the kafka-topics.sh --describe filters: a partition is
// shown if any chosen filter matches it; with none chosen every partition
// is shown, with the topic line.
type partitionReport struct {
	underReplicated, unavailable, underMinISR, atMinISR bool
}

func (r partitionReport) any() bool {
	return r.underReplicated || r.unavailable || r.underMinISR || r.atMinISR
}

func (r partitionReport) shows(p partitionDescription, minISR int, live map[int32]bool) bool {
	if !r.any() {
		return true
	}
	hasLeader := p.Leader >= 0
	return r.underReplicated && len(p.ISR) < len(p.Replicas) ||
		r.unavailable && (!hasLeader || !live[p.Leader]) ||
		r.underMinISR && (!hasLeader || len(p.ISR) < minISR) ||
		r.atMinISR && len(p.ISR) == minISR
}

func newTopicsDescribeCommand() *cobra.Command {
	var (
		sel           topicSelection
		report        partitionReport
		withOverrides bool
	)
	cmd := &cobra.Command{
		Use:   "describe [--topic T|REGEX ...] [--under-replicated-partitions | --unavailable-partitions | --topics-with-overrides ...]",
		Short: "Show topics' partitions, leaders, replicas, ISR and configs not at their defaults",
		Example: `  tributary topics describe --bootstrap-server 127.0.0.1:9092 --topic orders
  tributary topics --bootstrap-server 127.0.0.1:9092 --describe --under-replicated-partitions
  tributary topics describe --bootstrap-server 127.0.0.1:9092 --topics-with-overrides --exclude-internal --output table`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	fs := cmd.Flags()
	listVar(fs, &sel.values, "topic", "topic to describe, or a regular expression; repeat or separate with commas for more (default: all topics)")
	fs.BoolVar(&sel.excludeInternal, "exclude-internal", false, "leave out internal topics")
	fs.BoolVar(&sel.ifExists, "if-exists", false, "skip topics that do not exist instead of failing")
	fs.BoolVar(&report.underReplicated, "under-replicated-partitions", false, "only partitions whose ISR is smaller than their replica set")
	fs.BoolVar(&report.unavailable, "unavailable-partitions", false, "only partitions whose leader is not available")
	fs.BoolVar(&report.underMinISR, "under-min-isr-partitions", false, "only partitions whose ISR is smaller than min.insync.replicas")
	fs.BoolVar(&report.atMinISR, "at-min-isr-partitions", false, "only partitions whose ISR equals min.insync.replicas")
	fs.BoolVar(&withOverrides, "topics-with-overrides", false, "only topics with configs not at their defaults, without partitions")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if withOverrides && report.any() {
			return usageErrorf("--topics-with-overrides cannot be used with --under-replicated-partitions, --unavailable-partitions, --under-min-isr-partitions or --at-min-isr-partitions")
		}
		if err := sel.check(); err != nil {
			return err
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		names, err := sel.resolve(ctx, conn, adm)
		if err != nil {
			return err
		}
		details, err := adm.ListTopicsWithInternal(ctx, names...)
		if err != nil {
			return conn.fail("describe topics", err)
		}
		for _, td := range details.Sorted() {
			if td.Err != nil {
				return fmt.Errorf("describe topic %q: %w", td.Topic, td.Err)
			}
		}
		var rcs kadm.ResourceConfigs
		if len(names) > 0 {
			if rcs, err = adm.DescribeTopicConfigs(ctx, names...); err != nil {
				return conn.fail("describe topic configs", err)
			}
		}
		live := map[int32]bool{}
		if report.unavailable {
			brokers, err := adm.ListBrokers(ctx)
			if err != nil {
				return conn.fail("list brokers", err)
			}
			for _, b := range brokers {
				live[b.NodeID] = true
			}
		}

		var shown []topicDescription
		for _, td := range details.Sorted() {
			d := describeTopic(td)
			rc, err := rcs.On(td.Topic, nil)
			if err == nil && rc.Err != nil {
				return fmt.Errorf("describe configs of topic %q: %w", td.Topic, kafkaError(rc.Err, rc.ErrMessage))
			}
			minISR := 1
			for _, c := range rc.Configs {
				if c.Source != kmsg.ConfigSourceDefaultConfig {
					d.Configs[c.Key] = configValue(c)
				}
				if c.Key == "min.insync.replicas" {
					if n, err := strconv.Atoi(c.MaybeValue()); err == nil {
						minISR = n
					}
				}
			}
			switch {
			case withOverrides:
				if len(d.Configs) == 0 {
					continue
				}
				d.Partitions = []partitionDescription{}
			case report.any():
				var parts []partitionDescription
				for _, p := range d.Partitions {
					if report.shows(p, minISR, live) {
						parts = append(parts, p)
					}
				}
				if len(parts) == 0 {
					continue
				}
				d.Partitions = parts
			}
			shown = append(shown, d)
		}
		out := cmd.OutOrStdout()
		switch *output {
		case outputJSON:
			if shown == nil {
				shown = []topicDescription{}
			}
			return writeJSON(out, shown)
		case outputTable:
			return writeTopicTables(out, shown, !report.any(), !withOverrides)
		}
		writeKafkaTopicLines(out, shown, !report.any(), !withOverrides)
		return nil
	}
	return cmd
}

// kafkaTopicID renders a topic id the way Kafka's Uuid does: URL-safe
// base64 without padding (22 characters).
func kafkaTopicID(id kadm.TopicID) string {
	return base64.RawURLEncoding.EncodeToString(id[:])
}

func describeTopic(td kadm.TopicDetail) topicDescription {
	d := topicDescription{
		Topic:             td.Topic,
		Internal:          td.IsInternal,
		PartitionCount:    len(td.Partitions),
		ReplicationFactor: td.Partitions.NumReplicas(),
		Configs:           map[string]string{},
		Partitions:        []partitionDescription{},
	}
	if td.ID != (kadm.TopicID{}) {
		d.ID = kafkaTopicID(td.ID)
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

func configsString(configs map[string]string) string {
	keys := sortedKeys(configs)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + configs[k]
	}
	return strings.Join(parts, ",")
}

func leaderString(leader int32) string {
	if leader < 0 {
		return "none"
	}
	return strconv.Itoa(int(leader))
}

// writeKafkaTopicLines prints kafka-topics.sh --describe's lines: the topic
// line (unless a partition filter is on) and one line per partition
// (unless --topics-with-overrides).
func writeKafkaTopicLines(w io.Writer, descs []topicDescription, topicLines, partitionLines bool) {
	for _, d := range descs {
		if topicLines {
			fmt.Fprintf(w, "Topic: %s", d.Topic)
			if d.ID != "" {
				fmt.Fprintf(w, "\tTopicId: %s", d.ID)
			}
			fmt.Fprintf(w, "\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s\n", d.PartitionCount, d.ReplicationFactor, configsString(d.Configs))
		}
		if !partitionLines {
			continue
		}
		for _, p := range d.Partitions {
			fmt.Fprintf(w, "\tTopic: %s\tPartition: %d\tLeader: %s\tReplicas: %s\tIsr: %s\n",
				d.Topic, p.Partition, leaderString(p.Leader), joinInt32s(p.Replicas), joinInt32s(p.ISR))
		}
	}
}

// writeTopicTables prints one table of topics and one of partitions.
func writeTopicTables(w io.Writer, descs []topicDescription, topicTable, partitionTable bool) error {
	var topicRows, partRows [][]string
	for _, d := range descs {
		topicRows = append(topicRows, []string{
			d.Topic, d.ID, fmt.Sprint(d.PartitionCount), fmt.Sprint(d.ReplicationFactor), configsString(d.Configs),
		})
		for _, p := range d.Partitions {
			partRows = append(partRows, []string{
				d.Topic, fmt.Sprint(p.Partition), leaderString(p.Leader), joinInt32s(p.Replicas), joinInt32s(p.ISR),
			})
		}
	}
	if topicTable {
		if err := writeTable(w, []string{"TOPIC", "TOPIC-ID", "PARTITIONS", "REPLICATION-FACTOR", "CONFIGS"}, topicRows); err != nil {
			return err
		}
	}
	if topicTable && partitionTable {
		fmt.Fprintln(w)
	}
	if partitionTable {
		return writeTable(w, []string{"TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR"}, partRows)
	}
	return nil
}
