package broker

// The partition directories of the data dir, and what becomes of each.
// Kafka's log manager uses the same suffixes:
//
//	<topic>-<n>              a partition of a live topic; its
//	                         partition.metadata names the topic id
//	<topic>-<n>.<id>-delete  renamed by DeleteTopics, then removed in the
//	                         background (or at the next start, if the broker
//	                         stopped first)
//	<topic>-<n>.<id>-stray   a directory no live topic owns, moved aside and
//	                         kept for the operator: never deleted
//
// At startup (tidyDataDir) a <topic>-<n> directory is kept when its topic
// is live, its id matches and n is below the topic's partition count. It is
// removed, and the removal logged, when it belongs to a topic being deleted
// or lies beyond its topic's partition count (a CreateTopics or
// CreatePartitions that a crash interrupted). Any other is moved aside as
// stray, with a warning, since only the operator can know what it holds.

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/tributary-streams/tributary/internal/fsutil"
)

const (
	deleteSuffix = "-delete"
	straySuffix  = "-stray"
)

// parsePartitionDirName splits "<topic>-<n>".
func parsePartitionDirName(name string) (topic string, p int32, ok bool) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != name[i+1:] || validateTopicName(name[:i]) != nil {
		return "", 0, false
	}
	return name[:i], int32(n), true
}

// renameForDelete renames a partition directory of topic id out of the
// way of any new topic of the same name.
func renameForDelete(dir string, id [16]byte) (string, error) {
	to := dir + "." + hex.EncodeToString(id[:]) + deleteSuffix
	if err := os.Rename(dir, to); err != nil {
		return "", fmt.Errorf("rename %s for deletion: %w", dir, err)
	}
	return to, nil
}

// moveAsideIfExists renames dir to <dir>.<random>-stray if it exists.
func (b *Broker) moveAsideIfExists(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var r [16]byte
	rand.Read(r[:])
	to := dir + "." + hex.EncodeToString(r[:]) + straySuffix
	if err := os.Rename(dir, to); err != nil {
		return fmt.Errorf("move aside %s: %w", dir, err)
	}
	if err := fsutil.SyncDir(filepath.Dir(dir)); err != nil {
		return fmt.Errorf("move aside %s: %w", dir, err)
	}
	b.logger.Warn("a directory no live topic owns was moved aside, not deleted; inspect it, then remove it or move it back",
		"dir", dir, "moved_to", to)
	return nil
}

// tidyDataDir applies the rules in the file comment before any partition
// is opened, and returns the names of the live partition directories.
// Removals are handed to the background remover; the topics being deleted
// leave topics.json once their directories are gone.
func (ts *topics) tidyDataDir() (live map[string]bool, err error) {
	dataDir := ts.b.cfg.DataDir
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		return nil, fmt.Errorf("read data dir: %w", err)
	}
	live = map[string]bool{}
	var remove []string
	removed := map[string]int{} // "topic|reason" -> directories
	renamed := false
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		path := filepath.Join(dataDir, name)
		if strings.HasSuffix(name, deleteSuffix) {
			remove = append(remove, path)
			removed[strings.SplitN(name, ".", 2)[0]+"|finishing an interrupted DeleteTopics"]++
			continue
		}
		if strings.HasSuffix(name, straySuffix) {
			continue
		}
		topicName, idx, ok := parsePartitionDirName(name)
		if !ok {
			continue // __groups, __transactions, anything not a partition
		}
		id, hasID, merr := readPartitionMetadata(path)
		if merr != nil {
			ts.b.logger.Warn("partition metadata unreadable", "dir", path, "err", merr)
		}
		t := ts.byName[topicName]
		_, beingDeleted := ts.deleting[id]
		reason := ""
		switch {
		case hasID && beingDeleted:
			reason = "finishing an interrupted DeleteTopics"
		case t != nil && (!hasID || id == t.id) && idx < t.recorded:
			if !hasID {
				// From before partition metadata, or damaged: adopt it.
				if err := writePartitionMetadata(path, t.id); err != nil {
					return nil, err
				}
			}
			live[name] = true
			continue
		case t != nil && merr == nil && (!hasID || id == t.id):
			reason = "beyond the topic's partition count (an interrupted CreateTopics or CreatePartitions)"
		default:
			if err := ts.b.moveAsideIfExists(path); err != nil {
				return nil, err
			}
			continue
		}
		to, err := renameForDelete(path, id)
		if err != nil {
			return nil, err
		}
		renamed = true
		remove = append(remove, to)
		removed[topicName+"|"+reason]++
	}
	if renamed {
		if err := fsutil.SyncDir(dataDir); err != nil {
			return nil, fmt.Errorf("sync data dir: %w", err)
		}
	}
	keys := make([]string, 0, len(removed))
	for k := range removed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		topic, reason, _ := strings.Cut(k, "|")
		ts.b.logger.Info("removing partition directories left half done by a crash", "topic", topic, "directories", removed[k], "reason", reason)
	}
	var finish [][16]byte
	for id := range ts.deleting {
		finish = append(finish, id)
	}
	if len(remove) > 0 || len(finish) > 0 {
		ts.remover.add(removeJob{dirs: remove, finish: finish})
	}
	return live, nil
}

// removeJob is directories to remove and the deleting topics that are
// gone once they are.
type removeJob struct {
	dirs   []string
	finish [][16]byte
}

// dirRemover removes directories in the background, so that DeleteTopics
// and startup do not wait for large directories to go. A removal cut short
// by shutdown is finished at the next start (the directories keep their
// -delete suffix, and topics.json its deleting entries).
type dirRemover struct {
	ts   *topics
	mu   sync.Mutex
	jobs []removeJob
	kick chan struct{}
}

func (ts *topics) startRemover() {
	ts.remover = &dirRemover{ts: ts, kick: make(chan struct{}, 1)}
	ts.b.wg.Add(1)
	go ts.remover.run()
}

func (r *dirRemover) add(j removeJob) {
	r.mu.Lock()
	r.jobs = append(r.jobs, j)
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *dirRemover) run() {
	b := r.ts.b
	defer b.wg.Done()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-r.kick:
		}
		for {
			r.mu.Lock()
			if len(r.jobs) == 0 {
				r.mu.Unlock()
				break
			}
			j := r.jobs[0]
			r.jobs = r.jobs[1:]
			r.mu.Unlock()
			for _, dir := range j.dirs {
				if b.ctx.Err() != nil {
					return
				}
				if err := os.RemoveAll(dir); err != nil {
					b.logger.Warn("remove directory", "dir", dir, "err", err)
				} else {
					b.logger.Debug("removed directory", "dir", dir)
				}
			}
			if len(j.finish) > 0 {
				r.ts.finishDeleting(j.finish)
			}
		}
	}
}
