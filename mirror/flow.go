package mirror

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// flow runs one source->target flow in this process: it (re)connects with
// backoff, keeps the remote topics in shape, joins the flow's task group
// and runs the tasks it is given; the owner of task 0 also emits
// heartbeats and checkpoints.
type flow struct {
	cfg      Flow
	src, tgt Cluster
	policy   ReplicationPolicy
	log      *slog.Logger
	metrics  *metrics
	status   *statusBox
	acls     aclSyncState

	topicsIn, topicsEx, groupsIn, groupsEx, configEx *regexp.Regexp

	// Topic and group names, fixed for the flow.
	positionsTopic   string // Connect offsets of the copy tasks, on the target
	offsetSyncsTopic string
	checkpointsTopic string // on the target
	heartbeatsTopic  string // on the target
	taskGroup        string // shares the tasks, on the target
}

func newFlow(cfg Flow, src, tgt Cluster, log *slog.Logger, met *metrics) (*flow, error) {
	policy, err := cfg.policy()
	if err != nil {
		return nil, fmt.Errorf("flow %s: %w", cfg.Name(), err)
	}
	f := &flow{cfg: cfg, src: src, tgt: tgt, policy: policy, log: log, metrics: met, status: newStatusBox(cfg.Name(), log)}
	for _, c := range []struct {
		re       **regexp.Regexp
		patterns []string
	}{{&f.topicsIn, cfg.Topics}, {&f.topicsEx, cfg.TopicsExclude}, {&f.groupsIn, cfg.Groups}, {&f.groupsEx, cfg.GroupsExclude}, {&f.configEx, cfg.ConfigPropertiesExclude}} {
		if *c.re, err = compileList(c.patterns); err != nil {
			return nil, fmt.Errorf("flow %s: %w", cfg.Name(), err)
		}
	}
	f.positionsTopic = "mm2-offsets." + cfg.Source + ".internal"
	if cfg.OffsetSyncsTopicLocation == "target" {
		f.offsetSyncsTopic = policy.OffsetSyncsTopic(cfg.Source)
	} else {
		f.offsetSyncsTopic = policy.OffsetSyncsTopic(cfg.Target)
	}
	f.checkpointsTopic = policy.CheckpointsTopic(cfg.Source)
	f.heartbeatsTopic = policy.HeartbeatsTopic()
	f.taskGroup = "tributary-mirror." + cfg.Name()
	return f, nil
}

func matches(re *regexp.Regexp, s string) bool { return re != nil && re.MatchString(s) }

// run runs the flow until ctx ends, retrying a failed run with backoff.
func (f *flow) run(ctx context.Context) {
	retry(ctx, time.Second, f.runOnce, f.status.setErr)
}

// endpoints are a run's admin clients, one per cluster.
type endpoints struct {
	srcAdm, tgtAdm *kadm.Client
	srcCl, tgtCl   *kgo.Client
}

func (e *endpoints) close() {
	if e.srcCl != nil {
		e.srcCl.Close()
	}
	if e.tgtCl != nil {
		e.tgtCl.Close()
	}
}

// runOnce connects, prepares the internal topics and runs discovery and
// the tasks until one of them fails or ctx ends.
func (f *flow) runOnce(ctx context.Context) error {
	var ep endpoints
	defer ep.close()
	var err error
	if ep.srcCl, err = f.newClient(f.src, adminClient); err != nil {
		return err
	}
	if ep.tgtCl, err = f.newClient(f.tgt, adminClient); err != nil {
		return err
	}
	ep.srcAdm, ep.tgtAdm = kadm.NewClient(ep.srcCl), kadm.NewClient(ep.tgtCl)
	for _, c := range []struct {
		alias string
		cl    Cluster
		adm   *kadm.Client
	}{{f.cfg.Source, f.src, ep.srcAdm}, {f.cfg.Target, f.tgt, ep.tgtAdm}} {
		if err := f.checkReachable(ctx, c.alias, c.cl, c.adm); err != nil {
			return err
		}
	}
	if err := f.ensureInternalTopics(ctx, &ep); err != nil {
		return err
	}
	f.status.setErr(nil)
	watch := newTopicWatch()
	loops := []func(context.Context) error{
		func(ctx context.Context) error { return f.discoverLoop(ctx, &ep, watch) },
		func(ctx context.Context) error { return f.runTasks(ctx, &ep, watch) },
	}
	if f.cfg.SyncTopicACLsEnabled {
		loops = append(loops, func(ctx context.Context) error { return f.aclSyncLoop(ctx, &ep) })
	}
	return runAll(ctx, loops...)
}

