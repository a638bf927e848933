package broker_test

// End-to-end consumer groups through real clients against the in-process
// broker: franz-go with the range and cooperative-sticky balancers and with
// KIP-848 server-side assignment (kgo.ServerSideBalancer), sarama's consumer
// group, segmentio/kafka-go's group reader and kcat's balanced consumer
// (librdkafka); committed offsets surviving a broker restart.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// requireGroupAPIs skips the test while the broker does not serve the group
// coordinator (JoinGroup) yet.
func requireGroupAPIs(t *testing.T, addr string) {
	t.Helper()
	vs, err := kadm.NewClient(testkit.Client(t, addr)).ApiVersions(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	served := false
	vs.Each(func(v kadm.BrokerApiVersions) {
		if _, ok := v.KeyMaxVersion(11); ok {
			served = true
		}
	})
	if !served {
		t.Skip("the broker does not serve the group APIs yet")
	}
}

func produceN(t *testing.T, addr, topic, prefix string, n int) {
	t.Helper()
	cl := testkit.Client(t, addr, kgo.DefaultProduceTopic(topic))
	for i := 0; i < n; i++ {
		cl.Produce(ctxT(t), &kgo.Record{Key: []byte(fmt.Sprintf("%s-%d", prefix, i)), Value: []byte("v")}, nil)
	}
	if err := cl.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

// seenSet records consumed keys and tracks, per partition, which members
// are consuming it right now (from the assign/revoke callbacks).
type seenSet struct {
	mu   sync.Mutex
	keys map[string]int
}

func (s *seenSet) add(k string) {
	s.mu.Lock()
	s.keys[k]++
	s.mu.Unlock()
}

func (s *seenSet) missing(prefix string, n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	miss := 0
	for i := 0; i < n; i++ {
		if s.keys[fmt.Sprintf("%s-%d", prefix, i)] == 0 {
			miss++
		}
	}
	return miss
}

// groupConsumer runs a franz-go group member until stop is called.
type groupConsumer struct {
	cl   *kgo.Client
	done chan struct{}
	stop context.CancelFunc
}

func startGroupConsumer(t *testing.T, addr, group, topic string, seen *seenSet, opts ...kgo.Opt) *groupConsumer {
	t.Helper()
	all := append([]kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AutoCommitInterval(100 * time.Millisecond),
		kgo.FetchMaxWait(200 * time.Millisecond),
	}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gc := &groupConsumer{cl: cl, done: make(chan struct{}), stop: cancel}
	go func() {
		defer close(gc.done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) { seen.add(string(r.Key)) })
		}
	}()
	t.Cleanup(gc.close)
	return gc
}

func (g *groupConsumer) close() {
	select {
	case <-g.done:
		return
	default:
	}
	g.stop()
	<-g.done
	g.cl.Close() // commits and leaves the group
}

func committedTotal(t *testing.T, adm *kadm.Client, group string) int64 {
	t.Helper()
	offs, err := adm.FetchOffsets(ctxT(t), group)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil && o.At > 0 {
			sum += o.At
		}
	})
	return sum
}

