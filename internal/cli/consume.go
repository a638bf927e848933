package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consume: the kafka-console-consumer.sh analogue. Without --group it reads
// partitions directly and commits nothing (Kafka's tool joins a throwaway
// group instead; the records printed are the same). With --group it joins
// the group and commits exactly the records it printed before exiting.

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
	if f.printTimestamp {
		switch r.Attrs.TimestampType() {
		case 0:
			fmt.Fprintf(&b, "CreateTime:%d", r.Timestamp.UnixMilli())
		case 1:
			fmt.Fprintf(&b, "LogAppendTime:%d", r.Timestamp.UnixMilli())
		default:
			b.WriteString("NO_TIMESTAMP")
		}
		b.WriteString(f.keySeparator)
	}
	if f.printPartition {
		fmt.Fprintf(&b, "Partition:%d%s", r.Partition, f.keySeparator)
	}
	if f.printOffset {
		fmt.Fprintf(&b, "Offset:%d%s", r.Offset, f.keySeparator)
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
		b.WriteString(f.keySeparator)
	}
	if f.printKey {
		b.WriteString(f.bytes(r.Key))
		b.WriteString(f.keySeparator)
	}
	if f.printValue {
		b.WriteString(f.bytes(r.Value))
	}
	b.WriteString(f.lineSeparator)
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

// parseStartOffset reads --offset: earliest, latest or an offset number.
func parseStartOffset(s string) (kgo.Offset, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "earliest":
		return kgo.NewOffset().AtStart(), nil
	case "latest":
		return kgo.NewOffset().AtEnd(), nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return kgo.Offset{}, usageErrorf("--offset must be earliest, latest or a non-negative offset, got %q", s)
	}
	return kgo.NewOffset().At(n), nil
}

type consumeOptions struct {
	topic         string
	fromBeginning bool
	partition     int32
	offset        string
	maxMessages   int
	timeoutMs     int
	group         string
	props         []string
}

func newConsumeCommand() *cobra.Command {
	var o consumeOptions
	cmd := &cobra.Command{
		Use:   "consume --topic T [--from-beginning] [--group G] [--max-messages N] [--timeout-ms N]",
		Short: "Print records from a topic (like kafka-console-consumer.sh)",
		Long: `Print records from a topic, one per line. Stops after --max-messages records,
after --timeout-ms without a record, or on interrupt; all three exit 0.

Without --group, partitions are read directly and no offsets are committed.
With --group, the consumer joins the group and commits the records it printed.

Properties (--property key=value, Kafka's names; \t and \n are unescaped):
  print.timestamp, print.partition, print.offset, print.headers, print.key,
  print.value (default true), key.separator (default tab),
  line.separator (default newline), headers.separator (default ","),
  headers.key.separator (default ":"), null.literal (default "null")

--output json prints one object per line:
  {"topic","partition","offset","timestamp","key","value","headers":[{"key","value"}]}`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	var outputFormat string
	output := &outputFormat
	enumVar(cmd.Flags(), output, "output", outputText, []string{outputText, outputJSON},
		"output format: text (as kafka-console-consumer.sh prints records, or --format) or json (one object per line)")
	fs := cmd.Flags()
	fs.StringVar(&o.topic, "topic", "", "topic to read (required)")
	fs.BoolVar(&o.fromBeginning, "from-beginning", false, "start at the earliest record rather than the end (for a group: when it has no committed offset)")
	nonNegativeIntVar(fs, &o.partition, "partition", -1, "read only this partition")
	fs.StringVar(&o.offset, "offset", "", "with --partition: earliest, latest or an offset (default latest)")
	positiveIntVar(fs, &o.maxMessages, "max-messages", 0, "exit after this many records (default: no limit)")
	positiveIntVar(fs, &o.timeoutMs, "timeout-ms", 0, "exit after this many milliseconds without a record (default: wait forever)")
	fs.StringVar(&o.group, "group", "", "consumer group to join; offsets of printed records are committed")
	fs.StringArrayVar(&o.props, "property", nil, "output format property key=value; repeat for more")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return runConsume(cmd, conn, *output, o)
	}
	return cmd
}

