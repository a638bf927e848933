package group

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// memLog is an in-memory OffsetsLog: the coordinator's side of the view
// is tested here; the broker's topic (and a reader decoding it from
// Kafka's documented layout) is tested in broker/.
type memLog struct {
	mu    sync.Mutex
	parts map[int32][]OffsetsRecord
	fail  error
	calls int
}

func newMemLog() *memLog { return &memLog{parts: map[int32][]OffsetsRecord{}} }

func (m *memLog) Append(p int32, recs []OffsetsRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.calls++
	for _, r := range recs {
		m.parts[p] = append(m.parts[p], OffsetsRecord{Key: bytes.Clone(r.Key), Value: bytes.Clone(r.Value), TimestampMs: r.TimestampMs})
	}
	return nil
}

func (m *memLog) Scan(p int32, fn func(key, value []byte)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.parts[p] {
		fn(r.Key, r.Value)
	}
	return nil
}

func (m *memLog) setFail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

func (m *memLog) appends() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// latest is the compacted content: partition → key → value.
func (m *memLog) latest() map[int32]map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[int32]map[string][]byte{}
	for p, recs := range m.parts {
		out[p] = map[string][]byte{}
		for _, r := range recs {
			if r.Value == nil {
				delete(out[p], string(r.Key))
			} else {
				out[p][string(r.Key)] = r.Value
			}
		}
	}
	return out
}

// waitView waits until the view writer has appended everything written to
// the state file so far.
func waitView(t *testing.T, e *testEnv) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !e.c.view.caughtUp() {
		if time.Now().After(deadline) {
			t.Fatal("the __consumer_offsets view did not catch up")
		}
		time.Sleep(time.Millisecond)
	}
}

func withLog(l *memLog) func(*Config) {
	return func(c *Config) { c.OffsetsLog, c.OffsetsTopicPartitions = l, 50 }
}

func offsetKeyBytes(g, topic string, p int32) string {
	k := kmsg.OffsetCommitKey{Version: 1, Group: g, Topic: topic, Partition: p}
	return string(k.AppendTo(nil))
}

func committedOffset(t *testing.T, v []byte) int64 {
	t.Helper()
	var ov kmsg.OffsetCommitValue
	if err := ov.ReadFrom(v); err != nil {
		t.Fatalf("offset commit value: %v", err)
	}
	return ov.Offset
}

func TestOffsetsPartitionIsJavasHash(t *testing.T) {
	// Values of Java's abs(String.hashCode()) % 50.
	for g, want := range map[string]int32{
		"polygenelubricants":     0, // hashCode is Integer.MIN_VALUE
		"hello":                  22,
		"my-group":               12, // negative hashCode
		"grüße":                  23,
		"😀x":                     39, // a surrogate pair
		"console-consumer-12345": 6,
	} {
		if got := OffsetsPartition(g, 50); got != want {
			t.Errorf("partition of %q: %d, want %d", g, got, want)
		}
	}
}

func TestViewFollowsCommitsAndDeletes(t *testing.T) {
	l := newMemLog()
	e := newEnv(t, withLog(l))
	allCodes(t, e.commit("my-group", "", -1, commitPart{"t1", 0, 5, "m"}, commitPart{"t1", 1, 6, ""}), 0)
	waitView(t, e)
	p := OffsetsPartition("my-group", 50)
	got := l.latest()[p]
	if len(got) != 2 || committedOffset(t, got[offsetKeyBytes("my-group", "t1", 0)]) != 5 {
		t.Fatalf("partition %d after commit: %d keys", p, len(got))
	}
	// OffsetDelete writes a tombstone; deleting the group writes the rest.
	od := kmsg.NewPtrOffsetDeleteRequest()
	od.Group = "my-group"
	odt := kmsg.NewOffsetDeleteRequestTopic()
	odt.Topic = "t1"
	odt.Partitions = []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 1}}
	od.Topics = []kmsg.OffsetDeleteRequestTopic{odt}
	e.c.OffsetDelete(ctxT(t), od)
	waitView(t, e)
	if got := l.latest()[p]; len(got) != 1 {
		t.Fatalf("after OffsetDelete: %d keys, want 1", len(got))
	}
	dg := kmsg.NewPtrDeleteGroupsRequest()
	dg.Groups = []string{"my-group"}
	e.c.DeleteGroups(ctxT(t), dg)
	waitView(t, e)
	if got := l.latest()[p]; len(got) != 0 {
		t.Fatalf("after DeleteGroups: %d keys, want none", len(got))
	}
}

