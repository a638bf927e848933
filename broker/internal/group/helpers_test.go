package group

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fakeTopics is an in-memory topic registry.
type fakeTopics struct {
	mu    sync.Mutex
	parts map[string]int32
}

func newTopics(kv map[string]int32) *fakeTopics {
	return &fakeTopics{parts: maps(kv)}
}

func maps(kv map[string]int32) map[string]int32 {
	m := make(map[string]int32, len(kv))
	for k, v := range kv {
		m[k] = v
	}
	return m
}

func topicID(name string) [16]byte {
	h := sha256.Sum256([]byte(name))
	var id [16]byte
	copy(id[:], h[:])
	return id
}

func (f *fakeTopics) set(name string, n int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.parts[name] = n
}

func (f *fakeTopics) Partitions(topic string) (int32, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.parts[topic]
	return n, ok
}

func (f *fakeTopics) TopicID(topic string) ([16]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.parts[topic]; !ok {
		return [16]byte{}, false
	}
	return topicID(topic), true
}

func (f *fakeTopics) TopicName(id [16]byte) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name := range f.parts {
		if topicID(name) == id {
			return name, true
		}
	}
	return "", false
}

func (f *fakeTopics) Names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	names := make([]string, 0, len(f.parts))
	for n := range f.parts {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

var defaultTestTopics = map[string]int32{"t1": 3, "t2": 2, "a": 6, "b": 3}

func testConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.Dir = dir
	cfg.MinSessionTimeoutMs = 10
	cfg.InitialRebalanceDelayMs = 0
	cfg.ConsumerHeartbeatIntervalMs = 50
	cfg.ConsumerSessionTimeoutMs = 10000
	return cfg
}

type testEnv struct {
	t      *testing.T
	dir    string
	topics *fakeTopics
	c      *Coordinator
}

func newEnv(t *testing.T, mod ...func(*Config)) *testEnv {
	t.Helper()
	e := &testEnv{t: t, dir: t.TempDir(), topics: newTopics(defaultTestTopics)}
	cfg := testConfig(e.dir)
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg, e.topics, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	t.Cleanup(func() { e.c.Close() })
	return e
}

// reopen closes the coordinator and opens a new one on the same directory.
func (e *testEnv) reopen(mod ...func(*Config)) {
	e.t.Helper()
	if err := e.c.Close(); err != nil {
		e.t.Fatal(err)
	}
	cfg := testConfig(e.dir)
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg, e.topics, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.c = c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// consumerMeta encodes consumer-protocol metadata subscribing to topics.
func consumerMeta(topics ...string) []byte {
	m := kmsg.NewConsumerMemberMetadata()
	m.Topics = topics
	return m.AppendTo(nil)
}

type joinOpt func(*kmsg.JoinGroupRequest)

func withInstance(id string) joinOpt {
	return func(r *kmsg.JoinGroupRequest) { r.InstanceID = &id }
}

func withSession(ms int32) joinOpt {
	return func(r *kmsg.JoinGroupRequest) { r.SessionTimeoutMillis = ms }
}

func withRebalance(ms int32) joinOpt {
	return func(r *kmsg.JoinGroupRequest) { r.RebalanceTimeoutMillis = ms }
}

func withProtocols(ps ...string) joinOpt {
	return func(r *kmsg.JoinGroupRequest) {
		r.Protocols = nil
		for _, p := range ps {
			jp := kmsg.NewJoinGroupRequestProtocol()
			jp.Name = p
			jp.Metadata = consumerMeta("t1")
			r.Protocols = append(r.Protocols, jp)
		}
	}
}

func withProtocolType(pt string) joinOpt {
	return func(r *kmsg.JoinGroupRequest) { r.ProtocolType = pt }
}

func withVersion(v int16) joinOpt {
	return func(r *kmsg.JoinGroupRequest) { r.Version = v }
}

func joinReq(group, member string, opts ...joinOpt) *kmsg.JoinGroupRequest {
	r := kmsg.NewPtrJoinGroupRequest()
	r.Version = 9
	r.Group = group
	r.MemberID = member
	r.SessionTimeoutMillis = 10000
	r.RebalanceTimeoutMillis = 10000
	r.ProtocolType = "consumer"
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name = "range"
	p.Metadata = consumerMeta("t1")
	r.Protocols = []kmsg.JoinGroupRequestProtocol{p}
	for _, o := range opts {
		o(r)
	}
	return r
}

// joinAsync runs JoinGroup in a goroutine.
func (e *testEnv) joinAsync(req *kmsg.JoinGroupRequest) <-chan *kmsg.JoinGroupResponse {
	ch := make(chan *kmsg.JoinGroupResponse, 1)
	go func() { ch <- e.c.JoinGroup(ctxT(e.t), req) }()
	return ch
}

func wait[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for a response")
	}
	panic("unreachable")
}

// blocked asserts that nothing arrives on ch for a short while.
func blocked[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("expected the request to block, got %+v", v)
	case <-time.After(50 * time.Millisecond):
	}
}

