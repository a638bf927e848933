package broker

// The topic registry: names, ids, partition counts and config overrides, kept
// in <data-dir>/topics.json (rewritten atomically on every change), and the
// open partition logs, one directory each: <data-dir>/<topic>-<partition>.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/log"
	"github.com/tributary-streams/tributary/internal/fsutil"
)

// Sentinels for topic operations, mapped to Kafka error codes by handlers.
var (
	ErrTopicNotFound      = errors.New("topic not found")
	ErrTopicExists        = errors.New("topic already exists")
	ErrInvalidTopic       = errors.New("invalid topic name")
	ErrInvalidPartitions  = errors.New("invalid partition count")
	ErrInvalidReplication = errors.New("invalid replication factor")
)

type topic struct {
	name     string
	id       [16]byte
	internal bool

	// configs holds the overrides; settings is derived from configs and the
	// broker defaults. Both are replaced whole under topics.mu and read
	// without it through settings.
	configs  map[string]string
	settings atomic.Pointer[topicSettings]

	// partitions is copy-on-write: CreatePartitions swaps in a longer slice.
	partitions atomic.Pointer[[]*partition]

	// deleted is set by DeleteTopics before it wakes the partitions'
	// waiters, so a fetch that resolved the topic earlier answers
	// UNKNOWN_TOPIC_OR_PARTITION instead of waiting again.
	deleted atomic.Bool
}

// partition returns partition i, or nil when it does not exist (or t is
// nil: an unknown topic).
func (t *topic) partition(i int32) *partition {
	if t == nil {
		return nil
	}
	ps := *t.partitions.Load()
	if i < 0 || int(i) >= len(ps) {
		return nil
	}
	return ps[i]
}

func (t *topic) numPartitions() int32 { return int32(len(*t.partitions.Load())) }

// topics is the registry. mu guards the maps and the topics.json file; the
// hot path (produce/fetch) takes only the read lock for a map lookup.
type topics struct {
	b      *Broker
	mu     sync.RWMutex
	byName map[string]*topic
	byID   map[[16]byte]*topic
}

