package broker_test

// Consumer groups through other clients, beyond group_e2e_test.go: sarama's
// two-member group consumes every record exactly once and commits each
// partition's end; segmentio/kafka-go's pinned group API versions work
// request by request, and a second Reader in the group resumes from the
// first one's commits; kcat's balanced consumer stops after N records,
// commits them, and a second kcat run in the group reads the rest; franz-go
// members join and leave while records are produced (range,
// cooperative-sticky, KIP-848) with a commit after every poll, and no
// record is consumed again after its offset was committed, and none is
// skipped.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// checkCommittedAtEnds asserts that group has committed, for every
// partition of topic, exactly the partition's end offset.
func checkCommittedAtEnds(t *testing.T, addr, group, topic string, partitions int32) error {
	t.Helper()
	cl := testkit.Client(t, addr)
	ends := listEnds(t, cl, topic, partitions)
	offs, err := kadm.NewClient(cl).FetchOffsets(ctxT(t), group)
	if err != nil {
		return err
	}
	for p := int32(0); p < partitions; p++ {
		o, ok := offs.Lookup(topic, p)
		if !ok || o.Err != nil || o.At != ends[p] {
			return fmt.Errorf("%s committed %d for %s[%d] (present %v, err %v), end is %d", group, o.At, topic, p, ok, o.Err, ends[p])
		}
	}
	return nil
}

// saramaMember records, per member, the claims of its latest session and
// who consumed each key.
type saramaMember struct {
	name string
	mu   *sync.Mutex
	gens map[string]int32
	own  map[string][]int32
	by   map[string][]string // key -> members that consumed it
}

func (m saramaMember) Setup(s sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gens[m.name] = s.GenerationID()
	var ps []int32
	for _, claimed := range s.Claims() {
		ps = append(ps, claimed...)
	}
	m.own[m.name] = ps
	return nil
}

func (m saramaMember) Cleanup(sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.own[m.name] = nil
	return nil
}

func (m saramaMember) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for msg := range c.Messages() {
		m.mu.Lock()
		m.by[string(msg.Key)] = append(m.by[string(msg.Key)], m.name)
		m.mu.Unlock()
		s.MarkMessage(msg, "")
	}
	return nil
}

func TestGroupCompatSaramaTwoMembersExactlyOnce(t *testing.T) {
	// sarama picks its request versions from cfg.Version (capped by the
	// broker's): 0.11 is the oldest with record batches v2; the default;
	// the newest it knows.
	for _, v := range []sarama.KafkaVersion{sarama.V0_11_0_0, sarama.DefaultVersion, sarama.MaxVersion} {
		t.Run(v.String(), func(t *testing.T) { saramaTwoMembers(t, v) })
	}
}

func saramaTwoMembers(t *testing.T, version sarama.KafkaVersion) {
	b := testkit.StartBroker(t)
	const topic, group, n = "sarama-once", "sarama-once-g", 200
	createTopic(t, b.Addr, topic, 4, nil)
	cfg := sarama.NewConfig()
	cfg.Version = version
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
	cfg.Consumer.Group.Heartbeat.Interval = 100 * time.Millisecond
	cfg.Consumer.Group.Rebalance.Retry.Backoff = 100 * time.Millisecond
	cfg.Consumer.MaxWaitTime = 100 * time.Millisecond
	var mu sync.Mutex
	gens, own, by := map[string]int32{}, map[string][]int32{}, map[string][]string{}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, name := range []string{"m1", "m2"} {
		cg, err := sarama.NewConsumerGroup([]string{b.Addr}, group, cfg)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := saramaMember{name: name, mu: &mu, gens: gens, own: own, by: by}
			for ctx.Err() == nil {
				if err := cg.Consume(ctx, []string{topic}, h); err != nil && ctx.Err() == nil {
					t.Logf("sarama %s: %v", name, err)
				}
			}
		}()
		defer cg.Close()
	}
	defer func() { cancel(); wg.Wait() }()

	// Both members settle in one generation with two partitions each...
	testkit.Eventually(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if gens["m1"] != gens["m2"] || len(own["m1"]) != 2 || len(own["m2"]) != 2 {
			return fmt.Errorf("generations %v, claims %v", gens, own)
		}
		all := slices.Sorted(slices.Values(append(slices.Clone(own["m1"]), own["m2"]...)))
		if !slices.Equal(all, []int32{0, 1, 2, 3}) {
			return fmt.Errorf("claims %v", own)
		}
		return nil
	})
	// ...and then every record is consumed exactly once, by its owner.
	produceN(t, b.Addr, topic, "a", n)
	testkit.Eventually(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(by) < n {
			return fmt.Errorf("%d of %d consumed", len(by), n)
		}
		return nil
	})
	testkit.Eventually(t, 30*time.Second, func() error { return checkCommittedAtEnds(t, b.Addr, group, topic, 4) })
	mu.Lock()
	defer mu.Unlock()
	counts := map[string]int{}
	for k, members := range by {
		if len(members) != 1 {
			t.Fatalf("%s consumed %d times (by %v)", k, len(members), members)
		}
		counts[members[0]]++
	}
	if counts["m1"] == 0 || counts["m2"] == 0 {
		t.Fatalf("records per member: %v", counts)
	}
}

