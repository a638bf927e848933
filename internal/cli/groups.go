package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// groups: the kafka-consumer-groups.sh analogue, with its actions as
// subcommands (list, describe, delete, reset-offsets) instead of --list,
// --describe, ... flags.

func newGroupsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "groups",
		Short: "List, describe, delete consumer groups and reset their offsets (like kafka-consumer-groups.sh)",
	}
	makeGroupCommand(cmd)
	cmd.AddCommand(
		newGroupsListCommand(),
		newGroupsDescribeCommand(),
		newGroupsDeleteCommand(),
		newGroupsResetOffsetsCommand(),
	)
	return cmd
}

func newGroupsListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List consumer groups with their state",
		Args:  noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		groups, err := adm.ListGroups(ctx)
		if err != nil {
			return conn.explain(fmt.Errorf("list groups: %w", err))
		}
		type listed struct {
			Group        string `json:"group"`
			State        string `json:"state"`
			ProtocolType string `json:"protocol_type"`
			Coordinator  int32  `json:"coordinator"`
		}
		list := make([]listed, 0, len(groups))
		rows := make([][]string, 0, len(groups))
		for _, g := range groups.Sorted() {
			list = append(list, listed{g.Group, g.State, g.ProtocolType, g.Coordinator})
			rows = append(rows, []string{g.Group, g.State, g.ProtocolType})
		}
		if *output == outputJSON {
			return writeJSON(cmd.OutOrStdout(), list)
		}
		return writeTable(cmd.OutOrStdout(), []string{"GROUP", "STATE", "PROTOCOL-TYPE"}, rows)
	}
	return cmd
}

// groupPartition is one row of `groups describe`. CurrentOffset, LogEndOffset
// and Lag are nil when unknown (no commit, or the offset lookup failed).
type groupPartition struct {
	Topic         string `json:"topic"`
	Partition     int32  `json:"partition"`
	CurrentOffset *int64 `json:"current_offset"`
	LogEndOffset  *int64 `json:"log_end_offset"`
	Lag           *int64 `json:"lag"`
	ConsumerID    string `json:"consumer_id"`
	Host          string `json:"host"`
	ClientID      string `json:"client_id"`
	Error         string `json:"error,omitempty"`
}

type groupDescription struct {
	Group        string           `json:"group"`
	State        string           `json:"state"`
	ProtocolType string           `json:"protocol_type"`
	Protocol     string           `json:"protocol"`
	Coordinator  int32            `json:"coordinator"`
	Members      int              `json:"members"`
	Partitions   []groupPartition `json:"partitions"`
}

func newGroupsDescribeCommand() *cobra.Command {
	var group string
	cmd := &cobra.Command{
		Use:   "describe --group G",
		Short: "Show a group's committed offsets, lag and members per partition",
		Args:  noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	cmd.Flags().StringVar(&group, "group", "", "consumer group to describe (required)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := requireFlag(group, "group", "name the consumer group to describe"); err != nil {
			return err
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		lags, err := adm.Lag(ctx, group)
		if err != nil {
			return conn.explain(fmt.Errorf("describe group %q: %w", group, err))
		}
		gl, ok := lags[group]
		if !ok {
			return fmt.Errorf("describe group %q: broker did not answer for it", group)
		}
		if errors.Is(gl.DescribeErr, kerr.GroupIDNotFound) || (gl.Error() == nil && gl.State == "Dead" && len(gl.Lag) == 0) {
			return fmt.Errorf("consumer group %q does not exist", group)
		}
		if gl.DescribeErr != nil {
			return fmt.Errorf("describe group %q: %w", group, gl.DescribeErr)
		}
		if gl.FetchErr != nil {
			return fmt.Errorf("fetch committed offsets of group %q: %w", group, gl.FetchErr)
		}
		d := describeGroupLag(gl)
		if *output == outputJSON {
			return writeJSON(cmd.OutOrStdout(), d)
		}
		if d.Members == 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "Consumer group '%s' has no active members.\n", group)
		}
		for _, p := range d.Partitions {
			if p.Error != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s partition %d: %s\n", p.Topic, p.Partition, p.Error)
			}
		}
		return writeGroupDescription(cmd.OutOrStdout(), d)
	}
	return cmd
}