func runConsume(cmd *cobra.Command, conn *connFlags, output string, o consumeOptions) error {
	if err := requireFlag(o.topic, "topic", "name the topic to read"); err != nil {
		return err
	}
	hasPartition := o.partition >= 0
	switch {
	case o.offset != "" && !hasPartition:
		return usageErrorf("--offset needs --partition: offsets are per partition")
	case o.offset != "" && o.fromBeginning:
		return usageErrorf("give either --from-beginning or --offset, not both")
	case o.group != "" && hasPartition:
		return usageErrorf("--group and --partition cannot be used together: the group assigns partitions")
	}
	format, err := newRecordFormat(o.props)
	if err != nil {
		return err
	}
	start := kgo.NewOffset().AtEnd()
	if o.fromBeginning {
		start = kgo.NewOffset().AtStart()
	}
	if o.offset != "" {
		if start, err = parseStartOffset(o.offset); err != nil {
			return err
		}
	}
	settings, err := conn.settings()
	if err != nil {
		return err
	}

	opts := settings.kgoOpts()
	switch {
	case o.group != "":
		opts = append(opts,
			kgo.ConsumerGroup(o.group),
			kgo.ConsumeTopics(o.topic),
			kgo.ConsumeStartOffset(start),
			kgo.AutoCommitMarks(),
		)
	case hasPartition:
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{o.topic: {o.partition: start}}))
	default:
		opts = append(opts, kgo.ConsumeTopics(o.topic), kgo.ConsumeStartOffset(start))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("create consumer: %w", err)
	}
	defer cl.Close()

	if err := checkConsumeTarget(cmd.Context(), conn, kadm.NewClient(cl), o.topic, o.partition); err != nil {
		return err
	}

	stdout := bufio.NewWriter(cmd.OutOrStdout())
	count, loopErr := consumeLoop(cmd.Context(), cl, o, func(r *kgo.Record) error {
		if output == outputJSON {
			line, err := json.Marshal(toJSONRecord(r))
			if err != nil {
				return err
			}
			line = append(line, '\n')
			_, err = stdout.Write(line)
			return err
		}
		return format.write(stdout, r)
	}, stdout.Flush)
	if err := stdout.Flush(); err != nil && loopErr == nil {
		loopErr = err
	}

	if o.group != "" {
		// The command's context may be cancelled by now (interrupt): the
		// final commit gets its own deadline so printed records are not
		// read again by the next member.
		ctx, cancel := conn.withTimeout(context.WithoutCancel(cmd.Context()))
		defer cancel()
		if err := cl.CommitMarkedOffsets(ctx); err != nil && loopErr == nil {
			loopErr = fmt.Errorf("commit offsets for group %q: %w", o.group, conn.explain(err))
		}
		cl.LeaveGroup()
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Processed a total of %d messages\n", count)
	return loopErr
}

// checkConsumeTarget fails early and clearly when the topic or partition
// does not exist, rather than waiting silently for it to appear.
func checkConsumeTarget(ctx context.Context, conn *connFlags, adm *kadm.Client, topic string, partition int32) error {
	ctx, cancel := conn.withTimeout(ctx)
	defer cancel()
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return conn.explain(fmt.Errorf("look up topic %q: %w", topic, err))
	}
	if !details.Has(topic) {
		return fmt.Errorf("topic %q does not exist", topic)
	}
	if td := details[topic]; td.Err != nil {
		return fmt.Errorf("look up topic %q: %w", topic, td.Err)
	}
	if n := int32(len(details[topic].Partitions)); partition >= n {
		return fmt.Errorf("topic %q has %d partitions (0-%d): --partition %d does not exist", topic, n, n-1, partition)
	}
	return nil
}

// consumeLoop polls until --max-messages, --timeout-ms idle, or ctx ends,
// calling emit for each record and flush after each poll. It returns how
// many records were emitted.
func consumeLoop(ctx context.Context, cl *kgo.Client, o consumeOptions, emit func(*kgo.Record) error, flush func() error) (int, error) {
	count := 0
	for {
		if ctx.Err() != nil {
			return count, nil
		}
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if o.timeoutMs > 0 {
			pollCtx, cancel = context.WithTimeout(ctx, time.Duration(o.timeoutMs)*time.Millisecond)
		}
		max := 0
		if o.maxMessages > 0 {
			max = o.maxMessages - count
		}
		fetches := cl.PollRecords(pollCtx, max)
		idle := pollCtx.Err() != nil
		cancel()
		if fetches.IsClientClosed() {
			return count, nil
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.Canceled) || errors.Is(fe.Err, context.DeadlineExceeded) {
				continue
			}
			var loss *kgo.ErrDataLoss
			if errors.As(fe.Err, &loss) {
				continue // informational: the client already reset the offset
			}
			if fe.Topic == "" { // a client-level error, e.g. joining the group failed
				return count, fmt.Errorf("consume: %w", fe.Err)
			}
			return count, fmt.Errorf("consume topic %q partition %d: %w", fe.Topic, fe.Partition, fe.Err)
		}
		var emitErr error
		fetches.EachRecord(func(r *kgo.Record) {
			if emitErr != nil || (o.maxMessages > 0 && count >= o.maxMessages) {
				return
			}
			if emitErr = emit(r); emitErr != nil {
				return
			}
			count++
			if o.group != "" {
				cl.MarkCommitRecords(r)
			}
		})
		if emitErr == nil {
			emitErr = flush()
		}
		if emitErr != nil {
			return count, fmt.Errorf("write output: %w", emitErr)
		}
		if o.maxMessages > 0 && count >= o.maxMessages {
			return count, nil
		}
		if idle && fetches.NumRecords() == 0 && ctx.Err() == nil {
			return count, nil // --timeout-ms passed without a record
		}
	}
}
