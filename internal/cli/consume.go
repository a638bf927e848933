package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consume: the kafka-console-consumer.sh analogue, with rpk's --format
// strings and offset ranges. Without a group it reads partitions directly
// and commits nothing (Kafka's tool joins a throwaway group instead; the
// records printed are the same). With --group (or group.id in the consumer
// properties) it joins the group and commits exactly the records it
// printed before exiting, unless enable.auto.commit=false.

var consumeProperties = []propertySpec{
	{key: "print.timestamp", kind: propBool, def: "false"},
	{key: "print.partition", kind: propBool, def: "false"},
	{key: "print.offset", kind: propBool, def: "false"},
	{key: "print.headers", kind: propBool, def: "false"},
	{key: "print.key", kind: propBool, def: "false"},
	{key: "print.value", kind: propBool, def: "true"},
	{key: "key.separator", kind: propText, def: "\t"},
	{key: "line.separator", kind: propText, def: "\n"},
	{key: "headers.separator", kind: propText, def: ","},
	{key: "headers.key.separator", kind: propText, def: ":"},
	{key: "null.literal", kind: propText, def: "null"},
}

// recordFormat prints records the way Kafka's DefaultMessageFormatter does:
// [CreateTime:ts<sep>][Partition:p<sep>][Offset:o<sep>][headers<sep>][key<sep>]value<line.separator>
type recordFormat struct {
	printTimestamp, printPartition, printOffset, printHeaders, printKey, printValue bool

	keySeparator, lineSeparator, headersSeparator, headerKeySeparator, nullLiteral string
}

func newRecordFormat(props []string) (recordFormat, error) {
	p, err := parseProperties(props, consumeProperties)
	if err != nil {
		return recordFormat{}, err
	}
	return recordFormat{
		printTimestamp:     p["print.timestamp"] == "true",
		printPartition:     p["print.partition"] == "true",
		printOffset:        p["print.offset"] == "true",
		printHeaders:       p["print.headers"] == "true",
		printKey:           p["print.key"] == "true",
		printValue:         p["print.value"] == "true",
		keySeparator:       p["key.separator"],
		lineSeparator:      p["line.separator"],
		headersSeparator:   p["headers.separator"],
		headerKeySeparator: p["headers.key.separator"],
		nullLiteral:        p["null.literal"],
	}, nil
}

