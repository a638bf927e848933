package mirror

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/kafkaclient"
	"github.com/tributary-streams/tributary/internal/kgolog"
)

// clientKind is which of a cluster's clients a property is for.
type clientKind int

const (
	adminClient clientKind = iota
	consumerClient
	producerClient
)

func (k clientKind) String() string {
	return [...]string{"admin", "consumer", "producer"}[k]
}

// clientSettings is what a cluster's client properties resolve to for one
// kind of client.
type clientSettings struct {
	seeds          []string
	clientID       string
	requestTimeout time.Duration
	metadataMaxAge time.Duration
	dialTimeout    time.Duration
	retryBackoff   time.Duration
	idleTimeout    time.Duration

	fetchMaxBytes, partitionFetchMaxBytes, fetchMinBytes int32
	fetchMaxWait                                         time.Duration
	readCommitted                                        bool
	maxPollRecords                                       int

	linger          time.Duration
	batchMaxBytes   int32
	compression     []kgo.CompressionCodec
	bufferedBytes   int
	txnTimeout      time.Duration
	deliveryTimeout time.Duration

	// security is security.protocol, sasl.* and ssl.*, read by the
	// builder every client in Tributary shares.
	security kafkaclient.Security
}

// clientProperty is a Kafka client property the mirror honours.
type clientProperty struct {
	kinds []clientKind // nil: every client
	apply func(v string, s *clientSettings) error
}

var clientProperties = map[string]clientProperty{
	"client.id": {apply: func(v string, s *clientSettings) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		s.clientID = v
		return nil
	}},
	"request.timeout.ms":                 {apply: msProperty(func(s *clientSettings) *time.Duration { return &s.requestTimeout })},
	"metadata.max.age.ms":                {apply: msProperty(func(s *clientSettings) *time.Duration { return &s.metadataMaxAge })},
	"socket.connection.setup.timeout.ms": {apply: msProperty(func(s *clientSettings) *time.Duration { return &s.dialTimeout })},
	"retry.backoff.ms":                   {apply: msProperty(func(s *clientSettings) *time.Duration { return &s.retryBackoff })},
	"connections.max.idle.ms":            {apply: msProperty(func(s *clientSettings) *time.Duration { return &s.idleTimeout })},

	"fetch.max.bytes":           {kinds: []clientKind{consumerClient}, apply: bytesProperty(func(s *clientSettings) *int32 { return &s.fetchMaxBytes })},
	"max.partition.fetch.bytes": {kinds: []clientKind{consumerClient}, apply: bytesProperty(func(s *clientSettings) *int32 { return &s.partitionFetchMaxBytes })},
	"fetch.min.bytes":           {kinds: []clientKind{consumerClient}, apply: bytesProperty(func(s *clientSettings) *int32 { return &s.fetchMinBytes })},
	"fetch.max.wait.ms":         {kinds: []clientKind{consumerClient}, apply: msProperty(func(s *clientSettings) *time.Duration { return &s.fetchMaxWait })},
	"isolation.level": {kinds: []clientKind{consumerClient}, apply: func(v string, s *clientSettings) error {
		switch v {
		case "read_committed":
			s.readCommitted = true
		case "read_uncommitted":
			s.readCommitted = false
		default:
			return errors.New("accepted read_committed or read_uncommitted")
		}
		return nil
	}},
	"max.poll.records": {kinds: []clientKind{consumerClient}, apply: func(v string, s *clientSettings) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return errors.New("accepted a positive number of records")
		}
		s.maxPollRecords = n
		return nil
	}},

	"linger.ms":  {kinds: []clientKind{producerClient}, apply: msOrZeroProperty(func(s *clientSettings) *time.Duration { return &s.linger })},
	"batch.size": {kinds: []clientKind{producerClient}, apply: bytesProperty(func(s *clientSettings) *int32 { return &s.batchMaxBytes })},
	"compression.type": {kinds: []clientKind{producerClient}, apply: func(v string, s *clientSettings) error {
		switch strings.ToLower(v) {
		case "none", "uncompressed":
			s.compression = []kgo.CompressionCodec{kgo.NoCompression()}
		case "gzip":
			s.compression = []kgo.CompressionCodec{kgo.GzipCompression()}
		case "snappy":
			s.compression = []kgo.CompressionCodec{kgo.SnappyCompression()}
		case "lz4":
			s.compression = []kgo.CompressionCodec{kgo.Lz4Compression()}
		case "zstd":
			s.compression = []kgo.CompressionCodec{kgo.ZstdCompression()}
		default:
			return errors.New("accepted none, gzip, snappy, lz4 or zstd")
		}
		return nil
	}},
	"acks": {kinds: []clientKind{producerClient}, apply: func(v string, s *clientSettings) error {
		if v == "all" || v == "-1" {
			return nil
		}
		return fmt.Errorf("%q: the mirror writes a source position only after the target acknowledged the records with acks=all; accepted all or -1", v)
	}},
	"enable.idempotence": {kinds: []clientKind{producerClient}, apply: func(v string, s *clientSettings) error {
		if strings.EqualFold(v, "true") {
			return nil
		}
		return errors.New("accepted only true: the mirror pipelines produce requests and relies on idempotence to keep each partition's order across retries")
	}},
	"buffer.memory": {kinds: []clientKind{producerClient}, apply: func(v string, s *clientSettings) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return errors.New("accepted a positive number of bytes")
		}
		s.bufferedBytes = int(n)
		return nil
	}},
	"transaction.timeout.ms": {kinds: []clientKind{producerClient}, apply: msProperty(func(s *clientSettings) *time.Duration { return &s.txnTimeout })},
	"delivery.timeout.ms":    {kinds: []clientKind{producerClient}, apply: msProperty(func(s *clientSettings) *time.Duration { return &s.deliveryTimeout })},
}

