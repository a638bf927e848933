package broker_test

// Fetch semantics at the wire level: long polls and min bytes, the KIP-74
// size limits, incremental fetch sessions (KIP-227), every served version
// from v4 to v18, isolation levels and out-of-range offsets; and a slow
// client that does not stall the others.

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/record"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// fetchPart names one partition of a fetch request: by name before v13, by
// id from v13.
type fetchPart struct {
	topic     string
	id        [16]byte
	partition int32
	offset    int64
	maxBytes  int32
}

// newFetch builds a sessionless fetch (session id 0, epoch -1).
func newFetch(version int16, maxWaitMs, minBytes, maxBytes int32, parts ...fetchPart) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.Version = version
	req.ReplicaID = -1
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = maxWaitMs, minBytes, maxBytes
	req.SessionID, req.SessionEpoch = 0, -1
	for _, p := range parts {
		addFetchPart(req, p)
	}
	return req
}

func addFetchPart(req *kmsg.FetchRequest, p fetchPart) {
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p.partition, p.offset, p.maxBytes
	for i := range req.Topics {
		if req.Topics[i].Topic == p.topic && req.Topics[i].TopicID == p.id {
			req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
			return
		}
	}
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = p.topic, p.id
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
}

// fetchedPart finds a partition in a fetch response, or nil.
func fetchedPart(resp *kmsg.FetchResponse, p fetchPart) *kmsg.FetchResponseTopicPartition {
	for ti := range resp.Topics {
		rt := &resp.Topics[ti]
		if rt.Topic != p.topic || rt.TopicID != p.id {
			continue
		}
		for pi := range rt.Partitions {
			if rt.Partitions[pi].Partition == p.partition {
				return &rt.Partitions[pi]
			}
		}
	}
	return nil
}

