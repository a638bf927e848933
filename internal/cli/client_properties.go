package cli

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/kafkaclient"
)

// The Kafka client properties the CLI accepts (the security ones,
// security.protocol, sasl.* and ssl.*, are read by internal/kafkaclient,
// the builder every client in Tributary shares) in --command-config,
// --consumer.config / --producer.config, --consumer-property /
// --producer-property and profiles: the standard keys of Kafka's Java
// client that have a meaning here, with Kafka's names, defaults and value
// forms. A key that is not listed is refused naming it: silently ignoring,
// say, a misspelt security.protocol would connect in plaintext to a cluster
// the user meant to reach over TLS.
//
// A key that belongs to another kind of client (acks in an admin command's
// file) is accepted and has no effect, as Kafka's tools only warn about it:
// one client.properties file or profile usually serves every tool.

// clientKind says which clients a property applies to.
type clientKind uint8

const (
	forAdmin clientKind = 1 << iota
	forProducer
	forConsumer
	anyClient = forAdmin | forProducer | forConsumer
)

// clientProperty is one accepted key: the clients it applies to, what
// values it accepts (for messages) and how a value is checked and stored.
type clientProperty struct {
	kinds    clientKind
	accepted string
	set      func(s *clientSettings, v string) error
}

// producerSettings and consumerSettings hold what the console producer and
// consumer (or any other command building such a client) apply.
type producerSettings struct {
	acks            string // "all", "1", "0"; "" = the command's default
	idempotence     *bool
	linger          time.Duration
	batchBytes      int32
	maxRequestBytes int32
	compression     string
	deliveryTimeout time.Duration
	retries         *int
	maxInFlight     int
	bufferBytes     int64
}

type consumerSettings struct {
	groupID            string
	groupInstanceID    string
	isolationLevel     string // read_committed, read_uncommitted
	autoOffsetReset    string // earliest, latest, none
	enableAutoCommit   *bool
	autoCommitInterval time.Duration
	sessionTimeout     time.Duration
	heartbeatInterval  time.Duration
	maxPollInterval    time.Duration
	maxPollRecords     int
	fetchMinBytes      int32
	fetchMaxBytes      int32
	fetchMaxWait       time.Duration
	partitionMaxBytes  int32
	balancers          []kgo.GroupBalancer
	groupProtocol      string // classic, consumer
	remoteAssignor     string // uniform, range
	rack               string
}