// TestGroupCompatKafkaGoPinnedVersions speaks segmentio/kafka-go's
// hardcoded group API versions one request at a time: FindCoordinator v0,
// JoinGroup v1 and v2, SyncGroup v0, Heartbeat v0, OffsetCommit v2,
// OffsetFetch v1, LeaveGroup v0.
func TestGroupCompatKafkaGoPinnedVersions(t *testing.T) {
	b := testkit.StartBroker(t)
	const topic = "pinned"
	createTopic(t, b.Addr, topic, 2, nil)

	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.Version, fc.CoordinatorKey = 0, "pinned-g1"
	fcr := roundTrip(t, b.Addr, fc).(*kmsg.FindCoordinatorResponse)
	if fcr.ErrorCode != 0 || fmt.Sprintf("%s:%d", fcr.Host, fcr.Port) != b.Addr {
		t.Fatalf("FindCoordinator v0: %v at %s:%d, want %s", kerr.ErrorForCode(fcr.ErrorCode), fcr.Host, fcr.Port, b.Addr)
	}

	meta := (&kmsg.ConsumerMemberMetadata{Topics: []string{topic}}).AppendTo(nil)
	assignment := (&kmsg.ConsumerMemberAssignment{Topics: []kmsg.ConsumerMemberAssignmentTopic{{Topic: topic, Partitions: []int32{0, 1}}}}).AppendTo(nil)
	for _, v := range []int16{1, 2} {
		group := fmt.Sprintf("pinned-g%d", v)
		join := kmsg.NewPtrJoinGroupRequest()
		join.Version, join.Group, join.ProtocolType = v, group, "consumer"
		join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = 10000, 10000
		join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: meta}}
		jr := roundTrip(t, b.Addr, join).(*kmsg.JoinGroupResponse)
		if jr.ErrorCode != 0 || jr.MemberID == "" || jr.LeaderID != jr.MemberID || jr.Generation < 1 ||
			len(jr.Members) != 1 || jr.Protocol == nil || *jr.Protocol != "range" {
			t.Fatalf("JoinGroup v%d: %v %+v", v, kerr.ErrorForCode(jr.ErrorCode), jr)
		}

		sg := kmsg.NewPtrSyncGroupRequest()
		sg.Version, sg.Group, sg.Generation, sg.MemberID = 0, group, jr.Generation, jr.MemberID
		sg.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: jr.MemberID, MemberAssignment: assignment}}
		sr := roundTrip(t, b.Addr, sg).(*kmsg.SyncGroupResponse)
		if sr.ErrorCode != 0 || string(sr.MemberAssignment) != string(assignment) {
			t.Fatalf("SyncGroup v0: %v, assignment %x", kerr.ErrorForCode(sr.ErrorCode), sr.MemberAssignment)
		}

		hb := kmsg.NewPtrHeartbeatRequest()
		hb.Version, hb.Group, hb.Generation, hb.MemberID = 0, group, jr.Generation, jr.MemberID
		if code := roundTrip(t, b.Addr, hb).(*kmsg.HeartbeatResponse).ErrorCode; code != 0 {
			t.Fatalf("Heartbeat v0: %v", kerr.ErrorForCode(code))
		}

		oc := kmsg.NewPtrOffsetCommitRequest()
		oc.Version, oc.Group, oc.Generation, oc.MemberID, oc.RetentionTimeMillis = 2, group, jr.Generation, jr.MemberID, -1
		oct := kmsg.NewOffsetCommitRequestTopic()
		oct.Topic = topic
		for p := int32(0); p < 2; p++ {
			ocp := kmsg.NewOffsetCommitRequestTopicPartition()
			ocp.Partition, ocp.Offset, ocp.Metadata = p, int64(40+p), kmsg.StringPtr(fmt.Sprintf("meta-%d", p))
			oct.Partitions = append(oct.Partitions, ocp)
		}
		oc.Topics = append(oc.Topics, oct)
		for _, p := range roundTrip(t, b.Addr, oc).(*kmsg.OffsetCommitResponse).Topics[0].Partitions {
			if p.ErrorCode != 0 {
				t.Fatalf("OffsetCommit v2 partition %d: %v", p.Partition, kerr.ErrorForCode(p.ErrorCode))
			}
		}
		// A commit from a generation that is not the group's is refused.
		oc.Generation++
		if code := roundTrip(t, b.Addr, oc).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode; code != kerr.IllegalGeneration.Code {
			t.Fatalf("OffsetCommit v2 with a wrong generation: %v, want ILLEGAL_GENERATION", kerr.ErrorForCode(code))
		}

		of := kmsg.NewPtrOffsetFetchRequest()
		of.Version, of.Group = 1, group
		oft := kmsg.NewOffsetFetchRequestTopic()
		oft.Topic, oft.Partitions = topic, []int32{0, 1}
		of.Topics = append(of.Topics, oft)
		ofr := roundTrip(t, b.Addr, of).(*kmsg.OffsetFetchResponse)
		for _, p := range ofr.Topics[0].Partitions {
			if p.ErrorCode != 0 || p.Offset != int64(40+p.Partition) || p.Metadata == nil || *p.Metadata != fmt.Sprintf("meta-%d", p.Partition) {
				t.Fatalf("OffsetFetch v1 partition %d: %v offset %d metadata %v", p.Partition, kerr.ErrorForCode(p.ErrorCode), p.Offset, p.Metadata)
			}
		}

		leave := kmsg.NewPtrLeaveGroupRequest()
		leave.Version, leave.Group, leave.MemberID = 0, group, jr.MemberID
		if code := roundTrip(t, b.Addr, leave).(*kmsg.LeaveGroupResponse).ErrorCode; code != 0 {
			t.Fatalf("LeaveGroup v0: %v", kerr.ErrorForCode(code))
		}
		if code := roundTrip(t, b.Addr, hb).(*kmsg.HeartbeatResponse).ErrorCode; code != kerr.UnknownMemberID.Code {
			t.Fatalf("Heartbeat v0 after leaving: %v, want UNKNOWN_MEMBER_ID", kerr.ErrorForCode(code))
		}
		// A newer client reads the same commits.
		adm := kadm.NewClient(testkit.Client(t, b.Addr))
		offs, err := adm.FetchOffsets(ctxT(t), group)
		if err != nil {
			t.Fatal(err)
		}
		for p := int32(0); p < 2; p++ {
			if o, _ := offs.Lookup(topic, p); o.At != int64(40+p) || o.Metadata != fmt.Sprintf("meta-%d", p) {
				t.Fatalf("kadm sees %+v for partition %d", o, p)
			}
		}
		ds, err := adm.DescribeGroups(ctxT(t), group)
		if err != nil || ds[group].State != "Empty" {
			t.Fatalf("group after LeaveGroup v0: %+v %v", ds[group], err)
		}
	}
}

