package mirror

// The Kafka client properties of a cluster's clients. Their values are
// read by internal/kafkaclient, the table every client in Tributary
// shares (security.protocol, sasl.* and ssl.* included); the mirror takes
// the keys of that table it has a use for, requires acks=all and
// enable.idempotence=true of its producers, and accepts the other Java
// client keys with a warning (ignoredClientKeys): it runs its own
// consumers without groups, so the group settings have nothing to set.

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/kafkaclient"
	"github.com/tributary-streams/tributary/internal/kgolog"
)

// clientKind is which of a cluster's clients a property is for.
type clientKind = kafkaclient.Kind

const (
	adminClient    = kafkaclient.Admin
	consumerClient = kafkaclient.Consumer
	producerClient = kafkaclient.Producer
)

// clientSettings is what a cluster's client properties resolve to for one
// kind of client.
type clientSettings struct{ kafkaclient.Settings }

// ignoredClientKeys are Java client properties that have no franz-go
// counterpart the mirror needs; they are accepted with a warning.
var ignoredClientKeys = []string{
	"auto.offset.reset", "enable.auto.commit", "auto.commit.interval.ms", "group.id", "group.instance.id",
	"session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms", "partition.assignment.strategy",
	"group.protocol", "group.remote.assignor",
	"key.deserializer", "value.deserializer", "key.serializer", "value.serializer", "partitioner.class",
	"interceptor.classes", "metric.reporters", "client.dns.lookup", "client.rack", "check.crcs",
	"send.buffer.bytes", "receive.buffer.bytes", "reconnect.backoff.ms", "reconnect.backoff.max.ms",
	"retries", "retry.backoff.max.ms", "max.in.flight.requests.per.connection", "max.block.ms",
	"max.request.size", "default.api.timeout.ms", "allow.auto.create.topics", "exclude.internal.topics",
	"socket.connection.setup.timeout.max.ms", "metrics.num.samples", "metrics.sample.window.ms",
	"metrics.recording.level", "transactional.id",
}

// producerRules are what the mirror needs of its producers beyond the
// values Kafka accepts.
var producerRules = map[string]func(v string) error{
	"acks": func(v string) error {
		if a := strings.ToLower(strings.TrimSpace(v)); a == "all" || a == "-1" {
			return nil
		}
		return fmt.Errorf("%q: the mirror writes a source position only after the target acknowledged the records with acks=all; accepted all or -1", v)
	},
	"enable.idempotence": func(v string) error {
		if strings.EqualFold(strings.TrimSpace(v), "true") {
			return nil
		}
		return errors.New("accepted only true: the mirror pipelines produce requests and relies on idempotence to keep each partition's order across retries")
	},
}

// isClientProperty reports whether the mirror honours a client property:
// a security property, or one of the shared table but bootstrap.servers
// (a cluster's own key, <alias>.bootstrap.servers) and the ignored ones.
func isClientProperty(key string) bool {
	if slices.Contains(kafkaclient.Keys(), key) {
		return true
	}
	_, ok := kafkaclient.Lookup(key)
	return ok && key != "bootstrap.servers" && !slices.Contains(ignoredClientKeys, key)
}

// clientPropertyKeys lists the properties the mirror honours.
func clientPropertyKeys() []string {
	var out []string
	for _, k := range append(kafkaclient.PropertyKeys(), kafkaclient.Keys()...) {
		if isClientProperty(k) {
			out = append(out, k)
		}
	}
	return out
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
	s := clientSettings{kafkaclient.Settings{Seeds: cl.BootstrapServers, IsolationLevel: "read_committed", MaxPollRecords: 10000, Acks: "all"}}
	own := map[clientKind]map[string]string{adminClient: cl.Admin, consumerClient: cl.Consumer, producerClient: cl.Producer}[kind]
	var errs []error
	for i, props := range []map[string]string{cl.Client, own} {
		prefix := "" // how the key was written: consumer.fetch.max.bytes
		if i == 1 {
			prefix = kind.String() + "."
		}
		for _, k := range sortedKeys(props) {
			v := props[k]
			if !isClientProperty(k) {
				continue
			}
			if p, ok := kafkaclient.Lookup(k); ok && !p.For(kind) {
				continue
			}
			if rule := producerRules[k]; rule != nil {
				if err := rule(v); err != nil {
					errs = append(errs, fmt.Errorf("%s%s=%q: %w", prefix, k, v, err))
					continue
				}
			}
			err := s.Set(k, v)
			var bad *kafkaclient.PropertyError
			if errors.As(err, &bad) {
				err = fmt.Errorf("%s=%q: accepted %s", k, v, bad.Accepted)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s%w", prefix, err))
			}
		}
	}
	if len(errs) == 0 {
		if err := s.Security.Validate(); err != nil {
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
	return append(s.CommonOpts(), kgo.WithLogger(kgolog.New(logger)))
}
