package kafkaclient

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Settings is what client properties resolve to, built with Set and turned
// into franz-go options with CommonOpts, ProducerOpts, ConsumerOpts and
// GroupOpts. A zero field (a nil pointer) is a property not given: the
// option is left at franz-go's default. A caller with defaults of its own
// sets the fields before the properties.
type Settings struct {
	Seeds    []string // bootstrap.servers
	ClientID string   // client.id
	Security Security // security.protocol, sasl.*, ssl.*

	RequestTimeout time.Duration // request.timeout.ms
	APITimeout     time.Duration // default.api.timeout.ms: no franz-go option; admin callers apply it
	RetryBackoff   time.Duration // retry.backoff.ms
	MetadataMaxAge time.Duration // metadata.max.age.ms
	ConnIdle       time.Duration // connections.max.idle.ms
	DialTimeout    time.Duration // socket.connection.setup.timeout.ms

	// Producers.
	Acks            string         // acks: all, 1 or 0
	Idempotence     *bool          // enable.idempotence
	Linger          *time.Duration // linger.ms (0 sends at once)
	BatchMaxBytes   int32          // batch.size
	MaxRequestBytes int32          // max.request.size
	Compression     string         // compression.type: none, gzip, snappy, lz4 or zstd
	DeliveryTimeout time.Duration  // delivery.timeout.ms
	TxnTimeout      time.Duration  // transaction.timeout.ms
	Retries         *int           // retries
	MaxInFlight     int            // max.in.flight.requests.per.connection
	BufferMemory    int64          // buffer.memory

	// Consumers.
	GroupID            string              // group.id: callers join the group
	GroupInstanceID    string              // group.instance.id
	IsolationLevel     string              // isolation.level: read_committed or read_uncommitted
	AutoOffsetReset    string              // auto.offset.reset: earliest, latest or none
	EnableAutoCommit   *bool               // enable.auto.commit: callers apply it
	AutoCommitInterval time.Duration       // auto.commit.interval.ms
	SessionTimeout     time.Duration       // session.timeout.ms
	HeartbeatInterval  time.Duration       // heartbeat.interval.ms
	MaxPollInterval    time.Duration       // max.poll.interval.ms
	MaxPollRecords     int                 // max.poll.records: callers poll that many
	FetchMinBytes      int32               // fetch.min.bytes
	FetchMaxBytes      int32               // fetch.max.bytes
	FetchMaxWait       time.Duration       // fetch.max.wait.ms
	PartitionMaxBytes  int32               // max.partition.fetch.bytes
	Balancers          []kgo.GroupBalancer // partition.assignment.strategy
	GroupProtocol      string              // group.protocol: classic or consumer
	RemoteAssignor     string              // group.remote.assignor: uniform or range
	Rack               string              // client.rack
}

// codecs are compression.type's values.
var codecs = map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(),
	"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}

// Codec is the franz-go codec of a compression.type value.
func Codec(name string) (kgo.CompressionCodec, bool) {
	c, ok := codecs[name]
	return c, ok
}

// CommonOpts are the options of every kind of client: the bootstrap
// servers, security, client id and connection timings. The security
// settings must have passed Validate (a caller's check of the settings);
// options they could not give are left out.
func (s Settings) CommonOpts() []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(s.Seeds...)}
	sec, _ := s.Security.Opts()
	opts = append(opts, sec...)
	if s.ClientID != "" {
		opts = append(opts, kgo.ClientID(s.ClientID))
	}
	if s.RequestTimeout > 0 {
		opts = append(opts, kgo.RequestTimeoutOverhead(s.RequestTimeout))
	}
	if d := s.RetryBackoff; d > 0 {
		opts = append(opts, kgo.RetryBackoffFn(func(int) time.Duration { return d }))
	}
	if s.MetadataMaxAge > 0 {
		opts = append(opts, kgo.MetadataMaxAge(s.MetadataMaxAge))
	}
	if s.ConnIdle > 0 {
		opts = append(opts, kgo.ConnIdleTimeout(s.ConnIdle))
	}
	if s.DialTimeout > 0 {
		opts = append(opts, kgo.DialTimeout(s.DialTimeout))
	}
	return opts
}