// mustPart is fetchedPart that fails the test when the partition is missing
// or carries an error.
func mustPart(t *testing.T, resp *kmsg.FetchResponse, p fetchPart) *kmsg.FetchResponseTopicPartition {
	t.Helper()
	if resp.ErrorCode != 0 {
		t.Fatalf("fetch: top-level error %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	fp := fetchedPart(resp, p)
	if fp == nil {
		t.Fatalf("fetch response lacks %s[%d]: %+v", p.topic, p.partition, resp.Topics)
	}
	if fp.ErrorCode != 0 {
		t.Fatalf("fetch %s[%d]: %v", p.topic, p.partition, kerr.ErrorForCode(fp.ErrorCode))
	}
	return fp
}

// fetchedRecord is one record of a fetch response, by absolute offset.
type fetchedRecord struct {
	offset    int64
	timestamp int64
	value     string
	appendTs  bool
}

// decodeBatches walks record batches as a consumer would.
func decodeBatches(t *testing.T, data []byte) []fetchedRecord {
	t.Helper()
	var out []fetchedRecord
	err := record.Split(data, func(batch []byte, h record.Header) error {
		recs, err := record.Records(batch)
		if err != nil {
			return err
		}
		for _, r := range recs {
			out = append(out, fetchedRecord{offset: h.BaseOffset + int64(r.OffsetDelta), timestamp: h.RecordTimestamp(r),
				value: string(r.Value), appendTs: h.LogAppendTime()})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fetched batches do not decode: %v", err)
	}
	return out
}

func offsetsOf(recs []fetchedRecord) []int64 {
	var out []int64
	for _, r := range recs {
		out = append(out, r.offset)
	}
	return out
}

// exchange sends one request on a fresh connection and decodes the
// response; unlike roundTrip it reports failures as errors, so goroutines
// may use it.
func exchange(addr string, req kmsg.Request, timeout time.Duration) (kmsg.Response, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return exchangeOn(c, req, timeout)
}

func exchangeOn(c net.Conn, req kmsg.Request, timeout time.Duration) (kmsg.Response, error) {
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(frame(req.Key(), req.GetVersion(), req.IsFlexible(), req.AppendTo(nil))); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return nil, fmt.Errorf("no response: %w", err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		return nil, err
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	body = body[4:]
	if resp.IsFlexible() {
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	return resp, nil
}

func fetchRaw(t *testing.T, addr string, req *kmsg.FetchRequest) *kmsg.FetchResponse {
	t.Helper()
	return roundTrip(t, addr, req).(*kmsg.FetchResponse)
}

// produceTo appends one batch to a partition with a raw Produce v9 and
// returns the base offset.
func produceTo(t *testing.T, addr, topic string, partition int32, batch []byte) int64 {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Version = 9
	req.Acks = -1
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	got := roundTrip(t, addr, req).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	if got.ErrorCode != 0 {
		t.Fatalf("produce to %s[%d]: %v", topic, partition, kerr.ErrorForCode(got.ErrorCode))
	}
	return got.BaseOffset
}

// valueBatch is a one-record batch whose value is v.
func valueBatch(t *testing.T, v string) []byte {
	t.Helper()
	now := time.Now().UnixMilli()
	b, err := record.Build(record.Header{Magic: 2, BaseTimestamp: now, MaxTimestamp: now, ProducerID: -1, ProducerEpoch: -1,
		BaseSequence: -1, NumRecords: 1}, []record.Record{{Key: []byte("k"), Value: []byte(v)}}, record.None)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFetchLongPollReturnsWhenDataArrives(t *testing.T) {
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "longpoll", 1, nil)
	cl := testkit.Client(t, b.Addr)
	// The 2 s wait is the ordinary consumer case; the 60 s wait can only
	// finish inside the 10 s deadline if the append wakes the fetch.
	for i, maxWait := range []int32{2000, 60000} {
		t.Run(fmt.Sprint(maxWait), func(t *testing.T) {
			end := listEnds(t, cl, "longpoll", 1)[0]
			p := fetchPart{topic: "longpoll", offset: end, maxBytes: 1 << 20}
			type result struct {
				resp kmsg.Response
				err  error
			}
			done := make(chan result, 1)
			go func() {
				resp, err := exchange(b.Addr, newFetch(12, maxWait, 1, 1<<20, p), 10*time.Second)
				done <- result{resp, err}
			}()
			want := fmt.Sprintf("wake-%d", i)
			produceTo(t, b.Addr, "longpoll", 0, valueBatch(t, want))
			r := <-done
			if r.err != nil {
				t.Fatalf("long-polling fetch did not return with the new record: %v", r.err)
			}
			recs := decodeBatches(t, mustPart(t, r.resp.(*kmsg.FetchResponse), p).RecordBatches)
			if len(recs) != 1 || recs[0].offset != end || recs[0].value != want {
				t.Fatalf("long poll returned %+v, want %q at %d", recs, want, end)
			}
		})
	}
	t.Run("no data returns empty after max wait", func(t *testing.T) {
		end := listEnds(t, cl, "longpoll", 1)[0]
		p := fetchPart{topic: "longpoll", offset: end, maxBytes: 1 << 20}
		resp := fetchRaw(t, b.Addr, newFetch(12, 300, 1, 1<<20, p))
		fp := mustPart(t, resp, p)
		if len(fp.RecordBatches) != 0 || fp.HighWatermark != end {
			t.Fatalf("empty long poll returned %d bytes, high watermark %d (want 0 bytes, %d)", len(fp.RecordBatches), fp.HighWatermark, end)
		}
	})
}

// A response held back because the next request was already read (so that
// pipelined responses share a write) goes out when that next request waits
// (a long-polling fetch, a JoinGroup held by the initial rebalance delay),
// not when the wait ends.
func TestWaitingRequestDoesNotHoldEarlierResponses(t *testing.T) {
	b := testkit.StartBroker(t, testkit.WithConfig("group.initial.rebalance.delay.ms", "60000"))
	createTopic(t, b.Addr, "held", 1, nil)
	end := listEnds(t, testkit.Client(t, b.Addr), "held", 1)[0]
	join := kmsg.NewPtrJoinGroupRequest()
	// v3: from v4 a first join without a member id is answered at once
	// (MEMBER_ID_REQUIRED).
	join.Version, join.Group, join.ProtocolType, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = 3, "held", "consumer", 30_000, 60_000
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 0, 0, 0, 0, 0}}}
	for name, waiting := range map[string]kmsg.Request{
		"long-polling fetch": newFetch(12, 60_000, 1, 1<<20, fetchPart{topic: "held", offset: end, maxBytes: 1 << 20}),
		"JoinGroup":          join,
	} {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("tcp", b.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// Both requests in one write: the broker reads the second
			// before it answers the first.
			versions := kmsg.NewPtrApiVersionsRequest()
			pipelined := append(frame(versions.Key(), versions.GetVersion(), versions.IsFlexible(), versions.AppendTo(nil)),
				frame(waiting.Key(), waiting.GetVersion(), waiting.IsFlexible(), waiting.AppendTo(nil))...)
			if _, err := c.Write(pipelined); err != nil {
				t.Fatal(err)
			}
			// Within 10 s, while the second request may wait 60 s.
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			var size [4]byte
			if _, err := io.ReadFull(c, size[:]); err != nil {
				t.Fatalf("the ApiVersions response waited with the %s: %v", name, err)
			}
		})
	}
}

func TestFetchMinBytesWaitsForEnoughData(t *testing.T) {
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "minbytes", 1, nil)
	small := testBatch(t, 1, 10)
	produceTo(t, b.Addr, "minbytes", 0, small)
	p := fetchPart{topic: "minbytes", offset: 0, maxBytes: 1 << 20}

	// With less than min bytes available the fetch waits out max wait and
	// then returns what there is.
	resp := fetchRaw(t, b.Addr, newFetch(12, 200, 1<<20, 1<<20, p))
	if got := decodeBatches(t, mustPart(t, resp, p).RecordBatches); len(got) != 1 {
		t.Fatalf("fetch after max wait returned %d records, want the 1 available", len(got))
	}

	// A fetch wanting 1000 bytes is not answered by the small batch alone:
	// it waits until the second, larger batch brings it past min bytes.
	done := make(chan kmsg.Response, 1)
	errs := make(chan error, 1)
	go func() {
		resp, err := exchange(b.Addr, newFetch(12, 60000, 1000, 1<<20, p), 10*time.Second)
		if err != nil {
			errs <- err
			return
		}
		done <- resp
	}()
	produceTo(t, b.Addr, "minbytes", 0, testBatch(t, 1, 2000))
	select {
	case err := <-errs:
		t.Fatalf("fetch with min bytes did not complete: %v", err)
	case r := <-done:
		fp := mustPart(t, r.(*kmsg.FetchResponse), p)
		if len(fp.RecordBatches) < 1000 {
			t.Fatalf("fetch with min bytes 1000 returned only %d bytes", len(fp.RecordBatches))
		}
		if got := offsetsOf(decodeBatches(t, fp.RecordBatches)); !slices.Equal(got, []int64{0, 1}) {
			t.Fatalf("offsets %v, want [0 1]", got)
		}
	}
}

func TestFetchSizeLimitsKIP74(t *testing.T) {
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "kip74", 2, nil)
	big := testBatch(t, 1, 3000)
	produceTo(t, b.Addr, "kip74", 0, big)
	produceTo(t, b.Addr, "kip74", 1, big)
	for i := 0; i < 3; i++ {
		produceTo(t, b.Addr, "kip74", 0, testBatch(t, 1, 1000))
	}
	mid := len(testBatch(t, 1, 1000))

	t.Run("first batch over partition max bytes is returned whole", func(t *testing.T) {
		p0 := fetchPart{topic: "kip74", partition: 0, offset: 0, maxBytes: 100}
		p1 := fetchPart{topic: "kip74", partition: 1, offset: 0, maxBytes: 100}
		resp := fetchRaw(t, b.Addr, newFetch(12, 0, 1, 1<<20, p0, p1))
		if got := mustPart(t, resp, p0).RecordBatches; len(got) != len(big) {
			t.Fatalf("partition 0 returned %d bytes, want the whole first batch of %d", len(got), len(big))
		}
		// Past the response's first batch, a partition's max bytes holds:
		// a batch bigger than it is not sent.
		if got := mustPart(t, resp, p1).RecordBatches; len(got) != 0 {
			t.Fatalf("partition 1 returned %d bytes past its 100-byte limit", len(got))
		}
	})
	t.Run("first batch over response max bytes is returned whole", func(t *testing.T) {
		p0 := fetchPart{topic: "kip74", partition: 0, offset: 0, maxBytes: 1 << 20}
		p1 := fetchPart{topic: "kip74", partition: 1, offset: 0, maxBytes: 1 << 20}
		resp := fetchRaw(t, b.Addr, newFetch(12, 0, 1, 100, p0, p1))
		if got := mustPart(t, resp, p0).RecordBatches; len(got) != len(big) {
			t.Fatalf("partition 0 returned %d bytes, want only the whole first batch of %d", len(got), len(big))
		}
		if got := mustPart(t, resp, p1).RecordBatches; len(got) != 0 {
			t.Fatalf("partition 1 returned %d bytes beyond the response limit", len(got))
		}
	})
	t.Run("partition max bytes stops at whole batches", func(t *testing.T) {
		p0 := fetchPart{topic: "kip74", partition: 0, offset: 1, maxBytes: int32(2*mid + mid/2)}
		resp := fetchRaw(t, b.Addr, newFetch(12, 0, 1, 1<<20, p0))
		if got := offsetsOf(decodeBatches(t, mustPart(t, resp, p0).RecordBatches)); !slices.Equal(got, []int64{1, 2}) {
			t.Fatalf("offsets %v, want [1 2] (two whole batches within %d bytes)", got, p0.maxBytes)
		}
	})
	t.Run("response max bytes spans partitions", func(t *testing.T) {
		p0 := fetchPart{topic: "kip74", partition: 0, offset: 1, maxBytes: 1 << 20}
		p1 := fetchPart{topic: "kip74", partition: 1, offset: 0, maxBytes: 1 << 20}
		resp := fetchRaw(t, b.Addr, newFetch(12, 0, 1, int32(2*mid+mid/2), p0, p1))
		if got := offsetsOf(decodeBatches(t, mustPart(t, resp, p0).RecordBatches)); !slices.Equal(got, []int64{1, 2}) {
			t.Fatalf("partition 0 offsets %v, want [1 2]", got)
		}
		if got := mustPart(t, resp, p1).RecordBatches; len(got) != 0 {
			t.Fatalf("partition 1 returned %d bytes beyond the response limit", len(got))
		}
	})
}

