package broker_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// A reader of __consumer_offsets written here from the layout Kafka
// documents for the topic (the coordinator-key and data schemas
// OffsetCommitKey, OffsetCommitValue, GroupMetadataKey and
// GroupMetadataValue), not from the broker's encoder: big-endian integers,
// strings as int16 length + bytes (-1: null), bytes as int32 length +
// bytes, arrays as int32 count.

type offsetsReader struct {
	b   []byte
	err error
}

func (r *offsetsReader) take(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.err = errors.New("short record")
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}
func (r *offsetsReader) i16() int16 { b := r.take(2); return int16(binary.BigEndian.Uint16(pad(b, 2))) }
func (r *offsetsReader) i32() int32 { b := r.take(4); return int32(binary.BigEndian.Uint32(pad(b, 4))) }
func (r *offsetsReader) i64() int64 { b := r.take(8); return int64(binary.BigEndian.Uint64(pad(b, 8))) }
func (r *offsetsReader) str() string {
	n := r.i16()
	if n < 0 {
		r.err = errors.New("null where a string is required")
		return ""
	}
	return string(r.take(int(n)))
}
func (r *offsetsReader) nullableStr() *string {
	n := r.i16()
	if n == -1 {
		return nil
	}
	s := string(r.take(int(n)))
	return &s
}
func (r *offsetsReader) bytes() []byte { return r.take(int(r.i32())) }
func (r *offsetsReader) done() error {
	if r.err == nil && len(r.b) != 0 {
		return fmt.Errorf("%d bytes left over", len(r.b))
	}
	return r.err
}

func pad(b []byte, n int) []byte {
	if len(b) == n {
		return b
	}
	return make([]byte, n)
}

type commitKey struct {
	group, topic string
	partition    int32
}

type commitValue struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	commitMs    int64
}

type groupValue struct {
	protocolType string
	generation   int32
	protocol     *string
	leader       *string
	members      []groupMember
}

type groupMember struct {
	memberID, clientID, clientHost string
	instanceID                     *string
	subscription, assignment       []byte
}

// offsetsView is what a lag monitor builds from the topic: the latest
// value of every key, tombstones removing keys.
type offsetsView struct {
	partitions int32
	commits    map[commitKey]commitValue
	groups     map[string]groupValue
}

func (v *offsetsView) apply(t *testing.T, r *kgo.Record) {
	t.Helper()
	key := &offsetsReader{b: r.Key}
	switch version := key.i16(); version {
	case 0, 1: // offset commit
		k := commitKey{group: key.str(), topic: key.str(), partition: key.i32()}
		if err := key.done(); err != nil {
			t.Fatalf("offset commit key at %d: %v", r.Offset, err)
		}
		v.place(t, k.group, r.Partition)
		if r.Value == nil {
			delete(v.commits, k)
			return
		}
		val := &offsetsReader{b: r.Value}
		var c commitValue
		switch vv := val.i16(); vv {
		case 3:
			c = commitValue{offset: val.i64(), leaderEpoch: val.i32(), metadata: val.str(), commitMs: val.i64()}
		case 1:
			c = commitValue{offset: val.i64(), leaderEpoch: -1, metadata: val.str(), commitMs: val.i64()}
			val.i64() // expire timestamp
		default:
			t.Fatalf("offset commit value version %d at %d", vv, r.Offset)
		}
		if err := val.done(); err != nil {
			t.Fatalf("offset commit value at %d: %v", r.Offset, err)
		}
		v.commits[k] = c
	case 2: // group metadata
		g := key.str()
		if err := key.done(); err != nil {
			t.Fatalf("group key at %d: %v", r.Offset, err)
		}
		v.place(t, g, r.Partition)
		if r.Value == nil {
			delete(v.groups, g)
			return
		}
		val := &offsetsReader{b: r.Value}
		if vv := val.i16(); vv != 3 {
			t.Fatalf("group metadata value version %d at %d", vv, r.Offset)
		}
		gv := groupValue{protocolType: val.str(), generation: val.i32(), protocol: val.nullableStr(), leader: val.nullableStr()}
		val.i64() // current state timestamp
		for n := val.i32(); n > 0 && val.err == nil; n-- {
			m := groupMember{memberID: val.str(), instanceID: val.nullableStr(), clientID: val.str(), clientHost: val.str()}
			val.i32() // rebalance timeout
			val.i32() // session timeout
			m.subscription, m.assignment = val.bytes(), val.bytes()
			gv.members = append(gv.members, m)
		}
		if err := val.done(); err != nil {
			t.Fatalf("group metadata value at %d: %v", r.Offset, err)
		}
		v.groups[g] = gv
	default:
		t.Fatalf("unknown key version %d at %d", version, r.Offset)
	}
}

// place checks that every record of a group lands in the partition Kafka
// would put it in.
func (v *offsetsView) place(t *testing.T, group string, p int32) {
	t.Helper()
	if want := javaPartition(group, v.partitions); want != p {
		t.Fatalf("group %s in partition %d, Kafka puts it in %d", group, p, want)
	}
}