var clientProperties = map[string]clientProperty{
	"bootstrap.servers": {anyClient, "host:port[,host:port...]", func(s *clientSettings, v string) error {
		seeds, err := parseSeeds(v)
		if err == nil {
			s.seeds = seeds
		}
		return err
	}},
	"client.id": {anyClient, "a non-empty string", func(s *clientSettings, v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New("must not be empty")
		}
		s.clientID = v
		return nil
	}},
	"request.timeout.ms":                 msProperty(anyClient, func(s *clientSettings) *time.Duration { return &s.requestTimeout }),
	"default.api.timeout.ms":             msProperty(forAdmin|forConsumer, func(s *clientSettings) *time.Duration { return &s.apiTimeout }),
	"retry.backoff.ms":                   msProperty(anyClient, func(s *clientSettings) *time.Duration { return &s.retryBackoff }),
	"metadata.max.age.ms":                msProperty(anyClient, func(s *clientSettings) *time.Duration { return &s.metadataMaxAge }),
	"connections.max.idle.ms":            msProperty(anyClient, func(s *clientSettings) *time.Duration { return &s.connIdle }),
	"socket.connection.setup.timeout.ms": msProperty(anyClient, func(s *clientSettings) *time.Duration { return &s.dialTimeout }),

	"acks": {forProducer, "all, -1, 1 or 0", func(s *clientSettings, v string) error {
		a, err := parseAcks(v)
		s.producer.acks = a
		return err
	}},
	"enable.idempotence": boolProperty(forProducer, func(s *clientSettings, b bool) { s.producer.idempotence = &b }),
	"linger.ms":          msProperty0(forProducer, func(s *clientSettings) *time.Duration { return &s.producer.linger }),
	"batch.size":         bytesProperty(forProducer, func(s *clientSettings, n int32) { s.producer.batchBytes = n }),
	"max.request.size":   bytesProperty(forProducer, func(s *clientSettings, n int32) { s.producer.maxRequestBytes = n }),
	"compression.type": {forProducer, "none, gzip, snappy, lz4 or zstd", func(s *clientSettings, v string) error {
		c := strings.ToLower(strings.TrimSpace(v))
		if !contains(codecValues, c) {
			return errors.New("unknown compression")
		}
		s.producer.compression = c
		return nil
	}},
	"delivery.timeout.ms": msProperty(forProducer, func(s *clientSettings) *time.Duration { return &s.producer.deliveryTimeout }),
	"retries": {forProducer, "a non-negative integer", func(s *clientSettings, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 {
			return errors.New("not a non-negative integer")
		}
		r := int(min(n, math.MaxInt32))
		s.producer.retries = &r
		return nil
	}},
	"max.in.flight.requests.per.connection": intProperty(forProducer, 1, math.MaxInt32, func(s *clientSettings, n int) { s.producer.maxInFlight = n }),
	"buffer.memory": {forProducer, "a positive number of bytes", func(s *clientSettings, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n <= 0 {
			return errors.New("not a positive number of bytes")
		}
		s.producer.bufferBytes = n
		return nil
	}},

	"group.id": {forConsumer, "a non-empty group id", func(s *clientSettings, v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New("must not be empty")
		}
		s.consumer.groupID = v
		return nil
	}},
	"group.instance.id": {forConsumer, "a non-empty static member id", func(s *clientSettings, v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New("must not be empty")
		}
		s.consumer.groupInstanceID = v
		return nil
	}},
	"isolation.level": {forConsumer, "read_committed or read_uncommitted", func(s *clientSettings, v string) error {
		l, err := parseIsolationLevel(v)
		s.consumer.isolationLevel = l
		return err
	}},
	"auto.offset.reset": {forConsumer, "earliest, latest or none", func(s *clientSettings, v string) error {
		r := strings.ToLower(strings.TrimSpace(v))
		if !contains([]string{"earliest", "latest", "none"}, r) {
			return errors.New("unknown reset policy")
		}
		s.consumer.autoOffsetReset = r
		return nil
	}},
	"enable.auto.commit":        boolProperty(forConsumer, func(s *clientSettings, b bool) { s.consumer.enableAutoCommit = &b }),
	"auto.commit.interval.ms":   msProperty(forConsumer, func(s *clientSettings) *time.Duration { return &s.consumer.autoCommitInterval }),
	"session.timeout.ms":        msProperty(forConsumer, func(s *clientSettings) *time.Duration { return &s.consumer.sessionTimeout }),
	"heartbeat.interval.ms":     msProperty(forConsumer, func(s *clientSettings) *time.Duration { return &s.consumer.heartbeatInterval }),
	"max.poll.interval.ms":      msProperty(forConsumer, func(s *clientSettings) *time.Duration { return &s.consumer.maxPollInterval }),
	"max.poll.records":          intProperty(forConsumer, 1, math.MaxInt32, func(s *clientSettings, n int) { s.consumer.maxPollRecords = n }),
	"fetch.min.bytes":           bytesProperty(forConsumer, func(s *clientSettings, n int32) { s.consumer.fetchMinBytes = n }),
	"fetch.max.bytes":           bytesProperty(forConsumer, func(s *clientSettings, n int32) { s.consumer.fetchMaxBytes = n }),
	"fetch.max.wait.ms":         msProperty(forConsumer, func(s *clientSettings) *time.Duration { return &s.consumer.fetchMaxWait }),
	"max.partition.fetch.bytes": bytesProperty(forConsumer, func(s *clientSettings, n int32) { s.consumer.partitionMaxBytes = n }),
	"partition.assignment.strategy": {forConsumer, "range, roundrobin, sticky, cooperative-sticky (or Kafka's assignor class names), comma-separated", func(s *clientSettings, v string) error {
		bs, err := parseBalancers(v)
		s.consumer.balancers = bs
		return err
	}},
	"group.protocol": {forConsumer, "classic or consumer", func(s *clientSettings, v string) error {
		p := strings.ToLower(strings.TrimSpace(v))
		if p != "classic" && p != "consumer" {
			return errors.New("unknown group protocol")
		}
		s.consumer.groupProtocol = p
		return nil
	}},
	"group.remote.assignor": {forConsumer, "uniform or range", func(s *clientSettings, v string) error {
		a := strings.ToLower(strings.TrimSpace(v))
		if a != "uniform" && a != "range" {
			return errors.New("unknown assignor")
		}
		s.consumer.remoteAssignor = a
		return nil
	}},
	"client.rack": {forConsumer, "a rack name", func(s *clientSettings, v string) error {
		s.consumer.rack = strings.TrimSpace(v)
		return nil
	}},
}

