package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// `groups reset-offsets`: kafka-consumer-groups.sh --reset-offsets. One or
// more inactive groups (--group, repeatable, or --all-groups), a scope
// (--topic T[:P,...] repeatable, or --all-topics; --from-file brings its
// own), exactly one scenario, and --dry-run (the default) or --execute.
// --export prints the plan as the CSV --from-file reads back: without a
// group column for one group (topic,partition,offset), with one
// (group,topic,partition,offset) for several, as Kafka writes it.

// resetScenario is where reset-offsets moves a group: exactly one of the
// scenario flags.
type resetScenario struct {
	kind   string // "to-earliest", "to-latest", "to-current", "to-offset", "to-datetime", "shift-by", "by-duration", "from-file"
	offset int64  // to-offset, shift-by
	millis int64  // to-datetime, by-duration: the timestamp to seek to
	// fromFile is the requested offset per topic and partition of one group.
	fromFile map[string]map[int32]int64
}

var resetScenarioFlags = []string{"to-earliest", "to-latest", "to-current", "to-offset", "to-datetime", "shift-by", "by-duration", "from-file"}

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
				return nil, fmt.Errorf("topic %q partition %d: the broker did not list its offsets", tp.Topic, p)
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
			case "to-current":
				// The committed offset, or the end where there is none.
				target = hi.Offset
				if cur, ok := committed.Lookup(tp.Topic, p); ok && cur.Offset >= 0 {
					target = cur.Offset
				}
			case "to-offset":
				target = sc.offset
			case "from-file":
				target = sc.fromFile[tp.Topic][p]
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
					return nil, fmt.Errorf("topic %q partition %d: the broker did not list an offset for the time", tp.Topic, p)
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