func TestViewRepairedAfterFailedAppend(t *testing.T) {
	l := newMemLog()
	e := newEnv(t, withLog(l))
	waitView(t, e)
	l.setFail(errors.New("disk full"))
	allCodes(t, e.commit("g", "", -1, commitPart{"t1", 0, 9, ""}), 0)
	deadline := time.Now().Add(10 * time.Second)
	for !e.c.view.stale.Load() {
		if time.Now().After(deadline) {
			t.Fatal("a failed append did not leave the view behind")
		}
		time.Sleep(time.Millisecond)
	}
	// The commit itself succeeded, and later ones do too.
	allCodes(t, e.commit("g", "", -1, commitPart{"t1", 1, 10, ""}), 0)
	l.setFail(nil)
	waitView(t, e)
	got := l.latest()[OffsetsPartition("g", 50)]
	if committedOffset(t, got[offsetKeyBytes("g", "t1", 0)]) != 9 || committedOffset(t, got[offsetKeyBytes("g", "t1", 1)]) != 10 {
		t.Fatalf("after the retry: %d keys", len(got))
	}
}

// A kill -9 between the state-file write and the topic append, or a topic
// that holds keys the state no longer has: the next start appends only the
// differences.
func TestViewReconciledOnStart(t *testing.T) {
	l := newMemLog()
	e := newEnv(t, withLog(l))
	allCodes(t, e.commit("a", "", -1, commitPart{"t1", 0, 1, ""}), 0)
	allCodes(t, e.commit("b", "", -1, commitPart{"t2", 0, 2, ""}), 0)
	waitView(t, e)
	if err := e.c.Close(); err != nil {
		t.Fatal(err)
	}

	// The topic misses b's commit and holds a key the state never had.
	pb := OffsetsPartition("b", 50)
	l.parts[pb] = nil
	stray := offsetKeyBytes("gone", "t1", 0)
	pg := OffsetsPartition("gone", 50)
	l.parts[pg] = append(l.parts[pg], OffsetsRecord{Key: []byte(stray), Value: []byte{0, 3}})

	e.reopen(withLog(l))
	waitView(t, e)
	got := l.latest()
	if committedOffset(t, got[pb][offsetKeyBytes("b", "t2", 0)]) != 2 {
		t.Fatal("missed commit not appended on start")
	}
	if _, ok := got[pg][stray]; ok {
		t.Fatal("stray key not tombstoned on start")
	}
	calls := l.appends()
	e.reopen(withLog(l))
	waitView(t, e)
	if l.appends() != calls {
		t.Fatalf("a view in step with the state was appended to again (%d appends)", l.calls-calls)
	}
}

func TestViewGroupMetadata(t *testing.T) {
	l := newMemLog()
	e := newEnv(t, withLog(l))
	// A static member joins at once (no MEMBER_ID_REQUIRED).
	j := wait(t, e.joinAsync(joinReq("cl", "", withInstance("inst"))))
	e.c.SyncGroup(ctxT(t), syncReq("cl", j.MemberID, 1, map[string][]byte{j.MemberID: []byte("assigned")}))
	waitView(t, e)
	k := kmsg.GroupMetadataKey{Version: 2, Group: "cl"}
	raw := l.latest()[OffsetsPartition("cl", 50)][string(k.AppendTo(nil))]
	var v kmsg.GroupMetadataValue
	if err := v.ReadFrom(raw); err != nil {
		t.Fatal(err)
	}
	if v.Version != 3 || v.Generation != 1 || v.ProtocolType != "consumer" || v.Protocol == nil || *v.Protocol != "range" ||
		len(v.Members) != 1 || string(v.Members[0].Assignment) != "assigned" || v.Members[0].InstanceID == nil {
		t.Fatalf("group metadata: %+v", v)
	}
}