// javaPartition is Kafka's placement: Utils.abs(group.hashCode()) % n,
// with Java's String.hashCode over UTF-16 units.
func javaPartition(group string, n int32) int32 {
	h := int32(0)
	for _, u := range utf16.Encode([]rune(group)) {
		h = h*31 + int32(u)
	}
	if h == -1<<31 {
		return 0
	}
	if h < 0 {
		h = -h
	}
	return h % n
}

// readOffsetsTopic reads the whole of __consumer_offsets (n partitions)
// from the start to its current end offsets.
func readOffsetsTopic(t *testing.T, addr string, n int32) (*offsetsView, error) {
	t.Helper()
	v := &offsetsView{partitions: n, commits: map[commitKey]commitValue{}, groups: map[string]groupValue{}}
	l, err := admin(t, addr).ListEndOffsets(ctxT(t), offsetsTopic)
	if err != nil {
		return nil, err
	}
	end := map[int32]int64{}
	l.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			end[o.Partition] = o.Offset
		}
	})
	if len(end) != int(n) {
		return nil, fmt.Errorf("%s has %d partitions, want %d", offsetsTopic, len(end), n)
	}
	cl := testkit.Client(t, addr, kgo.ConsumeTopics(offsetsTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	pos := map[int32]int64{}
	caughtUp := func() bool {
		for p, e := range end {
			if pos[p] < e {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(30 * time.Second)
	for !caughtUp() {
		if time.Now().After(deadline) {
			t.Fatalf("read %v of %s, end offsets %v", pos, offsetsTopic, end)
		}
		ctx, cancel := context.WithTimeout(ctxT(t), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < end[r.Partition] {
				v.apply(t, r)
			}
			pos[r.Partition] = r.Offset + 1
		})
	}
	return v, nil
}

// viewMatches compares the view with what the coordinator answers:
// OffsetFetch for every group given, and DescribeGroups.
func viewMatches(t *testing.T, addr string, v *offsetsView, groups []string) error {
	t.Helper()
	adm := admin(t, addr)
	ctx := ctxT(t)
	want := map[commitKey]int64{}
	for _, g := range groups {
		offs, err := adm.FetchOffsets(ctx, g)
		if err != nil {
			return fmt.Errorf("fetch offsets of %s: %w", g, err)
		}
		offs.Each(func(o kadm.OffsetResponse) {
			want[commitKey{g, o.Topic, o.Partition}] = o.At
		})
	}
	got := map[commitKey]int64{}
	for k, c := range v.commits {
		got[k] = c.offset
	}
	if !maps.Equal(got, want) {
		return fmt.Errorf("%s says %v\ncoordinator says %v", offsetsTopic, got, want)
	}
	described, err := adm.DescribeGroups(ctx, groups...)
	if err != nil {
		return err
	}
	for _, g := range groups {
		d := described[g]
		gv, ok := v.groups[g]
		switch {
		case d.State == "Dead":
			if ok {
				return fmt.Errorf("group %s is gone, %s still describes it", g, offsetsTopic)
			}
		case d.ProtocolType == "":
			// Simple commits only: no group metadata record, as in
			// Kafka.
		case !ok:
			return fmt.Errorf("group %s (%s) has no metadata record", g, d.State)
		case gv.protocolType != d.ProtocolType || len(gv.members) != len(d.Members):
			return fmt.Errorf("group %s: record says %s with %d members, coordinator %s with %d", g, gv.protocolType, len(gv.members), d.ProtocolType, len(d.Members))
		}
	}
	return nil
}

// checkView reads the topic until it says what the coordinator says (the
// coordinator appends right after each change, from a goroutine of its
// own) and returns the view.
func checkView(t *testing.T, addr string, n int32, groups []string) *offsetsView {
	t.Helper()
	var v *offsetsView
	testkit.Eventually(t, 10*time.Second, func() error {
		var err error
		if v, err = readOffsetsTopic(t, addr, n); err != nil {
			return err
		}
		return viewMatches(t, addr, v, groups)
	})
	return v
}

// commitSimple commits offsets for group on the orders topic: partition p
// at base+p.
func commitSimple(t *testing.T, adm *kadm.Client, group string, base int64) {
	t.Helper()
	offs := kadm.Offsets{}
	for p := range int32(4) {
		offs.Add(kadm.Offset{Topic: "orders", Partition: p, At: base + int64(p), LeaderEpoch: -1, Metadata: "m-" + group})
	}
	if err := adm.CommitAllOffsets(ctxT(t), group, offs); err != nil {
		t.Fatalf("commit %s: %v", group, err)
	}
}

func TestConsumerOffsetsTopicDecodes(t *testing.T) {
	b := testkit.StartBroker(t, testkit.WithConfig("offsets.topic.num.partitions", "10"))
	createTopic(t, b.Addr, "orders", 4, nil)
	testkit.Produce(t, b.Addr, makeKgoRecords("orders", 40)...)
	adm := admin(t, b.Addr)
	groups := []string{"simple-a", "simple-b", "polygenelubricants", "grüße", "consumers"}
	for i, g := range groups[:4] {
		commitSimple(t, adm, g, int64(10*i))
	}
	// A real group consumer: group metadata with its member and offsets.
	seen := &seenSet{keys: map[string]int{}}
	gc := startGroupConsumer(t, b.Addr, "consumers", "orders", seen)
	testkit.Eventually(t, 30*time.Second, func() error {
		if got := committedTotal(t, adm, "consumers"); got != 40 {
			return fmt.Errorf("consumers committed %d of 40", got)
		}
		return nil
	})
	v := checkView(t, b.Addr, 10, groups)
	if gv := v.groups["consumers"]; gv.protocolType != "consumer" || len(gv.members) != 1 || gv.generation < 1 ||
		gv.protocol == nil || gv.leader == nil || *gv.leader != gv.members[0].memberID || len(gv.members[0].assignment) == 0 {
		t.Fatalf("group metadata of consumers: %+v", gv)
	}
	if c := v.commits[commitKey{"simple-b", "orders", 2}]; c.offset != 12 || c.metadata != "m-simple-b" || c.commitMs <= 0 {
		t.Fatalf("commit of simple-b orders-2: %+v", c)
	}
	gc.close()

	// Deleted offsets and groups become tombstones.
	if _, err := adm.DeleteOffsets(ctxT(t), "simple-a", kadm.TopicsSet{"orders": {1: {}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.DeleteGroups(ctxT(t), "simple-b"); err != nil {
		t.Fatal(err)
	}
	commitSimple(t, adm, "grüße", 500)
	v = checkView(t, b.Addr, 10, groups)
	if _, ok := v.commits[commitKey{"simple-a", "orders", 1}]; ok {
		t.Fatal("deleted offset still in the topic")
	}
	if _, ok := v.commits[commitKey{"simple-b", "orders", 0}]; ok {
		t.Fatal("deleted group's offsets still in the topic")
	}
	if v.commits[commitKey{"grüße", "orders", 3}].offset != 503 {
		t.Fatalf("latest commit of grüße: %+v", v.commits[commitKey{"grüße", "orders", 3}])
	}
}

// kill -9 of a broker process while groups commit, a partition of the
// topic lost on top, and a restart: the topic again says what the
// coordinator says, for every group.
func TestConsumerOffsetsTopicAfterKill9(t *testing.T) {
	dir := t.TempDir()
	opt := testkit.WithConfig("offsets.topic.num.partitions", "5")
	proc := testkit.StartBrokerProcess(t, dir, "", opt)
	createTopic(t, proc.Addr, "orders", 4, nil)
	adm := admin(t, proc.Addr)
	var groups []string
	for i := range 12 {
		g := fmt.Sprintf("kill-group-%d", i)
		groups = append(groups, g)
		commitSimple(t, adm, g, int64(i))
	}
	// Commits keep coming while the broker is killed.
	ctx, cancel := context.WithCancel(ctxT(t))
	stopped := make(chan struct{})
	var committed atomic.Int64
	go func() {
		defer close(stopped)
		cl, err := kgo.NewClient(kgo.SeedBrokers(proc.Addr))
		if err != nil {
			return
		}
		defer cl.Close()
		a := kadm.NewClient(cl)
		for n := int64(100); ctx.Err() == nil; n++ {
			offs := kadm.Offsets{}
			offs.Add(kadm.Offset{Topic: "orders", Partition: int32(n % 4), At: n, LeaderEpoch: -1})
			if a.CommitAllOffsets(ctx, groups[n%int64(len(groups))], offs) == nil {
				committed.Add(1)
			}
		}
	}()
	testkit.Eventually(t, 10*time.Second, func() error {
		if n := committed.Load(); n < 50 {
			return fmt.Errorf("%d commits so far", n)
		}
		return nil
	})
	proc.Kill()
	cancel()
	<-stopped

	// Lose a whole partition of the view, as if it had never been written.
	lost := javaPartition("kill-group-3", 5)
	if err := os.RemoveAll(filepath.Join(dir, fmt.Sprintf("%s-%d", offsetsTopic, lost))); err != nil {
		t.Fatal(err)
	}
	proc = testkit.StartBrokerProcess(t, dir, proc.Addr, opt)
	v := checkView(t, proc.Addr, 5, groups)
	if _, ok := v.commits[commitKey{"kill-group-3", "orders", 0}]; !ok {
		t.Fatal("the lost partition was not rebuilt")
	}

	// And it goes on following the commits after the restart.
	adm = admin(t, proc.Addr)
	commitSimple(t, adm, "kill-group-3", 9000)
	if _, err := adm.DeleteGroups(ctxT(t), "kill-group-4"); err != nil {
		t.Fatal(err)
	}
	v = checkView(t, proc.Addr, 5, groups)
	if v.commits[commitKey{"kill-group-3", "orders", 2}].offset != 9002 {
		t.Fatal("commit after the restart missing from the topic")
	}
}

func makeKgoRecords(topic string, n int) []*kgo.Record {
	out := make([]*kgo.Record, n)
	for i := range out {
		out[i] = &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)}
	}
	return out
}
