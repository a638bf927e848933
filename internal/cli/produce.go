package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// produce: the kafka-console-producer.sh analogue. Each stdin line is one
// record; --property keys follow Kafka's LineMessageReader. Producer
// properties come from --producer.config and --producer-property (and the
// profile and --command-config); --request-required-acks, --acks,
// --compression-codec and --sync win over them, as in Kafka.

var produceProperties = []propertySpec{
	{key: "parse.key", kind: propBool, def: "false"},
	{key: "key.separator", kind: propText, def: "\t"},
	{key: "parse.headers", kind: propBool, def: "false"},
	{key: "headers.delimiter", kind: propText, def: "\t"},
	{key: "headers.separator", kind: propText, def: ","},
	{key: "headers.key.separator", kind: propText, def: ":"},
	{key: "ignore.error", kind: propBool, def: "false"},
	{key: "null.marker", kind: propText, def: ""},
}

// lineReaders are the --line-reader classes understood: Kafka's own line
// reader under its current and former names.
var lineReaders = []string{"org.apache.kafka.tools.LineMessageReader", "kafka.tools.LineMessageReader", "kafka.tools.ConsoleProducer$LineMessageReader"}

var (
	acksValues   = []string{"all", "-1", "1", "0"}
	codecValues  = []string{"none", "gzip", "snappy", "lz4", "zstd"}
	errNoKeySep  = errors.New("no key separator")
	errNoHdrsSep = errors.New("no headers delimiter")
)

// lineFormat says how a stdin line becomes a record.
type lineFormat struct {
	parseKey           bool
	keySeparator       string
	parseHeaders       bool
	headersDelimiter   string
	headersSeparator   string
	headerKeySeparator string
	ignoreError        bool   // a line without separators becomes a value-only record
	nullMarker         string // a key, value or header value equal to it is null ("" = none)
}

func newLineFormat(props []string) (lineFormat, error) {
	p, err := parseProperties(props, produceProperties)
	if err != nil {
		return lineFormat{}, err
	}
	f := lineFormat{
		parseKey:           p["parse.key"] == "true",
		keySeparator:       p["key.separator"],
		parseHeaders:       p["parse.headers"] == "true",
		headersDelimiter:   p["headers.delimiter"],
		headersSeparator:   p["headers.separator"],
		headerKeySeparator: p["headers.key.separator"],
		ignoreError:        p["ignore.error"] == "true",
		nullMarker:         p["null.marker"],
	}
	seps := []struct{ key, val string }{
		{"key.separator", f.keySeparator},
		{"headers.delimiter", f.headersDelimiter},
		{"headers.separator", f.headersSeparator},
		{"headers.key.separator", f.headerKeySeparator},
	}
	for _, s := range seps {
		if s.val == "" {
			return lineFormat{}, usageErrorf("--property %s must not be empty", s.key)
		}
	}
	// LineMessageReader's rules: separators that could be confused are refused.
	if f.parseHeaders {
		for i, a := range seps[1:] {
			for _, b := range seps[2+i:] {
				if a.val == b.val {
					return lineFormat{}, usageErrorf("--property %s and %s may not be equal (both %q)", a.key, b.key, a.val)
				}
			}
		}
	}
	if f.nullMarker != "" {
		for _, s := range seps {
			if s.val == f.nullMarker {
				return lineFormat{}, usageErrorf("--property null.marker and %s may not be equal (both %q)", s.key, s.val)
			}
		}
	}
	return f, nil
}

