package mirror

// Checkpoints, as MM2's MirrorCheckpointConnector: every
// emit.checkpoints.interval.seconds, each source consumer group's
// committed offsets on the flow's topics are translated through the
// offset syncs and written to <source>.checkpoints.internal on the target.
// With sync.group.offsets.enabled the translated offsets are also
// committed to the same group on the target, if it has no active members
// there, and never moving a committed offset backwards.
//
// Translation: MM2's rule (the newest sync at or before the group's
// offset; past the sync, one past its downstream offset) never skips a
// record. With source.offset.header.enabled, the checkpointer then reads
// the target partition forward from that point to the first record whose
// tributary.source.offset header is at or past the group's offset: the
// exact position, so a failed-over group re-reads nothing. In
// preserve-offsets mode offsets are the same on both sides and are copied
// unchanged.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/mirror/internal/mm2"
)

// exactScanLimit bounds how many target records one exact translation
// reads; past it MM2's translation is used.
const exactScanLimit = 100_000

type checkpointer struct {
	f     *flow
	ep    *endpoints
	watch *topicWatch

	store  *mm2.SyncStore
	loaded chan struct{} // closed once the offset syncs were read to their end

	producer *kgo.Client // checkpoints, on the target
	scanner  *kgo.Client // raw fetches of remote topics, on the target
	decomp   kgo.Decompressor

	// Only the emitting goroutine touches these.
	last       map[string]map[topicPartition]mm2.Checkpoint // by group, by remote topic partition
	exact      map[exactKey]int64
	groups     []string
	groupsAt   time.Time
	groupsSync time.Time
}

type exactKey struct {
	tp       topicPartition // remote
	upstream int64
	from     int64
}

func (f *flow) checkpointLoop(ctx context.Context, ep *endpoints, watch *topicWatch) error {
	cp := &checkpointer{f: f, ep: ep, watch: watch, store: mm2.NewSyncStore(), loaded: make(chan struct{}),
		decomp: kgo.DefaultDecompressor(), last: map[string]map[topicPartition]mm2.Checkpoint{}, exact: map[exactKey]int64{}}
	var err error
	if cp.producer, err = f.newClient(f.tgt, producerClient, kgo.RecordPartitioner(kgo.ManualPartitioner())); err != nil {
		return err
	}
	defer cp.producer.Close()
	if cp.scanner, err = f.newClient(f.tgt, consumerClient); err != nil {
		return err
	}
	defer cp.scanner.Close()
	// Earlier checkpoints keep new ones from moving backwards across
	// restarts.
	err = f.readToEnd(ctx, f.tgt, ep.tgtAdm, f.checkpointsTopic, false, func(r *kgo.Record) {
		c, err := mm2.DecodeCheckpoint(r.Key, r.Value)
		if err != nil {
			return
		}
		cp.remember(c)
	})
	if err != nil {
		return fmt.Errorf("load checkpoints: %w", err)
	}
	fns := []func(context.Context) error{cp.emitLoop}
	if f.cfg.ReplicationMode == ModeTranslate {
		fns = append(fns, cp.readSyncs)
	} else {
		close(cp.loaded)
	}
	return runAll(ctx, fns...)
}

func (cp *checkpointer) remember(c mm2.Checkpoint) {
	m := cp.last[c.Group]
	if m == nil {
		m = map[topicPartition]mm2.Checkpoint{}
		cp.last[c.Group] = m
	}
	m[topicPartition{c.Topic, c.Partition}] = c
}

// readSyncs tails the offset-syncs topic into the store, marking it loaded
// once it reached the end it had at start.
func (cp *checkpointer) readSyncs(ctx context.Context) error {
	f := cp.f
	where, adm := f.src, cp.ep.srcAdm
	if f.cfg.OffsetSyncsTopicLocation == "target" {
		where, adm = f.tgt, cp.ep.tgtAdm
	}
	lctx, cancel := context.WithTimeout(ctx, f.cfg.AdminTimeout)
	ends, err := listOffsets(lctx, adm.ListEndOffsets, f.offsetSyncsTopic)
	cancel()
	if err != nil {
		return fmt.Errorf("offset syncs %s: %w", f.offsetSyncsTopic, err)
	}
	end, _ := ends.Lookup(f.offsetSyncsTopic, 0)
	var loadOnce sync.Once
	markLoaded := func() { loadOnce.Do(func() { cp.store.MarkLoaded(); close(cp.loaded) }) }
	if end.Offset <= 0 {
		markLoaded()
	}
	cl, err := f.newClient(where, consumerClient,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{f.offsetSyncsTopic: {0: kgo.NewOffset().AtStart()}}),
		kgo.KeepControlRecords())
	if err != nil {
		return err
	}
	defer cl.Close()
	for ctx.Err() == nil {
		fetches := cl.PollFetches(ctx)
		for _, fe := range fetches.Errors() {
			if ctx.Err() == nil {
				f.log.Debug("offset syncs fetch", "err", fe.Err)
			}
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				if s, err := mm2.DecodeOffsetSync(r.Key, r.Value); err == nil {
					cp.store.Add(s)
				}
			}
			if r.Offset >= end.Offset-1 {
				markLoaded()
			}
		})
	}
	return nil
}