func describeGroupLag(gl kadm.DescribedGroupLag) groupDescription {
	d := groupDescription{
		Group:        gl.Group,
		State:        gl.State,
		ProtocolType: gl.ProtocolType,
		Protocol:     gl.Protocol,
		Coordinator:  gl.Coordinator.NodeID,
		Members:      len(gl.Members),
		Partitions:   []groupPartition{},
	}
	withPartitions := map[string]bool{}
	for _, l := range gl.Lag.Sorted() {
		p := groupPartition{Topic: l.Topic, Partition: l.Partition}
		if l.Commit.At >= 0 {
			p.CurrentOffset = ptr(l.Commit.At)
		}
		if l.End.Err == nil {
			p.LogEndOffset = ptr(l.End.Offset)
		}
		if l.Lag >= 0 && l.Err == nil {
			p.Lag = ptr(l.Lag)
		}
		if l.Member != nil {
			p.ConsumerID, p.Host, p.ClientID = l.Member.MemberID, l.Member.ClientHost, l.Member.ClientID
			withPartitions[l.Member.MemberID] = true
		}
		if l.Err != nil {
			p.Error = l.Err.Error()
		}
		d.Partitions = append(d.Partitions, p)
	}
	// Members without partitions are listed too, as kafka-consumer-groups.sh
	// does, so that an idle member is visible.
	for _, m := range gl.Members {
		if !withPartitions[m.MemberID] {
			d.Partitions = append(d.Partitions, groupPartition{Partition: -1, ConsumerID: m.MemberID, Host: m.ClientHost, ClientID: m.ClientID})
		}
	}
	return d
}

func ptr[T any](v T) *T { return &v }

func optInt(p *int64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatInt(*p, 10)
}

func writeGroupDescription(w io.Writer, d groupDescription) error {
	rows := make([][]string, 0, len(d.Partitions))
	for _, p := range d.Partitions {
		part := strconv.Itoa(int(p.Partition))
		if p.Partition < 0 {
			part = "-"
		}
		rows = append(rows, []string{
			d.Group, p.Topic, part, optInt(p.CurrentOffset), optInt(p.LogEndOffset), optInt(p.Lag),
			p.ConsumerID, p.Host, p.ClientID,
		})
	}
	return writeTable(w, []string{"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"}, rows)
}