func TestGroupCompatKafkaGoReaderResumesFromCommit(t *testing.T) {
	b := testkit.StartBroker(t)
	const topic, group = "kafkago-resume", "kafkago-resume-g"
	createTopic(t, b.Addr, topic, 3, nil)
	produceN(t, b.Addr, topic, "a", 60)

	read := func(n int) *seenSet {
		t.Helper()
		r := kafkago.NewReader(kafkago.ReaderConfig{
			Brokers: []string{b.Addr}, GroupID: group, Topic: topic,
			StartOffset: kafkago.FirstOffset, MaxWait: 100 * time.Millisecond,
			HeartbeatInterval: 200 * time.Millisecond,
		})
		defer r.Close() // leaves the group (LeaveGroup v0)
		seen := &seenSet{keys: map[string]int{}}
		ctx, cancel := context.WithTimeout(ctxT(t), 30*time.Second)
		defer cancel()
		for i := 0; i < n; i++ {
			m, err := r.ReadMessage(ctx) // commits synchronously (OffsetCommit v2)
			if err != nil {
				t.Fatalf("kafka-go read %d of %d: %v", i, n, err)
			}
			seen.add(string(m.Key))
		}
		return seen
	}
	first := read(60)
	if miss := first.missing("a", 60); miss != 0 {
		t.Fatalf("first reader missed %d records", miss)
	}
	if err := checkCommittedAtEnds(t, b.Addr, group, topic, 3); err != nil {
		t.Fatal(err)
	}

	produceN(t, b.Addr, topic, "b", 30)
	second := read(30)
	if miss := second.missing("b", 30); miss != 0 {
		t.Fatalf("second reader missed %d new records", miss)
	}
	if again := 60 - second.missing("a", 60); again != 0 {
		t.Fatalf("second reader consumed %d records the first one had committed", again)
	}
	if err := checkCommittedAtEnds(t, b.Addr, group, topic, 3); err != nil {
		t.Fatal(err)
	}
}