// joinNew performs the KIP-394 two-step join and returns the member id and
// the response channel of the second join.
func (e *testEnv) joinNew(group string, opts ...joinOpt) (string, <-chan *kmsg.JoinGroupResponse) {
	e.t.Helper()
	r := e.c.JoinGroup(ctxT(e.t), joinReq(group, "", opts...))
	if r.ErrorCode != kerr.MemberIDRequired.Code {
		e.t.Fatalf("first join: got error %d, want MEMBER_ID_REQUIRED", r.ErrorCode)
	}
	return r.MemberID, e.joinAsync(joinReq(group, r.MemberID, opts...))
}

func syncReq(group, member string, gen int32, assign map[string][]byte) *kmsg.SyncGroupRequest {
	r := kmsg.NewPtrSyncGroupRequest()
	r.Version = 5
	r.Group = group
	r.MemberID = member
	r.Generation = gen
	r.ProtocolType = kmsg.StringPtr("consumer")
	r.Protocol = kmsg.StringPtr("range")
	for _, id := range sortedKeys(assign) {
		a := kmsg.NewSyncGroupRequestGroupAssignment()
		a.MemberID = id
		a.MemberAssignment = assign[id]
		r.GroupAssignment = append(r.GroupAssignment, a)
	}
	return r
}

func (e *testEnv) syncAsync(req *kmsg.SyncGroupRequest) <-chan *kmsg.SyncGroupResponse {
	ch := make(chan *kmsg.SyncGroupResponse, 1)
	go func() { ch <- e.c.SyncGroup(ctxT(e.t), req) }()
	return ch
}

func (e *testEnv) heartbeat(group, member string, gen int32) int16 {
	r := kmsg.NewPtrHeartbeatRequest()
	r.Version = 4
	r.Group = group
	r.MemberID = member
	r.Generation = gen
	return e.c.Heartbeat(ctxT(e.t), r).ErrorCode
}

func (e *testEnv) describe(group string) kmsg.DescribeGroupsResponseGroup {
	r := kmsg.NewPtrDescribeGroupsRequest()
	r.Version = 5
	r.Groups = []string{group}
	return e.c.DescribeGroups(ctxT(e.t), r).Groups[0]
}

type commitPart struct {
	topic     string
	partition int32
	offset    int64
	metadata  string
}

func commitReq(group, member string, gen int32, parts ...commitPart) *kmsg.OffsetCommitRequest {
	r := kmsg.NewPtrOffsetCommitRequest()
	r.Version = 9
	r.Group = group
	r.MemberID = member
	r.Generation = gen
	for _, p := range parts {
		var t *kmsg.OffsetCommitRequestTopic
		for i := range r.Topics {
			if r.Topics[i].Topic == p.topic {
				t = &r.Topics[i]
			}
		}
		if t == nil {
			r.Topics = append(r.Topics, kmsg.NewOffsetCommitRequestTopic())
			t = &r.Topics[len(r.Topics)-1]
			t.Topic = p.topic
		}
		cp := kmsg.NewOffsetCommitRequestTopicPartition()
		cp.Partition = p.partition
		cp.Offset = p.offset
		cp.LeaderEpoch = 7
		cp.Metadata = kmsg.StringPtr(p.metadata)
		t.Partitions = append(t.Partitions, cp)
	}
	return r
}

// commitCodes returns topic/partition → error code.
func commitCodes(r *kmsg.OffsetCommitResponse) map[tp]int16 {
	m := make(map[tp]int16)
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			m[tp{t.Topic, p.Partition}] = p.ErrorCode
		}
	}
	return m
}

func (e *testEnv) commit(group, member string, gen int32, parts ...commitPart) map[tp]int16 {
	return commitCodes(e.c.OffsetCommit(ctxT(e.t), commitReq(group, member, gen, parts...)))
}

func allCodes(t *testing.T, codes map[tp]int16, want int16) {
	t.Helper()
	if len(codes) == 0 {
		t.Fatal("no partitions in response")
	}
	for k, c := range codes {
		if c != want {
			t.Fatalf("%v: error %d, want %d (all: %v)", k, c, want, codes)
		}
	}
}

type fetched struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	err         int16
}

// fetch fetches offsets with OffsetFetch v7 (topics nil = all).
func (e *testEnv) fetch(group string, stable bool, topics map[string][]int32) (int16, map[tp]fetched) {
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version = 7
	r.Group = group
	r.RequireStable = stable
	if topics != nil {
		r.Topics = []kmsg.OffsetFetchRequestTopic{}
		for _, name := range sortedKeys(topics) {
			t := kmsg.NewOffsetFetchRequestTopic()
			t.Topic = name
			t.Partitions = topics[name]
			r.Topics = append(r.Topics, t)
		}
	}
	resp := e.c.OffsetFetch(ctxT(e.t), r)
	out := make(map[tp]fetched)
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			md := ""
			if p.Metadata != nil {
				md = *p.Metadata
			}
			out[tp{t.Topic, p.Partition}] = fetched{p.Offset, p.LeaderEpoch, md, p.ErrorCode}
		}
	}
	return resp.ErrorCode, out
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