type topicRecord struct {
	Name       string            `json:"name"`
	ID         string            `json:"id"`
	Partitions int32             `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
}

// settingsOf derives a topic's settings from its overrides and the broker
// defaults. Internal topics are never fsynced per append: they are views of
// coordinator state, which is durable on its own (see internal_topics.go).
func (b *Broker) settingsOf(t *topic, configs map[string]string) topicSettings {
	return parseTopicSettings(configs, b.defaults(), b.cfg.FsyncAlways && !t.internal)
}

func (b *Broker) topicsFile() string { return filepath.Join(b.cfg.DataDir, "topics.json") }

func partitionDir(dataDir, topic string, p int32) string {
	return filepath.Join(dataDir, topic+"-"+strconv.Itoa(int(p)))
}

func (b *Broker) loadTopics() error {
	b.topics = &topics{b: b, byName: map[string]*topic{}, byID: map[[16]byte]*topic{}}
	raw, err := os.ReadFile(b.topicsFile())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read topic metadata: %w", err)
	}
	var recs []topicRecord
	if err := json.Unmarshal(raw, &recs); err != nil {
		return fmt.Errorf("parse %s: %w", b.topicsFile(), err)
	}
	for _, r := range recs {
		idb, err := hex.DecodeString(r.ID)
		if err != nil || len(idb) != 16 {
			return fmt.Errorf("%s: topic %q has a bad id %q", b.topicsFile(), r.Name, r.ID)
		}
		t := &topic{name: r.Name, configs: r.Configs, internal: isInternalTopic(r.Name)}
		copy(t.id[:], idb)
		if t.configs == nil {
			t.configs = map[string]string{}
		}
		s := b.settingsOf(t, t.configs)
		t.settings.Store(&s)
		ps := make([]*partition, 0, r.Partitions)
		for i := int32(0); i < r.Partitions; i++ {
			p, err := b.openPartition(t, i)
			if err != nil {
				return err
			}
			ps = append(ps, p)
		}
		t.partitions.Store(&ps)
		b.topics.byName[t.name] = t
		b.topics.byID[t.id] = t
	}
	return nil
}

// saveLocked rewrites topics.json atomically. Callers hold mu.
func (ts *topics) saveLocked() error {
	recs := make([]topicRecord, 0, len(ts.byName))
	for _, t := range ts.byName {
		recs = append(recs, topicRecord{Name: t.name, ID: hex.EncodeToString(t.id[:]), Partitions: t.numPartitions(), Configs: t.configs})
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Name < recs[j].Name })
	raw, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(ts.b.topicsFile(), raw)
}

func (ts *topics) get(name string) *topic {
	ts.mu.RLock()
	t := ts.byName[name]
	ts.mu.RUnlock()
	return t
}

func (ts *topics) getByID(id [16]byte) *topic {
	ts.mu.RLock()
	t := ts.byID[id]
	ts.mu.RUnlock()
	return t
}

// list returns the topics sorted by name.
func (ts *topics) list() []*topic {
	ts.mu.RLock()
	out := make([]*topic, 0, len(ts.byName))
	for _, t := range ts.byName {
		out = append(out, t)
	}
	ts.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// validateTopicName follows Kafka: 1..249 chars of [a-zA-Z0-9._-], not "." or "..".
func validateTopicName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: the name is empty", ErrInvalidTopic)
	}
	if name == "." || name == ".." {
		return fmt.Errorf("%w: %q is not allowed", ErrInvalidTopic, name)
	}
	if len(name) > 249 {
		return fmt.Errorf("%w: %d characters, the limit is 249", ErrInvalidTopic, len(name))
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %q contains %q; accepted characters are ASCII letters, digits, '.', '_' and '-'", ErrInvalidTopic, name, c)
		}
	}
	return nil
}

// createSpec is a validated CreateTopics entry.
type createSpec struct {
	name       string
	partitions int32
	configs    map[string]string
}

// checkCreate validates a topic creation (by CreateTopics or auto
// creation) without doing it. Internal topics are created by
// internalTopics.ensure only.
func (ts *topics) checkCreate(name string, partitions int32, rf int16, configs map[string]string) (createSpec, error) {
	if err := validateTopicName(name); err != nil {
		return createSpec{}, err
	}
	if isInternalTopic(name) {
		return createSpec{}, errInternalTopicChange(name, "create")
	}
	if partitions == -1 {
		partitions = ts.b.cfg.NumPartitions
	}
	if partitions <= 0 || partitions > 100000 {
		return createSpec{}, fmt.Errorf("%w: %d; accepted: 1..100000, or -1 for num.partitions", ErrInvalidPartitions, partitions)
	}
	if rf != -1 && rf != 1 {
		return createSpec{}, fmt.Errorf("%w: %d; this broker is a single node, accepted: 1 or -1", ErrInvalidReplication, rf)
	}
	for k, v := range configs {
		if err := validateTopicConfig(k, v); err != nil {
			return createSpec{}, err
		}
	}
	if ts.get(name) != nil {
		return createSpec{}, fmt.Errorf("%w: %q", ErrTopicExists, name)
	}
	return createSpec{name: name, partitions: partitions, configs: configs}, nil
}

// create makes a topic and its partition logs, then records it durably.
func (ts *topics) create(spec createSpec) (*topic, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if _, ok := ts.byName[spec.name]; ok {
		return nil, fmt.Errorf("%w: %q", ErrTopicExists, spec.name)
	}
	t := &topic{name: spec.name, configs: map[string]string{}, internal: isInternalTopic(spec.name)}
	for k, v := range spec.configs {
		t.configs[k] = v
	}
	if _, err := rand.Read(t.id[:]); err != nil {
		return nil, err
	}
	s := ts.b.settingsOf(t, t.configs)
	t.settings.Store(&s)
	ps := make([]*partition, 0, spec.partitions)
	for i := int32(0); i < spec.partitions; i++ {
		// A leftover directory from an earlier topic of the same name that
		// was deleted before its files were removed must not leak data.
		os.RemoveAll(partitionDir(ts.b.cfg.DataDir, spec.name, i))
		p, err := ts.b.openPartition(t, i)
		if err != nil {
			for _, p := range ps {
				p.log.Delete()
			}
			return nil, err
		}
		ps = append(ps, p)
	}
	t.partitions.Store(&ps)
	ts.byName[t.name] = t
	ts.byID[t.id] = t
	if err := ts.saveLocked(); err != nil {
		delete(ts.byName, t.name)
		delete(ts.byID, t.id)
		for _, p := range ps {
			p.log.Delete()
		}
		return nil, err
	}
	ts.b.logger.Info("topic created", "topic", t.name, "partitions", spec.partitions)
	return t, nil
}

// autoCreate creates a topic with broker defaults if auto creation is on;
// it tolerates a concurrent creation of the same topic.
func (ts *topics) autoCreate(name string) (*topic, error) {
	spec, err := ts.checkCreate(name, -1, -1, nil)
	if errors.Is(err, ErrTopicExists) {
		return ts.get(name), nil
	}
	if err != nil {
		return nil, err
	}
	t, err := ts.create(spec)
	if errors.Is(err, ErrTopicExists) {
		return ts.get(name), nil
	}
	return t, err
}

func (ts *topics) delete(name string) error {
	if isInternalTopic(name) {
		return errInternalTopicChange(name, "delete")
	}
	ts.mu.Lock()
	t, ok := ts.byName[name]
	if !ok {
		ts.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrTopicNotFound, name)
	}
	delete(ts.byName, name)
	delete(ts.byID, t.id)
	err := ts.saveLocked()
	ts.mu.Unlock()
	if err != nil {
		return err
	}
	t.deleted.Store(true)
	for _, p := range *t.partitions.Load() {
		p.wake()
		if err := p.log.Delete(); err != nil {
			ts.b.logger.Warn("delete partition files", "topic", name, "partition", p.index, "err", err)
		}
		ts.b.metrics.forgetPartition(name, p.index)
	}
	// Committed offsets of a deleted topic go with it, as in Kafka.
	if ts.b.groups != nil {
		if err := ts.b.groups.TopicDeleted(name); err != nil {
			ts.b.logger.Warn("drop committed offsets of deleted topic", "topic", name, "err", err)
		}
	}
	ts.b.logger.Info("topic deleted", "topic", name)
	return nil
}

func (ts *topics) addPartitions(name string, count int32, validateOnly bool) error {
	if isInternalTopic(name) {
		return errInternalTopicChange(name, "add partitions to")
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t, ok := ts.byName[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrTopicNotFound, name)
	}
	cur := t.numPartitions()
	if count <= cur {
		return fmt.Errorf("%w: topic %q has %d partitions; the new count %d must be larger", ErrInvalidPartitions, name, cur, count)
	}
	if count > 100000 {
		return fmt.Errorf("%w: %d; accepted: up to 100000", ErrInvalidPartitions, count)
	}
	if validateOnly {
		return nil
	}
	ps := append([]*partition(nil), *t.partitions.Load()...)
	for i := cur; i < count; i++ {
		os.RemoveAll(partitionDir(ts.b.cfg.DataDir, name, i))
		p, err := ts.b.openPartition(t, i)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	t.partitions.Store(&ps)
	return ts.saveLocked()
}

// setConfigs replaces a topic's overrides after validating every entry,
// for AlterConfigs and IncrementalAlterConfigs: internal topics refuse.
func (ts *topics) setConfigs(name string, configs map[string]string, validateOnly bool) error {
	if isInternalTopic(name) {
		return errInternalTopicChange(name, "alter the configs of")
	}
	return ts.replaceConfigs(name, configs, validateOnly)
}

// replaceConfigs replaces a topic's overrides after validating every entry.
func (ts *topics) replaceConfigs(name string, configs map[string]string, validateOnly bool) error {
	for k, v := range configs {
		if err := validateTopicConfig(k, v); err != nil {
			return err
		}
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t, ok := ts.byName[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrTopicNotFound, name)
	}
	if validateOnly {
		return nil
	}
	t.configs = configs
	s := ts.b.settingsOf(t, configs)
	t.settings.Store(&s)
	for _, p := range *t.partitions.Load() {
		if err := p.log.SetConfig(s.log); err != nil {
			return err
		}
	}
	return ts.saveLocked()
}

// configsOf returns a copy of a topic's overrides.
func (ts *topics) configsOf(t *topic) map[string]string {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	out := make(map[string]string, len(t.configs))
	for k, v := range t.configs {
		out[k] = v
	}
	return out
}

// The group coordinator's view of topics (group.Topics).

func (ts *topics) Partitions(name string) (int32, bool) {
	t := ts.get(name)
	if t == nil {
		return 0, false
	}
	return t.numPartitions(), true
}

func (ts *topics) TopicID(name string) ([16]byte, bool) {
	t := ts.get(name)
	if t == nil {
		return [16]byte{}, false
	}
	return t.id, true
}

func (ts *topics) TopicName(id [16]byte) (string, bool) {
	t := ts.getByID(id)
	if t == nil {
		return "", false
	}
	return t.name, true
}

func (ts *topics) Names() []string {
	var out []string
	for _, t := range ts.list() {
		out = append(out, t.name)
	}
	return out
}

// maintainAll runs flush.ms on every partition, retention and compaction
// when asked, and with retention the producer state upkeep: expiry and a
// snapshot.
func (ts *topics) maintainAll(now time.Time, retention, compact bool) {
	producerCutoff := now.UnixMilli() - ts.b.cfg.ProducerIDExpirationMs
	for _, t := range ts.list() {
		for _, p := range *t.partitions.Load() {
			if retention {
				p.expireProducers(producerCutoff)
				if err := p.saveProducerState(); err != nil {
					ts.b.logger.Warn("save producer state", "topic", t.name, "partition", p.index, "err", err)
				}
			}
			if err := p.log.Tick(now); err != nil && !errors.Is(err, log.ErrClosed) {
				ts.b.logger.Warn("log tick", "topic", t.name, "partition", p.index, "err", err)
			}
			if !retention {
			} else if n, err := p.log.EnforceRetention(now); err != nil && !errors.Is(err, log.ErrClosed) {
				ts.b.logger.Warn("retention", "topic", t.name, "partition", p.index, "err", err)
			} else if n > 0 {
				ts.b.logger.Info("retention deleted segments", "topic", t.name, "partition", p.index, "segments", n)
			}
			if compact && t.settings.Load().compacted {
				if st, err := p.log.Compact(now); err != nil && !errors.Is(err, log.ErrClosed) {
					ts.b.logger.Warn("compaction", "topic", t.name, "partition", p.index, "err", err)
				} else if st.SegmentsCleaned > 0 {
					ts.b.logger.Info("compacted", "topic", t.name, "partition", p.index,
						"segments", st.SegmentsCleaned, "records_removed", st.RecordsRemoved)
				}
			}
		}
	}
}
