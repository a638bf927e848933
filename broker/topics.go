package broker

// The topic registry: names, ids, partition counts and config overrides, kept
// in <data-dir>/topics.json (topics_file.go), and the open partition logs,
// one directory each: <data-dir>/<topic>-<partition> (data_dir.go).
//
// Creation records the topic in topics.json before making its directories,
// so a crash in between leaves a topic that the next start completes, and
// rolls the record back if a directory cannot be made, so a failure leaves
// nothing half created. Deletion records the topic as being deleted, then
// renames its directories to <dir>.<topic id>-delete before the name may be
// reused, and removes them in the background: a new topic of the same name
// never shares a path with the old one's files.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/log"
	"github.com/tributary-streams/tributary/internal/fsutil"
)

// Sentinels for topic operations, mapped to Kafka error codes by handlers.
var (
	errTopicNotFound      = errors.New("topic not found")
	errTopicExists        = errors.New("topic already exists")
	errInvalidTopic       = errors.New("invalid topic name")
	errInvalidPartitions  = errors.New("invalid partition count")
	errInvalidReplication = errors.New("invalid replication factor")
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

	// recorded is the partition count in topics.json, which runs ahead of
	// partitions while CreateTopics or CreatePartitions makes directories.
	// Guarded by topics.mu.
	recorded int32
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
	b *Broker
	// cleaner is the compaction memory every partition's cleaning shares,
	// one pass at a time (Kafka's log.cleaner.threads=1).
	cleaner *log.Cleaner
	mu      sync.RWMutex
	byName  map[string]*topic
	byID    map[[16]byte]*topic
	// deleting are deleted topics whose directories are not all removed
	// yet, kept in topics.json so that a restart finishes the removal.
	deleting map[[16]byte]deletingTopic
	// renaming are names whose deletion is still renaming directories:
	// creating one answers TOPIC_ALREADY_EXISTS until that is done.
	renaming map[string]bool

	remover *dirRemover
}

type deletingTopic struct {
	name       string
	partitions int32
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

func (b *Broker) loadTopics(ctx context.Context) error {
	ts := &topics{b: b, byName: map[string]*topic{}, byID: map[[16]byte]*topic{},
		deleting: map[[16]byte]deletingTopic{}, renaming: map[string]bool{},
		cleaner: &log.Cleaner{DedupeBufferBytes: b.cfg.LogCleanerDedupeBufferSize, LoadFactor: b.cfg.LogCleanerIOBufferLoadFactor}}
	b.topics = ts
	ts.startRemover()
	f, err := b.readTopicsFile()
	if err != nil {
		return err
	}
	for _, r := range f.Deleting {
		id, _ := parseTopicID(r.ID)
		ts.deleting[id] = deletingTopic{name: r.Name, partitions: r.Partitions}
	}
	for _, r := range f.Topics {
		t := b.newTopic(r.Name, r.Configs)
		t.id, _ = parseTopicID(r.ID)
		t.recorded = r.Partitions
		ts.byName[t.name] = t
		ts.byID[t.id] = t
	}
	live, err := ts.tidyDataDir()
	if err != nil {
		return err
	}
	return b.openPartitions(ctx, live)
}

// newTopic is a topic with no partitions yet.
func (b *Broker) newTopic(name string, configs map[string]string) *topic {
	t := &topic{name: name, configs: map[string]string{}, internal: isInternalTopic(name)}
	for k, v := range configs {
		t.configs[k] = v
	}
	s := b.settingsOf(t, t.configs)
	t.settings.Store(&s)
	t.partitions.Store(&[]*partition{})
	return t
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
		return fmt.Errorf("%w: the name is empty", errInvalidTopic)
	}
	if name == "." || name == ".." {
		return fmt.Errorf("%w: %q is not allowed", errInvalidTopic, name)
	}
	if len(name) > 249 {
		return fmt.Errorf("%w: %d characters, the limit is 249", errInvalidTopic, len(name))
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %q contains %q; accepted characters are ASCII letters, digits, '.', '_' and '-'", errInvalidTopic, name, c)
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
		return createSpec{}, fmt.Errorf("%w: %d; accepted: 1..100000, or -1 for num.partitions", errInvalidPartitions, partitions)
	}
	if rf != -1 && rf != 1 {
		return createSpec{}, fmt.Errorf("%w: %d; this broker is a single node, accepted: 1 or -1", errInvalidReplication, rf)
	}
	for k, v := range configs {
		if err := validateTopicConfig(k, v); err != nil {
			return createSpec{}, err
		}
	}
	if ts.get(name) != nil {
		return createSpec{}, fmt.Errorf("%w: %q", errTopicExists, name)
	}
	return createSpec{name: name, partitions: partitions, configs: configs}, nil
}