func TestGroupCompatKcatCountThenResume(t *testing.T) {
	needKcat(t)
	b := testkit.StartBroker(t)
	const topic, group = "kcat-resume", "kcat-resume-g"
	createTopic(t, b.Addr, topic, 3, nil)
	produceN(t, b.Addr, topic, "a", 30)
	adm := kadm.NewClient(testkit.Client(t, b.Addr))

	// -c 10: stop after ten records; closing the consumer commits them.
	// (auto.offset.reset rather than -o: with -G, kcat assigns -o's offset
	// over the committed one.)
	out := strings.Fields(runKcat(t, "", "-b", b.Addr, "-G", group, "-X", "auto.offset.reset=earliest", "-c", "10", "-f", "%k\n", topic))
	if len(out) != 10 {
		t.Fatalf("kcat -c 10 printed %d records: %v", len(out), out)
	}
	if got := committedTotal(t, adm, group); got != 10 {
		t.Fatalf("after kcat -c 10 the group committed %d records, want 10", got)
	}
	// -e: the second run reads exactly the other twenty, and commits them.
	rest := strings.Fields(runKcat(t, "", "-b", b.Addr, "-G", group, "-X", "auto.offset.reset=earliest", "-e", "-f", "%k\n", topic))
	if len(rest) != 20 {
		t.Fatalf("second kcat run printed %d records, want 20: %v", len(rest), rest)
	}
	all := map[string]bool{}
	for _, k := range append(out, rest...) {
		if all[k] {
			t.Fatalf("%s consumed by both kcat runs", k)
		}
		all[k] = true
	}
	if len(all) != 30 {
		t.Fatalf("kcat runs consumed %d distinct records, want 30", len(all))
	}
	testkit.Eventually(t, 10*time.Second, func() error { return checkCommittedAtEnds(t, b.Addr, group, topic, 3) })
}

// commitLedger is shared by the members of a group under test. It knows,
// per partition, the offset most recently committed with success, and
// checks each consumed record against it: a record below a committed
// offset must never be consumed again.
type commitLedger struct {
	mu         sync.Mutex
	committed  map[int32]int64
	consumed   map[string]int // key -> times consumed
	perMember  map[string]int
	maxOffset  map[int32]int64
	violations []string
}

func newCommitLedger() *commitLedger {
	return &commitLedger{committed: map[int32]int64{}, consumed: map[string]int{}, perMember: map[string]int{}, maxOffset: map[int32]int64{}}
}

func (l *commitLedger) consume(member string, r *kgo.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.committed[r.Partition]; ok && r.Offset < c {
		l.violations = append(l.violations, fmt.Sprintf("%s consumed %s at %d/%d after offset %d was committed",
			member, r.Key, r.Partition, r.Offset, c))
	}
	l.consumed[string(r.Key)]++
	l.perMember[member]++
	l.maxOffset[r.Partition] = max(l.maxOffset[r.Partition], r.Offset)
}

func (l *commitLedger) commit(p int32, off int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.committed[p] = max(l.committed[p], off)
}

func (l *commitLedger) count(member string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.perMember[member]
}

// reachedAll reports an error unless every partition has been consumed up
// to at least ends[p]-1.
func (l *commitLedger) reachedAll(ends map[int32]int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for p, end := range ends {
		if end > 0 && l.maxOffset[p] < end-1 {
			return fmt.Errorf("partition %d consumed to %d, end %d", p, l.maxOffset[p], end)
		}
	}
	return nil
}

// ledgerMember is a franz-go group member that commits after every poll,
// before it lets a rebalance through.
type ledgerMember struct {
	name   string
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
}

func startLedgerMember(t *testing.T, addr, group, topic, name string, l *commitLedger, opts ...kgo.Opt) *ledgerMember {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(),
		kgo.FetchMaxWait(100 * time.Millisecond), kgo.HeartbeatInterval(100 * time.Millisecond),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &ledgerMember{name: name, cl: cl, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			recs := cl.PollRecords(ctx, 50).Records()
			if len(recs) > 0 {
				next := map[string]map[int32]kgo.EpochOffset{}
				for _, r := range recs {
					l.consume(name, r)
					if next[r.Topic] == nil {
						next[r.Topic] = map[int32]kgo.EpochOffset{}
					}
					next[r.Topic][r.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
				}
				cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
				cl.CommitOffsetsSync(cctx, next, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
					if err != nil {
						return // nothing recorded: these records may be consumed again
					}
					for _, rt := range resp.Topics {
						for _, rp := range rt.Partitions {
							if rp.ErrorCode == 0 {
								l.commit(rp.Partition, next[rt.Topic][rp.Partition].Offset)
							}
						}
					}
				})
				ccancel()
			}
			cl.AllowRebalance()
		}
	}()
	t.Cleanup(m.stop)
	return m
}

