package mirror

// Topic discovery: which source topics a flow copies, their remote topics
// created or grown on the target, and topic configs kept in sync.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// copiedTopic is a source topic the flow copies.
type copiedTopic struct {
	source, remote string
	// partitions are the partitions ready to copy: the source's, once
	// the target has at least as many.
	partitions int32
}

// topicWatch publishes discovery's latest answer to the tasks: set stores
// a new map and closes the channel get handed out, so waiters wake.
type topicWatch struct {
	mu      sync.Mutex
	topics  map[string]copiedTopic
	changed chan struct{}
}

func newTopicWatch() *topicWatch { return &topicWatch{changed: make(chan struct{})} }

func (w *topicWatch) get() (map[string]copiedTopic, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.topics, w.changed
}

func (w *topicWatch) set(topics map[string]copiedTopic) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.topics = topics
	close(w.changed)
	w.changed = make(chan struct{})
}

// shouldCopy is MM2's rule: the topic filter (or a heartbeats topic, which
// is always copied onward), never an internal topic, never a cycle. A
// preserve-offsets flow does not copy heartbeats: they are compacted, and
// compaction leaves gaps that mode cannot keep.
func (f *flow) shouldCopy(topic string) bool {
	if f.policy.IsInternalTopic(topic) || isCycle(f.policy, topic, f.cfg.Target) {
		return false
	}
	if f.isHeartbeats(topic) {
		return f.cfg.ReplicationMode == ModeTranslate
	}
	return matches(f.topicsIn, topic) && !matches(f.topicsEx, topic)
}

// isHeartbeats reports heartbeats topics: "heartbeats" and its copies.
func (f *flow) isHeartbeats(topic string) bool {
	for hops := 0; hops < 64; hops++ {
		up := f.policy.UpstreamTopic(topic)
		if up == "" {
			return topic == f.policy.HeartbeatsTopic()
		}
		topic = up
	}
	return false
}