// ProducerOpts are the producer properties as options. acks=1 and acks=0
// turn idempotence off, as in Kafka when enable.idempotence is not given
// (AcksConflict reports it given).
func (s Settings) ProducerOpts() []kgo.Opt {
	var opts []kgo.Opt
	switch s.Acks {
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	case "all":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	}
	if s.Idempotence != nil && !*s.Idempotence {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if s.Linger != nil {
		opts = append(opts, kgo.ProducerLinger(*s.Linger))
	}
	if s.BatchMaxBytes > 0 {
		opts = append(opts, kgo.ProducerBatchMaxBytes(s.BatchMaxBytes))
	}
	if s.MaxRequestBytes > 0 {
		opts = append(opts, kgo.BrokerMaxWriteBytes(s.MaxRequestBytes))
	}
	if c, ok := Codec(s.Compression); ok {
		opts = append(opts, kgo.ProducerBatchCompression(c))
	}
	if s.DeliveryTimeout > 0 {
		opts = append(opts, kgo.RecordDeliveryTimeout(s.DeliveryTimeout))
	}
	if s.TxnTimeout > 0 {
		opts = append(opts, kgo.TransactionTimeout(s.TxnTimeout))
	}
	if s.Retries != nil {
		opts = append(opts, kgo.RecordRetries(*s.Retries))
	}
	// An idempotent franz-go producer keeps up to 5 requests in flight, as
	// Kafka's does, and refuses the option.
	if s.MaxInFlight > 0 && !s.Idempotent() {
		opts = append(opts, kgo.MaxProduceRequestsInflightPerBroker(s.MaxInFlight))
	}
	if s.BufferMemory > 0 {
		opts = append(opts, kgo.MaxBufferedBytes(int(min(s.BufferMemory, int64(^uint(0)>>1)))))
	}
	return opts
}

// ConsumerOpts are the fetch-level consumer properties as options: what
// a consumer of assigned partitions and a group member both take.
func (s Settings) ConsumerOpts() []kgo.Opt {
	var opts []kgo.Opt
	switch s.IsolationLevel {
	case "read_committed":
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	case "read_uncommitted":
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
	}
	switch s.AutoOffsetReset {
	case "earliest":
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	case "latest":
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
	case "none":
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NoResetOffset()))
	}
	if s.FetchMinBytes > 0 {
		opts = append(opts, kgo.FetchMinBytes(s.FetchMinBytes))
	}
	if s.FetchMaxBytes > 0 {
		opts = append(opts, kgo.FetchMaxBytes(s.FetchMaxBytes))
	}
	if s.FetchMaxWait > 0 {
		opts = append(opts, kgo.FetchMaxWait(s.FetchMaxWait))
	}
	if s.PartitionMaxBytes > 0 {
		opts = append(opts, kgo.FetchMaxPartitionBytes(s.PartitionMaxBytes))
	}
	if s.Rack != "" {
		opts = append(opts, kgo.Rack(s.Rack))
	}
	return opts
}

// GroupOpts are the group membership properties as options, for a
// consumer that joins a group (the caller gives kgo.ConsumerGroup). Unset,
// the timings are franz-go's defaults, which are the Java consumer's:
// session.timeout.ms 45 s, heartbeat.interval.ms 3 s.
func (s Settings) GroupOpts() []kgo.Opt {
	var opts []kgo.Opt
	if s.GroupInstanceID != "" {
		opts = append(opts, kgo.InstanceID(s.GroupInstanceID))
	}
	if s.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(s.SessionTimeout))
	}
	if s.HeartbeatInterval > 0 {
		opts = append(opts, kgo.HeartbeatInterval(s.HeartbeatInterval))
	}
	if s.MaxPollInterval > 0 {
		opts = append(opts, kgo.RebalanceTimeout(s.MaxPollInterval))
	}
	if s.AutoCommitInterval > 0 {
		opts = append(opts, kgo.AutoCommitInterval(s.AutoCommitInterval))
	}
	switch {
	case s.GroupProtocol == "consumer":
		// KIP-848: the coordinator assigns; franz-go names the server
		// assignor by the balancer it is given.
		b := kgo.StickyBalancer() // Kafka's default remote assignor, uniform
		if s.RemoteAssignor == "range" {
			b = kgo.RangeBalancer()
		}
		opts = append(opts, kgo.ServerSideBalancer(), kgo.Balancers(b))
	case len(s.Balancers) > 0:
		opts = append(opts, kgo.Balancers(s.Balancers...))
	}
	return opts
}