// sessionFetch is a fetch in session id at epoch, listing parts and
// forgetting forget.
func sessionFetch(version int16, id, epoch int32, parts []fetchPart, forget []fetchPart) *kmsg.FetchRequest {
	req := newFetch(version, 0, 1, 1<<20, parts...)
	req.SessionID, req.SessionEpoch = id, epoch
	for _, f := range forget {
		found := false
		for i := range req.ForgottenTopics {
			if req.ForgottenTopics[i].Topic == f.topic && req.ForgottenTopics[i].TopicID == f.id {
				req.ForgottenTopics[i].Partitions = append(req.ForgottenTopics[i].Partitions, f.partition)
				found = true
			}
		}
		if !found {
			ft := kmsg.NewFetchRequestForgottenTopic()
			ft.Topic, ft.TopicID, ft.Partitions = f.topic, f.id, []int32{f.partition}
			req.ForgottenTopics = append(req.ForgottenTopics, ft)
		}
	}
	return req
}

// partsIn lists the partitions a fetch response carries.
func partsIn(resp *kmsg.FetchResponse) []int32 {
	var out []int32
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			out = append(out, p.Partition)
		}
	}
	slices.Sort(out)
	return out
}

func TestFetchSessionsKIP227(t *testing.T) {
	for _, version := range []int16{7, 12, 13, 18} {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			b := testkit.StartBroker(t)
			topic := "sessions"
			createTopic(t, b.Addr, topic, 3, nil)
			cl := testkit.Client(t, b.Addr)
			part := func(p int32, offset int64) fetchPart {
				fp := fetchPart{topic: topic, partition: p, offset: offset, maxBytes: 1 << 20}
				if version >= 13 {
					fp.topic, fp.id = "", topicID(t, cl, topic)
				}
				return fp
			}
			for p := int32(0); p < 3; p++ {
				produceTo(t, b.Addr, topic, p, valueBatch(t, fmt.Sprintf("p%d-0", p)))
			}

			// Epoch 0 opens a session with a full response.
			resp := fetchRaw(t, b.Addr, sessionFetch(version, 0, 0, []fetchPart{part(0, 0), part(1, 0), part(2, 0)}, nil))
			if resp.ErrorCode != 0 || resp.SessionID == 0 {
				t.Fatalf("session create: error %v, session id %d", kerr.ErrorForCode(resp.ErrorCode), resp.SessionID)
			}
			id := resp.SessionID
			if got := partsIn(resp); !slices.Equal(got, []int32{0, 1, 2}) {
				t.Fatalf("full response carries partitions %v", got)
			}

			// Epoch 1: only the partition with news is in the response.
			produceTo(t, b.Addr, topic, 1, valueBatch(t, "p1-1"))
			resp = fetchRaw(t, b.Addr, sessionFetch(version, id, 1, []fetchPart{part(0, 1), part(1, 1), part(2, 1)}, nil))
			if resp.ErrorCode != 0 || resp.SessionID != id {
				t.Fatalf("incremental epoch 1: error %v, session %d (want %d)", kerr.ErrorForCode(resp.ErrorCode), resp.SessionID, id)
			}
			if got := partsIn(resp); !slices.Equal(got, []int32{1}) {
				t.Fatalf("incremental response carries partitions %v, want only [1]", got)
			}
			if recs := decodeBatches(t, mustPart(t, resp, part(1, 1)).RecordBatches); len(recs) != 1 || recs[0].value != "p1-1" {
				t.Fatalf("incremental fetch of partition 1 returned %+v", recs)
			}

			// Epoch 2: a forgotten partition is no longer fetched, even with
			// new data; partitions kept at their session offsets still are.
			produceTo(t, b.Addr, topic, 0, valueBatch(t, "p0-1"))
			produceTo(t, b.Addr, topic, 2, valueBatch(t, "p2-1"))
			resp = fetchRaw(t, b.Addr, sessionFetch(version, id, 2, []fetchPart{part(1, 2)}, []fetchPart{part(2, 0)}))
			if got := partsIn(resp); !slices.Equal(got, []int32{0}) {
				t.Fatalf("after forgetting partition 2 the response carries %v, want [0]", got)
			}
			if recs := decodeBatches(t, mustPart(t, resp, part(0, 1)).RecordBatches); len(recs) != 1 || recs[0].value != "p0-1" {
				t.Fatalf("partition 0 from its session offset: %+v", recs)
			}

			// A wrong epoch is refused and leaves the session usable.
			resp = fetchRaw(t, b.Addr, sessionFetch(version, id, 7, nil, nil))
			if resp.ErrorCode != kerr.InvalidFetchSessionEpoch.Code {
				t.Fatalf("wrong epoch: %v, want INVALID_FETCH_SESSION_EPOCH", kerr.ErrorForCode(resp.ErrorCode))
			}
			// Epoch 3 also adds partition 2 back: a partition new to the
			// session is in the response even without records; the others
			// have nothing new.
			resp = fetchRaw(t, b.Addr, sessionFetch(version, id, 3, []fetchPart{part(0, 2), part(2, 2)}, nil))
			if resp.ErrorCode != 0 || !slices.Equal(partsIn(resp), []int32{2}) {
				t.Fatalf("epoch 3 after a refused epoch: error %v, partitions %v (want [2])", kerr.ErrorForCode(resp.ErrorCode), partsIn(resp))
			}
			if fp := mustPart(t, resp, part(2, 2)); len(fp.RecordBatches) != 0 || fp.HighWatermark != 2 {
				t.Fatalf("re-added partition 2: %d bytes, high watermark %d", len(fp.RecordBatches), fp.HighWatermark)
			}

			// An unknown session id is FETCH_SESSION_ID_NOT_FOUND.
			resp = fetchRaw(t, b.Addr, sessionFetch(version, id^0x5a5a5a, 1, nil, nil))
			if resp.ErrorCode != kerr.FetchSessionIDNotFound.Code {
				t.Fatalf("unknown session: %v, want FETCH_SESSION_ID_NOT_FOUND", kerr.ErrorForCode(resp.ErrorCode))
			}

			// Epoch 0 on the existing id starts a new session with a full
			// response; the old id is gone.
			resp = fetchRaw(t, b.Addr, sessionFetch(version, id, 0, []fetchPart{part(0, 2), part(1, 2)}, nil))
			if resp.ErrorCode != 0 || resp.SessionID == 0 || resp.SessionID == id {
				t.Fatalf("epoch 0 on session %d: error %v, session %d (want a new one)", id, kerr.ErrorForCode(resp.ErrorCode), resp.SessionID)
			}
			if got := partsIn(resp); !slices.Equal(got, []int32{0, 1}) {
				t.Fatalf("new session's full response carries %v, want [0 1]", got)
			}
			newID := resp.SessionID
			resp = fetchRaw(t, b.Addr, sessionFetch(version, id, 4, nil, nil))
			if resp.ErrorCode != kerr.FetchSessionIDNotFound.Code {
				t.Fatalf("replaced session: %v, want FETCH_SESSION_ID_NOT_FOUND", kerr.ErrorForCode(resp.ErrorCode))
			}

			// Epoch -1 closes the session and answers without one.
			resp = fetchRaw(t, b.Addr, sessionFetch(version, newID, -1, []fetchPart{part(0, 0)}, nil))
			if resp.ErrorCode != 0 || resp.SessionID != 0 || len(mustPart(t, resp, part(0, 0)).RecordBatches) == 0 {
				t.Fatalf("closing fetch: error %v, session %d", kerr.ErrorForCode(resp.ErrorCode), resp.SessionID)
			}
			resp = fetchRaw(t, b.Addr, sessionFetch(version, newID, 1, nil, nil))
			if resp.ErrorCode != kerr.FetchSessionIDNotFound.Code {
				t.Fatalf("closed session: %v, want FETCH_SESSION_ID_NOT_FOUND", kerr.ErrorForCode(resp.ErrorCode))
			}
		})
	}
}

