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
// record; --property keys follow Kafka's LineMessageReader.

var produceProperties = []propertySpec{
	{key: "parse.key", kind: propBool, def: "false"},
	{key: "key.separator", kind: propText, def: "\t"},
	{key: "parse.headers", kind: propBool, def: "false"},
	{key: "headers.delimiter", kind: propText, def: "\t"},
	{key: "headers.separator", kind: propText, def: ","},
	{key: "headers.key.separator", kind: propText, def: ":"},
	{key: "ignore.error", kind: propBool, def: "false"},
}

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
	ignoreError        bool // a line without separators becomes a value-only record
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
	}
	for _, s := range []struct{ key, val string }{
		{"key.separator", f.keySeparator},
		{"headers.delimiter", f.headersDelimiter},
		{"headers.separator", f.headersSeparator},
		{"headers.key.separator", f.headerKeySeparator},
	} {
		if s.val == "" {
			return lineFormat{}, usageErrorf("--property %s must not be empty", s.key)
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
				if !ok {
					return nil, fmt.Errorf("header %q has no header key separator %q (headers.key.separator)", pair, f.headerKeySeparator)
				}
				r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
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
			r.Key = bytes.Clone(key)
			rest = value
		case !f.ignoreError:
			return nil, fmt.Errorf("%w %q (key.separator) found", errNoKeySep, f.keySeparator)
		}
	}
	r.Value = bytes.Clone(rest)
	return r, nil
}

func newProduceCommand() *cobra.Command {
	var (
		topic     string
		props     []string
		acks      string
		codec     string
		partition int32
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
  headers.separator=<sep>    between headers, default ","
  headers.key.separator=<s>  between a header's key and value, default ":"
  ignore.error=true          a line missing a separator is sent as a plain value

A line that cannot be parsed stops the producer: the lines before it are
still sent and flushed, and the command fails naming the line number.`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	fs := cmd.Flags()
	fs.StringVar(&topic, "topic", "", "topic to write to (required)")
	fs.StringArrayVar(&props, "property", nil, "line format property key=value; repeat for more")
	enumVar(fs, &acks, "acks", "all", acksValues, "acknowledgements to wait for: all (-1), 1 or 0")
	enumVar(fs, &codec, "compression-codec", "none", codecValues, "batch compression: none, gzip, snappy, lz4 or zstd")
	nonNegativeIntVar(fs, &partition, "partition", -1, "write every record to this partition (default: partition by key)")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		fixedPartition := cmd.Flags().Changed("partition")
		if err := requireFlag(topic, "topic", "name the topic to write to"); err != nil {
			return err
		}
		format, err := newLineFormat(props)
		if err != nil {
			return err
		}
		settings, err := conn.settings()
		if err != nil {
			return err
		}
		opts := append(settings.kgoOpts(),
			kgo.DefaultProduceTopic(topic),
			kgo.AllowAutoTopicCreation(), // as Kafka's producer does; the broker decides
			kgo.RecordDeliveryTimeout(conn.timeout),
			kgo.ProducerBatchCompression(compressionCodec(codec)),
		)
		opts = append(opts, acksOpts(acks)...)
		if fixedPartition {
			opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
		}
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return fmt.Errorf("create producer: %w", err)
		}
		defer cl.Close()

		res := produceLines(cmd.Context(), cl, cmd.InOrStdin(), format, func(r *kgo.Record) {
			if fixedPartition {
				r.Partition = partition
			}
		}, conn)
		if *output == outputJSON {
			if err := writeJSON(cmd.OutOrStdout(), map[string]any{
				"topic": topic, "produced": res.produced, "failed": res.failed,
			}); err != nil {
				return err
			}
		}
		return res.err(topic)
	}
	return cmd
}

func compressionCodec(name string) kgo.CompressionCodec {
	switch name {
	case "gzip":
		return kgo.GzipCompression()
	case "snappy":
		return kgo.SnappyCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	}
	return kgo.NoCompression()
}

// acksOpts maps --acks to kgo options. Idempotent writes need acks=all, so
// weaker acks turn them off, as Kafka's producer does.
func acksOpts(acks string) []kgo.Opt {
	switch acks {
	case "1":
		return []kgo.Opt{kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite()}
	case "0":
		return []kgo.Opt{kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite()}
	}
	return []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())}
}

// produceResult is the outcome of one produce run.
type produceResult struct {
	produced, failed int
	firstFailure     error
	lineErr          error // the line that stopped reading, if any
	readErr          error // stdin failed
	flushErr         error // the flush was cut short
}

func (r produceResult) err(topic string) error {
	var problems []string
	if r.lineErr != nil {
		problems = append(problems, r.lineErr.Error())
	}
	if r.readErr != nil {
		problems = append(problems, fmt.Sprintf("read stdin: %v", r.readErr))
	}
	switch {
	case r.failed > 0 && r.flushErr != nil:
		// The records failed because the flush ran out of time and the
		// client was closed: the flush error is the cause worth showing.
		problems = append(problems, fmt.Sprintf("%d of %d records failed to reach topic %q: %v",
			r.failed, r.failed+r.produced, topic, r.flushErr))
	case r.failed > 0:
		problems = append(problems, fmt.Sprintf("%d of %d records failed to reach topic %q, first error: %v",
			r.failed, r.failed+r.produced, topic, r.firstFailure))
	case r.flushErr != nil:
		problems = append(problems, fmt.Sprintf("flush: %v", r.flushErr))
	}
	if len(problems) == 0 {
		return nil
	}
	if r.lineErr != nil && r.failed == 0 {
		problems = append(problems, fmt.Sprintf("the %d records before it were produced", r.produced))
	}
	return errors.New(strings.Join(problems, "; "))
}

// produceLines reads lines until EOF, a bad line or cancellation and
// produces each as a record, then waits for every record to be acknowledged
// or to fail. Records read before a bad line or a cancellation are still
// flushed, within --timeout.
func produceLines(ctx context.Context, cl *kgo.Client, in io.Reader, f lineFormat, adjust func(*kgo.Record), conn *connFlags) produceResult {
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
		}
	}

	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), conn.timeout)
	defer cancel()
	if err := cl.Flush(flushCtx); err != nil {
		// Records still buffered fail when the client closes; their
		// callbacks count them before wg.Wait returns.
		mu.Lock()
		res.flushErr = conn.explain(err)
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