// create records a topic durably, then makes its partition logs; see the
// file comment for the order.
func (ts *topics) create(spec createSpec) (*topic, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if err := ts.nameFreeLocked(spec.name); err != nil {
		return nil, err
	}
	t := ts.b.newTopic(spec.name, spec.configs)
	if _, err := rand.Read(t.id[:]); err != nil {
		return nil, err
	}
	t.recorded = spec.partitions
	ts.byName[t.name] = t
	ts.byID[t.id] = t
	forget := func() {
		delete(ts.byName, t.name)
		delete(ts.byID, t.id)
	}
	if err := ts.saveLocked(); err != nil {
		forget()
		ts.b.logStorageFailure("create topic", t.name, err)
		return nil, err
	}
	ps, err := ts.openNewPartitions(t, nil, spec.partitions)
	if err != nil {
		forget()
		if serr := ts.saveLocked(); serr != nil {
			ts.b.logger.Error("cannot roll back the record of a topic whose creation failed; the next start will create it",
				"topic", t.name, "err", serr)
		}
		return nil, err
	}
	t.partitions.Store(&ps)
	ts.b.logger.Info("topic created", "topic", t.name, "partitions", spec.partitions)
	return t, nil
}

// nameFreeLocked refuses a name in use or still being deleted. Caller
// holds mu.
func (ts *topics) nameFreeLocked(name string) error {
	if _, ok := ts.byName[name]; ok {
		return fmt.Errorf("%w: %q", errTopicExists, name)
	}
	if ts.renaming[name] {
		return fmt.Errorf("%w: %q is being deleted; try again shortly", errTopicExists, name)
	}
	return nil
}

// openNewPartitions makes partitions len(ps)..count-1 of t and returns ps
// extended with them, the data dir synced so their directories last. On a
// failure it removes the ones it made and returns the error; a descriptor
// limit is logged with the limit and what to do.
func (ts *topics) openNewPartitions(t *topic, ps []*partition, count int32) ([]*partition, error) {
	out := append([]*partition(nil), ps...)
	for i := int32(len(ps)); i < count; i++ {
		p, err := ts.b.openPartition(t, i, true)
		if err == nil {
			out = append(out, p)
			continue
		}
		for _, p := range out[len(ps):] {
			if derr := p.log.Delete(); derr != nil {
				ts.b.logger.Warn("remove partition of a failed creation", "topic", t.name, "partition", p.index, "err", derr)
			}
		}
		ts.b.logStorageFailure("create partitions", t.name, err)
		return nil, fmt.Errorf("create partition %s-%d: %w", t.name, i, err)
	}
	if err := fsutil.SyncDir(ts.b.cfg.DataDir); err != nil {
		for _, p := range out[len(ps):] {
			p.log.Delete()
		}
		return nil, fmt.Errorf("sync data dir: %w", err)
	}
	return out, nil
}

// autoCreate creates a topic with broker defaults if auto creation is on;
// it tolerates a concurrent creation of the same topic.
func (ts *topics) autoCreate(name string) (*topic, error) {
	spec, err := ts.checkCreate(name, -1, -1, nil)
	if errors.Is(err, errTopicExists) {
		return ts.get(name), nil
	}
	if err != nil {
		return nil, err
	}
	t, err := ts.create(spec)
	if errors.Is(err, errTopicExists) {
		return ts.get(name), nil
	}
	return t, err
}

