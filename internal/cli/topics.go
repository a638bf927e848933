package cli

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// topics: the kafka-topics.sh analogue. Partitions and replication factor
// default to -1, which asks the broker for its defaults (CreateTopics v4+),
// as kafka-topics.sh does.
//
// --topic may be repeated and takes comma lists. As in kafka-topics.sh, a
// --topic value may also be a regular expression (anchored at both ends)
// for list, describe, alter and delete; unlike kafka-topics.sh, a value
// without regular-expression characters (other than '.') is a plain name,
// so "test.topic" does not also match "test_topic", and a plain name that
// does not exist is an error unless --if-exists is given.

func newTopicsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topics",
		Short: "Create, list, describe, alter and delete topics (like kafka-topics.sh)",
		Long: `Create, list, describe, alter and delete topics, with kafka-topics.sh's flags.
Kafka's action-flag form works too: tributary topics --create --topic t.`,
		Example: `  tributary topics create --bootstrap-server 127.0.0.1:9092 --topic orders --partitions 3
  tributary topics --bootstrap-server 127.0.0.1:9092 --describe --topic orders
  tributary topics delete --bootstrap-server 127.0.0.1:9092 --topic a,b`,
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

// topicRegexChars are the characters that make a --topic value a regular
// expression. '.' is left out: it is common in topic names.
const topicRegexChars = `*+?()[]{}|^$\`

func isTopicPattern(s string) bool { return strings.ContainsAny(s, topicRegexChars) }

// topicSelection resolves --topic values against the cluster's topics.
type topicSelection struct {
	values          []string // as given; empty selects every topic
	excludeInternal bool
	ifExists        bool
	// passNames leaves plain names unchecked, for the broker to answer
	// (delete: the broker's UNKNOWN_TOPIC_OR_PARTITION is the answer).
	passNames bool
}

// check validates the --topic patterns before anything is sent.
func (sel topicSelection) check() error {
	for _, v := range sel.values {
		if isTopicPattern(v) {
			if _, err := regexp.Compile(`^(?:` + v + `)$`); err != nil {
				return usageErrorf("--topic %q is not a valid regular expression: %v", v, err)
			}
		}
	}
	return nil
}

// resolve returns the selected topic names, sorted. A plain name that does
// not exist, or a pattern matching nothing, is an error unless ifExists.
func (sel topicSelection) resolve(ctx context.Context, conn *connFlags, adm *adminClient) ([]string, error) {
	all, err := adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return nil, conn.fail("list topics", err)
	}
	keep := func(name string) bool { return !(sel.excludeInternal && all[name].IsInternal) }
	chosen := map[string]bool{}
	if len(sel.values) == 0 {
		for name := range all {
			if keep(name) {
				chosen[name] = true
			}
		}
	}
	var missing []string
	for _, v := range sel.values {
		if !isTopicPattern(v) {
			if all.Has(v) || sel.passNames {
				chosen[v] = true
			} else {
				missing = append(missing, fmt.Sprintf("topic %q does not exist", v))
			}
			continue
		}
		re, err := regexp.Compile(`^(?:` + v + `)$`)
		if err != nil {
			return nil, usageErrorf("--topic %q is not a valid regular expression: %v", v, err)
		}
		matched := false
		for name := range all {
			if re.MatchString(name) && keep(name) {
				chosen[name], matched = true, true
			}
		}
		if !matched {
			missing = append(missing, fmt.Sprintf("no topic matches --topic %q", v))
		}
	}
	if len(missing) > 0 && !sel.ifExists {
		return nil, fmt.Errorf("%s (--if-exists skips topics that do not exist)", strings.Join(missing, "; "))
	}
	names := make([]string, 0, len(chosen))
	for name := range chosen {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

func newTopicsCreateCommand() *cobra.Command {
	var (
		topics            []string
		partitions        int32
		replicationFactor int16
		configs           []string
		ifNotExists       bool
	)
	cmd := &cobra.Command{
		Use:   "create --topic T[,T...] [--partitions N] [--replication-factor R] [--config k=v ...]",
		Short: "Create topics",
		Example: `  tributary topics create --bootstrap-server 127.0.0.1:9092 --topic orders --partitions 3
  tributary topics create --bootstrap-server 127.0.0.1:9092 --topic audit --config cleanup.policy=compact --config retention.ms=-1
  tributary topics --bootstrap-server 127.0.0.1:9092 --create --topic a,b --if-not-exists`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	fs := cmd.Flags()
	listVar(fs, &topics, "topic", "topic to create; repeat or separate with commas for more (required)")
	positiveIntVar(fs, &partitions, "partitions", -1, "number of partitions (default: the broker's num.partitions)")
	positiveIntVar(fs, &replicationFactor, "replication-factor", -1, "replicas per partition (default: the broker's default.replication.factor)")
	fs.StringArrayVar(&configs, "config", nil, "topic config override key=value; repeat for more")
	fs.BoolVar(&ifNotExists, "if-not-exists", false, "succeed without change if a topic already exists")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if len(topics) == 0 {
			return usageErrorf("--topic is required: name the topic to create")
		}
		for _, t := range topics {
			if isTopicPattern(t) {
				return usageErrorf("--topic %q: a topic to create is a name, not a pattern (topic names use letters, digits, '.', '_' and '-')", t)
			}
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

		resps, err := adm.CreateTopics(ctx, partitions, replicationFactor, cfgPtrs, topics...)
		if err != nil {
			return conn.fail("create "+topicsLabel(topics), err)
		}
		type created struct {
			Topic             string `json:"topic"`
			Created           bool   `json:"created"`
			Partitions        int32  `json:"partitions"`
			ReplicationFactor int16  `json:"replication_factor"`
		}
		var (
			list []created
			text strings.Builder
			errs []error
		)
		for _, t := range topics {
			resp, onErr := resps.On(t, nil)
			ok, err := topicAnswer("create", t, onErr, resp.Err, resp.ErrMessage, ifNotExists, kerr.TopicAlreadyExists)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			list = append(list, created{t, ok, resp.NumPartitions, resp.ReplicationFactor})
			if ok {
				fmt.Fprintf(&text, "Created topic %s.\n", t)
			} else {
				fmt.Fprintf(&text, "Topic %s already exists.\n", t)
			}
		}
		var result any = list
		if len(topics) == 1 && len(list) == 1 {
			result = list[0] // one topic: one object, as before lists existed
		}
		if len(list) > 0 {
			if err := writeResult(cmd.OutOrStdout(), *output, result, text.String()); err != nil {
				return err
			}
		}
		return errors.Join(errs...)
	}
	return cmd
}

// topicsLabel names topics in messages: `topic "a"`, `topics "a", "b"`.
func topicsLabel(topics []string) string {
	quoted := make([]string, len(topics))
	for i, t := range topics {
		quoted[i] = fmt.Sprintf("%q", t)
	}
	return plural(len(topics), "topic ", "topics ") + strings.Join(quoted, ", ")
}

func newTopicsListCommand() *cobra.Command {
	var sel topicSelection
	cmd := &cobra.Command{
		Use:   "list [--topic T|REGEX ...] [--exclude-internal]",
		Short: "List topic names",
		Example: `  tributary topics list --bootstrap-server 127.0.0.1:9092
  tributary topics list --bootstrap-server 127.0.0.1:9092 --topic 'orders.*' --exclude-internal`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	listVar(cmd.Flags(), &sel.values, "topic", "only topics with these names or matching these regular expressions")
	cmd.Flags().BoolVar(&sel.excludeInternal, "exclude-internal", false, "leave out internal topics such as __consumer_offsets")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		sel.ifExists = true // listing a name that does not exist lists nothing, as in Kafka
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
		out := cmd.OutOrStdout()
		if *output == outputJSON {
			details, err := adm.ListTopicsWithInternal(ctx, names...)
			if err != nil {
				return conn.fail("list topics", err)
			}
			list := make([]map[string]any, 0, len(details))
			for _, t := range details.Sorted() {
				list = append(list, map[string]any{
					"topic":              t.Topic,
					"internal":           t.IsInternal,
					"partitions":         len(t.Partitions),
					"replication_factor": t.Partitions.NumReplicas(),
				})
			}
			return writeJSON(out, list)
		}
		for _, name := range names {
			fmt.Fprintln(out, name)
		}
		return nil
	}
	return cmd
}

func newTopicsAlterCommand() *cobra.Command {
	var (
		sel        topicSelection
		partitions int32
	)
	cmd := &cobra.Command{
		Use:   "alter --topic T[,T...] --partitions N",
		Short: "Raise topics' partition count (CreatePartitions)",
		Long: `Raise topics' partition count. Topic configs are changed with