func (f recordFormat) write(w io.Writer, r *kgo.Record) error {
	var b strings.Builder
	// After each field comes key.separator when another field follows,
	// else line.separator, as Kafka's DefaultMessageFormatter does (so
	// print.value=false leaves no trailing separator).
	sep := func(more bool) {
		if more {
			b.WriteString(f.keySeparator)
		} else {
			b.WriteString(f.lineSeparator)
		}
	}
	if f.printTimestamp {
		switch r.Attrs.TimestampType() {
		case 0:
			fmt.Fprintf(&b, "CreateTime:%d", r.Timestamp.UnixMilli())
		case 1:
			fmt.Fprintf(&b, "LogAppendTime:%d", r.Timestamp.UnixMilli())
		default:
			b.WriteString("NO_TIMESTAMP")
		}
		sep(f.printPartition || f.printOffset || f.printHeaders || f.printKey || f.printValue)
	}
	if f.printPartition {
		fmt.Fprintf(&b, "Partition:%d", r.Partition)
		sep(f.printOffset || f.printHeaders || f.printKey || f.printValue)
	}
	if f.printOffset {
		fmt.Fprintf(&b, "Offset:%d", r.Offset)
		sep(f.printHeaders || f.printKey || f.printValue)
	}
	if f.printHeaders {
		if len(r.Headers) == 0 {
			b.WriteString("NO_HEADERS")
		}
		for i, h := range r.Headers {
			if i > 0 {
				b.WriteString(f.headersSeparator)
			}
			b.WriteString(h.Key)
			b.WriteString(f.headerKeySeparator)
			b.WriteString(f.bytes(h.Value))
		}
		sep(f.printKey || f.printValue)
	}
	if f.printKey {
		b.WriteString(f.bytes(r.Key))
		sep(f.printValue)
	}
	if f.printValue {
		b.WriteString(f.bytes(r.Value))
		b.WriteString(f.lineSeparator)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (f recordFormat) bytes(p []byte) string {
	if p == nil {
		return f.nullLiteral
	}
	return string(p)
}

// jsonRecord is one line of `consume --output json`. Keys and values are
// strings when they are valid UTF-8; otherwise they are base64 and the
// matching *_encoding field says so.
type jsonRecord struct {
	Topic         string       `json:"topic"`
	Partition     int32        `json:"partition"`
	Offset        int64        `json:"offset"`
	Timestamp     int64        `json:"timestamp"`
	Key           *string      `json:"key"`
	Value         *string      `json:"value"`
	Headers       []jsonHeader `json:"headers"`
	KeyEncoding   string       `json:"key_encoding,omitempty"`
	ValueEncoding string       `json:"value_encoding,omitempty"`
}

type jsonHeader struct {
	Key      string  `json:"key"`
	Value    *string `json:"value"`
	Encoding string  `json:"encoding,omitempty"`
}

func encodeBytes(p []byte) (*string, string) {
	if p == nil {
		return nil, ""
	}
	if utf8.Valid(p) {
		s := string(p)
		return &s, ""
	}
	s := base64.StdEncoding.EncodeToString(p)
	return &s, "base64"
}

func toJSONRecord(r *kgo.Record) jsonRecord {
	jr := jsonRecord{
		Topic:     r.Topic,
		Partition: r.Partition,
		Offset:    r.Offset,
		Timestamp: r.Timestamp.UnixMilli(),
		Headers:   []jsonHeader{},
	}
	jr.Key, jr.KeyEncoding = encodeBytes(r.Key)
	jr.Value, jr.ValueEncoding = encodeBytes(r.Value)
	for _, h := range r.Headers {
		jh := jsonHeader{Key: h.Key}
		jh.Value, jh.Encoding = encodeBytes(h.Value)
		jr.Headers = append(jr.Headers, jh)
	}
	return jr
}

// consumeOptions are the flags of one consume run.
type consumeOptions struct {
	topic, include  string
	fromBeginning   bool
	partition       int32
	offset          string
	maxMessages     int
	num             int
	timeoutMs       int
	group           string
	props           []string
	formatterProps  []string
	format          string
	isolation       string
	skipErrors      bool
	follow          bool
	maxPollRecords  int
	commit          bool
	partitionRanges map[string]map[int32]partitionRange // bounded partitions only
	startOffsets    map[string]map[int32]int64          // direct mode: where each partition starts
}

func newConsumeCommand() *cobra.Command {
	var o consumeOptions
	cmd := &cobra.Command{
		Use:   "consume (--topic T | --include REGEX) [--from-beginning | --offset OFFSET] [--group G] [--max-messages N] [--format FORMAT]",
		Short: "Print records from topics (like kafka-console-consumer.sh, with rpk's formats)",
		Long: `Print records from a topic (or every topic matching --include), one per line.
Stops after --max-messages (or --num) records, after --timeout-ms without a
record, at the end of an --offset range, or on interrupt; all exit 0.

Without --group, partitions are read directly and no offsets are committed.
With --group, the consumer joins the group and commits the records it printed.

Output: Kafka's formatter by default, driven by --property key=value (Kafka's
names; \t and \n are unescaped):
  print.timestamp, print.partition, print.offset, print.headers, print.key,
  print.value (default true), key.separator (default tab),
  line.separator (default newline), headers.separator (default ","),
  headers.key.separator (default ":"), null.literal (default "null")

--format takes rpk's format strings instead, e.g. --format '%t %p %o %k %v\n':
  %t topic  %p partition  %o offset  %k key  %v value  %d timestamp (ms)
  %h{%k=%v;} headers  %H header count  %T %K %V lengths  %e leader epoch
  %x %y producer id and epoch  %i record number  %[ %| %] partition offsets
  %% %{ %} literal; \t \n \r \\ \xNN escapes; modifiers %v{json} %v{hex}
  %v{base64} %v{base64raw}, %d{go#2006-01-02T15:04:05Z07:00#}, %d{strftime[%F %T]},
  numbers {hex} {big64}..., %a{compression} %a{timestamp-type}.

--offset takes Kafka's earliest|latest|N (with --partition) and rpk's forms
for every partition: start, end, +N, -N (the last N records), N:M (offsets N
up to M), N:, :M, :end, N:end, and times @TIME[:TIME] with TIME one of
2026-11-01T00:00:00Z, 2026-11-01, Unix milliseconds or seconds, or -1h (from
now); an end duration without @ counts from the start time.

--output json prints one object per line:
  {"topic","partition","offset","timestamp","key","value","headers":[{"key","value"}]}`,
		Example: `  tributary consume --bootstrap-server 127.0.0.1:9092 --topic orders --from-beginning --max-messages 10
  tributary consume --bootstrap-server 127.0.0.1:9092 --topic orders --offset -5 --format '%p %o %k=%v\n'
  tributary consume --bootstrap-server 127.0.0.1:9092 --include 'orders-.*' --offset @-1h:@-10m --format '%t %d{go#15:04:05#} %v{json}\n'
  tributary consume --bootstrap-server 127.0.0.1:9092 --topic orders --group billing --isolation-level read_committed`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	conn.addPropertyFile(cmd, "consumer.config", "Kafka consumer properties file (group.id, isolation.level, fetch.max.bytes, ...)")
	conn.addPropertyArgs(cmd, "consumer-property", "consumer property key=value; repeat for more (wins over --consumer.config)")
	var output string
	enumVar(cmd.Flags(), &output, "output", outputText, []string{outputText, outputJSON},
		"output format: text (Kafka's formatter, or --format) or json (one object per line)")
	fs := cmd.Flags()
	fs.StringVar(&o.topic, "topic", "", "topic to read")
	fs.StringVar(&o.include, "include", "", "regular expression of the topics to read (instead of --topic)")
	fs.BoolVar(&o.fromBeginning, "from-beginning", false, "start at the earliest record rather than the end (for a group: when it has no committed offset)")
	nonNegativeIntVar(fs, &o.partition, "partition", -1, "read only this partition")
	fs.StringVar(&o.offset, "offset", "", "where to start (and stop): earliest, latest, N, -N, N:M, @TIME[:TIME], ... (see above)")
	positiveIntVar(fs, &o.maxMessages, "max-messages", 0, "exit after this many records (default: no limit)")
	positiveIntVar(fs, &o.num, "num", 0, "rpk's name for --max-messages")
	positiveIntVar(fs, &o.timeoutMs, "timeout-ms", 0, "exit after this many milliseconds without a record (default: wait forever)")
	fs.StringVar(&o.group, "group", "", "consumer group to join; offsets of printed records are committed")
	fs.StringArrayVar(&o.props, "property", nil, "formatter property key=value; repeat for more")
	fs.StringArrayVar(&o.formatterProps, "formatter-property", nil, "Kafka 4's name for --property")
	fs.StringVar(&o.format, "format", "", "rpk-style format string for each record (see above)")
	enumVar(fs, &o.isolation, "isolation-level", "read_uncommitted", []string{"read_uncommitted", "read_committed"},
		"read_committed skips records of aborted and open transactions (default read_uncommitted, as Kafka's console consumer)")
	fs.BoolVar(&o.skipErrors, "skip-message-on-error", false, "report a partition that fails to fetch (e.g. a corrupt batch) and go on, instead of stopping")
	fs.BoolVar(&o.follow, "follow", true, "keep waiting for new records once caught up; --follow=false stops at the end, like kcat -e")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return runConsume(cmd, conn, output, o)
	}
	return cmd
}

// checkConsumeFlags applies kafka-console-consumer.sh's refusals.
func checkConsumeFlags(cmd *cobra.Command, o *consumeOptions, output string) (consumeOffset, error) {
	fs := cmd.Flags()
	var off consumeOffset
	switch {
	case o.topic == "" && o.include == "":
		return off, usageErrorf("--topic is required: name the topic to read (or give --include REGEX)")
	case o.topic != "" && o.include != "":
		return off, usageErrorf("exactly one of --topic or --include is required, not both")
	}
	if o.include != "" {
		if _, err := regexp.Compile(o.include); err != nil {
			return off, usageErrorf("--include %q is not a valid regular expression: %v", o.include, err)
		}
	}
	hasPartition := o.partition >= 0
	if hasPartition && o.topic == "" {
		return off, usageErrorf("--partition needs --topic: the topic is required when partition is specified")
	}
	if fs.Changed("max-messages") && fs.Changed("num") {
		return off, usageErrorf("give either --max-messages or --num, not both")
	}
	if o.num > 0 {
		o.maxMessages = o.num
	}
	if len(o.props) > 0 && len(o.formatterProps) > 0 {
		return off, usageErrorf("--property and --formatter-property cannot be used together")
	}
	o.props = append(o.props, o.formatterProps...)
	if o.format != "" && output == outputJSON {
		return off, usageErrorf("give either --format or --output json, not both")
	}
	if o.format != "" && len(o.props) > 0 {
		return off, usageErrorf("--format replaces Kafka's formatter: --property cannot be used with it")
	}
	if o.offset != "" {
		var err error
		if off, err = parseConsumeOffset(o.offset, time.Now()); err != nil {
			return off, err
		}
		switch {
		case o.fromBeginning:
			return off, usageErrorf("give either --from-beginning or --offset, not both")
		case off.kafkaForm && !hasPartition:
			return off, usageErrorf("--offset needs --partition: offsets are per partition (for every partition use start, end, -N or a range such as 10:20)")
		case o.group != "":
			return off, usageErrorf("--group and --offset cannot be used together: the group's committed offsets say where to start")
		case off.hasEnd() && fs.Changed("follow") && o.follow:
			return off, usageErrorf("--follow cannot be used with an --offset range that ends (%s)", o.offset)
		}
	}
	if o.group != "" && hasPartition {
		return off, usageErrorf("--group and --partition cannot be used together: the group assigns partitions")
	}
	if o.group != "" && !o.follow {
		return off, usageErrorf("--follow=false cannot be used with --group: a group member consumes what it is assigned")
	}
	return off, nil
}

func runConsume(cmd *cobra.Command, conn *connFlags, output string, o consumeOptions) error {
	off, err := checkConsumeFlags(cmd, &o, output)
	if err != nil {
		return err
	}
	if cmd.Flags().Changed("consumer.config") && cmd.Flags().Changed("command-config") {
		return usageErrorf("--consumer.config and --command-config cannot be used together")
	}
	var emitText func(w io.Writer, r *kgo.Record, p *kgo.FetchPartition) error
	switch {
	case output == outputJSON:
		emitText = func(w io.Writer, r *kgo.Record, _ *kgo.FetchPartition) error {
			line, err := json.Marshal(toJSONRecord(r))
			if err != nil {
				return err
			}
			_, err = w.Write(append(line, '\n'))
			return err
		}
	case o.format != "":
		f, err := parseRecordFormat(o.format)
		if err != nil {
			return usageErrorf("--format: %v", err)
		}
		var buf []byte
		emitText = func(w io.Writer, r *kgo.Record, p *kgo.FetchPartition) error {
			buf = f.append(buf[:0], r, p)
			_, err := w.Write(buf)
			return err
		}
	default:
		format, err := newRecordFormat(o.props)
		if err != nil {
			return err
		}
		emitText = func(w io.Writer, r *kgo.Record, _ *kgo.FetchPartition) error { return format.write(w, r) }
	}

	settings, err := conn.settings()
	if err != nil {
		return err
	}
	if _, given := settings.given["client.id"]; !given {
		settings.ClientID = "console-consumer" // Kafka's console consumer's
	}
	c := settings.Settings
	if c.GroupID != "" {
		if o.group != "" && o.group != c.GroupID {
			return usageErrorf("the group ids given in different places do not match: --group %q, group.id=%q (%s)", o.group, c.GroupID, settings.given["group.id"].from)
		}
		if o.partition >= 0 {
			return usageErrorf("group.id (%s) and --partition cannot be used together: the group assigns partitions", settings.given["group.id"].from)
		}
		if o.offset != "" {
			return usageErrorf("group.id (%s) and --offset cannot be used together", settings.given["group.id"].from)
		}
		o.group = c.GroupID
	}
	if c.AutoOffsetReset != "" && o.fromBeginning && c.AutoOffsetReset != "earliest" {
		return usageErrorf("can't simultaneously specify --from-beginning and auto.offset.reset=%s (%s): remove one", c.AutoOffsetReset, settings.given["auto.offset.reset"].from)
	}
	if !cmd.Flags().Changed("isolation-level") && c.IsolationLevel != "" {
		o.isolation = c.IsolationLevel
	}
	settings.IsolationLevel = o.isolation
	o.maxPollRecords = c.MaxPollRecords
	o.commit = o.group != "" && (c.EnableAutoCommit == nil || *c.EnableAutoCommit)

	// Where to start when there is no committed offset (groups) or for the
	// simple forms: Kafka's auto.offset.reset, latest unless --from-beginning.
	reset := kgo.NewOffset().AtEnd()
	if o.fromBeginning || c.AutoOffsetReset == "earliest" {
		reset = kgo.NewOffset().AtStart()
	}
	if c.AutoOffsetReset == "none" {
		reset = kgo.NoResetOffset()
	}

	// reset comes after ConsumerOpts' auto.offset.reset, and wins.
	opts := append(settings.CommonOpts(), settings.ConsumerOpts()...)
	opts = append(opts, kgo.ConsumeResetOffset(reset))
	// A client to look the topics up, and to list offsets when the
	// partitions are resolved here.
	lookup, err := kgo.NewClient(settings.CommonOpts()...)
	if err != nil {
		return fmt.Errorf("create consumer: %w", err)
	}
	defer lookup.Close()
	adm := kadm.NewClient(lookup)

	direct := o.partition >= 0 || (o.offset != "" && !off.kafkaForm) || !o.follow
	switch {
	case o.group != "":
		opts = append(opts, kgo.ConsumerGroup(o.group), kgo.AutoCommitMarks())
		opts = append(opts, settings.GroupOpts()...)
		if o.include != "" {
			opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(anchored(o.include)))
		} else {
			opts = append(opts, kgo.ConsumeTopics(o.topic))
		}
	case direct:
		if o.offset == "" {
			off = consumeOffset{start: offsetBound{kind: boundLogEnd}}
			if o.fromBeginning {
				off.start.kind = boundLogStart
			}
		}
		if !o.follow && !off.hasEnd() {
			off.end = offsetBound{kind: boundLogEnd}
		}
		parts, err := resolvePartitions(cmd.Context(), conn, adm, o, off)
		if err != nil {
			return err
		}
		start := map[string]map[int32]kgo.Offset{}
		o.partitionRanges = map[string]map[int32]partitionRange{}
		o.startOffsets = map[string]map[int32]int64{}
		for topic, ps := range parts {
			for p, r := range ps {
				if r.to >= 0 && r.from >= r.to {
					continue // nothing in range
				}
				if start[topic] == nil {
					start[topic] = map[int32]kgo.Offset{}
				}
				start[topic][p] = kgo.NewOffset().At(r.from)
				if o.startOffsets[topic] == nil {
					o.startOffsets[topic] = map[int32]int64{}
				}
				o.startOffsets[topic][p] = r.from
				if r.to >= 0 {
					if o.partitionRanges[topic] == nil {
						o.partitionRanges[topic] = map[int32]partitionRange{}
					}
					o.partitionRanges[topic][p] = r
				}
			}
		}
		if len(start) == 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "Processed a total of 0 messages\n")
			return nil // every partition's range is empty
		}
		// Control records (transaction markers) are kept so that a range
		// ending at a marker is seen to end; they are never printed.
		opts = append(opts, kgo.ConsumePartitions(start), kgo.KeepControlRecords())
	case o.include != "":
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(anchored(o.include)), kgo.ConsumeStartOffset(reset))
	default:
		opts = append(opts, kgo.ConsumeTopics(o.topic), kgo.ConsumeStartOffset(reset))
	}
	if o.topic != "" && !direct {
		if err := checkConsumeTarget(cmd.Context(), conn, adm, o.topic, o.partition); err != nil {
			return err
		}
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("create consumer: %w", err)
	}
	defer cl.Close()

	stdout := bufio.NewWriter(cmd.OutOrStdout())
	count, loopErr := consumeLoop(cmd.Context(), cl, o, cmd.ErrOrStderr(), func(r *kgo.Record, p *kgo.FetchPartition) error {
		return emitText(stdout, r, p)
	}, stdout.Flush)
	if err := stdout.Flush(); err != nil && loopErr == nil {
		loopErr = err
	}

	if o.group != "" {
		if o.commit {
			// The command's context may be cancelled by now (interrupt): the
			// final commit gets its own deadline so printed records are not
			// read again by the next member.
			ctx, cancel := conn.withTimeout(context.WithoutCancel(cmd.Context()))
			defer cancel()
			if err := cl.CommitMarkedOffsets(ctx); err != nil && loopErr == nil {
				loopErr = conn.fail(fmt.Sprintf("commit offsets for group %q", o.group), err)
			}
		}
		cl.LeaveGroup()
	}
	// Kafka's line (scripts look for "Processed a total of"), with the
	// singular where due.
	fmt.Fprintf(cmd.ErrOrStderr(), "Processed a total of %s\n", countOf(count, "message", "messages"))
	return loopErr
}