// delete removes a topic: recorded as deleting (so the name is free once
// this returns and a restart finishes the job), every partition stopped
// without another write and its directory renamed aside, then removed in
// the background. On a full disk, where even the record cannot be
// written, the files go first, freeing the space the record needs.
func (ts *topics) delete(name string) error {
	if isInternalTopic(name) {
		return errInternalTopicChange(name, "delete")
	}
	ts.mu.Lock()
	t, ok := ts.byName[name]
	if !ok {
		ts.mu.Unlock()
		return fmt.Errorf("%w: %q", errTopicNotFound, name)
	}
	delete(ts.byName, name)
	delete(ts.byID, t.id)
	ts.deleting[t.id] = deletingTopic{name: name, partitions: t.recorded}
	ts.renaming[name] = true
	err := ts.saveLocked()
	if err != nil && !errors.Is(err, syscall.ENOSPC) {
		ts.byName[name], ts.byID[t.id] = t, t
		delete(ts.deleting, t.id)
		delete(ts.renaming, name)
		ts.mu.Unlock()
		ts.b.logStorageFailure("delete topic", name, err)
		return err
	}
	ts.mu.Unlock()

	dirs := ts.stopAndRename(t)
	if err != nil {
		ts.b.noteWriteError("delete topic", err)
		for _, d := range dirs {
			if rerr := os.RemoveAll(d); rerr != nil {
				ts.b.logger.Warn("remove directory", "dir", d, "err", rerr)
			}
		}
		ts.mu.Lock()
		delete(ts.deleting, t.id)
		delete(ts.renaming, name)
		err = ts.saveLocked()
		ts.mu.Unlock()
		if err != nil {
			ts.b.logger.Error("deleted a topic's files on a full disk but could not record it; the topic reappears, empty, at the next start",
				"topic", name, "err", err)
			return err
		}
	} else {
		ts.mu.Lock()
		delete(ts.renaming, name)
		ts.mu.Unlock()
		ts.remover.add(removeJob{dirs: dirs, finish: [][16]byte{t.id}})
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

// stopAndRename stops every partition of a deleted topic and renames its
// directories aside, returning their new paths.
func (ts *topics) stopAndRename(t *topic) []string {
	t.deleted.Store(true)
	var dirs []string
	for _, p := range *t.partitions.Load() {
		p.detach()
		ts.b.metrics.forgetPartition(t.name, p.index)
		to, err := renameForDelete(p.log.Dir(), t.id)
		if err != nil {
			ts.b.logger.Warn("delete partition files", "topic", t.name, "partition", p.index, "err", err)
			continue
		}
		dirs = append(dirs, to)
	}
	if err := fsutil.SyncDir(ts.b.cfg.DataDir); err != nil {
		ts.b.logger.Warn("sync data dir after renaming a deleted topic's directories", "topic", t.name, "err", err)
	}
	return dirs
}

// finishDeleting forgets deleted topics whose directories are gone.
func (ts *topics) finishDeleting(ids [][16]byte) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, id := range ids {
		delete(ts.deleting, id)
	}
	if err := ts.saveLocked(); err != nil {
		ts.b.logger.Warn("record finished topic deletions; the next start will redo them", "err", err)
	}
}

func (ts *topics) addPartitions(name string, count int32, validateOnly bool) error {
	if isInternalTopic(name) {
		return errInternalTopicChange(name, "add partitions to")
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t, ok := ts.byName[name]
	if !ok {
		return fmt.Errorf("%w: %q", errTopicNotFound, name)
	}
	cur := t.numPartitions()
	if count <= cur {
		return fmt.Errorf("%w: topic %q has %d partitions; the new count %d must be larger", errInvalidPartitions, name, cur, count)
	}
	if count > 100000 {
		return fmt.Errorf("%w: %d; accepted: up to 100000", errInvalidPartitions, count)
	}
	if validateOnly {
		return nil
	}
	t.recorded = count
	if err := ts.saveLocked(); err != nil {
		t.recorded = cur
		ts.b.logStorageFailure("create partitions", name, err)
		return err
	}
	ps, err := ts.openNewPartitions(t, *t.partitions.Load(), count)
	if err != nil {
		t.recorded = cur
		if serr := ts.saveLocked(); serr != nil {
			ts.b.logger.Error("cannot roll back the partition count of a failed CreatePartitions; the next start will create them",
				"topic", name, "err", serr)
		}
		return err
	}
	t.partitions.Store(&ps)
	return nil
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
		return fmt.Errorf("%w: %q", errTopicNotFound, name)
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
				if err := p.saveProducerState(true); err != nil && !ts.b.noteWriteError("save producer state", err) {
					ts.b.logger.Warn("save producer state", "topic", t.name, "partition", p.index, "err", err)
				}
			}
			if err := p.log.Tick(now); err != nil && !errors.Is(err, log.ErrClosed) && !ts.b.noteWriteError("log tick", err) {
				ts.b.logger.Warn("log tick", "topic", t.name, "partition", p.index, "err", err)
			}
			if !retention {
			} else if n, err := p.log.EnforceRetention(now); err != nil && !errors.Is(err, log.ErrClosed) {
				ts.b.logger.Warn("retention", "topic", t.name, "partition", p.index, "err", err)
			} else if n > 0 {
				ts.b.logger.Info("retention deleted segments", "topic", t.name, "partition", p.index, "segments", n)
			}
			if compact && t.settings.Load().compacted {
				if st, err := p.log.Compact(now, ts.cleaner); err != nil && !errors.Is(err, log.ErrClosed) {
					ts.b.logger.Warn("compaction", "topic", t.name, "partition", p.index, "err", err)
				} else if st.SegmentsCleaned > 0 {
					ts.b.logger.Info("compacted", "topic", t.name, "partition", p.index,
						"segments", st.SegmentsCleaned, "records_removed", st.RecordsRemoved)
				}
			}
		}
	}
}
