package broker_test

// Bad input: each malformed or hostile request gets a Kafka error code or a
// closed connection, and the broker keeps serving everyone else.

import (
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/record"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// frame builds a request frame: length, key, version, correlation id,
// client id, [header tags], body.
func frame(key, version int16, flexibleHeader bool, body []byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint16(b, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, 7)
	b = binary.BigEndian.AppendUint16(b, 4)
	b = append(b, "test"...)
	if flexibleHeader {
		b = append(b, 0)
	}
	b = append(b, body...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

// expectClosed sends raw bytes and expects the broker to close the
// connection without answering.
func expectClosed(t *testing.T, addr string, raw []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(raw)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(make([]byte, 1))
	if err == nil || n > 0 {
		t.Fatalf("connection answered %d bytes, want it closed", n)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection left open after bad input")
	}
}

// stillServes checks another client is unaffected.
func stillServes(t *testing.T, addr string) {
	t.Helper()
	cl := testkit.Client(t, addr, kgo.AllowAutoTopicCreation())
	if err := cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "healthy", Value: []byte("ok")}).FirstErr(); err != nil {
		t.Fatalf("broker stopped serving: %v", err)
	}
}

func TestBadFramesCloseOnlyThatConnection(t *testing.T) {
	b := testkit.StartBroker(t, testkit.WithConfig("socket.request.max.bytes", "1048576"))
	bigHeader := binary.BigEndian.AppendUint32(nil, 1048577)
	cases := map[string][]byte{
		"negative length":             {0xff, 0xff, 0xff, 0xf0},
		"zero length":                 {0, 0, 0, 0},
		"length below header":         {0, 0, 0, 3, 0, 1, 2},
		"over socket.request.max":     append(bigHeader, make([]byte, 64)...),
		"unknown api key":             frame(999, 0, false, nil),
		"unsupported produce v0":      frame(0, 0, false, nil),
		"fetch version too new":       frame(1, 99, true, nil),
		"garbage produce body":        frame(0, 7, false, []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}),
		"metadata with huge array":    frame(3, 4, false, []byte{0x7f, 0xff, 0xff, 0xff}),
		"bad flexible header tags":    frame(3, 12, false, []byte{0x05, 0x01}),
		"client id longer than frame": append(binary.BigEndian.AppendUint32(nil, 10), 0, 3, 0, 1, 0, 0, 0, 1, 0x7f, 0x00),
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			expectClosed(t, b.Addr, raw)
			stillServes(t, b.Addr)
		})
	}
	t.Run("truncated frame then hang up", func(t *testing.T) {
		c, err := net.Dial("tcp", b.Addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte{0, 0, 1, 0, 0, 3, 0, 1})
		c.Close()
		stillServes(t, b.Addr)
	})
}

func TestApiVersionsUnknownVersionAnsweredInV0(t *testing.T) {
	b := testkit.StartBroker(t)
	c, err := net.Dial("tcp", b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(frame(18, 99, true, []byte{1, 'x', 1, '1', 0})); err != nil {
		t.Fatal(err)
	}
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		t.Fatalf("no response to ApiVersions v99: %v", err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	if corr := binary.BigEndian.Uint32(body); corr != 7 {
		t.Fatalf("correlation id %d", corr)
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	if err := resp.ReadFrom(body[4:]); err != nil {
		t.Fatalf("response is not ApiVersions v0: %v", err)
	}
	if resp.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("error %d, want UNSUPPORTED_VERSION", resp.ErrorCode)
	}
	var sawApiVersions bool
	for _, k := range resp.ApiKeys {
		if k.ApiKey == 18 {
			sawApiVersions = k.MinVersion == 0 && k.MaxVersion >= 3
		}
	}
	if !sawApiVersions {
		t.Fatalf("supported ranges missing ApiVersions: %+v", resp.ApiKeys)
	}
	// The same connection still works at a version we know.
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "test", "1"
	if _, err := c.Write(frame(18, 3, true, req.AppendTo(nil))); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, size[:]); err != nil {
		t.Fatalf("connection closed after UNSUPPORTED_VERSION: %v", err)
	}
}

// roundTrip sends one request at its set version over a fresh connection
// and decodes the response.
func roundTrip(t *testing.T, addr string, req kmsg.Request) kmsg.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(frame(req.Key(), req.GetVersion(), req.IsFlexible(), req.AppendTo(nil))); err != nil {
		t.Fatal(err)
	}
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		t.Fatalf("no response: %v", err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	body = body[4:]
	if resp.IsFlexible() {
		body = body[1:] // empty header tags
	}
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("decode response: %v", err)
	}
	return resp
}