// emitLoop writes checkpoints every emit.checkpoints.interval.seconds and
// syncs group offsets when due.
func (cp *checkpointer) emitLoop(ctx context.Context) error {
	f := cp.f
	select {
	case <-ctx.Done():
		return nil
	case <-cp.loaded:
	}
	cp.groupsSync = time.Now().Add(f.cfg.SyncGroupOffsetsInterval)
	tick := time.NewTicker(f.cfg.EmitCheckpointsInterval)
	defer tick.Stop()
	for {
		if err := cp.round(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if f.cfg.SyncGroupOffsetsEnabled && !time.Now().Before(cp.groupsSync) {
			cp.syncGroupOffsets(ctx)
			cp.groupsSync = time.Now().Add(f.cfg.SyncGroupOffsetsInterval)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// round emits the checkpoints of every group that moved.
func (cp *checkpointer) round(ctx context.Context) error {
	f := cp.f
	ctx, cancel := context.WithTimeout(ctx, f.cfg.AdminTimeout)
	defer cancel()
	if cp.groups == nil || (f.cfg.RefreshGroupsEnabled && time.Since(cp.groupsAt) >= f.cfg.RefreshGroupsInterval) {
		listed, err := cp.ep.srcAdm.ListGroups(ctx)
		if err != nil {
			return fmt.Errorf("list groups on cluster %s: %w", f.cfg.Source, err)
		}
		cp.groups = cp.groups[:0]
		for _, name := range listed.Groups() {
			g := listed[name]
			if (g.ProtocolType == "consumer" || g.ProtocolType == "") && matches(f.groupsIn, name) && !matches(f.groupsEx, name) {
				cp.groups = append(cp.groups, name)
			}
		}
		cp.groupsAt = time.Now()
	}
	topics, _ := cp.watch.get()
	leaders := map[string]kadm.TopicDetail{}
	exactUsed := map[exactKey]int64{}
	for _, group := range cp.groups {
		started := time.Now()
		offsets, err := cp.ep.srcAdm.FetchOffsets(ctx, group)
		if err == nil {
			err = offsets.Error()
		}
		if err != nil {
			f.log.Warn("checkpoint: group offsets not read", "group", group, "err", err)
			continue
		}
		var recs []*kgo.Record
		var emitted []mm2.Checkpoint
		offsets.Each(func(o kadm.OffsetResponse) {
			ct, ok := topics[o.Topic]
			if !ok || o.Partition >= ct.partitions || o.At < 0 {
				return
			}
			down, ok, err := cp.translate(ctx, ct.remote, o.Topic, o.Partition, o.At, leaders, exactUsed)
			if err != nil {
				f.log.Warn("checkpoint: exact translation failed, using offset syncs", "topic", o.Topic, "partition", o.Partition, "err", err)
			}
			if !ok {
				f.log.Debug("checkpoint: no translation yet", "group", group, "topic", o.Topic, "partition", o.Partition, "offset", o.At)
				return
			}
			c := mm2.Checkpoint{Group: group, Topic: ct.remote, Partition: o.Partition, Upstream: o.At, Downstream: down, Metadata: o.Metadata}
			if !cp.moreRecent(c) {
				return
			}
			f.log.Debug("checkpoint", "group", group, "topic", o.Topic, "partition", o.Partition, "upstream", c.Upstream, "downstream", c.Downstream)
			emitted = append(emitted, c)
			recs = append(recs, &kgo.Record{Topic: f.checkpointsTopic, Partition: 0, Key: c.Key(), Value: c.Value()})
		})
		if len(recs) == 0 {
			continue
		}
		if err := cp.producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return fmt.Errorf("write checkpoints to %s on cluster %s: %w", f.checkpointsTopic, f.cfg.Target, err)
		}
		for _, c := range emitted {
			cp.remember(c)
		}
		f.metrics.checkpointLatency.WithLabelValues(f.cfg.Source, f.cfg.Target, group).Observe(time.Since(started).Seconds())
	}
	cp.exact = exactUsed
	return nil
}

// moreRecent is MM2's rule: emit a partition's first checkpoint, one after
// the group rewound upstream, or one that moves downstream forward; never
// one that would move downstream back.
func (cp *checkpointer) moreRecent(c mm2.Checkpoint) bool {
	prev, ok := cp.last[c.Group][topicPartition{c.Topic, c.Partition}]
	return !ok || c.Upstream < prev.Upstream || c.Downstream > prev.Downstream
}

// translate returns the downstream offset for a group at upstream on a
// source partition; ok is false when there is no safe translation yet.
func (cp *checkpointer) translate(ctx context.Context, remote, topic string, partition int32, upstream int64,
	leaders map[string]kadm.TopicDetail, used map[exactKey]int64) (int64, bool, error) {
	f := cp.f
	if f.cfg.ReplicationMode == ModePreserveOffsets {
		return upstream, true, nil
	}
	sync, ok := cp.store.Lookup(topic, partition, upstream)
	if !ok {
		return 0, false, nil
	}
	down := mm2.TranslateFrom(sync, upstream)
	if !f.cfg.SourceOffsetHeader || upstream == sync.Upstream {
		return down, true, nil
	}
	key := exactKey{topicPartition{remote, partition}, upstream, sync.Downstream}
	if exact, ok := cp.exact[key]; ok {
		used[key] = exact
		return exact, true, nil
	}
	exact, atEnd, err := cp.scan(ctx, remote, partition, sync.Downstream+1, upstream, leaders)
	if err != nil || exact < 0 {
		return down, true, err
	}
	if !atEnd {
		used[key] = exact // a record was found: the answer cannot change
	}
	return max(exact, down), true, nil
}

// scan reads a remote partition from offset from and returns the offset
// of the first record whose source offset header is at or past upstream,
// the group's exact position, or, with atEnd, the partition's end if no
// record is (yet). It returns -1 when it gave up (exactScanLimit).
func (cp *checkpointer) scan(ctx context.Context, remote string, partition int32, from, upstream int64, leaders map[string]kadm.TopicDetail) (exact int64, atEnd bool, err error) {
	td, ok := leaders[remote]
	if !ok {
		md, err := kadm.NewClient(cp.scanner).Metadata(ctx, remote)
		if err != nil {
			return -1, false, err
		}
		if td, ok = md.Topics[remote]; !ok || td.Err != nil {
			return -1, false, fmt.Errorf("metadata of %s: %v", remote, td.Err)
		}
		leaders[remote] = td
	}
	pd, ok := td.Partitions[partition]
	if !ok {
		return -1, false, fmt.Errorf("metadata of %s has no partition %d", remote, partition)
	}
	broker := cp.scanner.Broker(int(pd.Leader))
	off, scanned := from, 0
	for scanned < exactScanLimit {
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, 0, 1, 1<<20
		req.IsolationLevel = 1 // read_committed: aborted copies are not there for consumers
		req.SessionEpoch = -1
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = remote, td.ID
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch, rp.LogStartOffset = partition, off, 1<<20, -1, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, broker)
		if err != nil {
			return -1, false, err
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return -1, false, err
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return -1, false, errors.New("fetch answered for other partitions")
		}
		fp, next := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Offset: off, IsolationLevel: kgo.ReadCommitted(),
			Topic: remote, Partition: partition}, &resp.Topics[0].Partitions[0], cp.decomp, nil)
		if fp.Err != nil {
			return -1, false, fp.Err
		}
		for _, r := range fp.Records {
			scanned++
			if src, ok := sourceOffset(r); ok && src >= upstream {
				return r.Offset, false, nil
			}
		}
		if next <= off || next >= fp.LastStableOffset {
			return max(off, fp.LastStableOffset), true, nil
		}
		off = next
	}
	return -1, false, nil
}

