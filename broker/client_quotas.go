package broker

// Client quotas, Kafka's way: producer_byte_rate (record batch bytes
// produced), consumer_byte_rate (record batch bytes fetched),
// request_percentage (time handling requests, as a percentage of one
// thread) and controller_mutation_rate (partitions created or deleted a
// second), set per user, client id or both, with defaults, through
// AlterClientQuotas (`tributary configs alter --entity-type users|clients`)
// and resolved by Kafka's precedence (quota.Store.Resolve). Use is metered
// with KIP-599's token bucket (package quota), whose burst is
// quota.window.num × quota.window.size.seconds at the quota
// (controller.quota.* for mutations). A client over a quota gets its
// answer at once, with throttle_time_ms set to how long it must wait, and
// the broker then mutes its connection that long (reads and serves
// nothing more from it), as Kafka does since KIP-219.
//
// controller_mutation_rate is strict for the versions that carry
// THROTTLING_QUOTA_EXCEEDED (CreateTopics v6+, CreatePartitions v3+,
// DeleteTopics v5+): a topic asked for while the rate is over the quota
// is refused with it; older versions are served and throttled.
//
// Differences from Kafka: bandwidth and request quotas are metered with
// the token bucket Kafka uses for mutations, not its sampled rate (which
// lets greedy clients alternate bursts and long throttles); a throttled
// fetch still carries its records (Kafka answers it empty); produce counts
// record batch bytes, not the whole request; request_percentage does not
// count Fetch, JoinGroup and SyncGroup (see throttleByQuotas).

import (
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/quota"
)

type clientQuotas struct {
	store *quota.Store

	window, mutationWindow   time.Duration
	samples, mutationSamples int

	mu    sync.Mutex
	rates map[string]*quota.Bucket // by quota key and entity
}

func (b *Broker) openClientQuotas() (*clientQuotas, error) {
	s, err := quota.OpenStore(filepath.Join(b.cfg.DataDir, quota.File))
	if err != nil {
		return nil, err
	}
	return &clientQuotas{store: s, rates: map[string]*quota.Bucket{},
		window: time.Duration(b.cfg.QuotaWindowSizeSeconds) * time.Second, samples: b.cfg.QuotaWindowNum,
		mutationWindow:  time.Duration(b.cfg.ControllerQuotaWindowSizeSeconds) * time.Second,
		mutationSamples: b.cfg.ControllerQuotaWindowNum,
	}, nil
}

// rate returns the rate of quotaKey for e, made on first use.
func (q *clientQuotas) rate(quotaKey string, e quota.Entity) *quota.Bucket {
	k := quotaKey + "|" + e.String()
	q.mu.Lock()
	defer q.mu.Unlock()
	r := q.rates[k]
	if r == nil {
		if quotaKey == quota.ControllerMutationRate {
			r = quota.NewBucket(q.mutationSamples, q.mutationWindow)
		} else {
			r = quota.NewBucket(q.samples, q.window)
		}
		q.rates[k] = r
	}
	return r
}

// forget drops the rates, so a changed quota is measured afresh.
func (q *clientQuotas) forget() {
	q.mu.Lock()
	q.rates = map[string]*quota.Bucket{}
	q.mu.Unlock()
}

// quotaUser is the user part of the connection's quota entity: the
// principal's name (ANONYMOUS when unauthenticated).
func (c *clientConn) quotaUser() string {
	_, name, _ := strings.Cut(c.principal, ":")
	return name
}

// record adds v to the connection's rate for quotaKey and returns the
// throttle time, 0 when no quota applies.
func (c *clientConn) recordQuota(quotaKey, clientID string, v float64) time.Duration {
	q := c.b.quotas
	e, limit, ok := q.store.Resolve(quotaKey, c.quotaUser(), clientID)
	if !ok {
		return 0
	}
	d := q.rate(quotaKey, e).RecordAndThrottle(v, limit, time.Now())
	if d > 0 {
		c.b.secMetrics.throttleSeconds.WithLabelValues(quotaKey).Add(d.Seconds())
	}
	return d
}