func TestGroupE2EFranzGo(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []kgo.Opt
		k848 bool
	}{
		{"range", []kgo.Opt{kgo.Balancers(kgo.RangeBalancer())}, false},
		{"cooperative-sticky", []kgo.Opt{kgo.Balancers(kgo.CooperativeStickyBalancer())}, false},
		{"kip848-uniform", []kgo.Opt{kgo.Balancers(kgo.CooperativeStickyBalancer()), kgo.ServerSideBalancer()}, true},
		{"kip848-range", []kgo.Opt{kgo.Balancers(kgo.RangeBalancer()), kgo.ServerSideBalancer()}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testkit.StartBroker(t, testkit.WithConfig("group.consumer.heartbeat.interval.ms", "250"))
			addr := b.Addr
			requireGroupAPIs(t, addr)
			const topic, group = "events", "g"
			createTopic(t, addr, topic, 6, nil)
			adm := kadm.NewClient(testkit.Client(t, addr))
			seen := &seenSet{keys: map[string]int{}}

			produceN(t, addr, topic, "a", 300)
			var members []*groupConsumer
			for i := 0; i < 3; i++ {
				members = append(members, startGroupConsumer(t, addr, group, topic, seen, tc.opts...))
			}
			testkit.Eventually(t, 30*time.Second, func() error {
				if n := seen.missing("a", 300); n > 0 {
					return fmt.Errorf("%d records not consumed yet", n)
				}
				return nil
			})
			// The group settles with three members sharing six partitions.
			testkit.Eventually(t, 30*time.Second, func() error {
				owned := map[string]int{}
				if tc.k848 {
					ds, err := adm.DescribeConsumerGroups(ctxT(t), group)
					if err != nil {
						return err
					}
					d := ds[group]
					if d.Err != nil || d.State != "Stable" || len(d.Members) != 3 {
						return fmt.Errorf("848 group: state %s, %d members, err %v", d.State, len(d.Members), d.Err)
					}
					for _, m := range d.Members {
						if len(m.Assignment[topic]) != 2 && tc.name == "kip848-uniform" {
							return fmt.Errorf("member %s owns %v", m.MemberID, m.Assignment)
						}
						for p := range m.Assignment[topic] {
							owned[fmt.Sprint(p)]++
						}
					}
				} else {
					ds, err := adm.DescribeGroups(ctxT(t), group)
					if err != nil {
						return err
					}
					d := ds[group]
					if d.Err != nil || d.State != "Stable" || len(d.Members) != 3 {
						return fmt.Errorf("group: state %s, %d members, err %v", d.State, len(d.Members), d.Err)
					}
					for _, m := range d.Members {
						ca, ok := m.Assigned.AsConsumer()
						if !ok {
							return fmt.Errorf("member %s: no consumer assignment", m.MemberID)
						}
						for _, at := range ca.Topics {
							for _, p := range at.Partitions {
								owned[fmt.Sprint(p)]++
							}
						}
					}
				}
				if len(owned) != 6 {
					return fmt.Errorf("partitions owned: %v", owned)
				}
				for p, n := range owned {
					if n != 1 {
						return fmt.Errorf("partition %s owned by %d members", p, n)
					}
				}
				return nil
			})
			testkit.Eventually(t, 30*time.Second, func() error {
				if got := committedTotal(t, adm, group); got != 300 {
					return fmt.Errorf("committed %d of 300", got)
				}
				return nil
			})

			// One member leaves; the other two take over its partitions.
			members[1].close()
			produceN(t, addr, topic, "b", 300)
			testkit.Eventually(t, 30*time.Second, func() error {
				if n := seen.missing("b", 300); n > 0 {
					return fmt.Errorf("%d records not consumed after a member left", n)
				}
				return nil
			})
			testkit.Eventually(t, 30*time.Second, func() error {
				if got := committedTotal(t, adm, group); got != 600 {
					return fmt.Errorf("committed %d of 600", got)
				}
				return nil
			})
			for _, m := range members {
				m.close()
			}
			ls, err := adm.ListGroups(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if lg, ok := ls[group]; !ok || lg.State != "Empty" {
				t.Fatalf("after all members left: %+v", ls)
			}
		})
	}
}

func TestGroupE2ECommitsSurviveRestart(t *testing.T) {
	b := testkit.StartBroker(t)
	requireGroupAPIs(t, b.Addr)
	const topic, group = "restart", "rg"
	createTopic(t, b.Addr, topic, 3, nil)
	produceN(t, b.Addr, topic, "a", 90)
	seen := &seenSet{keys: map[string]int{}}
	gc := startGroupConsumer(t, b.Addr, group, topic, seen)
	testkit.Eventually(t, 30*time.Second, func() error {
		if n := seen.missing("a", 90); n > 0 {
			return fmt.Errorf("%d not consumed", n)
		}
		return nil
	})
	gc.close()

	b.Restart()
	adm := kadm.NewClient(testkit.Client(t, b.Addr))
	if got := committedTotal(t, adm, group); got != 90 {
		t.Fatalf("committed after restart: %d", got)
	}
	ds, err := adm.DescribeGroups(ctxT(t), group)
	if err != nil || ds[group].State != "Empty" {
		t.Fatalf("group after restart: %+v %v", ds[group], err)
	}
	// A new member resumes from the committed offsets.
	produceN(t, b.Addr, topic, "b", 30)
	seen2 := &seenSet{keys: map[string]int{}}
	startGroupConsumer(t, b.Addr, group, topic, seen2)
	testkit.Eventually(t, 30*time.Second, func() error {
		if n := seen2.missing("b", 30); n > 0 {
			return fmt.Errorf("%d not consumed", n)
		}
		return nil
	})
	if n := 90 - seen2.missing("a", 90); n != 0 {
		t.Fatalf("%d already committed records consumed again", n)
	}
}

