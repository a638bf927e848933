package security_test

import (
	"context"
	"crypto/rand"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/testkit"
)

type throttleHook struct{ max atomic.Int64 }

func (h *throttleHook) OnBrokerThrottle(_ kgo.BrokerMetadata, d time.Duration, _ bool) {
	for {
		cur := h.max.Load()
		if int64(d) <= cur || h.max.CompareAndSwap(cur, int64(d)) {
			return
		}
	}
}

func setQuota(t *testing.T, adm *kadm.Client, entity kadm.ClientQuotaEntity, key string, value float64) {
	t.Helper()
	resp, err := adm.AlterClientQuotas(ctxT(t), []kadm.AlterClientQuotaEntry{{Entity: entity, Ops: []kadm.AlterClientQuotaOp{{Key: key, Value: value}}}})
	if err == nil {
		for _, r := range resp {
			if r.Err != nil {
				err = r.Err
			}
		}
	}
	if err != nil {
		t.Fatalf("alter quota: %v", err)
	}
}

// TestProducerByteRateQuota: a producer over producer_byte_rate is slowed
// to within 10% of it and sees throttle_time_ms; another user is not.
func TestProducerByteRateQuota(t *testing.T) {
	// Two quota windows of 1 s, so the rate settles in seconds: Kafka's
	// defaults (11 windows) let a client burst ten seconds' worth first.
	s := startSecured(t, testkit.WithConfig("quota.window.num", "2"), testkit.WithConfig("quota.window.size.seconds", "1"))
	addr := s.ListenerAddr("PLAINTEXT")
	testkit.CreateTopic(t, addr, "quota", 1)
	adm := kadm.NewClient(testkit.Client(t, addr))
	const quota = 200 << 10 // bytes a second
	alice := "alice"
	setQuota(t, adm, kadm.ClientQuotaEntity{{Type: "user", Name: &alice}}, "producer_byte_rate", quota)
	described, err := adm.DescribeClientQuotas(ctxT(t), true, []kadm.DescribeClientQuotaComponent{{Type: "user", MatchName: &alice, MatchType: 0}})
	if err != nil || len(described) != 1 || described[0].Values[0].Value != quota {
		t.Fatalf("describe quotas: %+v %v", described, err)
	}

	produceFor := func(user, password string, d time.Duration) (steadyRate, totalRate float64, throttle time.Duration) {
		hook := &throttleHook{}
		cl := s.client(t, "SASL_PLAINTEXT", "SCRAM-SHA-256", user, password, kgo.WithHooks(hook), kgo.ProducerLinger(0),
			kgo.ProducerBatchMaxBytes(4<<10), kgo.DefaultProduceTopic("quota"), kgo.RecordRetries(0), kgo.ProducerBatchCompression(kgo.NoCompression()))
		value := make([]byte, 500)
		rand.Read(value) // incompressible: the quota counts bytes on the wire
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		start := time.Now()
		var mu sync.Mutex
		var steadyBytes, totalBytes int
		perSecond := map[int]int{}
		defer func() { t.Logf("%s per second: %v", user, perSecond) }()
		var wg sync.WaitGroup
		for ctx.Err() == nil {
			wg.Add(1)
			cl.Produce(ctx, &kgo.Record{Value: value}, func(r *kgo.Record, err error) {
				defer wg.Done()
				// Count what is acknowledged after the first windows,
				// when the rate has settled.
				if err == nil {
					mu.Lock()
					perSecond[int(time.Since(start)/time.Second)] += len(r.Value)
					totalBytes += len(r.Value)
					mu.Unlock()
				}
				if err == nil && time.Since(start) > 2*time.Second {
					mu.Lock()
					steadyBytes += len(r.Value)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		return float64(steadyBytes) / (elapsed - 2*time.Second).Seconds(), float64(totalBytes) / elapsed.Seconds(), time.Duration(hook.max.Load())
	}
	rate, _, throttle := produceFor("alice", alicePassword, 8*time.Second)
	t.Logf("alice: %.0f B/s under a %d B/s quota, longest throttle %s", rate, quota, throttle)
	if rate < quota*0.9 || rate > quota*1.1 {
		t.Errorf("alice produced %.0f B/s, want within 10%% of %d", rate, quota)
	}
	if throttle <= 0 {
		t.Error("alice never saw throttle_time_ms")
	}
	_, rate, throttle = produceFor("bob", bobPassword, 2*time.Second)
	if throttle > 0 || rate < 2*quota {
		t.Errorf("bob, without a quota: %.0f B/s, throttled %s", rate, throttle)
	}
}

// TestMaxConnectionsPerIP: the connection beyond max.connections.per.ip
// from one address is closed at once, while another address (with its
// override) connects; closing one frees a slot.
func TestMaxConnectionsPerIP(t *testing.T) {
	b := testkit.StartBroker(t, testkit.WithConfig("max.connections.per.ip", "2"),
		testkit.WithConfig("max.connections.per.ip.overrides", "127.0.0.2:5"))
	dialFrom := func(src string) *rawConn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		nc, err := d.Dial("tcp", b.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		return &rawConn{t: t, nc: nc, br: bufioReader(nc)}
	}
	works := func(c *rawConn) bool {
		c.send(kmsg.NewPtrApiVersionsRequest())
		return c.recv(kmsg.NewPtrApiVersionsResponse()) == nil
	}
	a1, a2 := dialFrom("127.0.0.1"), dialFrom("127.0.0.1")
	if !works(a1) || !works(a2) {
		t.Fatal("the first two connections from 127.0.0.1 do not work")
	}
	a3 := dialFrom("127.0.0.1")
	if works(a3) {
		t.Fatal("a third connection from 127.0.0.1 was served with max.connections.per.ip=2")
	}
	for i := 0; i < 4; i++ {
		if !works(dialFrom("127.0.0.2")) {
			t.Fatalf("connection %d from 127.0.0.2 (override 5) refused", i+1)
		}
	}
	a1.nc.Close()
	testkit.Eventually(t, 10*time.Second, func() error {
		if c := dialFrom("127.0.0.1"); !works(c) {
			c.nc.Close()
			return errRefused
		}
		return nil
	})
}

// TestControllerMutationRate: with controller_mutation_rate, a CreateTopics
// (v6+) past the quota gets THROTTLING_QUOTA_EXCEEDED for the topics it
// could not afford, and a throttle time.
func TestControllerMutationRate(t *testing.T) {
	s := startSecured(t, testkit.WithConfig("controller.quota.window.num", "2"), testkit.WithConfig("controller.quota.window.size.seconds", "1"))
	adm := kadm.NewClient(testkit.Client(t, s.ListenerAddr("PLAINTEXT")))
	alice := "alice"
	setQuota(t, adm, kadm.ClientQuotaEntity{{Type: "user", Name: &alice}}, "controller_mutation_rate", 2)
	cl := s.client(t, "SASL_PLAINTEXT", "SCRAM-SHA-256", "alice", alicePassword)
	req := kmsg.NewPtrCreateTopicsRequest()
	for _, name := range []string{"m1", "m2"} {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 6, 1
		req.Topics = append(req.Topics, rt)
	}
	req.TimeoutMillis = 5000
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int16{}
	for _, rt := range resp.Topics {
		codes[rt.Topic] = rt.ErrorCode
	}
	// A burst of 4 (2 a second over 2 windows) affords the first topic of
	// 6 partitions, not the second.
	if codes["m1"] != 0 || codes["m2"] != kerr.ThrottlingQuotaExceeded.Code || resp.ThrottleMillis <= 0 {
		t.Fatalf("codes %v, throttle %d ms", codes, resp.ThrottleMillis)
	}
}

// TestConsumerByteRateQuota: a consumer over consumer_byte_rate sees
// throttle_time_ms.
func TestConsumerByteRateQuota(t *testing.T) {
	s := startSecured(t, testkit.WithConfig("quota.window.num", "2"), testkit.WithConfig("quota.window.size.seconds", "1"))
	addr := s.ListenerAddr("PLAINTEXT")
	testkit.CreateTopic(t, addr, "fetched", 1)
	var recs []*kgo.Record
	for range 1000 {
		value := make([]byte, 1000)
		rand.Read(value) // incompressible: the quota counts bytes on the wire
		recs = append(recs, &kgo.Record{Topic: "fetched", Value: value})
	}
	testkit.Produce(t, addr, recs...)
	adm := kadm.NewClient(testkit.Client(t, addr))
	bob := "bob"
	setQuota(t, adm, kadm.ClientQuotaEntity{{Type: "user", Name: &bob}}, "consumer_byte_rate", 100<<10)
	hook := &throttleHook{}
	got := testkit.Consume(t, s.ListenerAddr("SASL_PLAINTEXT"), "fetched", 1000,
		append(s.securityOpts(t, "SASL_PLAINTEXT", "SCRAM-SHA-512", "bob", bobPassword), kgo.WithHooks(hook), kgo.FetchMaxPartitionBytes(64<<10))...)
	if len(got) < 1000 || hook.max.Load() <= 0 {
		t.Fatalf("%d records, longest throttle %s", len(got), time.Duration(hook.max.Load()))
	}
}

// TestMaxConnections: at max.connections the broker stops accepting until
// a connection closes.
func TestMaxConnections(t *testing.T) {
	b := testkit.StartBroker(t, testkit.WithConfig("max.connections", "2"))
	works := func(c *rawConn, wait time.Duration) bool {
		c.nc.SetDeadline(time.Now().Add(wait))
		c.send(kmsg.NewPtrApiVersionsRequest())
		return c.recv(kmsg.NewPtrApiVersionsResponse()) == nil
	}
	a1, a2 := dialRaw(t, b.Addr, nil), dialRaw(t, b.Addr, nil)
	if !works(a1, 10*time.Second) || !works(a2, 10*time.Second) {
		t.Fatal("the first two connections do not work")
	}
	a3 := dialRaw(t, b.Addr, nil)
	a3.nc.SetDeadline(time.Now().Add(500 * time.Millisecond))
	a3.send(kmsg.NewPtrApiVersionsRequest())
	if a3.recv(kmsg.NewPtrApiVersionsResponse()) == nil {
		t.Fatal("a third connection was served with max.connections=2")
	}
	// Once one closes, the waiting one is accepted and its request served.
	a1.nc.Close()
	a3.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := a3.recv(kmsg.NewPtrApiVersionsResponse()); err != nil {
		t.Fatalf("the waiting connection was not served after one closed: %v", err)
	}
}