func newGroupsDeleteCommand() *cobra.Command {
	var group string
	cmd := &cobra.Command{
		Use:   "delete --group G",
		Short: "Delete an empty consumer group and its committed offsets",
		Args:  noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	cmd.Flags().StringVar(&group, "group", "", "consumer group to delete (required)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := requireFlag(group, "group", "name the consumer group to delete"); err != nil {
			return err
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		resp, err := adm.DeleteGroup(ctx, group)
		if err == nil {
			err = kafkaError(resp.Err, resp.ErrMessage)
		}
		if err != nil {
			return conn.explain(fmt.Errorf("delete group %q: %w", group, err))
		}
		return writeResult(cmd.OutOrStdout(), *output, map[string]any{"group": group, "deleted": true},
			fmt.Sprintf("Deletion of requested consumer groups ('%s') was successful.\n", group))
	}
	return cmd
}

// resetScenario is where reset-offsets moves a group: exactly one of the
// --to-* / --shift-by / --by-duration flags.
type resetScenario struct {
	kind   string // "to-earliest", "to-latest", "to-offset", "to-datetime", "shift-by", "by-duration"
	offset int64  // to-offset, shift-by
	millis int64  // to-datetime, by-duration: the timestamp to seek to
}

var resetScenarioFlags = []string{"to-earliest", "to-latest", "to-offset", "to-datetime", "shift-by", "by-duration"}

// topicPartitions is one --topic argument: a topic and optionally some of
// its partitions (nil means all).
type topicPartitions struct {
	topic      string
	partitions []int32
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

// kafkaDateTimeLayouts are the --to-datetime forms kafka-consumer-groups.sh
// accepts. Without a zone the time is local, as there.
var kafkaDateTimeLayouts = []struct {
	layout string
	zoned  bool
}{
	{"2006-01-02T15:04:05.000Z07:00", true},
	{"2006-01-02T15:04:05Z07:00", true},
	{"2006-01-02T15:04:05.000Z0700", true},
	{"2006-01-02T15:04:05Z0700", true},
	{"2006-01-02T15:04:05.000", false},
	{"2006-01-02T15:04:05", false},
}

func parseKafkaDateTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range kafkaDateTimeLayouts {
		var t time.Time
		var err error
		if l.zoned {
			t, err = time.Parse(l.layout, s)
		} else {
			t, err = time.ParseInLocation(l.layout, s, loc)
		}
		if err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageErrorf("--to-datetime must look like 2024-01-01T00:00:00.000 (local time) or with a zone, 2024-01-01T00:00:00.000Z or 2024-01-01T00:00:00.000+02:00, got %q", s)
}

// parseISODuration reads the ISO-8601 durations kafka-consumer-groups.sh
// takes for --by-duration (Java's Duration.parse): PnDTnHnMn.nS, e.g. P1D,
// PT1H30M, P1DT12H, PT0.5S. Negative durations are refused: the reset
// would point into the future.
func parseISODuration(s string) (time.Duration, error) {
	bad := func() (time.Duration, error) {
		return 0, usageErrorf("--by-duration must be an ISO-8601 duration PnDTnHnMnS such as PT1H, P1D or P1DT12H30M, got %q", s)
	}
	rest := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(rest, "P") || len(rest) < 3 {
		return bad()
	}
	rest = rest[1:]
	datePart, timePart, hasTime := strings.Cut(rest, "T")
	if hasTime && timePart == "" {
		return bad()
	}
	var total time.Duration
	add := func(n float64, unit time.Duration) bool {
		d := n * float64(unit)
		if d > math.MaxInt64/2 || total > math.MaxInt64/2 {
			return false
		}
		total += time.Duration(d)
		return true
	}
	// read consumes "<number><unit>" pairs whose units appear in order.
	read := func(part string, units []byte, scale []time.Duration, fraction byte) bool {
		next := 0
		for part != "" {
			i := strings.IndexFunc(part, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
			if i <= 0 {
				return false
			}
			num, unit := part[:i], part[i]
			part = part[i+1:]
			j := next
			for j < len(units) && units[j] != unit {
				j++
			}
			if j == len(units) {
				return false
			}
			next = j + 1
			if strings.Contains(num, ".") && unit != fraction {
				return false
			}
			n, err := strconv.ParseFloat(num, 64)
			if err != nil || !add(n, scale[j]) {
				return false
			}
		}
		return true
	}
	if !read(datePart, []byte{'D'}, []time.Duration{24 * time.Hour}, 0) ||
		!read(timePart, []byte{'H', 'M', 'S'}, []time.Duration{time.Hour, time.Minute, time.Second}, 'S') {
		return bad()
	}
	return total, nil
}

// planReset computes the new offset of every partition for a scenario.
// start and end bound every result, as kafka-consumer-groups.sh does: an
// offset before the log start moves to the start, one past the end to the end.
func planReset(sc resetScenario, partitions []kadm.TopicPartitions, start, end, committed, byTime kadm.ListedOffsets) (kadm.Offsets, error) {
	plan := make(kadm.Offsets)
	for _, tp := range partitions {
		for _, p := range tp.Partitions {
			lo, ok1 := start.Lookup(tp.Topic, p)
			hi, ok2 := end.Lookup(tp.Topic, p)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("topic %q partition %d: broker did not list its offsets", tp.Topic, p)
			}
			if lo.Err != nil {
				return nil, fmt.Errorf("list start offset of topic %q partition %d: %w", tp.Topic, p, lo.Err)
			}
			if hi.Err != nil {
				return nil, fmt.Errorf("list end offset of topic %q partition %d: %w", tp.Topic, p, hi.Err)
			}
			var target int64
			switch sc.kind {
			case "to-earliest":
				target = lo.Offset
			case "to-latest":
				target = hi.Offset
			case "to-offset":
				target = sc.offset
			case "shift-by":
				cur, ok := committed.Lookup(tp.Topic, p)
				if !ok || cur.Offset < 0 {
					return nil, fmt.Errorf("cannot shift topic %q partition %d: the group has no committed offset there", tp.Topic, p)
				}
				target = cur.Offset + sc.offset
				if sc.offset > 0 && target < cur.Offset { // overflow
					target = hi.Offset
				}
			case "to-datetime", "by-duration":
				at, ok := byTime.Lookup(tp.Topic, p)
				if !ok {
					return nil, fmt.Errorf("topic %q partition %d: broker did not list an offset for the time", tp.Topic, p)
				}
				if at.Err != nil {
					return nil, fmt.Errorf("list offset by time of topic %q partition %d: %w", tp.Topic, p, at.Err)
				}
				target = at.Offset
				if target < 0 { // no record at or after the time
					target = hi.Offset
				}
			default:
				return nil, fmt.Errorf("unknown reset scenario %q", sc.kind)
			}
			target = max(lo.Offset, min(target, hi.Offset))
			plan.Add(kadm.Offset{Topic: tp.Topic, Partition: p, At: target, LeaderEpoch: -1})
		}
	}
	return plan, nil
}

func newGroupsResetOffsetsCommand() *cobra.Command {
	var (
		group      string
		topicSpecs []string
		allTopics  bool
		toEarliest bool
		toLatest   bool
		toOffset   int64
		toDatetime string
		shiftBy    int64
		byDuration string
		dryRun     bool
		execute    bool
	)
	cmd := &cobra.Command{
		Use:   "reset-offsets --group G (--topic T[:P,...] ... | --all-topics) SCENARIO [--dry-run | --execute]",
		Short: "Move an inactive group's committed offsets",
		Long: `Move an inactive group's committed offsets. Prints the planned offsets and
changes nothing unless --execute is given.

SCENARIO is exactly one of:
  --to-earliest            the start of each partition
  --to-latest              the end of each partition
  --to-offset N            offset N (bounded by the start and end)
  --to-datetime DATETIME   the first record at or after a time:
                           2024-01-01T00:00:00.000 (local) or with Z / +02:00
  --shift-by N             the committed offset plus N (negative N moves back)
  --by-duration DURATION   the first record within an ISO-8601 duration
                           before now, e.g. PT1H, P1DT12H

A group with active members is refused: stop its consumers first.`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	fs := cmd.Flags()
	fs.StringVar(&group, "group", "", "consumer group to reset (required)")
	fs.StringArrayVar(&topicSpecs, "topic", nil, "topic to reset, optionally with partitions: T or T:0,1; may be repeated")
	fs.BoolVar(&allTopics, "all-topics", false, "reset every topic the group has committed offsets for")
	fs.BoolVar(&toEarliest, "to-earliest", false, "reset to the earliest offset")
	fs.BoolVar(&toLatest, "to-latest", false, "reset to the latest offset")
	nonNegativeIntVar(fs, &toOffset, "to-offset", 0, "reset to this offset")
	fs.StringVar(&toDatetime, "to-datetime", "", "reset to the first offset at or after this time")
	fs.Var(&intFlag[int64]{p: &shiftBy, name: "shift-by", min: math.MinInt64, what: "an integer"}, "shift-by", "move the committed offset by this many (may be negative)")
	fs.StringVar(&byDuration, "by-duration", "", "reset to the first offset within this ISO-8601 duration before now")
	fs.BoolVar(&dryRun, "dry-run", false, "only print the planned offsets (the default)")
	fs.BoolVar(&execute, "execute", false, "commit the new offsets")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := requireFlag(group, "group", "name the consumer group to reset"); err != nil {
			return err
		}
		if dryRun && execute {
			return usageErrorf("give either --dry-run or --execute, not both")
		}
		switch {
		case allTopics && len(topicSpecs) > 0:
			return usageErrorf("give either --topic or --all-topics, not both")
		case !allTopics && len(topicSpecs) == 0:
			return usageErrorf("name what to reset: --topic T[:P,...] (may be repeated) or --all-topics")
		}
		specs := make([]topicPartitions, 0, len(topicSpecs))
		for _, s := range topicSpecs {
			tp, err := parseTopicPartitions(s)
			if err != nil {
				return err
			}
			specs = append(specs, tp)
		}
		var chosen []string
		for _, name := range resetScenarioFlags {
			if cmd.Flags().Changed(name) {
				chosen = append(chosen, "--"+name)
			}
		}
		if len(chosen) != 1 {
			msg := "give exactly one of --" + strings.Join(resetScenarioFlags, ", --")
			if len(chosen) > 1 {
				msg += ", got " + strings.Join(chosen, " and ")
			}
			return usageErrorf("%s", msg)
		}
		sc := resetScenario{kind: strings.TrimPrefix(chosen[0], "--")}
		switch sc.kind {
		case "to-earliest", "to-latest":
			if (sc.kind == "to-earliest" && !toEarliest) || (sc.kind == "to-latest" && !toLatest) {
				return usageErrorf("--%s=false chooses no scenario: give one of --%s", sc.kind, strings.Join(resetScenarioFlags, ", --"))
			}
		case "to-offset":
			sc.offset = toOffset
		case "shift-by":
			sc.offset = shiftBy
		case "to-datetime":
			t, err := parseKafkaDateTime(toDatetime, time.Local)
			if err != nil {
				return err
			}
			sc.millis = t.UnixMilli()
		case "by-duration":
			d, err := parseISODuration(byDuration)
			if err != nil {
				return err
			}
			sc.millis = time.Now().Add(-d).UnixMilli()
		}

		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		plan, err := resetPlan(ctx, adm, group, specs, sc)
		if err != nil {
			return conn.explain(err)
		}
		if execute {
			resps, err := adm.CommitOffsets(ctx, group, plan)
			if err == nil {
				err = resps.Error()
			}
			if err != nil {
				return conn.explain(fmt.Errorf("commit new offsets for group %q: %w", group, err))
			}
		}
		sorted := plan.Sorted()
		if *output == outputJSON {
			type planned struct {
				Topic     string `json:"topic"`
				Partition int32  `json:"partition"`
				NewOffset int64  `json:"new_offset"`
			}
			list := make([]planned, 0, len(sorted))
			for _, o := range sorted {
				list = append(list, planned{o.Topic, o.Partition, o.At})
			}
			return writeJSON(cmd.OutOrStdout(), map[string]any{"group": group, "executed": execute, "offsets": list})
		}
		rows := make([][]string, 0, len(sorted))
		for _, o := range sorted {
			rows = append(rows, []string{group, o.Topic, strconv.Itoa(int(o.Partition)), strconv.FormatInt(o.At, 10)})
		}
		if err := writeTable(cmd.OutOrStdout(), []string{"GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"}, rows); err != nil {
			return err
		}
		if !execute {
			fmt.Fprintln(cmd.ErrOrStderr(), "Dry run: no offsets were changed. Add --execute to commit them.")
		}
		return nil
	}
	return cmd
}

// resetPlan checks that the group is inactive, resolves the partitions to
// reset and computes their new offsets.
func resetPlan(ctx context.Context, adm *adminClient, group string, specs []topicPartitions, sc resetScenario) (kadm.Offsets, error) {
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("describe group %q: %w", group, err)
	}
	if dg, ok := described[group]; ok {
		if dg.Err != nil && !errors.Is(dg.Err, kerr.GroupIDNotFound) {
			return nil, fmt.Errorf("describe group %q: %w", group, kafkaError(dg.Err, dg.ErrMessage))
		}
		// Kafka's wording, so scripts and people searching for it find it.
		if dg.Err == nil && dg.State != "Empty" && dg.State != "Dead" {
			return nil, fmt.Errorf("Assignments can only be reset if the group '%s' is inactive, but the current state is %s.", group, dg.State)
		}
	}

	fetched, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = fetched.Error()
	}
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return nil, fmt.Errorf("fetch committed offsets of group %q: %w", group, err)
	}
	committed := make(kadm.ListedOffsets)
	fetched.Each(func(o kadm.OffsetResponse) {
		if committed[o.Topic] == nil {
			committed[o.Topic] = map[int32]kadm.ListedOffset{}
		}
		committed[o.Topic][o.Partition] = kadm.ListedOffset{Topic: o.Topic, Partition: o.Partition, Offset: o.At}
	})

	var set kadm.TopicsSet
	if len(specs) == 0 { // --all-topics
		set = fetched.Partitions()
		if len(set) == 0 {
			return nil, fmt.Errorf("group %q has no committed offsets, so --all-topics names nothing: name topics with --topic", group)
		}
	} else {
		set = make(kadm.TopicsSet)
		names := make([]string, 0, len(specs))
		for _, s := range specs {
			names = append(names, s.topic)
		}
		details, err := adm.ListTopics(ctx, names...)
		if err != nil {
			return nil, fmt.Errorf("look up topics: %w", err)
		}
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
					return nil, fmt.Errorf("topic %q has %d partitions: partition %d does not exist", s.topic, len(td.Partitions), p)
				}
			}
			set.Add(s.topic, s.partitions...)
		}
	}

	topics := set.Topics()
	start, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list start offsets: %w", err)
	}
	end, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	var byTime kadm.ListedOffsets
	if sc.kind == "to-datetime" || sc.kind == "by-duration" {
		if byTime, err = adm.ListOffsetsAfterMilli(ctx, sc.millis, topics...); err != nil {
			return nil, fmt.Errorf("list offsets by time: %w", err)
		}
	}
	return planReset(sc, set.Sorted(), start, end, committed, byTime)
}