func TestFetchSessionCacheSlots(t *testing.T) {
	t.Run("no slots: sessionless answers", func(t *testing.T) {
		b := testkit.StartBroker(t, testkit.WithConfig("max.incremental.fetch.session.cache.slots", "0"))
		createTopic(t, b.Addr, "noslots", 1, nil)
		produceTo(t, b.Addr, "noslots", 0, valueBatch(t, "v"))
		p := fetchPart{topic: "noslots", maxBytes: 1 << 20}
		resp := fetchRaw(t, b.Addr, sessionFetch(12, 0, 0, []fetchPart{p}, nil))
		if resp.ErrorCode != 0 || resp.SessionID != 0 || len(mustPart(t, resp, p).RecordBatches) == 0 {
			t.Fatalf("epoch 0 without slots: error %v, session %d", kerr.ErrorForCode(resp.ErrorCode), resp.SessionID)
		}
	})
	t.Run("full cache evicts the least recently used", func(t *testing.T) {
		b := testkit.StartBroker(t, testkit.WithConfig("max.incremental.fetch.session.cache.slots", "2"))
		createTopic(t, b.Addr, "slots", 1, nil)
		p := fetchPart{topic: "slots", maxBytes: 1 << 20}
		open := func() int32 {
			resp := fetchRaw(t, b.Addr, sessionFetch(12, 0, 0, []fetchPart{p}, nil))
			if resp.ErrorCode != 0 || resp.SessionID == 0 {
				t.Fatalf("open session: %v, id %d", kerr.ErrorForCode(resp.ErrorCode), resp.SessionID)
			}
			return resp.SessionID
		}
		first, second := open(), open()
		// Using the first makes the second the least recently used.
		if resp := fetchRaw(t, b.Addr, sessionFetch(12, first, 1, nil, nil)); resp.ErrorCode != 0 {
			t.Fatalf("first session: %v", kerr.ErrorForCode(resp.ErrorCode))
		}
		open()
		if resp := fetchRaw(t, b.Addr, sessionFetch(12, second, 1, nil, nil)); resp.ErrorCode != kerr.FetchSessionIDNotFound.Code {
			t.Fatalf("evicted session: %v, want FETCH_SESSION_ID_NOT_FOUND", kerr.ErrorForCode(resp.ErrorCode))
		}
		if resp := fetchRaw(t, b.Addr, sessionFetch(12, first, 2, nil, nil)); resp.ErrorCode != 0 {
			t.Fatalf("recently used session: %v", kerr.ErrorForCode(resp.ErrorCode))
		}
	})
}