func produceRaw(t *testing.T, addr, topic string, acks int16, batch []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Version = 9
	req.Acks = acks
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return roundTrip(t, addr, req).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
}

func testBatch(t *testing.T, n int, valueSize int) []byte {
	t.Helper()
	var recs []record.Record
	for i := 0; i < n; i++ {
		recs = append(recs, record.Record{OffsetDelta: int32(i), Key: []byte("k"), Value: []byte(strings.Repeat("v", valueSize))})
	}
	now := time.Now().UnixMilli()
	b, err := record.Build(record.Header{Magic: 2, LastOffsetDelta: int32(n - 1), BaseTimestamp: now, MaxTimestamp: now,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: int32(n)}, recs, record.None)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBadProduceRequestsGetErrorCodes(t *testing.T) {
	b := testkit.StartBroker(t)
	cl := testkit.Client(t, b.Addr)
	small := "1024"
	createTopic(t, b.Addr, "strict", 1, map[string]*string{"max.message.bytes": &small})
	compact := "compact"
	createTopic(t, b.Addr, "compacted", 1, map[string]*string{"cleanup.policy": &compact})

	corrupt := testBatch(t, 3, 10)
	corrupt[len(corrupt)-1] ^= 0xff
	badMagic := testBatch(t, 1, 10)
	badMagic[16] = 1
	keyless := testBatch(t, 1, 10)
	{
		recs := []record.Record{{Value: []byte("no key")}}
		now := time.Now().UnixMilli()
		var err error
		keyless, err = record.Build(record.Header{Magic: 2, BaseTimestamp: now, MaxTimestamp: now, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: 1}, recs, record.None)
		if err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		topic string
		acks  int16
		batch []byte
		want  *kerr.Error
	}{
		{"crc mismatch", "strict", -1, corrupt, kerr.CorruptMessage},
		{"magic 1 batch", "strict", -1, badMagic, kerr.CorruptMessage},
		{"truncated batch", "strict", -1, testBatch(t, 2, 10)[:40], kerr.CorruptMessage},
		{"trailing garbage", "strict", -1, append(testBatch(t, 1, 10), 1, 2, 3), kerr.CorruptMessage},
		{"empty records", "strict", -1, nil, kerr.InvalidRecord},
		{"over max.message.bytes", "strict", -1, testBatch(t, 4, 400), kerr.MessageTooLarge},
		{"unknown topic", "nope", -1, testBatch(t, 1, 10), kerr.UnknownTopicOrPartition},
		{"invalid acks", "strict", 2, testBatch(t, 1, 10), kerr.InvalidRequiredAcks},
		{"keyless record on compacted topic", "compacted", -1, keyless, kerr.InvalidRecord},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := produceRaw(t, b.Addr, tc.topic, tc.acks, tc.batch)
			if got.ErrorCode != tc.want.Code {
				t.Fatalf("error %v, want %v", kerr.ErrorForCode(got.ErrorCode), tc.want)
			}
		})
	}
	// Nothing was appended by the rejected requests.
	if end := listEnds(t, cl, "strict", 1)[0]; end != 0 {
		t.Fatalf("rejected batches were appended: end offset %d", end)
	}
	// A good batch still goes in at offset 0.
	if got := produceRaw(t, b.Addr, "strict", -1, testBatch(t, 2, 10)); got.ErrorCode != 0 || got.BaseOffset != 0 {
		t.Fatalf("good batch: %v at %d", kerr.ErrorForCode(got.ErrorCode), got.BaseOffset)
	}
}