// sourceOffset reads a copied record's source offset header.
func sourceOffset(r *kgo.Record) (int64, bool) {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if r.Headers[i].Key == SourceOffsetHeaderKey {
			n, err := strconv.ParseInt(string(r.Headers[i].Value), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// syncGroupOffsets commits the latest checkpoints to the target groups
// that have no members there (empty, or not known yet), only where that
// moves the committed offset forward. A group that became active on the
// target in between refuses the commit; that is logged and left.
func (cp *checkpointer) syncGroupOffsets(ctx context.Context) {
	f := cp.f
	ctx, cancel := context.WithTimeout(ctx, f.cfg.AdminTimeout)
	defer cancel()
	var groups []string
	for g := range cp.last {
		groups = append(groups, g)
	}
	if len(groups) == 0 {
		return
	}
	described, err := cp.ep.tgtAdm.DescribeGroups(ctx, groups...)
	if err != nil {
		f.log.Warn("group offset sync: describe target groups", "err", err)
		return
	}
	for _, g := range groups {
		d := described[g]
		idle := d.State == "Empty" || d.State == "Dead" || d.State == "" || errors.Is(d.Err, kerr.GroupIDNotFound)
		if !idle {
			continue
		}
		current, err := cp.ep.tgtAdm.FetchOffsets(ctx, g)
		if err != nil {
			f.log.Warn("group offset sync: target offsets not read", "group", g, "err", err)
			continue
		}
		commit := kadm.Offsets{}
		for tp, c := range cp.last[g] {
			if cur, ok := current.Lookup(tp.topic, tp.partition); ok && cur.Err == nil && cur.At >= c.Downstream {
				continue
			}
			commit.Add(kadm.Offset{Topic: tp.topic, Partition: tp.partition, At: c.Downstream, LeaderEpoch: -1, Metadata: c.Metadata})
		}
		if len(commit) == 0 {
			continue
		}
		resp, err := cp.ep.tgtAdm.CommitOffsets(ctx, g, commit)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			f.log.Warn("group offset sync: commit refused (group active on the target?)", "group", g, "err", err)
			continue
		}
		n := 0
		commit.Each(func(kadm.Offset) { n++ })
		f.log.Info("synced group offsets to target", "group", g, "partitions", n)
	}
}
