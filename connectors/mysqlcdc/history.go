package mysqlcdc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connectors/mysqlcdc/internal/ddl"
	"github.com/tributary-streams/tributary/internal/kafkaclient"
)

// The schema history: every DDL statement the connector applied, with the
// table definitions it produced and the binlog position after it, in a
// single-partition topic (schema.history.internal.kafka.topic). On restart
// the connector replays the records its committed offset covers, so rows
// read after that offset decode with the definitions of their own time.
//
// A record is written (and acknowledged by every in-sync replica) before
// any change that depends on it is handed to the runtime, so a committed
// offset is never ahead of the history.

// historyRecord is one record of the history topic. Its JSON follows
// Debezium's layout (source, position, ts_ms, databaseName, ddl,
// tableChanges); reset marks the start of a snapshot's definitions.
type historyRecord struct {
	Source       map[string]string `json:"source"`
	Position     map[string]any    `json:"position"`
	TsMs         int64             `json:"ts_ms"`
	DatabaseName string            `json:"databaseName,omitempty"`
	DDL          string            `json:"ddl,omitempty"`
	Reset        bool              `json:"reset,omitempty"`
	TableChanges []ddl.Change      `json:"tableChanges"`
}

func newHistoryRecord(server string, pos position, sc *schemaChange) historyRecord {
	return historyRecord{
		Source:       map[string]string{"server": server},
		Position:     pos.offset(0, 0),
		TsMs:         time.Now().UnixMilli(),
		DatabaseName: sc.db,
		DDL:          sc.ddl,
		Reset:        sc.reset,
		TableChanges: sc.changes,
	}
}

// replayHistory rebuilds the table definitions as of upTo from records in
// the order written: a record counts when upTo covers its position, and a
// reset record starts over.
func replayHistory(records []historyRecord, upTo position, flavor, serverCharset string) (*ddl.Schemas, int, error) {
	s := ddl.NewSchemas(serverCharset)
	applied := 0
	for i, r := range records {
		pos, err := positionFromOffset(r.Position)
		if err != nil {
			return nil, 0, fmt.Errorf("mysqlcdc: schema history record %d: %w", i, err)
		}
		if !upTo.covers(pos, flavor) {
			continue
		}
		if r.Reset {
			s = ddl.NewSchemas(serverCharset)
		}
		for _, c := range r.TableChanges {
			s.Replay(c)
		}
		applied++
	}
	return s, applied, nil
}

// kafkaHistory is the history topic.
type kafkaHistory struct {
	// base are the options of every client of the history: brokers and
	// security.
	base   []kgo.Opt
	client *kgo.Client
	admin  *kadm.Client
	topic  string
	server string // topic.prefix: the source.server of the records
	log    *slog.Logger
	// created: ensure made the topic, so it is empty.
	created bool
}

// ErrHistory marks a schema history topic that cannot be used.
var ErrHistory = errors.New("mysqlcdc: schema history")

func openKafkaHistory(bootstrap []string, security map[string]string, topic, server string, log *slog.Logger) (*kafkaHistory, error) {
	sec, err := kafkaclient.Opts(security) // checked by ParseConfig
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHistory, err)
	}
	base := append(sec, kgo.SeedBrokers(bootstrap...))
	cl, err := kgo.NewClient(append(base,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		// Topics the connector creates must show in metadata at once.
		kgo.MetadataMinAge(100*time.Millisecond),
	)...)
	if err != nil {
		return nil, fmt.Errorf("%w: client for %v: %v", ErrHistory, bootstrap, err)
	}
	return &kafkaHistory{base: base, client: cl, admin: kadm.NewClient(cl), topic: topic, server: server, log: log}, nil
}

func (h *kafkaHistory) close() { h.client.Close() }

// ensure creates the topic (one partition, kept forever) if it is
// missing, and refuses one with more partitions: the history's order is
// the order of one partition.
func (h *kafkaHistory) ensure(ctx context.Context) error {
	details, err := h.admin.ListTopics(ctx, h.topic)
	if err != nil {
		return fmt.Errorf("%w: describe topic %s: %v", ErrHistory, h.topic, err)
	}
	if d, ok := details[h.topic]; ok && d.Err == nil {
		if n := len(d.Partitions); n != 1 {
			return fmt.Errorf("%w: topic %s has %d partitions; the history needs exactly one (delete and let the connector create it, or name another schema.history.internal.kafka.topic)", ErrHistory, h.topic, n)
		}
		return nil
	}
	retention := "-1"
	resp, err := h.admin.CreateTopic(ctx, 1, -1, map[string]*string{
		"cleanup.policy": ptr("delete"), "retention.ms": &retention, "retention.bytes": &retention,
	}, h.topic)
	if err != nil {
		return fmt.Errorf("%w: create topic %s: %v", ErrHistory, h.topic, err)
	}
	if resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("%w: create topic %s: %v", ErrHistory, h.topic, resp.Err)
	}
	h.created = resp.Err == nil
	return nil
}

func ptr[T any](v T) *T { return &v }

// record appends one record and waits for the broker's acknowledgement.
func (h *kafkaHistory) record(ctx context.Context, pos position, sc *schemaChange) error {
	b, err := json.Marshal(newHistoryRecord(h.server, pos, sc))
	if err != nil {
		return fmt.Errorf("%w: encode record: %v", ErrHistory, err)
	}
	res := h.client.ProduceSync(ctx, &kgo.Record{Topic: h.topic, Partition: 0, Value: b})
	if err := res.FirstErr(); err != nil {
		return fmt.Errorf("%w: write to %s: %v", ErrHistory, h.topic, err)
	}
	return nil
}

// load reads every record of this server from the topic.
func (h *kafkaHistory) load(ctx context.Context) ([]historyRecord, error) {
	if h.created {
		return nil, nil
	}
	// A topic a moment old may not show in metadata yet: retry briefly.
	var end kadm.ListedOffset
	for attempt := 0; ; attempt++ {
		ends, err := h.admin.ListEndOffsets(ctx, h.topic)
		if err != nil {
			return nil, fmt.Errorf("%w: read end of %s: %v", ErrHistory, h.topic, err)
		}
		var ok bool
		if end, ok = ends.Lookup(h.topic, 0); ok && end.Err == nil {
			break
		}
		if attempt == 50 || ctx.Err() != nil {
			return nil, fmt.Errorf("%w: topic %s has no readable partition 0: %v", ErrHistory, h.topic, end.Err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if end.Offset == 0 {
		return nil, nil
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), h.base...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{h.topic: {0: kgo.NewOffset().AtStart()}}),
	)...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHistory, err)
	}
	defer cl.Close()
	var out []historyRecord
	for {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%w: read %s: %v", ErrHistory, h.topic, err)
		}
		for _, fe := range fetches.Errors() {
			return nil, fmt.Errorf("%w: read %s: %v", ErrHistory, h.topic, fe.Err)
		}
		done := false
		fetches.EachRecord(func(r *kgo.Record) {
			if r.Offset >= end.Offset-1 {
				done = true
			}
			var hr historyRecord
			if err := json.Unmarshal(r.Value, &hr); err != nil {
				h.log.Warn("skipping a schema history record that is not JSON", "topic", h.topic, "offset", r.Offset, "error", err)
				return
			}
			if hr.Source["server"] != h.server {
				return
			}
			out = append(out, hr)
		})
		if done {
			return out, nil
		}
	}
}