// resolvePartitions lists the partitions to read (of --topic, or of every
// topic matching --include) and where each starts and stops.
func resolvePartitions(ctx context.Context, conn *connFlags, adm *kadm.Client, o consumeOptions, off consumeOffset) (map[string]map[int32]partitionRange, error) {
	ctx, cancel := conn.withTimeout(ctx)
	defer cancel()
	var topics []string
	if o.topic != "" {
		if err := checkConsumeTarget(ctx, conn, adm, o.topic, o.partition); err != nil {
			return nil, err
		}
		topics = []string{o.topic}
	} else {
		re, err := regexp.Compile(anchored(o.include))
		if err != nil {
			return nil, usageErrorf("--include %q is not a valid regular expression: %v", o.include, err)
		}
		all, err := adm.ListTopics(ctx)
		if err != nil {
			return nil, conn.fail("list topics", err)
		}
		for _, name := range all.Names() {
			if re.MatchString(name) {
				topics = append(topics, name)
			}
		}
		if len(topics) == 0 {
			return nil, fmt.Errorf("no topic matches --include %q", o.include)
		}
	}
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, conn.fail("list start offsets", err)
	}
	list := adm.ListEndOffsets
	if o.isolation == "read_committed" {
		list = adm.ListCommittedOffsets // the last stable offset
	}
	ends, err := list(ctx, topics...)
	if err != nil {
		return nil, conn.fail("list end offsets", err)
	}
	atTime := func(b offsetBound) (kadm.ListedOffsets, error) {
		if b.kind != boundTime {
			return nil, nil
		}
		l, err := adm.ListOffsetsAfterMilli(ctx, b.at.UnixMilli(), topics...)
		if err != nil {
			return nil, conn.fail("list offsets by time", err)
		}
		return l, nil
	}
	atStart, err := atTime(off.start)
	if err != nil {
		return nil, err
	}
	atEnd, err := atTime(off.end)
	if err != nil {
		return nil, err
	}
	out := map[string]map[int32]partitionRange{}
	var lerr error
	starts.Each(func(lo kadm.ListedOffset) {
		if o.partition >= 0 && lo.Partition != o.partition {
			return
		}
		hi, ok := ends.Lookup(lo.Topic, lo.Partition)
		if lo.Err != nil || !ok || hi.Err != nil {
			if lerr == nil {
				lerr = fmt.Errorf("list offsets of topic %q partition %d: %v", lo.Topic, lo.Partition, errors.Join(lo.Err, hi.Err))
			}
			return
		}
		ts, te := int64(-1), int64(-1)
		if l, ok := atStart.Lookup(lo.Topic, lo.Partition); ok && l.Err == nil {
			ts = l.Offset
		}
		if l, ok := atEnd.Lookup(lo.Topic, lo.Partition); ok && l.Err == nil {
			te = l.Offset
		}
		if out[lo.Topic] == nil {
			out[lo.Topic] = map[int32]partitionRange{}
		}
		out[lo.Topic][lo.Partition] = off.resolve(lo.Offset, hi.Offset, ts, te)
	})
	return out, lerr
}

