package broker

// The hand-written Fetch framing against kmsg's encoder: for every served
// version, flexible and not, with and without aborted transactions, with
// sessions, errors, throttling, empty and absent record sets and several
// topics, the frame with its sections spliced in must be the bytes kmsg
// encodes for the same response with the records in memory. Then through a
// real broker and socket: the sendfile, writev and kmsg write paths must
// answer the same requests with the same bytes.

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/log"
	"github.com/tributary-streams/tributary/broker/internal/record"
)

// sectionsOfLog appends n batches of a few records to a fresh log with
// small segments and returns sections covering reads from offsets, one
// read each (a read may span segments, so give several sections).
func sectionsOfLog(t *testing.T, n int, offsets ...int64) [][]log.Section {
	t.Helper()
	cfg := log.DefaultConfig()
	cfg.SegmentBytes = 4 << 10
	cfg.IndexIntervalBytes = 256
	l, err := log.Open(t.TempDir(), cfg, log.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	for i := range n {
		now := time.Now().UnixMilli()
		recs := make([]record.Record, 1+i%4)
		for j := range recs {
			recs[j] = record.Record{OffsetDelta: int32(j), Key: fmt.Appendf(nil, "k%d", i), Value: bytes.Repeat([]byte{byte(i)}, 100+50*j)}
		}
		b, err := record.Build(record.Header{Magic: 2, BaseTimestamp: now, MaxTimestamp: now, ProducerID: -1, ProducerEpoch: -1,
			BaseSequence: -1, NumRecords: int32(len(recs)), LastOffsetDelta: int32(len(recs) - 1)}, recs, record.None)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	var out [][]log.Section
	for _, off := range offsets {
		secs, err := l.ReadSections(nil, off, 6<<10, math.MaxInt64)
		if err != nil || len(secs) == 0 {
			t.Fatalf("ReadSections(%d): %d sections, %v", off, len(secs), err)
		}
		t.Cleanup(func() { log.ReleaseAll(secs) })
		out = append(out, secs)
	}
	return out
}

// fetchVariant fills a response of any version.
type fetchVariant struct {
	name string
	fill func(resp *kmsg.FetchResponse)
}

func partitionOf(i int32, code int16, aborted []kmsg.FetchResponseTopicPartitionAbortedTransaction) kmsg.FetchResponseTopicPartition {
	p := kmsg.NewFetchResponseTopicPartition()
	p.Partition, p.ErrorCode, p.HighWatermark, p.LastStableOffset, p.LogStartOffset = i, code, 1000+int64(i), 900+int64(i), int64(i)
	p.RecordBatches = []byte{}
	p.AbortedTransactions = aborted
	return p
}

var fetchVariants = []fetchVariant{
	{"one partition", func(r *kmsg.FetchResponse) {
		r.Topics = []kmsg.FetchResponseTopic{{Topic: "t", TopicID: [16]byte{1}, Partitions: []kmsg.FetchResponseTopicPartition{partitionOf(0, 0, nil)}}}
	}},
	{"topics, sessions, errors, aborted transactions", func(r *kmsg.FetchResponse) {
		r.ThrottleMillis, r.SessionID = 7, 123456
		aborted := []kmsg.FetchResponseTopicPartitionAbortedTransaction{{ProducerID: 5, FirstOffset: 17}, {ProducerID: 9, FirstOffset: 40}}
		r.Topics = []kmsg.FetchResponseTopic{
			{Topic: "first-topic", TopicID: [16]byte{1, 2, 3}, Partitions: []kmsg.FetchResponseTopicPartition{
				partitionOf(0, 0, aborted), partitionOf(1, 0, []kmsg.FetchResponseTopicPartitionAbortedTransaction{}), partitionOf(2, kerr.OffsetOutOfRange.Code, nil)}},
			{Topic: "second", TopicID: [16]byte{9}, Partitions: []kmsg.FetchResponseTopicPartition{
				partitionOf(3, kerr.UnknownTopicOrPartition.Code, nil), partitionOf(4, 0, nil)}},
		}
		r.Topics[1].Partitions[0].RecordBatches = nil // a null record set
	}},
	{"session error, no topics", func(r *kmsg.FetchResponse) {
		r.ErrorCode = kerr.FetchSessionIDNotFound.Code
	}},
}

// dataPlacement puts the given sections on the named partitions (topic
// and partition indexes), building fetchRecords as readFetch does.
func dataPlacement(secs [][]log.Section, at ...[2]int) *fetchRecords {
	recs := &fetchRecords{}
	for i, a := range at {
		part := fetchedPart{topic: a[0], partition: a[1], from: len(recs.sections)}
		for _, s := range secs[i%len(secs)] {
			recs.sections = append(recs.sections, s)
			part.size += s.Size()
		}
		part.to = len(recs.sections)
		recs.parts = append(recs.parts, part)
	}
	return recs
}

func TestFetchFramingMatchesKmsg(t *testing.T) {
	secs := sectionsOfLog(t, 60, 0, 37, 80)
	if len(secs[0]) < 2 {
		t.Fatalf("the first read has %d sections; want one spanning segments", len(secs[0]))
	}
	placements := map[string][][2]int{
		"one partition": {{0, 0}},
		"topics, sessions, errors, aborted transactions": {{0, 0}, {0, 1}, {1, 1}},
		"session error, no topics":                       nil,
	}
	for v := int16(4); v <= 18; v++ {
		for _, fv := range fetchVariants {
			for _, withData := range []bool{true, false} {
				t.Run(fmt.Sprintf("v%d/%s/data=%v", v, fv.name, withData), func(t *testing.T) {
					resp := kmsg.NewPtrFetchResponse()
					resp.Version = v
					fv.fill(resp)
					recs := &fetchRecords{}
					if withData {
						recs = dataPlacement(secs, placements[fv.name]...)
					}
					if !handFramed(resp) {
						t.Fatal("the response is not hand-framed")
					}
					framing, cuts := appendFetchFraming(nil, 99, resp, recs)
					if len(cuts) != len(recs.parts) {
						t.Fatalf("%d cuts for %d partitions with data", len(cuts), len(recs.parts))
					}
					got := splice(t, framing, cuts, recs)

					// kmsg's encoding of the same response with the
					// records in memory: the path every response took
					// before sections.
					for _, part := range recs.parts {
						var data []byte
						for _, s := range recs.sections[part.from:part.to] {
							var err error
							if data, err = s.AppendTo(data); err != nil {
								t.Fatal(err)
							}
						}
						resp.Topics[part.topic].Partitions[part.partition].RecordBatches = data
					}
					c := &clientConn{}
					want := c.appendResponse(nil, &request{key: kmsg.Fetch.Int16(), correlationID: 99}, resp)
					if !bytes.Equal(got, want) {
						t.Fatalf("hand framing differs from kmsg: %d bytes, kmsg %d; first difference at %d", len(got), len(want), firstDiff(got, want))
					}
					// And kmsg reads it back as the response.
					dec := kmsg.NewPtrFetchResponse()
					dec.Version = v
					body := got[8:]
					if resp.IsFlexible() {
						body = body[1:]
					}
					if err := dec.ReadFrom(body); err != nil {
						t.Fatalf("kmsg cannot decode the hand-framed response: %v", err)
					}
					if again := c.appendResponse(nil, &request{key: kmsg.Fetch.Int16(), correlationID: 99}, dec); !bytes.Equal(again, want) {
						t.Fatal("decoded response re-encodes differently")
					}
				})
			}
		}
	}
}

// A response carrying a tagged field the hand framing does not write goes
// to kmsg's encoder instead.
func TestFetchFramingDefersTaggedFields(t *testing.T) {
	resp := kmsg.NewPtrFetchResponse()
	resp.Version = 12
	fetchVariants[0].fill(resp)
	if !handFramed(resp) {
		t.Fatal("a plain response is not hand-framed")
	}
	resp.Topics[0].Partitions[0].DivergingEpoch.Epoch = 3
	if handFramed(resp) {
		t.Fatal("a response with a diverging epoch is hand-framed")
	}
	resp.Topics[0].Partitions[0].DivergingEpoch.Epoch = -1
	resp.Brokers = []kmsg.FetchResponseBroker{{NodeID: 1, Host: "h", Port: 1}}
	if handFramed(resp) {
		t.Fatal("a response with node endpoints is hand-framed")
	}
}

// splice puts the sections' bytes into the framing at the cuts.
func splice(t *testing.T, framing []byte, cuts []int, recs *fetchRecords) []byte {
	t.Helper()
	var out []byte
	prev := 0
	for i, part := range recs.parts {
		out = append(out, framing[prev:cuts[i]]...)
		prev = cuts[i]
		for _, s := range recs.sections[part.from:part.to] {
			var err error
			if out, err = s.AppendTo(out); err != nil {
				t.Fatal(err)
			}
		}
	}
	out = append(out, framing[prev:]...)
	if n := int(binary.BigEndian.Uint32(out)); n != len(out)-4 {
		t.Fatalf("frame length says %d, frame holds %d", n, len(out)-4)
	}
	return out
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// Through a broker and a socket, each write path answers the same fetches
// (every version, both isolation levels, aborted transactions, a session
// with an incremental fetch, an unknown partition, data across segments)
// with the same bytes.
func TestFetchWritePathsSendSameBytes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const topic = "paths"
	b, adm := brokerWithTopic(t, ctx, topic, 2, "20000", 0)
	// Plain records, an aborted transaction, a committed one, more plain.
	plain, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	txn, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DefaultProduceTopic(topic), kgo.TransactionalID("paths"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	value := bytes.Repeat([]byte("v"), 700)
	producePlain := func(n int) {
		for i := range n {
			if err := plain.ProduceSync(ctx, &kgo.Record{Partition: int32(i % 2), Value: value}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	produceTxn := func(commit kgo.TransactionEndTry) {
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := range 6 {
			if err := txn.ProduceSync(ctx, &kgo.Record{Partition: int32(i % 2), Value: value}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := txn.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}
	producePlain(40)
	produceTxn(kgo.TryAbort)
	produceTxn(kgo.TryCommit)
	producePlain(40)
	var topicID [16]byte
	md, err := kadm.NewClient(adm).Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	topicID = md.Topics[topic].ID

	// The script: every version, both isolation levels; from v7 a session
	// opened by a full fetch and then an incremental fetch with no news.
	fetchOf := func(v int16, isolation int8, sessionEpoch int32, offset int64, maxBytes int32) *kmsg.FetchRequest {
		req := kmsg.NewPtrFetchRequest()
		req.Version, req.ReplicaID, req.MaxBytes, req.IsolationLevel = v, -1, 1<<20, isolation
		req.SessionID, req.SessionEpoch = 0, -1
		if sessionEpoch >= 0 {
			req.SessionEpoch = sessionEpoch
		}
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = topic, topicID
		for p := range int32(3) { // partition 2 does not exist
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.LogStartOffset = p, offset, maxBytes, -1
			rp.CurrentLeaderEpoch = -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		return req
	}
	var script []*kmsg.FetchRequest
	for v := int16(4); v <= 18; v++ {
		for _, iso := range []int8{0, 1} {
			script = append(script, fetchOf(v, iso, -1, 0, 1<<20), fetchOf(v, iso, -1, 5, 3000))
		}
		if v >= 7 {
			script = append(script, fetchOf(v, 1, 0, 0, 1<<20))
		}
	}

	type answer struct {
		version int16
		frame   []byte
	}
	run := func(mode fetchWriteMode) []answer {
		b.fetchModeForTests.Store(uint32(mode))
		conn, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		var out []answer
		for i, req := range script {
			got := rawExchange(t, conn, req, int32(i))
			out = append(out, answer{req.Version, got})
			if req.SessionEpoch == 0 {
				// Follow up with an incremental fetch in the session:
				// nothing new, so partitions with data are left out.
				resp := decodeFetch(t, req.Version, got)
				if resp.SessionID == 0 {
					t.Fatalf("v%d: no session opened", req.Version)
				}
				inc := kmsg.NewPtrFetchRequest()
				inc.Version, inc.ReplicaID, inc.MaxBytes, inc.IsolationLevel = req.Version, -1, 1<<20, 1
				inc.SessionID, inc.SessionEpoch = resp.SessionID, 1
				out = append(out, answer{inc.Version, rawExchange(t, conn, inc, int32(i))})
			}
		}
		return out
	}
	reference := run(fetchKmsg)
	for _, mode := range []fetchWriteMode{fetchSendfile, fetchWritev} {
		got := run(mode)
		if len(got) != len(reference) {
			t.Fatalf("mode %d: %d responses, want %d", mode, len(got), len(reference))
		}
		for i := range got {
			a, r := withoutSessionID(got[i].frame, got[i].version), withoutSessionID(reference[i].frame, reference[i].version)
			if !bytes.Equal(a, r) {
				t.Fatalf("mode %d, response %d: %d bytes, kmsg's %d; first difference at %d", mode, i, len(a), len(r), firstDiff(a, r))
			}
		}
	}

	// The responses say what was produced: read_uncommitted sees all 92
	// records, read_committed 86 with the aborted transaction listed.
	for i, req := range script[:3] {
		if i == 1 {
			continue // the read from offset 5, 3000 bytes
		}
		resp := decodeFetch(t, req.Version, reference[i].frame)
		var records, aborted int
		for _, rp := range resp.Topics[0].Partitions {
			if rp.Partition == 2 {
				if rp.ErrorCode != kerr.UnknownTopicOrPartition.Code {
					t.Fatalf("partition 2: error %d, want UNKNOWN_TOPIC_OR_PARTITION", rp.ErrorCode)
				}
				continue
			}
			aborted += len(rp.AbortedTransactions)
			for data := rp.RecordBatches; len(data) > 0; {
				h, err := record.ParseHeader(data)
				if err != nil {
					t.Fatal(err)
				}
				if !h.IsControl() {
					records += int(h.NumRecords)
				}
				data = data[h.Size():]
			}
		}
		if records != 92 || (req.IsolationLevel == 1) != (aborted == 2) {
			t.Fatalf("isolation %d: %d records, %d aborted transactions listed", req.IsolationLevel, records, aborted)
		}
	}
}

// brokerWithTopic starts a broker (this package's tests cannot use
// testkit, which imports it) with one topic of the given partitions and
// segment.bytes (and OpenSegmentFiles, 0 for the default), and returns it
// with a client for it.
func brokerWithTopic(t *testing.T, ctx context.Context, topic string, partitions int32, segmentBytes string, openSegmentFiles int) (*Broker, *kgo.Client) {
	t.Helper()
	b, err := Start(ctx, Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler), OpenSegmentFiles: openSegmentFiles})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	created, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, map[string]*string{"segment.bytes": kmsg.StringPtr(segmentBytes)}, topic)
	if err == nil {
		err = created.Err
	}
	if err != nil {
		t.Fatal(err)
	}
	return b, cl
}

// rawExchange sends req on conn and returns the whole response frame.
func rawExchange(t *testing.T, conn net.Conn, req kmsg.Request, correlationID int32) []byte {
	t.Helper()
	out := kmsg.NewRequestFormatter(kmsg.FormatterClientID("paths")).AppendRequest(nil, req, correlationID)
	if _, err := conn.Write(out); err != nil {
		t.Fatal(err)
	}
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 4+binary.BigEndian.Uint32(size[:]))
	copy(frame, size[:])
	if _, err := io.ReadFull(conn, frame[4:]); err != nil {
		t.Fatal(err)
	}
	return frame
}

func decodeFetch(t *testing.T, version int16, frame []byte) *kmsg.FetchResponse {
	t.Helper()
	resp := kmsg.NewPtrFetchResponse()
	resp.Version = version
	body := frame[8:]
	if resp.IsFlexible() {
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("decode v%d response: %v", version, err)
	}
	return resp
}

// withoutSessionID zeroes a v7+ response's session id, which differs
// between the connections' sessions.
func withoutSessionID(frame []byte, version int16) []byte {
	out := bytes.Clone(frame)
	if version < 7 {
		return out
	}
	at := 4 + 4 + 4 + 2 // length, correlation id, throttle, error code
	if version >= 12 {
		at++ // response header tags
	}
	binary.BigEndian.PutUint32(out[at:], 0)
	return out
}

// A fetch whose sendfile is in flight (the client has read only the
// response length, so the broker is stuck writing a response larger than
// the socket buffers) while DeleteRecords removes every segment it is
// sending from: the client still gets every byte, intact, because the
// response's sections hold their segments' descriptors.
func TestFetchSendfileOutlivesSegmentDeletion(t *testing.T) {
	// Also with fewer segment descriptors allowed open than the response
	// has segments, so that the descriptor cache closes idle ones and
	// reopens them while the response is sent.
	for _, open := range []int{0, 2} {
		t.Run(fmt.Sprintf("open segment files %d", open), func(t *testing.T) { fetchDuringDeletion(t, open) })
	}
}

func fetchDuringDeletion(t *testing.T, openSegmentFiles int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const topic = "deleted-under-sendfile"
	b, admClient := brokerWithTopic(t, ctx, topic, 1, "1048576", openSegmentFiles)
	b.fetchModeForTests.Store(uint32(fetchSendfile))
	adm := kadm.NewClient(admClient)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// 32 MiB in 32 segments, each record saying where it belongs.
	const n, valueBytes = 4096, 8 << 10
	for i := range n {
		v := bytes.Repeat([]byte{byte(i)}, valueBytes)
		binary.BigEndian.PutUint32(v, uint32(i))
		cl.Produce(ctx, &kgo.Record{Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Error(err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p := b.topics.get(topic).partition(0)
	if segs := p.log.NumSegments(); segs < 8 {
		t.Fatalf("%d segments; want the data spread over many", segs)
	}

	conn, err := net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(netipAddrPort(t, b.Addr())))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadBuffer(64 << 10) // with the send buffer, far less than the response
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.ReplicaID, req.MaxBytes, req.SessionEpoch = 11, -1, 40<<20, -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes, rp.LogStartOffset, rp.CurrentLeaderEpoch = 40<<20, -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	if _, err := conn.Write(kmsg.NewRequestFormatter().AppendRequest(nil, req, 1)); err != nil {
		t.Fatal(err)
	}
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		t.Fatal(err)
	}
	if got := binary.BigEndian.Uint32(size[:]); got < n*valueBytes {
		t.Fatalf("response of %d bytes; want all %d records in one", got, n)
	}

	// The response is framed and being sent: delete every closed segment.
	deleted, err := adm.DeleteRecords(ctx, kadm.Offsets{topic: {0: {Topic: topic, Partition: 0, At: n}}})
	if err == nil {
		err = deleted.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	if segs := p.log.NumSegments(); segs != 1 {
		t.Fatalf("%d segments after DeleteRecords; want only the active one", segs)
	}
	// The response's sections hold deleted segments open: the send is in
	// flight from files no longer in the directory.
	if held := deletedFilesOpen(t, p.log.Dir()); held < 8 {
		t.Fatalf("%d deleted segment files open; the response was sent before the deletion, or the sections hold nothing", held)
	}

	frame := make([]byte, 4+binary.BigEndian.Uint32(size[:]))
	copy(frame, size[:])
	if _, err := io.ReadFull(conn, frame[4:]); err != nil {
		t.Fatalf("read the rest of the response: %v", err)
	}
	resp := decodeFetch(t, req.Version, frame)
	next := 0
	for data := resp.Topics[0].Partitions[0].RecordBatches; len(data) > 0; {
		h, err := record.Validate(data[:min(len(data), int(binary.BigEndian.Uint32(data[8:]))+12)])
		if err != nil {
			t.Fatalf("batch at record %d: %v", next, err)
		}
		recs, err := record.Records(data[:h.Size()])
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if got := binary.BigEndian.Uint32(r.Value); int(got) != next || len(r.Value) != valueBytes {
				t.Fatalf("record %d says %d (%d bytes)", next, got, len(r.Value))
			}
			next++
		}
		data = data[h.Size():]
	}
	if next != n {
		t.Fatalf("%d records in the response, want %d", next, n)
	}
}

// deletedFilesOpen counts this process's descriptors of files under dir
// that were unlinked.
func deletedFilesOpen(t *testing.T, dir string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, dir+"/") && strings.HasSuffix(target, ".log (deleted)") {
			n++
		}
	}
	return n
}

func netipAddrPort(t *testing.T, addr string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}