// parse turns one line (without its newline) into a record. The format is
// Kafka's: [headers<headers.delimiter>][key<key.separator>]value, with
// headers as k1:v1,k2:v2.
func (f lineFormat) parse(line []byte) (*kgo.Record, error) {
	r := &kgo.Record{}
	rest := line
	if f.parseHeaders {
		hdrs, after, found := bytes.Cut(rest, []byte(f.headersDelimiter))
		switch {
		case found:
			for pair := range strings.SplitSeq(string(hdrs), f.headersSeparator) {
				if pair == "" {
					continue
				}
				k, v, ok := strings.Cut(pair, f.headerKeySeparator)
				switch {
				case !ok && f.ignoreError:
					r.Headers = append(r.Headers, kgo.RecordHeader{Key: pair})
					continue
				case !ok:
					return nil, fmt.Errorf("header %q has no header key separator %q (headers.key.separator)", pair, f.headerKeySeparator)
				case f.nullMarker != "" && k == f.nullMarker:
					return nil, fmt.Errorf("header key %q equals null.marker: header keys cannot be null", k)
				}
				h := kgo.RecordHeader{Key: k, Value: []byte(v)}
				if f.isNull(v) {
					h.Value = nil
				}
				r.Headers = append(r.Headers, h)
			}
			rest = after
		case !f.ignoreError:
			return nil, fmt.Errorf("%w %q (headers.delimiter) found", errNoHdrsSep, f.headersDelimiter)
		}
	}
	if f.parseKey {
		key, value, found := bytes.Cut(rest, []byte(f.keySeparator))
		switch {
		case found:
			if !f.isNull(string(key)) {
				r.Key = bytes.Clone(key)
			}
			rest = value
		case !f.ignoreError:
			return nil, fmt.Errorf("%w %q (key.separator) found", errNoKeySep, f.keySeparator)
		}
	}
	if !f.isNull(string(rest)) {
		r.Value = bytes.Clone(rest)
	}
	return r, nil
}

func (f lineFormat) isNull(s string) bool { return f.nullMarker != "" && s == f.nullMarker }