tributary configs alter, as with kafka-configs.sh.`,
		Example: `  tributary topics alter --bootstrap-server 127.0.0.1:9092 --topic orders --partitions 6`,
		Args:    noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	fs := cmd.Flags()
	listVar(fs, &sel.values, "topic", "topic to alter (or a regular expression); repeat or separate with commas for more (required)")
	positiveIntVar(fs, &partitions, "partitions", 0, "new total number of partitions; must exceed the current count (required)")
	fs.BoolVar(&sel.ifExists, "if-exists", false, "skip topics that do not exist")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if len(sel.values) == 0 {
			return usageErrorf("--topic is required: name the topic to alter")
		}
		if partitions <= 0 {
			return usageErrorf("--partitions is required: give the new total partition count")
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
		if len(names) == 0 {
			return nil
		}
		// Check the current counts first: the broker's INVALID_PARTITIONS
		// does not say what the count is.
		details, err := adm.ListTopics(ctx, names...)
		if err != nil {
			return conn.fail("alter "+topicsLabel(names), err)
		}
		current := map[string]int{}
		for _, name := range names {
			current[name] = len(details[name].Partitions)
			if int(partitions) <= current[name] {
				return fmt.Errorf("topic %q has %s: --partitions must be more than that (partitions can only be added), got %d",
					name, countOf(current[name], "partition", "partitions"), partitions)
			}
		}
		resps, err := adm.UpdatePartitions(ctx, int(partitions), names...)
		if err != nil {
			return conn.fail("alter "+topicsLabel(names), err)
		}
		var (
			text strings.Builder
			list []map[string]any
			errs []error
		)
		for _, name := range names {
			resp, onErr := resps.On(name, nil)
			if _, err := topicAnswer("alter", name, onErr, resp.Err, resp.ErrMessage, false, nil); err != nil {
				errs = append(errs, err)
				continue
			}
			list = append(list, map[string]any{"topic": name, "partitions": partitions, "previous_partitions": current[name]})
			fmt.Fprintf(&text, "Topic %s now has %s (was %d).\n", name, countOf(int(partitions), "partition", "partitions"), current[name])
		}
		var result any = list
		if len(list) == 1 {
			result = list[0]
		}
		if len(list) > 0 {
			if err := writeResult(cmd.OutOrStdout(), *output, result, text.String()); err != nil {
				return err
			}
		}
		return errors.Join(errs...)
	}
	return cmd
}

func newTopicsDeleteCommand() *cobra.Command {
	var sel topicSelection
	cmd := &cobra.Command{
		Use:   "delete --topic T[,T...]",
		Short: "Delete topics",
		Example: `  tributary topics delete --bootstrap-server 127.0.0.1:9092 --topic orders
  tributary topics --bootstrap-server 127.0.0.1:9092 --delete --topic 'test-.*' --if-exists`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	listVar(cmd.Flags(), &sel.values, "topic", "topic to delete (or a regular expression); repeat or separate with commas for more (required)")
	cmd.Flags().BoolVar(&sel.ifExists, "if-exists", false, "succeed without change for topics that do not exist")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if len(sel.values) == 0 {
			return usageErrorf("--topic is required: name the topic to delete")
		}
		sel.passNames = true
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
		var (
			text strings.Builder
			list = []map[string]any{}
			errs []error
		)
		if len(names) > 0 {
			resps, err := adm.DeleteTopics(ctx, names...)
			if err != nil {
				return conn.fail("delete "+topicsLabel(names), err)
			}
			for _, name := range names {
				resp, onErr := resps.On(name, nil)
				deleted, err := topicAnswer("delete", name, onErr, resp.Err, resp.ErrMessage, sel.ifExists, kerr.UnknownTopicOrPartition)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				list = append(list, map[string]any{"topic": name, "deleted": deleted})
				if deleted {
					fmt.Fprintf(&text, "Deleted topic %s.\n", name)
				} else {
					fmt.Fprintf(&text, "Topic %s does not exist.\n", name)
				}
			}
		}
		var result any = list
		if len(list) == 1 {
			result = list[0]
		}
		if err := writeResult(cmd.OutOrStdout(), *output, result, text.String()); err != nil {
			return err
		}
		return errors.Join(errs...)
	}
	return cmd
}

// topicAnswer checks the broker's answer for one topic of a create, alter or
// delete: onErr is the error of finding the topic's answer, respErr and
// message the answer's error. changed is false when the answer is the error
// the user said to accept (tolerate, e.g. --if-exists, and tolerated).
func topicAnswer(action, topic string, onErr, respErr error, message string, tolerate bool, tolerated error) (changed bool, err error) {
	if onErr != nil {
		return false, fmt.Errorf("%s topic %q: the broker did not answer for it", action, topic)
	}
	if respErr == nil {
		return true, nil
	}
	if tolerate && errors.Is(respErr, tolerated) {
		return false, nil
	}
	if errors.Is(respErr, kerr.UnknownTopicOrPartition) {
		return false, &clusterError{fmt.Sprintf("%s topic %q: the topic does not exist (UNKNOWN_TOPIC_OR_PARTITION)", action, topic), respErr}
	}
	return false, fmt.Errorf("%s topic %q: %w", action, topic, kafkaError(respErr, message))
}