func TestFetchVersionsAndIsolation(t *testing.T) {
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "versions", 1, nil)
	cl := testkit.Client(t, b.Addr)
	produceTo(t, b.Addr, "versions", 0, valueBatch(t, "hello"))
	id := topicID(t, cl, "versions")
	for v := int16(4); v <= 18; v++ {
		for _, isolation := range []int8{0, 1} {
			t.Run(fmt.Sprintf("v%d/isolation%d", v, isolation), func(t *testing.T) {
				p := fetchPart{topic: "versions", offset: 0, maxBytes: 1 << 20}
				if v >= 13 {
					p.topic, p.id = "", id
				}
				req := newFetch(v, 0, 1, 1<<20, p)
				req.IsolationLevel = isolation
				fp := mustPart(t, fetchRaw(t, b.Addr, req), p)
				recs := decodeBatches(t, fp.RecordBatches)
				if len(recs) != 1 || recs[0].value != "hello" || fp.HighWatermark != 1 {
					t.Fatalf("got %+v, high watermark %d", recs, fp.HighWatermark)
				}
				if v >= 4 && fp.LastStableOffset != 1 {
					t.Fatalf("last stable offset %d, want 1", fp.LastStableOffset)
				}
			})
		}
	}
}

func TestFetchBadInput(t *testing.T) {
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "fetchbad", 1, nil)
	cl := testkit.Client(t, b.Addr)
	for i := 0; i < 3; i++ {
		produceTo(t, b.Addr, "fetchbad", 0, valueBatch(t, fmt.Sprint(i)))
	}
	id := topicID(t, cl, "fetchbad")
	cases := []struct {
		name    string
		version int16
		part    fetchPart
		want    *kerr.Error
	}{
		{"offset beyond the high watermark", 12, fetchPart{topic: "fetchbad", offset: 4}, kerr.OffsetOutOfRange},
		{"offset far beyond the high watermark", 16, fetchPart{id: id, offset: 1 << 40}, kerr.OffsetOutOfRange},
		{"negative offset", 12, fetchPart{topic: "fetchbad", offset: -5}, kerr.OffsetOutOfRange},
		{"unknown topic", 12, fetchPart{topic: "nope", offset: 0}, kerr.UnknownTopicOrPartition},
		{"unknown partition", 12, fetchPart{topic: "fetchbad", partition: 3, offset: 0}, kerr.UnknownTopicOrPartition},
		{"negative partition", 11, fetchPart{topic: "fetchbad", partition: -1, offset: 0}, kerr.UnknownTopicOrPartition},
		{"unknown topic id", 13, fetchPart{id: [16]byte{1, 2, 3}, offset: 0}, kerr.UnknownTopicID},
		{"unknown partition of a known topic id", 13, fetchPart{id: id, partition: 3, offset: 0}, kerr.UnknownTopicOrPartition},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.part.maxBytes = 1 << 20
			// A long max wait must not delay an answer that is an error.
			resp, err := exchange(b.Addr, newFetch(tc.version, 60000, 1, 1<<20, tc.part), 10*time.Second)
			if err != nil {
				t.Fatalf("fetch: %v", err)
			}
			fp := fetchedPart(resp.(*kmsg.FetchResponse), tc.part)
			if fp == nil || fp.ErrorCode != tc.want.Code {
				t.Fatalf("got %+v, want %v", fp, tc.want)
			}
		})
	}
	t.Run("offset at the high watermark is empty, not an error", func(t *testing.T) {
		p := fetchPart{topic: "fetchbad", offset: 3, maxBytes: 1 << 20}
		fp := mustPart(t, fetchRaw(t, b.Addr, newFetch(12, 0, 1, 1<<20, p)), p)
		if len(fp.RecordBatches) != 0 || fp.HighWatermark != 3 {
			t.Fatalf("fetch at the high watermark: %d bytes, high watermark %d", len(fp.RecordBatches), fp.HighWatermark)
		}
	})
	t.Run("an error partition does not hide the others", func(t *testing.T) {
		good := fetchPart{topic: "fetchbad", offset: 0, maxBytes: 1 << 20}
		bad := fetchPart{topic: "fetchbad", partition: 7, offset: 0, maxBytes: 1 << 20}
		resp := fetchRaw(t, b.Addr, newFetch(12, 0, 1, 1<<20, bad, good))
		if got := decodeBatches(t, mustPart(t, resp, good).RecordBatches); len(got) != 3 {
			t.Fatalf("good partition returned %d records beside a bad one", len(got))
		}
		if fp := fetchedPart(resp, bad); fp == nil || fp.ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("bad partition: %+v", fp)
		}
	})
	stillServes(t, b.Addr)
}