func newProduceCommand() *cobra.Command {
	var (
		topic      string
		props      []string
		acks       string
		reqAcks    string
		codec      string
		partition  int32
		syncSend   bool
		lineReader string
	)
	cmd := &cobra.Command{
		Use:   "produce --topic T [--property parse.key=true ...]",
		Short: "Write stdin lines to a topic, one record per line (like kafka-console-producer.sh)",
		Long: `Write stdin lines to a topic, one record per line, and flush at end of input.

Properties (--property key=value, Kafka's names; \t and \n are unescaped):
  parse.key=true             split each line into key and value at key.separator
  key.separator=<sep>        default tab
  parse.headers=true         lines start with headers, then headers.delimiter
  headers.delimiter=<sep>    default tab
  headers.separator=<sep>    between headers, default "," (a plain string, not
                             a regular expression as in Kafka)
  headers.key.separator=<s>  between a header's key and value, default ":"
  null.marker=<marker>       a key, value or header value equal to it is sent as null
  ignore.error=true          a line missing a separator is sent as a plain value

Producer properties (acks, linger.ms, batch.size, compression.type,
enable.idempotence, ...) come from --producer.config FILE and
--producer-property k=v; the flags below win over them.

A line that cannot be parsed stops the producer: the lines before it are
still sent and flushed, and the command fails naming the line number.`,
		Example: `  printf 'k1:v1\nk2:v2\n' | tributary produce --bootstrap-server 127.0.0.1:9092 --topic orders --property parse.key=true --property key.separator=:
  tributary produce --bootstrap-server 127.0.0.1:9092 --topic orders --request-required-acks 1 --producer-property linger.ms=50 < lines.txt
  tributary produce --bootstrap-server 127.0.0.1:9092 --topic orders --sync --property parse.key=true --property null.marker=NULL`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	conn.addPropertyFile(cmd, "producer.config", "Kafka producer properties file (acks, linger.ms, batch.size, ...)")
	conn.addPropertyArgs(cmd, "producer-property", "producer property key=value; repeat for more (wins over --producer.config)")
	output := addOutputFlag(cmd)
	fs := cmd.Flags()
	fs.StringVar(&topic, "topic", "", "topic to write to (required)")
	fs.StringArrayVar(&props, "property", nil, "line format property key=value; repeat for more")
	enumVar(fs, &reqAcks, "request-required-acks", "all", acksValues, "acknowledgements to wait for: all (-1), 1 or 0 (default all)")
	enumVar(fs, &acks, "acks", "all", acksValues, "same as --request-required-acks")
	enumVar(fs, &codec, "compression-codec", "none", codecValues, "batch compression: none, gzip, snappy, lz4 or zstd")
	nonNegativeIntVar(fs, &partition, "partition", -1, "write every record to this partition (default: partition by key)")
	fs.BoolVar(&syncSend, "sync", false, "send each record and wait for its acknowledgement before reading the next line")
	fs.StringVar(&lineReader, "line-reader", lineReaders[0], "the line reader class; only Kafka's LineMessageReader is built in")
	fs.StringVar(&conn.bootstrap, "broker-list", "", "deprecated Kafka name of --bootstrap-server")
	fs.Lookup("broker-list").Hidden = true

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		fixedPartition := fs.Changed("partition")
		if err := requireFlag(topic, "topic", "name the topic to write to"); err != nil {
			return err
		}
		if fs.Changed("acks") && fs.Changed("request-required-acks") {
			return usageErrorf("give either --acks or --request-required-acks, not both")
		}
		if fs.Changed("broker-list") && fs.Changed("bootstrap-server") {
			return usageErrorf("give either --bootstrap-server or --broker-list, not both")
		}
		if !contains(lineReaders, lineReader) {
			return usageErrorf("--line-reader %q is not available: only %s is built in", lineReader, lineReaders[0])
		}
		format, err := newLineFormat(props)
		if err != nil {
			return err
		}
		settings, err := conn.settings()
		if err != nil {
			return err
		}
		if _, given := settings.given["client.id"]; !given {
			settings.ClientID = "console-producer" // Kafka's console producer's
		}
		// The flags win over producer properties when given; otherwise the
		// properties win over the flags' defaults. The flags' values were
		// checked against acksValues, which the acks property accepts.
		switch {
		case fs.Changed("acks"):
			_ = settings.Set("acks", acks)
		case fs.Changed("request-required-acks"):
			_ = settings.Set("acks", reqAcks)
		case settings.Acks == "":
			settings.Acks = "all"
		}
		if fs.Changed("compression-codec") || settings.Compression == "" {
			settings.Compression = codec
		}
		if settings.AcksConflict() {
			return usageErrorf("enable.idempotence=true (%s) needs acks=all, got acks=%s", settings.given["enable.idempotence"].from, settings.Acks)
		}
		opts := append(settings.CommonOpts(),
			kgo.DefaultProduceTopic(topic),
			kgo.AllowAutoTopicCreation(), // as Kafka's producer does; the broker decides
			kgo.RecordDeliveryTimeout(conn.timeout),
		)
		opts = append(opts, settings.ProducerOpts()...)
		if fixedPartition {
			opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
		}
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return fmt.Errorf("create producer: %w", err)
		}
		defer cl.Close()

		// Fail at once, as the admin commands do, when no broker answers,
		// rather than buffering records until --timeout runs out.
		pingCtx, cancel := conn.withTimeout(cmd.Context())
		err = cl.Ping(pingCtx)
		cancel()
		if err != nil {
			return conn.fail(fmt.Sprintf("produce to topic %q", topic), err)
		}

		res := produceLines(cmd.Context(), cl, cmd.InOrStdin(), format, func(r *kgo.Record) {
			if fixedPartition {
				r.Partition = partition
			}
		}, conn, syncSend)
		if *output == outputJSON {
			if err := writeJSON(cmd.OutOrStdout(), map[string]any{
				"topic": topic, "produced": res.produced, "failed": res.failed,
			}); err != nil {
				return err
			}
		}
		return res.err(conn, topic)
	}
	return cmd
}

// produceResult is the outcome of one produce run.
type produceResult struct {
	produced, failed int
	firstFailure     error
	lineErr          error // the line that stopped reading, if any
	readErr          error // stdin failed
	flushErr         error // the flush was cut short
}