// supportedClientProperties lists every accepted key, sorted.
func supportedClientProperties() []string {
	keys := append([]string(nil), kafkaclient.Keys()...)
	for k := range clientProperties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func msProperty(kinds clientKind, field func(*clientSettings) *time.Duration) clientProperty {
	return durationMsProperty(kinds, 1, field)
}

// msProperty0 is msProperty that also accepts 0 (linger.ms=0: send at once).
func msProperty0(kinds clientKind, field func(*clientSettings) *time.Duration) clientProperty {
	return durationMsProperty(kinds, 0, field)
}

func durationMsProperty(kinds clientKind, min int64, field func(*clientSettings) *time.Duration) clientProperty {
	what := "a positive number of milliseconds"
	if min == 0 {
		what = "a non-negative number of milliseconds"
	}
	return clientProperty{kinds, what, func(s *clientSettings, v string) error {
		ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || ms < min || ms > math.MaxInt32 {
			return errors.New("out of range")
		}
		*field(s) = time.Duration(ms) * time.Millisecond
		return nil
	}}
}

func bytesProperty(kinds clientKind, set func(*clientSettings, int32)) clientProperty {
	return clientProperty{kinds, "a positive number of bytes up to 2147483647", func(s *clientSettings, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil || n <= 0 {
			return errors.New("out of range")
		}
		set(s, int32(n))
		return nil
	}}
}

func intProperty(kinds clientKind, lo, hi int, set func(*clientSettings, int)) clientProperty {
	return clientProperty{kinds, fmt.Sprintf("an integer %d..%d", lo, hi), func(s *clientSettings, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			return errors.New("out of range")
		}
		set(s, n)
		return nil
	}}
}

func boolProperty(kinds clientKind, set func(*clientSettings, bool)) clientProperty {
	return clientProperty{kinds, "true or false", func(s *clientSettings, v string) error {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			set(s, true)
		case "false":
			set(s, false)
		default:
			return errors.New("not a boolean")
		}
		return nil
	}}
}

// parseAcks reads Kafka's acks forms; -1 and all are the same.
func parseAcks(v string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "all", "-1":
		return "all", nil
	case "1":
		return "1", nil
	case "0":
		return "0", nil
	}
	return "", errors.New("unknown acks")
}

func parseIsolationLevel(v string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(v))
	if l != "read_committed" && l != "read_uncommitted" {
		return "", errors.New("unknown isolation level")
	}
	return l, nil
}

// parseBalancers reads partition.assignment.strategy: short names or the
// Java assignor classes Kafka's docs show.
func parseBalancers(v string) ([]kgo.GroupBalancer, error) {
	var out []kgo.GroupBalancer
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		switch strings.ToLower(name) {
		case "range", "rangeassignor":
			out = append(out, kgo.RangeBalancer())
		case "roundrobin", "roundrobinassignor":
			out = append(out, kgo.RoundRobinBalancer())
		case "sticky", "stickyassignor":
			out = append(out, kgo.StickyBalancer())
		case "cooperative-sticky", "cooperativestickyassignor":
			out = append(out, kgo.CooperativeStickyBalancer())
		default:
			return nil, fmt.Errorf("unknown assignor %q", name)
		}
	}
	return out, nil
}
