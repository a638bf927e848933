package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// groups: the kafka-consumer-groups.sh analogue. Its actions are
// subcommands (list, describe, delete, delete-offsets, reset-offsets), and
// Kafka's --list, --describe, ... forms are accepted too. --group may be
// repeated and takes comma lists; --all-groups selects every group.

func newGroupsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "groups",
		Short: "List, describe, delete consumer groups and reset their offsets (like kafka-consumer-groups.sh)",
		Long: `List, describe and delete consumer groups and move their offsets, with
kafka-consumer-groups.sh's flags. Kafka's action-flag form works too:
tributary groups --describe --group g --members.`,
		Example: `  tributary groups list --bootstrap-server 127.0.0.1:9092
  tributary groups --bootstrap-server 127.0.0.1:9092 --describe --group billing --members --verbose
  tributary groups --bootstrap-server 127.0.0.1:9092 --reset-offsets --group billing --all-topics --to-earliest --execute`,
	}
	makeGroupCommand(cmd)
	cmd.AddCommand(
		newGroupsListCommand(),
		newGroupsDescribeCommand(),
		newGroupsDeleteCommand(),
		newGroupsDeleteOffsetsCommand(),
		newGroupsResetOffsetsCommand(),
	)
	return cmd
}

// groupSelection is --group (repeatable, comma lists) or --all-groups.
type groupSelection struct {
	groups []string
	all    bool
}

func addGroupSelection(fs *pflag.FlagSet, what string) *groupSelection {
	g := &groupSelection{}
	listVar(fs, &g.groups, "group", "consumer group to "+what+"; repeat or separate with commas for more")
	fs.BoolVar(&g.all, "all-groups", false, what+" every consumer group")
	return g
}

// check is kafka-consumer-groups.sh's rule: exactly one of --group and
// --all-groups.
func (g *groupSelection) check(action string) error {
	switch {
	case g.all && len(g.groups) > 0:
		return usageErrorf("give either --group or --all-groups, not both")
	case !g.all && len(g.groups) == 0:
		return usageErrorf("--group is required: name the consumer group to %s (repeat --group for more), or give --all-groups", action)
	}
	return nil
}

// resolve returns the selected groups, listing them for --all-groups.
func (g *groupSelection) resolve(ctx context.Context, conn *connFlags, adm *adminClient) ([]string, error) {
	if !g.all {
		seen := map[string]bool{}
		var out []string
		for _, name := range g.groups {
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
		return out, nil
	}
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		return nil, conn.fail("list groups", err)
	}
	return consumerGroups(listed).Groups(), nil
}

// consumerGroups keeps the consumer groups, as kafka-consumer-groups.sh
// lists only those: a Connect worker group (protocol type "connect") is
// not one.
func consumerGroups(listed kadm.ListedGroups) kadm.ListedGroups {
	out := kadm.ListedGroups{}
	for name, g := range listed {
		if g.ProtocolType == "consumer" || g.ProtocolType == "" {
			out[name] = g
		}
	}
	return out
}

// groupStates are the states kafka-consumer-groups.sh --list --state accepts.
var groupStates = []string{"PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Empty", "Assigning", "Reconciling"}

func parseGroupStates(s string) ([]string, error) {
	var out []string
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		found := ""
		for _, st := range groupStates {
			if strings.EqualFold(st, item) {
				found = st
			}
		}
		if found == "" {
			return nil, usageErrorf("invalid --state list %q: valid states are %s", s, strings.Join(groupStates, ", "))
		}
		out = append(out, found)
	}
	return out, nil
}