func (r produceResult) err(conn *connFlags, topic string) error {
	var problems []string
	if r.lineErr != nil {
		problems = append(problems, r.lineErr.Error())
	}
	if r.readErr != nil {
		problems = append(problems, fmt.Sprintf("read stdin: %v", r.readErr))
	}
	total := r.failed + r.produced
	switch {
	case r.failed > 0 && r.flushErr != nil:
		// The records failed because the flush ran out of time and the
		// client was closed: the flush error is the cause worth showing.
		problems = append(problems, fmt.Sprintf("%d of %s failed to reach topic %q: %s",
			r.failed, countOf(total, "record", "records"), topic, conn.describe(r.flushErr)))
	case r.failed > 0:
		problems = append(problems, fmt.Sprintf("%d of %s failed to reach topic %q, first error: %s",
			r.failed, countOf(total, "record", "records"), topic, conn.describe(r.firstFailure)))
	case r.flushErr != nil:
		problems = append(problems, fmt.Sprintf("flush: %s", conn.describe(r.flushErr)))
	}
	if len(problems) == 0 {
		return nil
	}
	if r.lineErr != nil && r.failed == 0 {
		problems = append(problems, fmt.Sprintf("the %s before it %s produced", countOf(r.produced, "record", "records"), plural(r.produced, "was", "were")))
	}
	return errors.New(strings.Join(problems, "; "))
}

// produceLines reads lines until EOF, a bad line or cancellation and
// produces each as a record, then waits for every record to be acknowledged
// or to fail. Records read before a bad line or a cancellation are still
// flushed, within --timeout.
func produceLines(ctx context.Context, cl *kgo.Client, in io.Reader, f lineFormat, adjust func(*kgo.Record), conn *connFlags, syncSend bool) produceResult {
	var (
		mu  sync.Mutex
		res produceResult
		wg  sync.WaitGroup
	)
	done := func(_ *kgo.Record, err error) {
		defer wg.Done()
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			res.failed++
			if res.firstFailure == nil {
				res.firstFailure = err
			}
			return
		}
		res.produced++
	}

	// Reading stdin blocks, so it happens on its own goroutine; a cancelled
	// context then stops producing without waiting for the next line.
	type line struct {
		b   []byte
		err error
	}
	lines := make(chan line)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(lines)
		br := bufio.NewReaderSize(in, 64*1024)
		for {
			b, err := br.ReadBytes('\n')
			if len(b) > 0 || (err != nil && err != io.EOF) {
				b = bytes.TrimSuffix(b, []byte("\n"))
				b = bytes.TrimSuffix(b, []byte("\r"))
				rerr := err
				if rerr == io.EOF {
					rerr = nil
				}
				select {
				case lines <- line{b, rerr}:
				case <-stop:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()

	lineNo := 0
read:
	for {
		select {
		case <-ctx.Done():
			break read
		case l, ok := <-lines:
			if !ok {
				break read
			}
			if l.err != nil {
				res.readErr = l.err
				break read
			}
			lineNo++
			r, err := f.parse(l.b)
			if err != nil {
				res.lineErr = fmt.Errorf("line %d: %v: %q", lineNo, err, truncate(string(l.b), 80))
				break read
			}
			adjust(r)
			wg.Add(1)
			// Not ctx: a record read before an interrupt is still sent.
			cl.Produce(context.WithoutCancel(ctx), r, done)
			if syncSend {
				// --sync: this record is acknowledged (or failed) before
				// the next line is read.
				wg.Wait()
			}
		}
	}

	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), conn.timeout)
	defer cancel()
	if err := cl.Flush(flushCtx); err != nil {
		// Records still buffered fail when the client closes; their
		// callbacks count them before wg.Wait returns.
		mu.Lock()
		res.flushErr = err
		mu.Unlock()
		cl.Close()
	}
	wg.Wait()
	return res
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