// checkReachable fails fast, naming the cluster, when no broker answers.
func (f *flow) checkReachable(ctx context.Context, alias string, cl Cluster, adm *kadm.Client) error {
	ctx, cancel := context.WithTimeout(ctx, min(f.cfg.AdminTimeout, 10*time.Second))
	defer cancel()
	if _, err := adm.BrokerMetadata(ctx); err != nil {
		return fmt.Errorf("cluster %s (bootstrap.servers %s) is unreachable: %w", alias, strings.Join(cl.BootstrapServers, ","), err)
	}
	return nil
}

// newClient builds a franz-go client for one of the flow's clusters with
// that cluster's client properties for the kind of client, plus extra.
func (f *flow) newClient(cl Cluster, kind clientKind, extra ...kgo.Opt) (*kgo.Client, error) {
	s, err := cl.settings(kind)
	if err != nil {
		return nil, err // Validate reported it already
	}
	// Topics and partitions the mirror just created or was just handed
	// must be usable at once; franz-go otherwise waits up to 5 s between
	// metadata refreshes, even for a partition it was just told to fetch.
	opts := append(s.opts(f.log), kgo.MetadataMinAge(100*time.Millisecond))
	switch kind {
	case consumerClient:
		// isolation.level is the copier's own (newCopier); the mirror's
		// other consumers read at franz-go's default, read_uncommitted.
		fetch := s.Settings
		fetch.IsolationLevel = ""
		opts = append(opts, fetch.ConsumerOpts()...)
	case producerClient:
		opts = append(opts, s.ProducerOpts()...)
	}
	cl2, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", strings.Join(cl.BootstrapServers, ","), err)
	}
	return cl2, nil
}

// ensureInternalTopics creates the topics the flow writes besides remote
// topics, with MM2's layouts: one compacted partition each, and as many
// partitions as tasks for the positions topic.
func (f *flow) ensureInternalTopics(ctx context.Context, ep *endpoints) error {
	type want struct {
		adm        *kadm.Client
		alias      string
		topic      string
		partitions int32
	}
	wants := []want{{ep.tgtAdm, f.cfg.Target, f.positionsTopic, int32(f.cfg.TasksMax)}}
	if f.cfg.EmitCheckpointsEnabled {
		wants = append(wants, want{ep.tgtAdm, f.cfg.Target, f.checkpointsTopic, 1})
	}
	if f.cfg.EmitHeartbeatsEnabled {
		wants = append(wants, want{ep.tgtAdm, f.cfg.Target, f.heartbeatsTopic, 1})
	}
	if f.cfg.EmitOffsetSyncsEnabled && f.cfg.ReplicationMode == ModeTranslate {
		if f.cfg.OffsetSyncsTopicLocation == "target" {
			wants = append(wants, want{ep.tgtAdm, f.cfg.Target, f.offsetSyncsTopic, 1})
		} else {
			wants = append(wants, want{ep.srcAdm, f.cfg.Source, f.offsetSyncsTopic, 1})
		}
	}
	compact := "compact"
	for _, w := range wants {
		ctx, cancel := context.WithTimeout(ctx, f.cfg.AdminTimeout)
		err := ensureTopic(ctx, w.adm, w.topic, w.partitions, map[string]*string{"cleanup.policy": &compact})
		cancel()
		if err != nil {
			return fmt.Errorf("internal topic %s on cluster %s: %w", w.topic, w.alias, err)
		}
	}
	return nil
}

// ensureTopic creates topic, or grows it to at least partitions.
func ensureTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32, configs map[string]*string) error {
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return err
	}
	if d, ok := details[topic]; ok && d.Err == nil {
		if have := int32(len(d.Partitions)); have < partitions {
			resp, err := adm.CreatePartitions(ctx, int(partitions-have), topic)
			if err == nil {
				err = resp.Error()
			}
			if err != nil {
				return fmt.Errorf("add %d partitions: %w", partitions-have, err)
			}
		}
		return nil
	}
	resp, err := adm.CreateTopic(ctx, partitions, -1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !isTopicExists(err) {
		return fmt.Errorf("create: %w", err)
	}
	return nil
}

// runAll runs fns until the first fails or ctx ends, then cancels the rest
// and waits for them; it returns the first error.
func runAll(ctx context.Context, fns ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		once  sync.Once
		first error
		wg    sync.WaitGroup
	)
	for _, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				once.Do(func() { first = err })
			}
			cancel()
		}()
	}
	wg.Wait()
	return first
}