type saramaHandler struct{ seen *seenSet }

func (saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.seen.add(string(m.Key))
		s.MarkMessage(m, "")
	}
	return nil
}

func TestGroupE2ESarama(t *testing.T) {
	b := testkit.StartBroker(t)
	requireGroupAPIs(t, b.Addr)
	const topic, group = "sarama-events", "sg"
	createTopic(t, b.Addr, topic, 4, nil)
	produceN(t, b.Addr, topic, "a", 100)
	cfg := sarama.NewConfig()
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
	seen := &seenSet{keys: map[string]int{}}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	var cgs []sarama.ConsumerGroup
	for i := 0; i < 2; i++ {
		cg, err := sarama.NewConsumerGroup([]string{b.Addr}, group, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cgs = append(cgs, cg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := cg.Consume(ctx, []string{topic}, saramaHandler{seen}); err != nil && ctx.Err() == nil {
					t.Logf("sarama consume: %v", err)
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	defer func() {
		cancel()
		wg.Wait()
		for _, cg := range cgs {
			cg.Close()
		}
	}()
	testkit.Eventually(t, 30*time.Second, func() error {
		if n := seen.missing("a", 100); n > 0 {
			return fmt.Errorf("%d not consumed", n)
		}
		return nil
	})
	adm := kadm.NewClient(testkit.Client(t, b.Addr))
	testkit.Eventually(t, 30*time.Second, func() error {
		if got := committedTotal(t, adm, group); got != 100 {
			return fmt.Errorf("committed %d of 100", got)
		}
		return nil
	})
}

func TestGroupE2EKafkaGo(t *testing.T) {
	b := testkit.StartBroker(t)
	requireGroupAPIs(t, b.Addr)
	const topic, group = "kafkago-events", "kg"
	createTopic(t, b.Addr, topic, 2, nil)
	produceN(t, b.Addr, topic, "a", 50)
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:     []string{b.Addr},
		GroupID:     group,
		Topic:       topic,
		StartOffset: kafkago.FirstOffset,
		MaxWait:     200 * time.Millisecond,
	})
	defer r.Close()
	seen := &seenSet{keys: map[string]int{}}
	ctx, cancel := context.WithTimeout(ctxT(t), 30*time.Second)
	defer cancel()
	for seen.missing("a", 50) > 0 {
		m, err := r.ReadMessage(ctx) // commits synchronously with a group
		if err != nil {
			t.Fatalf("kafka-go read: %v (missing %d)", err, seen.missing("a", 50))
		}
		seen.add(string(m.Key))
	}
	adm := kadm.NewClient(testkit.Client(t, b.Addr))
	testkit.Eventually(t, 30*time.Second, func() error {
		if got := committedTotal(t, adm, group); got != 50 {
			return fmt.Errorf("committed %d of 50", got)
		}
		return nil
	})
}

func TestGroupE2EKcat(t *testing.T) {
	needKcat(t)
	b := testkit.StartBroker(t)
	requireGroupAPIs(t, b.Addr)
	const topic, group = "kcat-group", "kcg"
	createTopic(t, b.Addr, topic, 3, nil)
	produceN(t, b.Addr, topic, "a", 30)
	out := runKcat(t, "", "-b", b.Addr, "-G", group, "-o", "beginning", "-e", "-f", "%k\n", "-X", "auto.commit.interval.ms=100", topic)
	if lines := strings.Fields(out); len(lines) != 30 {
		t.Fatalf("kcat consumed %d records, want 30:\n%s", len(lines), out)
	}
	adm := kadm.NewClient(testkit.Client(t, b.Addr))
	testkit.Eventually(t, 10*time.Second, func() error {
		if got := committedTotal(t, adm, group); got != 30 {
			return fmt.Errorf("committed %d of 30", got)
		}
		return nil
	})
}
