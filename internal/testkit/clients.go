package testkit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// clientTimeout bounds each helper below, so a broken broker fails the test
// with a message instead of hanging it.
const clientTimeout = 30 * time.Second

// Admin returns an admin client for addr, closed on cleanup.
func Admin(t testing.TB, addr string, opts ...kgo.Opt) *kadm.Client {
	t.Helper()
	return kadm.NewClient(Client(t, addr, opts...))
}

// CreateTopic creates topic with the given partition count and topic
// configs ("cleanup.policy=compact", ...) and fails the test if it cannot.
func CreateTopic(t testing.TB, addr, topic string, partitions int32, configs ...string) {
	t.Helper()
	cfg := map[string]*string{}
	for _, kv := range configs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("testkit: topic config %q: want key=value", kv)
		}
		cfg[k] = &v
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	resp, err := Admin(t, addr).CreateTopic(ctx, partitions, -1, cfg, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("testkit: create topic %s: %v", topic, err)
	}
}

// Produce writes records synchronously (acks=all) and fails the test on the
// first record that is not acknowledged. Records without a Topic fail.
// It returns the records with their offsets and partitions filled in.
func Produce(t testing.TB, addr string, records ...*kgo.Record) []*kgo.Record {
	t.Helper()
	for _, r := range records {
		if r.Topic == "" {
			t.Fatalf("testkit: Produce: record without a topic")
		}
	}
	cl := Client(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatalf("testkit: produce: %v", err)
	}
	return records
}

// Consume reads topic from the beginning until it has at least n records
// and returns all it read (in order per partition), failing the test if they do not arrive
// within 30 s. opts are added to the consumer client, e.g.
// kgo.FetchIsolationLevel(kgo.ReadCommitted()). It does not join a group
// or commit offsets.
func Consume(t testing.TB, addr, topic string, n int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	recs, err := ConsumeWithin(addr, topic, n, clientTimeout, opts...)
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	return recs
}

// ConsumeWithin is Consume as a function returning an error, for use inside
// Eventually or from goroutines; it gives up after timeout.
func ConsumeWithin(addr, topic string, n int, timeout time.Duration, opts ...kgo.Opt) ([]*kgo.Record, error) {
	base := []kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("consume %s: %w", topic, err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out, fmt.Errorf("consume %s: %d of %d records after %s", topic, len(out), n, timeout)
		}
		var errs []error
		fs.EachError(func(t string, p int32, err error) {
			errs = append(errs, fmt.Errorf("%s[%d]: %w", t, p, err))
		})
		if err := errors.Join(errs...); err != nil {
			return out, fmt.Errorf("consume %s: %w", topic, err)
		}
		out = append(out, fs.Records()...)
	}
	return out, nil
}
