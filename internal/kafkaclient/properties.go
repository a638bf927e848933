package kafkaclient

// The Kafka client properties other than security that Tributary's clients
// understand, with the Java client's names, value forms and bounds (an INT
// property at most 2147483647, a LONG one as long as a time.Duration
// holds): one table for the CLI, connect workers and mirror flows. Each of
// them decides on top which of the keys it takes, which it ignores with a
// warning and which it refuses, and words its own messages from
// PropertyError; the values are read here, one way.

import (
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Kind is a set of kinds of client: a property is for one or more.
type Kind uint8

const (
	Admin Kind = 1 << iota
	Producer
	Consumer
	AnyClient = Admin | Producer | Consumer
)

// String names a single kind as Kafka's prefixes do: admin, producer,
// consumer.
func (k Kind) String() string {
	var names []string
	for _, one := range []struct {
		k    Kind
		name string
	}{{Admin, "admin"}, {Producer, "producer"}, {Consumer, "consumer"}} {
		if k&one.k != 0 {
			names = append(names, one.name)
		}
	}
	return strings.Join(names, "|")
}

// Property is one client property of the table.
type Property struct {
	Key   string
	Kinds Kind // the clients it applies to
	// Accepted says in words what values are accepted, for messages:
	// "a positive number of milliseconds".
	Accepted string
	set      func(s *Settings, v string) bool
}

// For reports whether the property applies to a client of kind k.
func (p Property) For(k Kind) bool { return p.Kinds&k != 0 }

// PropertyError is a value a property does not accept. Its message is
// "<key> must be <accepted>, got <value>"; callers that word messages
// their own way use the fields.
type PropertyError struct {
	Key, Value, Accepted string
}

func (e *PropertyError) Error() string {
	return fmt.Sprintf("%s must be %s, got %q", e.Key, e.Accepted, Show(e.Key, e.Value))
}

// Lookup returns the property named key; ok is false for a key the table
// does not have, security keys included (see Keys).
func Lookup(key string) (Property, bool) {
	p, ok := properties[key]
	p.Key = key
	return p, ok
}

// PropertyKeys lists the table's keys, sorted (the security keys are
// Keys).
func PropertyKeys() []string {
	out := make([]string, 0, len(properties))
	for k := range properties {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Set applies one property, a security key (Keys) or one of the table's
// (PropertyKeys), whichever kind of client it is for. A bad value is an
// error naming the key and what is accepted (a *PropertyError for the
// table's keys); a secret's value is never in it.
func (s *Settings) Set(key, value string) error {
	if _, ok := keys[key]; ok {
		return s.Security.Set(key, value)
	}
	p, ok := Lookup(key)
	if !ok {
		return fmt.Errorf("%s is not a supported client property", key)
	}
	if !p.set(s, value) {
		return &PropertyError{Key: key, Value: value, Accepted: p.Accepted}
	}
	return nil
}

// AcksConflict reports whether the settings ask for an idempotent producer
// (enable.idempotence=true given) with acks other than all, which Kafka's
// producer refuses. Unset, idempotence follows acks, as in Kafka.
func (s Settings) AcksConflict() bool {
	return s.Idempotence != nil && *s.Idempotence && (s.Acks == "1" || s.Acks == "0")
}

// Idempotent reports whether a producer with the settings writes
// idempotently: acks=all (or unset) and enable.idempotence not false.
func (s Settings) Idempotent() bool {
	return (s.Acks == "" || s.Acks == "all") && (s.Idempotence == nil || *s.Idempotence)
}

// Bounds of Kafka's INT and LONG millisecond properties.
const (
	maxInt  = math.MaxInt32
	maxLong = math.MaxInt64 / int64(time.Millisecond)
)

var properties = map[string]Property{
	"bootstrap.servers": {Kinds: AnyClient, Accepted: "host:port[,host:port...]", set: func(s *Settings, v string) bool {
		seeds, err := ParseSeeds(v)
		if err == nil {
			s.Seeds = seeds
		}
		return err == nil
	}},
	"client.id":                          nonEmpty(AnyClient, "a non-empty string", func(s *Settings, v string) { s.ClientID = v }),
	"request.timeout.ms":                 ms(AnyClient, 1, maxInt, func(s *Settings, d time.Duration) { s.RequestTimeout = d }),
	"default.api.timeout.ms":             ms(Admin|Consumer, 1, maxInt, func(s *Settings, d time.Duration) { s.APITimeout = d }),
	"retry.backoff.ms":                   ms(AnyClient, 1, maxLong, func(s *Settings, d time.Duration) { s.RetryBackoff = d }),
	"metadata.max.age.ms":                ms(AnyClient, 1, maxLong, func(s *Settings, d time.Duration) { s.MetadataMaxAge = d }),
	"connections.max.idle.ms":            ms(AnyClient, 1, maxLong, func(s *Settings, d time.Duration) { s.ConnIdle = d }),
	"socket.connection.setup.timeout.ms": ms(AnyClient, 1, maxLong, func(s *Settings, d time.Duration) { s.DialTimeout = d }),

	"acks": oneOf(Producer, "all, -1, 1 or 0", []string{"all", "-1", "1", "0"}, func(s *Settings, v string) {
		if v == "-1" {
			v = "all"
		}
		s.Acks = v
	}),
	"enable.idempotence":                    boolean(Producer, func(s *Settings, b bool) { s.Idempotence = &b }),
	"linger.ms":                             ms(Producer, 0, maxLong, func(s *Settings, d time.Duration) { s.Linger = &d }),
	"batch.size":                            bytes(Producer, func(s *Settings, n int32) { s.BatchMaxBytes = n }),
	"max.request.size":                      bytes(Producer, func(s *Settings, n int32) { s.MaxRequestBytes = n }),
	"compression.type":                      oneOf(Producer, "none, gzip, snappy, lz4, zstd", []string{"none", "gzip", "snappy", "lz4", "zstd"}, func(s *Settings, v string) { s.Compression = v }),
	"delivery.timeout.ms":                   ms(Producer, 1, maxInt, func(s *Settings, d time.Duration) { s.DeliveryTimeout = d }),
	"transaction.timeout.ms":                ms(Producer, 1, maxInt, func(s *Settings, d time.Duration) { s.TxnTimeout = d }),
	"retries":                               integer(Producer, "a non-negative integer", 0, maxInt, func(s *Settings, n int) { s.Retries = &n }),
	"max.in.flight.requests.per.connection": integer(Producer, "an integer 1..2147483647", 1, maxInt, func(s *Settings, n int) { s.MaxInFlight = n }),
	"buffer.memory": {Kinds: Producer, Accepted: "a positive number of bytes", set: func(s *Settings, v string) bool {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n <= 0 {
			return false
		}
		s.BufferMemory = n
		return true
	}},

	"group.id":                  nonEmpty(Consumer, "a non-empty group id", func(s *Settings, v string) { s.GroupID = v }),
	"group.instance.id":         nonEmpty(Consumer, "a non-empty static member id", func(s *Settings, v string) { s.GroupInstanceID = v }),
	"isolation.level":           oneOf(Consumer, "read_committed or read_uncommitted", []string{"read_committed", "read_uncommitted"}, func(s *Settings, v string) { s.IsolationLevel = v }),
	"auto.offset.reset":         oneOf(Consumer, "earliest, latest or none", []string{"earliest", "latest", "none"}, func(s *Settings, v string) { s.AutoOffsetReset = v }),
	"enable.auto.commit":        boolean(Consumer, func(s *Settings, b bool) { s.EnableAutoCommit = &b }),
	"auto.commit.interval.ms":   ms(Consumer, 1, maxInt, func(s *Settings, d time.Duration) { s.AutoCommitInterval = d }),
	"session.timeout.ms":        ms(Consumer, 1, maxInt, func(s *Settings, d time.Duration) { s.SessionTimeout = d }),
	"heartbeat.interval.ms":     ms(Consumer, 1, maxInt, func(s *Settings, d time.Duration) { s.HeartbeatInterval = d }),
	"max.poll.interval.ms":      ms(Consumer, 1, maxInt, func(s *Settings, d time.Duration) { s.MaxPollInterval = d }),
	"max.poll.records":          integer(Consumer, "a positive number of records up to 2147483647", 1, maxInt, func(s *Settings, n int) { s.MaxPollRecords = n }),
	"fetch.min.bytes":           bytes(Consumer, func(s *Settings, n int32) { s.FetchMinBytes = n }),
	"fetch.max.bytes":           bytes(Consumer, func(s *Settings, n int32) { s.FetchMaxBytes = n }),
	"fetch.max.wait.ms":         ms(Consumer, 1, maxInt, func(s *Settings, d time.Duration) { s.FetchMaxWait = d }),
	"max.partition.fetch.bytes": bytes(Consumer, func(s *Settings, n int32) { s.PartitionMaxBytes = n }),
	"partition.assignment.strategy": {Kinds: Consumer, Accepted: "range, roundrobin, sticky, cooperative-sticky (or Kafka's assignor class names), comma-separated",
		set: func(s *Settings, v string) bool {
			bs, err := parseBalancers(v)
			s.Balancers = bs
			return err == nil
		}},
	"group.protocol":        oneOf(Consumer, "classic or consumer", []string{"classic", "consumer"}, func(s *Settings, v string) { s.GroupProtocol = v }),
	"group.remote.assignor": oneOf(Consumer, "uniform or range", []string{"uniform", "range"}, func(s *Settings, v string) { s.RemoteAssignor = v }),
	"client.rack": {Kinds: Consumer, Accepted: "a rack name", set: func(s *Settings, v string) bool {
		s.Rack = strings.TrimSpace(v)
		return true
	}},
}

// Values are trimmed, as Kafka trims its string and number properties.

func ms(kinds Kind, lo, hi int64, set func(*Settings, time.Duration)) Property {
	what := "a positive number of milliseconds"
	if lo == 0 {
		what = "a non-negative number of milliseconds"
	}
	return Property{Kinds: kinds, Accepted: what, set: func(s *Settings, v string) bool {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < lo || n > hi {
			return false
		}
		set(s, time.Duration(n)*time.Millisecond)
		return true
	}}
}

func bytes(kinds Kind, set func(*Settings, int32)) Property {
	return Property{Kinds: kinds, Accepted: "a positive number of bytes up to 2147483647", set: func(s *Settings, v string) bool {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil || n <= 0 {
			return false
		}
		set(s, int32(n))
		return true
	}}
}

func integer(kinds Kind, what string, lo, hi int, set func(*Settings, int)) Property {
	return Property{Kinds: kinds, Accepted: what, set: func(s *Settings, v string) bool {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			return false
		}
		set(s, n)
		return true
	}}
}

// boolean reads Kafka's BOOLEAN: true or false, in any case.
func boolean(kinds Kind, set func(*Settings, bool)) Property {
	return Property{Kinds: kinds, Accepted: "true or false", set: func(s *Settings, v string) bool {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			set(s, true)
		case "false":
			set(s, false)
		default:
			return false
		}
		return true
	}}
}

func nonEmpty(kinds Kind, what string, set func(*Settings, string)) Property {
	return Property{Kinds: kinds, Accepted: what, set: func(s *Settings, v string) bool {
		v = strings.TrimSpace(v)
		if v == "" {
			return false
		}
		set(s, v)
		return true
	}}
}

// oneOf reads one of accepted, in any case; set gets it in lower case.
func oneOf(kinds Kind, what string, accepted []string, set func(*Settings, string)) Property {
	return Property{Kinds: kinds, Accepted: what, set: func(s *Settings, v string) bool {
		v = strings.ToLower(strings.TrimSpace(v))
		if !slices.Contains(accepted, v) {
			return false
		}
		set(s, v)
		return true
	}}
}

// ParseSeeds reads bootstrap.servers: host:port[,host:port...], empty
// entries skipped, at least one.
func ParseSeeds(list string) ([]string, error) {
	var seeds []string
	for _, seed := range strings.Split(list, ",") {
		seed = strings.TrimSpace(seed)
		if seed == "" {
			continue
		}
		host, port, err := net.SplitHostPort(seed)
		if err != nil || host == "" || port == "" {
			return nil, fmt.Errorf("entry %q must be host:port", seed)
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("entry %q has an invalid port: want 1-65535", seed)
		}
		seeds = append(seeds, seed)
	}
	if len(seeds) == 0 {
		return nil, errors.New("no host:port given")
	}
	return seeds, nil
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