// throttleByQuotas records what req cost against the client's quotas and,
// when one is exceeded, sets the response's throttle time and has the
// connection muted that long after the response.
func (c *clientConn) throttleByQuotas(req *request, resp kmsg.Response, handled time.Duration) {
	switch kmsg.Key(req.key) {
	case kmsg.ApiVersions, kmsg.SASLHandshake, kmsg.SASLAuthenticate:
		return // never throttled, as in Kafka
	}
	var d time.Duration
	switch r := req.kreq.(type) {
	case *kmsg.ProduceRequest:
		n := 0
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				n += len(p.Records)
			}
		}
		d = max(d, c.recordQuota(quota.ProducerByteRate, req.clientID, float64(n)))
	case *kmsg.FetchRequest:
		if _, ok := resp.(*kmsg.FetchResponse); ok {
			// The batches are still in the segment files (c.fetch), to
			// be sent from there after this (fetch_write.go).
			d = max(d, c.recordQuota(quota.ConsumerByteRate, req.clientID, float64(c.fetch.size())))
		}
	}
	// request_percentage: handling time as a percentage of one thread.
	// Fetch, JoinGroup and SyncGroup wait by design (for data, for the
	// group); Kafka does not count that waiting, and as their handling
	// time cannot be told from it here, they are not counted.
	switch kmsg.Key(req.key) {
	case kmsg.Fetch, kmsg.JoinGroup, kmsg.SyncGroup:
	default:
		d = max(d, c.recordQuota(quota.RequestPercentage, req.clientID, handled.Seconds()*100))
	}
	if d <= 0 {
		return
	}
	c.throttle = max(c.throttle, d)
	setThrottle(resp, c.throttle)
}

// setThrottle sets a response's ThrottleMillis, if it has one.
func setThrottle(resp kmsg.Response, d time.Duration) {
	if resp == nil {
		return
	}
	f := reflect.ValueOf(resp).Elem().FieldByName("ThrottleMillis")
	if f.IsValid() && f.Kind() == reflect.Int32 {
		f.SetInt(int64(max(f.Int(), d.Milliseconds())))
	}
}

// mute holds the connection for its throttle time after a response. It
// reports false if the connection ended meanwhile.
func (c *clientConn) mute() bool {
	d := c.throttle
	if d <= 0 {
		return true
	}
	c.throttle = 0
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// withMutationQuota applies controller_mutation_rate to CreateTopics,
// CreatePartitions and DeleteTopics.
func (c *clientConn) withMutationQuota(r *request, handle apiHandler) apiHandler {
	q := c.b.quotas
	e, limit, ok := q.store.Resolve(quota.ControllerMutationRate, c.quotaUser(), r.clientID)
	if !ok {
		return handle
	}
	rate := q.rate(quota.ControllerMutationRate, e)
	var strict bool
	var cost func(elem reflect.Value) float64
	field := "Topics"
	switch req := r.kreq.(type) {
	case *kmsg.CreateTopicsRequest:
		strict = req.Version >= 6
		cost = func(e reflect.Value) float64 {
			n := e.FieldByName("NumPartitions").Int()
			if n < 0 {
				n = int64(c.b.cfg.NumPartitions)
			}
			return float64(n)
		}
	case *kmsg.CreatePartitionsRequest:
		strict = req.Version >= 3
		cost = func(e reflect.Value) float64 {
			t := c.b.topics.get(e.FieldByName("Topic").String())
			if t == nil {
				return 0
			}
			return float64(max(e.FieldByName("Count").Int()-int64(t.numPartitions()), 0))
		}
	case *kmsg.DeleteTopicsRequest:
		strict = req.Version >= 5
		if req.Version < 6 {
			field = "TopicNames"
		}
		cost = func(e reflect.Value) float64 {
			var t *topic
			if e.Kind() == reflect.String {
				t = c.b.topics.get(e.String())
			} else if name, id := elemTopic(e); name != "" {
				t = c.b.topics.get(name)
			} else {
				t = c.b.topics.getByID(id)
			}
			if t == nil {
				return 0
			}
			return float64(t.numPartitions())
		}
	default:
		return handle
	}
	return func(c *clientConn, r *request) kmsg.Response {
		var d time.Duration
		serve := func(c *clientConn, r *request) kmsg.Response {
			resp := handle(c, r)
			setThrottle(resp, d)
			return resp
		}
		if !strict {
			var total float64
			list := reflect.ValueOf(r.kreq).Elem().FieldByName(field)
			for i := range list.Len() {
				total += cost(list.Index(i))
			}
			d = rate.RecordAndThrottle(total, limit, time.Now())
			c.throttle = max(c.throttle, d)
			return serve(c, r)
		}
		// Strict: each topic is refused while the rate is over the quota;
		// one accepted may take the rate over it.
		respField := "Topics"
		resp := c.serveSplit(r, serve, field, respField, kerr.ThrottlingQuotaExceeded.Code, func(e reflect.Value) bool {
			if t := rate.Throttle(limit, time.Now()); t > 0 {
				d = max(d, t)
				return false
			}
			rate.RecordAndThrottle(cost(e), limit, time.Now())
			return true
		})
		d = max(d, rate.Throttle(limit, time.Now()))
		setThrottle(resp, d)
		c.throttle = max(c.throttle, d)
		return resp
	}
}