func newGroupsListCommand() *cobra.Command {
	var states, types string
	cmd := &cobra.Command{
		Use:   "list [--state [STATE,...]] [--type [TYPE,...]]",
		Short: "List consumer group names (with --state or --type: a table)",
		Example: `  tributary groups list --bootstrap-server 127.0.0.1:9092
  tributary groups list --bootstrap-server 127.0.0.1:9092 --state
  tributary groups --bootstrap-server 127.0.0.1:9092 --list --state stable,empty`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	fs := cmd.Flags()
	fs.StringVar(&states, "state", "", "show each group's state; with a value, only groups in these states ("+strings.Join(groupStates, ", ")+")")
	fs.Lookup("state").NoOptDefVal = " "
	fs.StringVar(&types, "type", "", "show each group's type; with a value, only groups of these types (classic, consumer)")
	fs.Lookup("type").NoOptDefVal = " "
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		withState, withType := fs.Changed("state"), fs.Changed("type")
		var filterStates, filterTypes []string
		if v := strings.TrimSpace(states); v != "" {
			var err error
			if filterStates, err = parseGroupStates(v); err != nil {
				return err
			}
		}
		if v := strings.TrimSpace(types); v != "" {
			for _, t := range strings.Split(v, ",") {
				t = strings.ToLower(strings.TrimSpace(t))
				if t != "classic" && t != "consumer" {
					return usageErrorf("invalid --type list %q: valid types are classic, consumer", types)
				}
				filterTypes = append(filterTypes, t)
			}
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		var groups kadm.ListedGroups
		if filterTypes != nil {
			groups, err = adm.ListGroupsByType(ctx, filterTypes, filterStates...)
		} else {
			groups, err = adm.ListGroups(ctx, filterStates...)
		}
		if err != nil {
			return conn.fail("list groups", err)
		}
		groups = consumerGroups(groups)
		type listed struct {
			Group        string `json:"group"`
			State        string `json:"state"`
			ProtocolType string `json:"protocol_type"`
			Coordinator  int32  `json:"coordinator"`
		}
		list := make([]listed, 0, len(groups))
		for _, g := range groups.Sorted() {
			list = append(list, listed{g.Group, g.State, g.ProtocolType, g.Coordinator})
		}
		out := cmd.OutOrStdout()
		switch {
		case *output == outputJSON:
			return writeJSON(out, list)
		case *output == outputTable:
			rows := make([][]string, 0, len(list))
			for _, g := range list {
				rows = append(rows, []string{g.Group, g.State, g.ProtocolType})
			}
			return writeTable(out, []string{"GROUP", "STATE", "PROTOCOL-TYPE"}, rows)
		case withState || withType:
			header := []string{"GROUP"}
			if withType {
				header = append(header, "TYPE")
			}
			if withState {
				header = append(header, "STATE")
			}
			rows := make([][]string, 0, len(list))
			for _, g := range list {
				row := []string{g.Group}
				if withType {
					row = append(row, groupType(g.ProtocolType))
				}
				if withState {
					row = append(row, g.State)
				}
				rows = append(rows, row)
			}
			return writeTable(out, header, rows)
		}
		for _, g := range list {
			fmt.Fprintln(out, g.Group)
		}
		return nil
	}
	return cmd
}

// groupType names a group's type as kafka-consumer-groups.sh --type does.
func groupType(protocolType string) string {
	if protocolType == "consumer" || protocolType == "" {
		return "Classic"
	}
	return protocolType
}

func newGroupsDeleteCommand() *cobra.Command {
	var topics []string
	cmd := &cobra.Command{
		Use:   "delete (--group G[,G...] | --all-groups)",
		Short: "Delete empty consumer groups and their committed offsets",
		Example: `  tributary groups delete --bootstrap-server 127.0.0.1:9092 --group billing
  tributary groups --bootstrap-server 127.0.0.1:9092 --delete --group g1 --group g2`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	sel := addGroupSelection(cmd.Flags(), "delete")
	listVar(cmd.Flags(), &topics, "topic", "not accepted: deleting a topic's offsets is groups delete-offsets")
	cmd.Flags().Lookup("topic").Hidden = true
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if len(topics) > 0 {
			return usageErrorf("--delete does not take --topic: the consumer does not support topic-specific offset deletion from a consumer group; use groups delete-offsets --group G --topic T")
		}
		if err := sel.check("delete"); err != nil {
			return err
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		groups, err := sel.resolve(ctx, conn, adm)
		if err != nil {
			return err
		}
		if len(groups) == 0 {
			return writeResult(cmd.OutOrStdout(), *output, map[string]any{"deleted": []string{}, "failed": map[string]string{}}, "There are no consumer groups to delete.\n")
		}
		resps, err := adm.DeleteGroups(ctx, groups...)
		if err != nil && len(resps) == 0 {
			return conn.fail("delete "+groupsLabel(groups), err)
		}
		var deleted []string
		failed := map[string]string{}
		for _, g := range groups {
			r, ok := resps[g]
			switch {
			case !ok:
				failed[g] = "the coordinator did not answer for it"
			case r.Err != nil:
				failed[g] = groupErrorText(r.Err, r.ErrMessage)
			default:
				deleted = append(deleted, g)
			}
		}
		quoted := func(gs []string) string {
			q := make([]string, len(gs))
			for i, g := range gs {
				q[i] = "'" + g + "'"
			}
			return strings.Join(q, ", ")
		}
		var text string
		switch {
		case len(failed) == 0:
			text = fmt.Sprintf("Deletion of requested consumer groups (%s) was successful.\n", quoted(deleted))
		case len(deleted) > 0:
			text = fmt.Sprintf("These consumer groups were deleted successfully: %s\n", quoted(deleted))
		}
		if deleted == nil {
			deleted = []string{}
		}
		if err := writeResult(cmd.OutOrStdout(), *output, map[string]any{"deleted": deleted, "failed": failed}, text); err != nil {
			return err
		}
		if len(failed) == 0 {
			return nil
		}
		lines := []string{"Deletion of some consumer groups failed:"}
		for _, g := range sortedKeys(failed) {
			lines = append(lines, fmt.Sprintf("* Group '%s' could not be deleted due to: %s", g, failed[g]))
		}
		return errors.New(strings.Join(lines, "\n"))
	}
	return cmd
}

// groupsLabel names groups in messages.
func groupsLabel(groups []string) string {
	quoted := make([]string, len(groups))
	for i, g := range groups {
		quoted[i] = fmt.Sprintf("%q", g)
	}
	return plural(len(groups), "group ", "groups ") + strings.Join(quoted, ", ")
}

// groupErrorText words a group's Kafka error for the user.
func groupErrorText(err error, message string) string {
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		return "it does not exist (GROUP_ID_NOT_FOUND)"
	case errors.Is(err, kerr.NonEmptyGroup):
		return "it has active members (NON_EMPTY_GROUP): stop its consumers first"
	}
	return kafkaError(err, message).Error()
}

func newGroupsDeleteOffsetsCommand() *cobra.Command {
	var (
		group      string
		topicSpecs []string
	)
	cmd := &cobra.Command{
		Use:     "delete-offsets --group G --topic T[:P,...] ...",
		Short:   "Delete a group's committed offsets for some topics or partitions",
		Example: `  tributary groups delete-offsets --bootstrap-server 127.0.0.1:9092 --group billing --topic orders --topic audit:0,1`,
		Args:    noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	cmd.Flags().StringVar(&group, "group", "", "consumer group (required)")
	cmd.Flags().Var(&listFlag{p: &topicSpecs, name: "topic", split: splitTopicPartitionList}, "topic", "topic, optionally with partitions: T or T:0,1; may be repeated (required)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if group == "" || len(topicSpecs) == 0 {
			return usageErrorf("--delete-offsets takes the following options: --group G and --topic T (may be repeated)")
		}
		specs, err := parseTopicSpecs(topicSpecs)
		if err != nil {
			return err
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()
		set, err := topicSpecPartitions(ctx, conn, adm, specs)
		if err != nil {
			return err
		}
		resps, err := adm.DeleteOffsets(ctx, group, set)
		if err != nil {
			var ke *kerr.Error
			if errors.As(err, &ke) {
				return fmt.Errorf("delete offsets of group %q: %s", group, groupErrorText(err, ""))
			}
			return conn.fail(fmt.Sprintf("delete offsets of group %q", group), err)
		}
		type row struct {
			Topic     string `json:"topic"`
			Partition int32  `json:"partition"`
			Error     string `json:"error,omitempty"`
		}
		var rows []row
		var failed int
		for _, tp := range set.Sorted() {
			for _, p := range tp.Partitions {
				r := row{Topic: tp.Topic, Partition: p}
				if perr := resps[tp.Topic][p]; perr != nil {
					r.Error = kafkaError(perr, "").Error()
					failed++
				}
				rows = append(rows, r)
			}
		}
		if *output == outputJSON {
			if err := writeJSON(cmd.OutOrStdout(), rows); err != nil {
				return err
			}
		} else {
			cells := make([][]string, 0, len(rows))
			for _, r := range rows {
				status := "Successful"
				if r.Error != "" {
					status = "Error: " + r.Error
				}
				cells = append(cells, []string{r.Topic, strconv.Itoa(int(r.Partition)), status})
			}
			if err := writeTable(cmd.OutOrStdout(), []string{"TOPIC", "PARTITION", "STATUS"}, cells); err != nil {
				return err
			}
		}
		if failed > 0 {
			return fmt.Errorf("deleting offsets of group %q failed for %s", group, countOf(failed, "partition", "partitions"))
		}
		return nil
	}
	return cmd
}

// topicPartitions is one --topic argument of reset-offsets or
// delete-offsets: a topic and optionally some of its partitions (nil: all).
type topicPartitions struct {
	topic      string
	partitions []int32
}

// splitTopicPartitionList splits a --topic list where the last topic may
// carry its partitions as Kafka writes them (topic:0,1,2): "a,b:0,1" is a
// (every partition) and b (0 and 1). Everything after the colon is that
// topic's partition list, as in kafka-consumer-groups.sh.
func splitTopicPartitionList(s string) ([]string, error) {
	var items []string
	for _, piece := range strings.Split(s, ",") {
		piece = strings.TrimSpace(piece)
		if piece == "" {
			return nil, errors.New("empty entry in the list (write TOPIC[,TOPIC...] or TOPIC:PARTITION[,PARTITION...])")
		}
		if n := len(items); n > 0 && strings.Contains(items[n-1], ":") {
			items[n-1] += "," + piece
			continue
		}
		items = append(items, piece)
	}
	return items, nil
}

// parseTopicPartitions reads --topic T or --topic T:0,1,2.
func parseTopicPartitions(s string) (topicPartitions, error) {
	topic, parts, hasParts := strings.Cut(s, ":")
	topic = strings.TrimSpace(topic)
	if topic == "" {
		return topicPartitions{}, usageErrorf("--topic must be TOPIC or TOPIC:PARTITION[,PARTITION...], got %q", s)
	}
	tp := topicPartitions{topic: topic}
	if !hasParts {
		return tp, nil
	}
	for _, p := range strings.Split(parts, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
		if err != nil || n < 0 {
			return topicPartitions{}, usageErrorf("--topic %q: partitions must be comma-separated non-negative integers, got %q", s, p)
		}
		tp.partitions = append(tp.partitions, int32(n))
	}
	return tp, nil
}

func parseTopicSpecs(args []string) ([]topicPartitions, error) {
	specs := make([]topicPartitions, 0, len(args))
	for _, s := range args {
		tp, err := parseTopicPartitions(s)
		if err != nil {
			return nil, err
		}
		specs = append(specs, tp)
	}
	return specs, nil
}

// topicSpecPartitions resolves --topic specs to partitions, checking that
// every topic and partition exists.
func topicSpecPartitions(ctx context.Context, conn *connFlags, adm *adminClient, specs []topicPartitions) (kadm.TopicsSet, error) {
	names := make([]string, 0, len(specs))
	for _, s := range specs {
		names = append(names, s.topic)
	}
	details, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return nil, conn.fail("look up topics", err)
	}
	set := make(kadm.TopicsSet)
	for _, s := range specs {
		if !details.Has(s.topic) {
			return nil, fmt.Errorf("topic %q does not exist", s.topic)
		}
		td := details[s.topic]
		if td.Err != nil {
			return nil, fmt.Errorf("look up topic %q: %w", s.topic, td.Err)
		}
		if s.partitions == nil {
			set.Add(s.topic, td.Partitions.Numbers()...)
			continue
		}
		for _, p := range s.partitions {
			if _, ok := td.Partitions[p]; !ok {
				return nil, fmt.Errorf("topic %q has %s: partition %d does not exist", s.topic, countOf(len(td.Partitions), "partition", "partitions"), p)
			}
		}
		set.Add(s.topic, s.partitions...)
	}
	return set, nil
}

func ptr[T any](v T) *T { return &v }

func optInt(p *int64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatInt(*p, 10)
}

func sortedGroups(gs []string) []string {
	out := append([]string(nil), gs...)
	sort.Strings(out)
	return out
}