// discoverLoop discovers topics now and then every
// refresh.topics.interval.seconds, syncing configs every
// sync.topic.configs.interval.seconds. It returns only when ctx ends or a
// cluster stops answering.
func (f *flow) discoverLoop(ctx context.Context, ep *endpoints, watch *topicWatch) error {
	nextConfigSync := time.Now()
	for {
		syncConfigs := f.cfg.SyncTopicConfigsEnabled && !time.Now().Before(nextConfigSync)
		if syncConfigs {
			nextConfigSync = time.Now().Add(f.cfg.SyncTopicConfigsInterval)
		}
		if err := f.discover(ctx, ep, watch, syncConfigs); err != nil {
			return err
		}
		wait := f.cfg.RefreshTopicsInterval
		if !f.cfg.RefreshTopicsEnabled {
			wait = 365 * 24 * time.Hour
		}
		if f.cfg.SyncTopicConfigsEnabled {
			wait = min(wait, time.Until(nextConfigSync))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// discover lists the source's topics, makes sure each copied one has its
// remote topic, and publishes the result.
func (f *flow) discover(ctx context.Context, ep *endpoints, watch *topicWatch, syncConfigs bool) error {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.AdminTimeout)
	defer cancel()
	srcTopics, err := ep.srcAdm.ListTopics(ctx)
	if err != nil {
		return fmt.Errorf("list topics on cluster %s: %w", f.cfg.Source, err)
	}
	var names, remotes []string
	for _, name := range srcTopics.Names() {
		d := srcTopics[name]
		if d.Err != nil || d.IsInternal || !f.shouldCopy(name) {
			continue
		}
		names = append(names, name)
		remotes = append(remotes, f.policy.FormatRemoteTopic(f.cfg.Source, name))
	}
	var tgtTopics kadm.TopicDetails
	if len(remotes) > 0 {
		if tgtTopics, err = ep.tgtAdm.ListTopics(ctx, remotes...); err != nil {
			return fmt.Errorf("list topics on cluster %s: %w", f.cfg.Target, err)
		}
	}
	copied := map[string]copiedTopic{}
	var statuses []TopicStatus
	var created []string
	for i, name := range names {
		ct := copiedTopic{source: name, remote: remotes[i]}
		want := int32(len(srcTopics[name].Partitions))
		st := TopicStatus{Source: name, Remote: ct.remote}
		td, exists := tgtTopics[ct.remote]
		switch {
		case !exists || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
			if err := f.createRemote(ctx, ep, name, ct.remote, want); err != nil {
				st.Err = err
			} else {
				ct.partitions = want
				created = append(created, name)
			}
		case td.Err != nil:
			st.Err = fmt.Errorf("describe target topic %s: %w", ct.remote, td.Err)
		case int32(len(td.Partitions)) < want:
			if err := f.growRemote(ctx, ep, name, ct.remote, int32(len(td.Partitions)), want); err != nil {
				st.Err = err
			} else {
				ct.partitions = want
			}
		default:
			ct.partitions = want
		}
		st.Partitions = ct.partitions
		statuses = append(statuses, st)
		if ct.partitions > 0 {
			copied[name] = ct
		}
	}
	if syncConfigs {
		var existing []string
		for name := range copied {
			if !slices.Contains(created, name) {
				existing = append(existing, name)
			}
		}
		f.syncTopicConfigs(ctx, ep, existing, copied)
	}
	f.status.setTopics(statuses)
	watch.set(copied)
	return nil
}

// createRemote creates the remote topic with the source's partition count
// and its synced configs.
func (f *flow) createRemote(ctx context.Context, ep *endpoints, source, remote string, partitions int32) error {
	var configs map[string]*string
	if f.cfg.SyncTopicConfigsEnabled {
		all, err := f.sourceConfigs(ctx, ep, source)
		if err != nil {
			return err
		}
		configs = map[string]*string{}
		for k, v := range all[source] {
			configs[k] = &v
		}
	}
	resp, err := ep.tgtAdm.CreateTopic(ctx, partitions, int16(f.cfg.ReplicationFactor), configs, remote)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !isTopicExists(err) {
		return fmt.Errorf("create target topic %s (%d partitions) on cluster %s: %w", remote, partitions, f.cfg.Target, err)
	}
	f.log.Info("created remote topic", "topic", remote, "partitions", partitions)
	return nil
}

// growRemote adds partitions to a remote topic with fewer than the
// source, when the topic is the mirror's own: its name marks it as a copy
// from this flow's source (DefaultReplicationPolicy's "A.orders"), so no
// other producer relies on its partition count. A target topic the name
// does not mark (IdentityReplicationPolicy) may be someone else's: the
// mirror refuses to copy into it rather than change it.
func (f *flow) growRemote(ctx context.Context, ep *endpoints, source, remote string, have, want int32) error {
	if f.policy.TopicSource(remote) != f.cfg.Source {
		return fmt.Errorf("target topic %s on cluster %s has %d partitions, source topic %s has %d: records keep their partition, "+
			"so the target needs at least as many; the mirror adds partitions only to topics named for their source cluster "+
			"(DefaultReplicationPolicy), so add them yourself (tributary topics alter --topic %s --partitions %d) "+
			"and the topic is copied from the next topic refresh",
			remote, f.cfg.Target, have, source, want, remote, want)
	}
	resp, err := ep.tgtAdm.CreatePartitions(ctx, int(want-have), remote)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("add %d partitions to target topic %s on cluster %s to match source topic %s: %w", want-have, remote, f.cfg.Target, source, err)
	}
	f.log.Info("added partitions to remote topic", "topic", remote, "from", have, "to", want)
	return nil
}

// sourceConfigs returns the configs to copy for topics: those set on the
// topic itself (not defaults, as MM2 with sync.topic.configs.use.defaults.from
// = target), not sensitive, not excluded by config.properties.exclude.
func (f *flow) sourceConfigs(ctx context.Context, ep *endpoints, topics ...string) (map[string]map[string]string, error) {
	rcs, err := ep.srcAdm.DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("describe topic configs on cluster %s: %w", f.cfg.Source, err)
	}
	out := map[string]map[string]string{}
	for _, rc := range rcs {
		if rc.Err != nil {
			return nil, fmt.Errorf("describe configs of topic %s on cluster %s: %w", rc.Name, f.cfg.Source, rc.Err)
		}
		m := map[string]string{}
		for _, c := range rc.Configs {
			if c.Source != kmsg.ConfigSourceDynamicTopicConfig || c.Sensitive || c.Value == nil || matches(f.configEx, c.Key) {
				continue
			}
			m[c.Key] = *c.Value
		}
		out[rc.Name] = m
	}
	return out, nil
}

// syncTopicConfigs sets on each remote topic the source configs that
// differ. Failures are logged: a config the target refuses must not stop
// the copy.
func (f *flow) syncTopicConfigs(ctx context.Context, ep *endpoints, topics []string, copied map[string]copiedTopic) {
	if len(topics) == 0 {
		return
	}
	src, err := f.sourceConfigs(ctx, ep, topics...)
	if err != nil {
		f.log.Warn("topic config sync skipped", "err", err)
		return
	}
	remotes := make([]string, 0, len(topics))
	for _, t := range topics {
		remotes = append(remotes, copied[t].remote)
	}
	tgt, err := ep.tgtAdm.DescribeTopicConfigs(ctx, remotes...)
	if err != nil {
		f.log.Warn("topic config sync skipped", "err", err)
		return
	}
	current := map[string]map[string]string{}
	for _, rc := range tgt {
		m := map[string]string{}
		for _, c := range rc.Configs {
			if c.Value != nil {
				m[c.Key] = *c.Value
			}
		}
		current[rc.Name] = m
	}
	for _, t := range topics {
		remote := copied[t].remote
		var alters []kadm.AlterConfig
		for k, v := range src[t] {
			if cur, ok := current[remote][k]; !ok || cur != v {
				alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
			}
		}
		if len(alters) == 0 {
			continue
		}
		resps, err := ep.tgtAdm.AlterTopicConfigs(ctx, alters, remote)
		if err == nil {
			for _, r := range resps {
				if r.Err != nil {
					err = r.Err
				}
			}
		}
		if err != nil {
			f.log.Warn("topic config sync failed", "topic", remote, "err", err)
			continue
		}
		f.log.Info("synced topic configs", "topic", remote, "configs", len(alters))
	}
}

func isTopicExists(err error) bool { return errors.Is(err, kerr.TopicAlreadyExists) }