// readResetPlan reads a --from-file CSV: topic,partition,offset lines for
// a single group, or group,topic,partition,offset lines.
func readResetPlan(path string, groups []string) (map[string]map[string]map[int32]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("--from-file: %v", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	plan := map[string]map[string]map[int32]int64{}
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, usageErrorf("--from-file %s: %v", path, err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		var group string
		switch len(rec) {
		case 3:
			if len(groups) != 1 {
				return nil, usageErrorf("--from-file %s:%d: a topic,partition,offset line needs exactly one --group; for several groups write group,topic,partition,offset", path, line)
			}
			group = groups[0]
		case 4:
			group, rec = strings.TrimSpace(rec[0]), rec[1:]
		default:
			return nil, usageErrorf("--from-file %s:%d: want topic,partition,offset or group,topic,partition,offset, got %s", path, line, countOf(len(rec), "field", "fields"))
		}
		topic := strings.TrimSpace(rec[0])
		p, perr := strconv.ParseInt(strings.TrimSpace(rec[1]), 10, 32)
		o, oerr := strconv.ParseInt(strings.TrimSpace(rec[2]), 10, 64)
		if topic == "" || perr != nil || p < 0 || oerr != nil || o < 0 {
			return nil, usageErrorf("--from-file %s:%d: want a topic, a partition number and an offset, got %q", path, line, strings.Join(rec, ","))
		}
		if plan[group] == nil {
			plan[group] = map[string]map[int32]int64{}
		}
		if plan[group][topic] == nil {
			plan[group][topic] = map[int32]int64{}
		}
		plan[group][topic][int32(p)] = o
	}
	return plan, nil
}

func newGroupsResetOffsetsCommand() *cobra.Command {
	var (
		topicSpecs []string
		allTopics  bool
		toEarliest bool
		toLatest   bool
		toCurrent  bool
		toOffset   int64
		toDatetime string
		shiftBy    int64
		byDuration string
		fromFile   string
		dryRun     bool
		execute    bool
		export     bool
	)
	cmd := &cobra.Command{
		Use:   "reset-offsets (--group G[,G...] | --all-groups) (--topic T[:P,...] ... | --all-topics | --from-file F) SCENARIO [--dry-run | --execute] [--export]",
		Short: "Move inactive groups' committed offsets",
		Long: `Move inactive groups' committed offsets. Prints the planned offsets and
changes nothing unless --execute is given.

SCENARIO is exactly one of:
  --to-earliest            the start of each partition
  --to-latest              the end of each partition
  --to-current             the committed offset (the end where there is none)
  --to-offset N            offset N (bounded by the start and end)
  --to-datetime DATETIME   the first record at or after a time:
                           2024-01-01T00:00:00.000 (local) or with Z / +02:00
  --shift-by N             the committed offset plus N (negative N moves back)
  --by-duration DURATION   the first record within an ISO-8601 duration
                           before now, e.g. PT1H, P1DT12H
  --from-file CSV          the offsets in a file written by --export

A group with active members is refused: stop its consumers first.`,
		Example: `  tributary groups reset-offsets --bootstrap-server 127.0.0.1:9092 --group billing --topic orders --to-earliest --execute
  tributary groups reset-offsets --bootstrap-server 127.0.0.1:9092 --group billing --all-topics --shift-by -10 --export > plan.csv
  tributary groups reset-offsets --bootstrap-server 127.0.0.1:9092 --group billing --from-file plan.csv --execute`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	fs := cmd.Flags()
	sel := addGroupSelection(fs, "reset")
	fs.Var(&listFlag{p: &topicSpecs, name: "topic", split: splitTopicPartitionList}, "topic", "topic to reset, optionally with partitions: T or T:0,1; repeat or separate with commas for more")
	fs.BoolVar(&allTopics, "all-topics", false, "reset every topic the group has committed offsets for")
	fs.BoolVar(&toEarliest, "to-earliest", false, "reset to the earliest offset")
	fs.BoolVar(&toLatest, "to-latest", false, "reset to the latest offset")
	fs.BoolVar(&toCurrent, "to-current", false, "reset to the current committed offset")
	nonNegativeIntVar(fs, &toOffset, "to-offset", 0, "reset to this offset")
	fs.StringVar(&toDatetime, "to-datetime", "", "reset to the first offset at or after this time")
	fs.Var(&intFlag[int64]{p: &shiftBy, name: "shift-by", min: math.MinInt64, what: "an integer"}, "shift-by", "move the committed offset by this many (may be negative)")
	fs.StringVar(&byDuration, "by-duration", "", "reset to the first offset within this ISO-8601 duration before now")
	fs.StringVar(&fromFile, "from-file", "", "reset to the offsets in this CSV file (as written by --export)")
	fs.BoolVar(&dryRun, "dry-run", false, "only print the planned offsets (the default)")
	fs.BoolVar(&execute, "execute", false, "commit the new offsets")
	fs.BoolVar(&export, "export", false, "print the plan as CSV (topic,partition,offset; with several groups group,topic,partition,offset)")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := sel.check("reset-offsets"); err != nil {
			return err
		}
		if dryRun && execute {
			return usageErrorf("give either --dry-run or --execute, not both")
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
		switch {
		case allTopics && len(topicSpecs) > 0:
			return usageErrorf("give either --topic or --all-topics, not both")
		case !allTopics && len(topicSpecs) == 0 && sc.kind != "from-file":
			return usageErrorf("one of the reset scopes should be defined: --topic T[:P,...] (may be repeated) or --all-topics")
		}
		specs, err := parseTopicSpecs(topicSpecs)
		if err != nil {
			return err
		}
		switch sc.kind {
		case "to-earliest", "to-latest", "to-current":
			if !toEarliest && !toLatest && !toCurrent {
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
		var filePlan map[string]map[string]map[int32]int64
		if sc.kind == "from-file" {
			if filePlan, err = readResetPlan(fromFile, sel.groups); err != nil {
				return err
			}
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
		type planned struct {
			Group     string `json:"group"`
			Topic     string `json:"topic"`
			Partition int32  `json:"partition"`
			NewOffset int64  `json:"new_offset"`
		}
		var (
			list []planned
			errs []error
		)
		for _, group := range sortedGroups(groups) {
			gsc := sc
			if sc.kind == "from-file" {
				gsc.fromFile = filePlan[group]
				if gsc.fromFile == nil {
					errs = append(errs, fmt.Errorf("no reset plan for group %q in %s", group, fromFile))
					continue
				}
			}
			plan, err := resetPlan(ctx, conn, adm, group, specs, gsc)
			if err == nil && execute {
				resps, cerr := adm.CommitOffsets(ctx, group, plan)
				if cerr == nil {
					cerr = resps.Error()
				}
				if cerr != nil {
					err = conn.fail(fmt.Sprintf("commit new offsets for group %q", group), cerr)
				}
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, o := range plan.Sorted() {
				list = append(list, planned{group, o.Topic, o.Partition, o.At})
			}
		}

		out := cmd.OutOrStdout()
		switch {
		case export:
			w := csv.NewWriter(out)
			for _, p := range list {
				rec := []string{p.Topic, strconv.Itoa(int(p.Partition)), strconv.FormatInt(p.NewOffset, 10)}
				if len(groups) > 1 {
					rec = append([]string{p.Group}, rec...)
				}
				w.Write(rec)
			}
			w.Flush()
			if err := w.Error(); err != nil {
				return err
			}
		case *output == outputJSON:
			type offset struct {
				Topic     string `json:"topic"`
				Partition int32  `json:"partition"`
				NewOffset int64  `json:"new_offset"`
			}
			byGroup := map[string][]offset{}
			for _, p := range list {
				byGroup[p.Group] = append(byGroup[p.Group], offset{p.Topic, p.Partition, p.NewOffset})
			}
			type groupPlan struct {
				Group    string   `json:"group"`
				Executed bool     `json:"executed"`
				Offsets  []offset `json:"offsets"`
			}
			var plans []groupPlan
			for _, g := range sortedKeys(byGroup) {
				plans = append(plans, groupPlan{g, execute, byGroup[g]})
			}
			var v any = plans
			if len(groups) == 1 && !sel.all {
				gp := groupPlan{Group: groups[0], Executed: execute, Offsets: byGroup[groups[0]]}
				if gp.Offsets == nil {
					gp.Offsets = []offset{}
				}
				v = gp
			} else if plans == nil {
				v = []groupPlan{}
			}
			if err := writeJSON(out, v); err != nil {
				return err
			}
		default:
			rows := make([][]string, 0, len(list))
			for _, p := range list {
				rows = append(rows, []string{p.Group, p.Topic, strconv.Itoa(int(p.Partition)), strconv.FormatInt(p.NewOffset, 10)})
			}
			if len(rows) > 0 {
				if err := writeTable(out, []string{"GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"}, rows); err != nil {
					return err
				}
			}
		}
		if !execute && len(list) > 0 {
			fmt.Fprintln(cmd.ErrOrStderr(), "Dry run: no offsets were changed. Add --execute to commit them.")
		}
		return errors.Join(errs...)
	}
	return cmd
}

// resetPlan checks that the group is inactive, resolves the partitions to
// reset and computes their new offsets.
func resetPlan(ctx context.Context, conn *connFlags, adm *adminClient, group string, specs []topicPartitions, sc resetScenario) (kadm.Offsets, error) {
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return nil, conn.fail(fmt.Sprintf("describe group %q", group), err)
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
		return nil, conn.fail(fmt.Sprintf("fetch committed offsets of group %q", group), err)
	}
	committed := make(kadm.ListedOffsets)
	fetched.Each(func(o kadm.OffsetResponse) {
		if committed[o.Topic] == nil {
			committed[o.Topic] = map[int32]kadm.ListedOffset{}
		}
		committed[o.Topic][o.Partition] = kadm.ListedOffset{Topic: o.Topic, Partition: o.Partition, Offset: o.At}
	})

	var set kadm.TopicsSet
	switch {
	case sc.kind == "from-file":
		var fileSpecs []topicPartitions
		for _, topic := range sortedKeys(sc.fromFile) {
			tp := topicPartitions{topic: topic}
			for p := range sc.fromFile[topic] {
				tp.partitions = append(tp.partitions, p)
			}
			fileSpecs = append(fileSpecs, tp)
		}
		if set, err = topicSpecPartitions(ctx, conn, adm, fileSpecs); err != nil {
			return nil, err
		}
	case len(specs) == 0: // --all-topics
		set = fetched.Partitions()
		if len(set) == 0 {
			return nil, fmt.Errorf("group %q has no committed offsets, so --all-topics names nothing: name topics with --topic", group)
		}
	default:
		if set, err = topicSpecPartitions(ctx, conn, adm, specs); err != nil {
			return nil, err
		}
	}

	topics := set.Topics()
	start, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, conn.fail("list start offsets", err)
	}
	end, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, conn.fail("list end offsets", err)
	}
	var byTime kadm.ListedOffsets
	if sc.kind == "to-datetime" || sc.kind == "by-duration" {
		if byTime, err = adm.ListOffsetsAfterMilli(ctx, sc.millis, topics...); err != nil {
			return nil, conn.fail("list offsets by time", err)
		}
	}
	return planReset(sc, set.Sorted(), start, end, committed, byTime)
}