// isClientProperty reports whether the mirror honours a client property:
// its own, or a security property of the shared builder.
func isClientProperty(key string) bool {
	_, ok := clientProperties[key]
	return ok || slices.Contains(kafkaclient.Keys(), key)
}

// ignoredClientKeys are Java client properties that have no franz-go
// counterpart the mirror needs; they are accepted with a warning.
var ignoredClientKeys = []string{
	"auto.offset.reset", "enable.auto.commit", "auto.commit.interval.ms", "group.id", "group.instance.id",
	"session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms", "partition.assignment.strategy",
	"key.deserializer", "value.deserializer", "key.serializer", "value.serializer", "partitioner.class",
	"interceptor.classes", "metric.reporters", "client.dns.lookup", "client.rack", "check.crcs",
	"send.buffer.bytes", "receive.buffer.bytes", "reconnect.backoff.ms", "reconnect.backoff.max.ms",
	"retries", "retry.backoff.max.ms", "max.in.flight.requests.per.connection", "max.block.ms",
	"max.request.size", "default.api.timeout.ms", "allow.auto.create.topics", "exclude.internal.topics",
	"socket.connection.setup.timeout.max.ms", "metrics.num.samples", "metrics.sample.window.ms",
	"metrics.recording.level", "transactional.id",
}

// isIgnoredClientKey reports keys accepted with a warning: the list above,
// and the SSL and SASL keys the security builder does not read (cipher
// choices, Java providers, callback handlers).
func isIgnoredClientKey(key string) bool {
	return !isClientProperty(key) && (slices.Contains(ignoredClientKeys, key) || strings.HasPrefix(key, "ssl.") || strings.HasPrefix(key, "sasl."))
}

// checkClientProperties validates the values of a cluster's honoured
// client properties, each problem once however many clients it concerns.
func checkClientProperties(alias string, cl Cluster) error {
	var errs []error
	seen := map[string]bool{}
	for _, kind := range []clientKind{adminClient, consumerClient, producerClient} {
		_, err := cl.settings(kind)
		if err == nil {
			continue
		}
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			if !seen[e.Error()] {
				seen[e.Error()] = true
				errs = append(errs, fmt.Errorf("cluster %s: %w", alias, e))
			}
		}
	}
	return errors.Join(errs...)
}

// settings resolves the cluster's properties for one kind of client:
// Client first, then the kind's own map. Properties for another kind of
// client are skipped; unknown ones were warned about when the file was read.
func (cl Cluster) settings(kind clientKind) (clientSettings, error) {
	s := clientSettings{seeds: cl.BootstrapServers, readCommitted: true, maxPollRecords: 10000}
	own := map[clientKind]map[string]string{adminClient: cl.Admin, consumerClient: cl.Consumer, producerClient: cl.Producer}[kind]
	var errs []error
	for i, props := range []map[string]string{cl.Client, own} {
		prefix := "" // how the key was written: consumer.fetch.max.bytes
		if i == 1 {
			prefix = kind.String() + "."
		}
		for _, k := range sortedKeys(props) {
			if slices.Contains(kafkaclient.Keys(), k) {
				if err := s.security.Set(k, props[k]); err != nil {
					errs = append(errs, fmt.Errorf("%s%w", prefix, err))
				}
				continue
			}
			p, ok := clientProperties[k]
			if !ok || (p.kinds != nil && !slices.Contains(p.kinds, kind)) {
				continue
			}
			if err := p.apply(props[k], &s); err != nil {
				errs = append(errs, fmt.Errorf("%s%s=%q: %w", prefix, k, props[k], err))
			}
		}
	}
	if len(errs) == 0 {
		if err := s.security.Validate(); err != nil {
			if joined, ok := err.(interface{ Unwrap() []error }); ok {
				errs = append(errs, joined.Unwrap()...)
			} else {
				errs = append(errs, err)
			}
		}
	}
	return s, errors.Join(errs...)
}