// checkConsumeTarget fails early and clearly when the topic or partition
// does not exist, rather than waiting silently for it to appear.
func checkConsumeTarget(ctx context.Context, conn *connFlags, adm *kadm.Client, topic string, partition int32) error {
	ctx, cancel := conn.withTimeout(ctx)
	defer cancel()
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return conn.fail(fmt.Sprintf("look up topic %q", topic), err)
	}
	if !details.Has(topic) {
		return fmt.Errorf("topic %q does not exist", topic)
	}
	if td := details[topic]; td.Err != nil {
		return fmt.Errorf("look up topic %q: %w", topic, td.Err)
	}
	if n := int32(len(details[topic].Partitions)); partition >= n {
		return fmt.Errorf("topic %q has %s (0-%d): --partition %d does not exist", topic, countOf(int(n), "partition", "partitions"), n-1, partition)
	}
	return nil
}

// consumeLoop polls until --max-messages, --timeout-ms idle, the end of
// every bounded partition, or ctx ends, calling emit for each record and
// flush after each poll. It returns how many records were emitted.
//
// With --skip-message-on-error, a partition whose fetch fails (a corrupt
// batch, say) is moved one offset past where it stood and consumption goes
// on; the skipped offset is reported on stderr.
func consumeLoop(ctx context.Context, cl *kgo.Client, o consumeOptions, stderr io.Writer, emit func(*kgo.Record, *kgo.FetchPartition) error, flush func() error) (int, error) {
	total := 0
	bounded := 0
	for _, ps := range o.partitionRanges {
		bounded += len(ps)
	}
	done := map[string]map[int32]bool{}
	finished := 0
	// next is each partition's next offset: where it stands.
	next := map[string]map[int32]int64{}
	for t, ps := range o.startOffsets {
		next[t] = map[int32]int64{}
		for p, at := range ps {
			next[t][p] = at
		}
	}
	for {
		if ctx.Err() != nil {
			return total, nil
		}
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if o.timeoutMs > 0 {
			pollCtx, cancel = context.WithTimeout(ctx, time.Duration(o.timeoutMs)*time.Millisecond)
		}
		max := o.maxPollRecords
		if o.maxMessages > 0 && (max == 0 || o.maxMessages-total < max) {
			max = o.maxMessages - total
		}
		fetches := cl.PollRecords(pollCtx, max)
		idle := pollCtx.Err() != nil
		cancel()
		if fetches.IsClientClosed() {
			return total, nil
		}
		var emitErr error
		stop := false
		var marks []*kgo.Record
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			r, isBounded := o.partitionRanges[fp.Topic][fp.Partition]
			for _, rec := range fp.Records {
				if emitErr != nil || stop || done[fp.Topic][fp.Partition] {
					return
				}
				if isBounded && rec.Offset >= r.to {
					markDone(done, fp.Topic, fp.Partition, &finished)
					return
				}
				if next[fp.Topic] == nil {
					next[fp.Topic] = map[int32]int64{}
				}
				next[fp.Topic][fp.Partition] = rec.Offset + 1
				if !rec.Attrs.IsControl() {
					if emitErr = emit(rec, &fp.FetchPartition); emitErr != nil {
						return
					}
					total++
					marks = append(marks, rec)
					if o.maxMessages > 0 && total >= o.maxMessages {
						stop = true
					}
				}
				if isBounded && rec.Offset >= r.to-1 {
					markDone(done, fp.Topic, fp.Partition, &finished)
				}
			}
		})
		if o.commit {
			cl.MarkCommitRecords(marks...)
		}
		if emitErr == nil {
			emitErr = flush()
		}
		if emitErr != nil {
			return total, fmt.Errorf("write output: %w", emitErr)
		}
		if stop || (bounded > 0 && finished == bounded) {
			return total, nil
		}
		skip := map[string]map[int32]kgo.EpochOffset{}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.Canceled) || errors.Is(fe.Err, context.DeadlineExceeded) {
				continue
			}
			var loss *kgo.ErrDataLoss
			if errors.As(fe.Err, &loss) {
				continue // informational: the client already reset the offset
			}
			if fe.Topic == "" { // a client-level error, e.g. joining the group failed
				return total, fmt.Errorf("consume: %w", fe.Err)
			}
			at, known := next[fe.Topic][fe.Partition]
			if !o.skipErrors {
				return total, fmt.Errorf("consume topic %q partition %d: %w (--skip-message-on-error goes on past such errors)", fe.Topic, fe.Partition, fe.Err)
			}
			if !known {
				return total, fmt.Errorf("consume topic %q partition %d: %w (cannot skip it: where the partition stands is not known yet; give --offset or --partition)", fe.Topic, fe.Partition, fe.Err)
			}
			fmt.Fprintf(stderr, "skipping offset %d of topic %q partition %d: %v\n", at, fe.Topic, fe.Partition, fe.Err)
			if skip[fe.Topic] == nil {
				skip[fe.Topic] = map[int32]kgo.EpochOffset{}
			}
			skip[fe.Topic][fe.Partition] = kgo.EpochOffset{Epoch: -1, Offset: at + 1}
			next[fe.Topic][fe.Partition] = at + 1
			if r, isBounded := o.partitionRanges[fe.Topic][fe.Partition]; isBounded && at+1 >= r.to {
				markDone(done, fe.Topic, fe.Partition, &finished)
			}
		}
		if len(skip) > 0 {
			cl.SetOffsets(skip)
		}
		if bounded > 0 && finished == bounded {
			return total, nil
		}
		if idle && fetches.NumRecords() == 0 && ctx.Err() == nil {
			return total, nil // --timeout-ms passed without a record
		}
	}
}

func markDone(done map[string]map[int32]bool, topic string, p int32, finished *int) {
	if done[topic] == nil {
		done[topic] = map[int32]bool{}
	}
	if !done[topic][p] {
		done[topic][p] = true
		*finished++
	}
}

// anchored makes a --include expression match whole topic names, as
// Kafka's (Java's matches()) does; franz-go matches anywhere in the name.
func anchored(re string) string { return `^(?:` + re + `)$` }