func (m *ledgerMember) stop() {
	select {
	case <-m.done:
		return
	default:
	}
	m.cancel()
	<-m.done
	m.cl.Close() // leaves the group; nothing uncommitted was processed
}

func TestGroupCompatFranzGoChurnCommitsPerPoll(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []kgo.Opt
	}{
		{"range", []kgo.Opt{kgo.Balancers(kgo.RangeBalancer())}},
		{"cooperative-sticky", []kgo.Opt{kgo.Balancers(kgo.CooperativeStickyBalancer())}},
		{"kip848-uniform", []kgo.Opt{kgo.Balancers(kgo.CooperativeStickyBalancer()), kgo.ServerSideBalancer()}},
		{"kip848-range", []kgo.Opt{kgo.Balancers(kgo.RangeBalancer()), kgo.ServerSideBalancer()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testkit.StartBroker(t, testkit.WithConfig("group.consumer.heartbeat.interval.ms", "200"))
			const topic, group, partitions = "churn", "churn-g", 6
			createTopic(t, b.Addr, topic, partitions, nil)
			l := newCommitLedger()

			// A producer writes ten records every 10 ms until stopped, so
			// every membership change below happens while records arrive.
			prod := testkit.Client(t, b.Addr, kgo.DefaultProduceTopic(topic))
			var produced []string
			pctx, stopProducing := context.WithCancel(context.Background())
			pdone := make(chan struct{})
			go func() {
				defer close(pdone)
				tick := time.NewTicker(10 * time.Millisecond)
				defer tick.Stop()
				for i := 0; ; {
					select {
					case <-pctx.Done():
						return
					case <-tick.C:
					}
					var recs []*kgo.Record
					for j := 0; j < 10; j, i = j+1, i+1 {
						recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprintf("r-%d", i)), Value: []byte("v")})
					}
					if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
						t.Errorf("produce: %v", err)
						return
					}
					for _, r := range recs {
						produced = append(produced, string(r.Key))
					}
				}
			}()
			defer func() { stopProducing(); <-pdone }()

			waitConsumed := func(m *ledgerMember, atLeast int) {
				t.Helper()
				testkit.Eventually(t, 30*time.Second, func() error {
					if n := l.count(m.name); n < atLeast {
						return fmt.Errorf("%s consumed %d", m.name, n)
					}
					return nil
				})
			}
			// After a member leaves, the others consume every partition
			// past where the log ended when it left.
			waitTakeover := func() {
				t.Helper()
				ends := listEnds(t, prod, topic, partitions)
				testkit.Eventually(t, 30*time.Second, func() error { return l.reachedAll(ends) })
			}
			start := func(name string) *ledgerMember {
				return startLedgerMember(t, b.Addr, group, topic, name, l, tc.opts...)
			}

			m1 := start("m1")
			waitConsumed(m1, 100)
			m2, m3 := start("m2"), start("m3")
			waitConsumed(m2, 50)
			waitConsumed(m3, 50)
			m1.stop()
			waitTakeover()
			m4 := start("m4")
			waitConsumed(m4, 50)
			m2.stop()
			waitTakeover()

			stopProducing()
			<-pdone
			if t.Failed() {
				return
			}
			testkit.Eventually(t, 30*time.Second, func() error {
				return checkCommittedAtEnds(t, b.Addr, group, topic, partitions)
			})
			m3.stop()
			m4.stop()

			l.mu.Lock()
			defer l.mu.Unlock()
			if len(l.violations) > 0 {
				t.Fatalf("%d records consumed again after their offsets were committed; first: %s", len(l.violations), l.violations[0])
			}
			again := 0
			for _, k := range produced {
				switch n := l.consumed[k]; {
				case n == 0:
					t.Fatalf("%s was produced but never consumed", k)
				case n > 1:
					again++
				}
			}
			if len(l.consumed) != len(produced) {
				t.Fatalf("consumed %d distinct records, produced %d", len(l.consumed), len(produced))
			}
			t.Logf("%d records produced, %d consumed more than once (never after a commit), per member %v", len(produced), again, l.perMember)
		})
	}
}