// A client that stalls mid-frame, one that long-polls, and one that
// pipelines large fetches without reading the answers must not hold up a
// normal producer and consumer.
func TestSlowClientsDoNotStallOthers(t *testing.T) {
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "busy", 1, nil)
	createTopic(t, b.Addr, "idle", 1, nil)
	createTopic(t, b.Addr, "bulk", 1, nil)
	for i := 0; i < 8; i++ {
		produceTo(t, b.Addr, "bulk", 0, testBatch(t, 4, 64<<10))
	}

	// Half a frame, then silence.
	stalled, err := net.Dial("tcp", b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	half := frame(3, 1, false, []byte{0, 0, 0, 0})
	if _, err := stalled.Write(half[:len(half)/2]); err != nil {
		t.Fatal(err)
	}

	// A long poll on a topic that gets no data.
	polling, err := net.Dial("tcp", b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer polling.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Ends when the test closes the connection.
		exchangeOn(polling, newFetch(12, 60000, 1, 1<<20, fetchPart{topic: "idle", offset: 0, maxBytes: 1 << 20}), time.Minute)
	}()
	defer wg.Wait()
	defer polling.Close()

	// Many large fetches whose responses are never read.
	reader, err := net.Dial("tcp", b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	bulk := newFetch(12, 0, 1, 8<<20, fetchPart{topic: "bulk", offset: 0, maxBytes: 8 << 20})
	for i := 0; i < 16; i++ {
		reader.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := reader.Write(frame(bulk.Key(), bulk.GetVersion(), bulk.IsFlexible(), bulk.AppendTo(nil))); err != nil {
			break // the broker stopped reading this connection, as it may
		}
	}

	cl := testkit.Client(t, b.Addr, kgo.ProducerLinger(0))
	for i := 0; i < 100; i++ {
		if err := cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "busy", Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatalf("produce %d beside slow clients: %v", i, err)
		}
	}
	got := consumeAll(t, b.Addr, "busy", 100)
	for i, r := range got {
		if string(r.Value) != fmt.Sprint(i) {
			t.Fatalf("record %d: %q", i, r.Value)
		}
	}
}