// opts are the franz-go options the settings stand for, shared by every
// kind of client; callers add their own (consumer, producer, transactions).
func (s clientSettings) opts(logger *slog.Logger) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(s.seeds...), kgo.WithLogger(kgolog.New(logger))}
	// Checked by settings: TLS and SASL as the security properties say.
	sec, _ := s.security.Opts()
	opts = append(opts, sec...)
	if s.clientID != "" {
		opts = append(opts, kgo.ClientID(s.clientID))
	}
	if s.requestTimeout > 0 {
		opts = append(opts, kgo.RequestTimeoutOverhead(s.requestTimeout))
	}
	if s.metadataMaxAge > 0 {
		opts = append(opts, kgo.MetadataMaxAge(s.metadataMaxAge))
	}
	if s.dialTimeout > 0 {
		opts = append(opts, kgo.DialTimeout(s.dialTimeout))
	}
	if s.retryBackoff > 0 {
		d := s.retryBackoff
		opts = append(opts, kgo.RetryBackoffFn(func(int) time.Duration { return d }))
	}
	if s.idleTimeout > 0 {
		opts = append(opts, kgo.ConnIdleTimeout(s.idleTimeout))
	}
	return opts
}

// consumerOpts are the fetch options of the settings.
func (s clientSettings) consumerOpts() []kgo.Opt {
	var opts []kgo.Opt
	if s.fetchMaxBytes > 0 {
		opts = append(opts, kgo.FetchMaxBytes(s.fetchMaxBytes))
	}
	if s.partitionFetchMaxBytes > 0 {
		opts = append(opts, kgo.FetchMaxPartitionBytes(s.partitionFetchMaxBytes))
	}
	if s.fetchMinBytes > 0 {
		opts = append(opts, kgo.FetchMinBytes(s.fetchMinBytes))
	}
	if s.fetchMaxWait > 0 {
		opts = append(opts, kgo.FetchMaxWait(s.fetchMaxWait))
	}
	return opts
}

// producerOpts are the produce options of the settings.
func (s clientSettings) producerOpts() []kgo.Opt {
	opts := []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())}
	if s.linger > 0 {
		opts = append(opts, kgo.ProducerLinger(s.linger))
	}
	if s.batchMaxBytes > 0 {
		opts = append(opts, kgo.ProducerBatchMaxBytes(s.batchMaxBytes))
	}
	if s.compression != nil {
		opts = append(opts, kgo.ProducerBatchCompression(s.compression...))
	}
	if s.bufferedBytes > 0 {
		opts = append(opts, kgo.MaxBufferedBytes(s.bufferedBytes))
	}
	if s.txnTimeout > 0 {
		opts = append(opts, kgo.TransactionTimeout(s.txnTimeout))
	}
	if s.deliveryTimeout > 0 {
		opts = append(opts, kgo.RecordDeliveryTimeout(s.deliveryTimeout))
	}
	return opts
}

func msProperty(field func(*clientSettings) *time.Duration) func(string, *clientSettings) error {
	return func(v string, s *clientSettings) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return errors.New("accepted a positive number of milliseconds")
		}
		*field(s) = time.Duration(n) * time.Millisecond
		return nil
	}
}

func msOrZeroProperty(field func(*clientSettings) *time.Duration) func(string, *clientSettings) error {
	return func(v string, s *clientSettings) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return errors.New("accepted 0 or a positive number of milliseconds")
		}
		*field(s) = time.Duration(n) * time.Millisecond
		return nil
	}
}

func bytesProperty(field func(*clientSettings) *int32) func(string, *clientSettings) error {
	return func(v string, s *clientSettings) error {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n <= 0 {
			return errors.New("accepted a positive number of bytes below 2 GiB")
		}
		*field(s) = int32(n)
		return nil
	}
}
