package broker

// Connection limits, Kafka's way:
//
//   - max.connections (broker-wide) and listener.name.<l>.max.connections:
//     at the limit the listener stops accepting until a connection closes
//     (new clients wait in the kernel's backlog), as Kafka's acceptor does.
//   - max.connections.per.ip, with max.connections.per.ip.overrides
//     (host:count, hosts resolved at start): a connection beyond its
//     address's limit is closed as soon as it is accepted, and logged.
//   - max.connection.creation.rate (broker-wide) and
//     listener.name.<l>.max.connection.creation.rate: accepting is paced
//     so that no more than that many connections a second are created.

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// connLimits is the broker-wide accounting.
type connLimits struct {
	mu        sync.Mutex
	cond      *sync.Cond
	total     int
	maxTotal  int // 0: unlimited
	perIP     map[string]int
	maxPerIP  int // 0: unlimited
	overrides map[string]int
	rate      pacer
}

// listenerLimits is one listener's accounting, under connLimits.mu.
type listenerLimits struct {
	count int
	max   int
	rate  pacer
}

// pacer spaces events to at most perSecond a second (0: unlimited).
type pacer struct {
	mu        sync.Mutex
	perSecond int
	next      time.Time
}

// wait blocks until the next event may happen, or ctx ends.
func (p *pacer) wait(ctx context.Context) {
	if p.perSecond <= 0 {
		return
	}
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(time.Second / time.Duration(p.perSecond))
	p.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

func positiveSetting(v string, ok bool) int {
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(v)) // checked by Validate
	return n
}

func (b *Broker) newConnLimits() *connLimits {
	l := &connLimits{
		maxTotal:  positiveSetting(b.cfg.ListenerConfigs["max.connections"], b.cfg.ListenerConfigs["max.connections"] != ""),
		perIP:     map[string]int{},
		maxPerIP:  b.cfg.MaxConnectionsPerIP,
		overrides: map[string]int{},
	}
	l.rate.perSecond = positiveSetting(b.cfg.ListenerConfigs["max.connection.creation.rate"], b.cfg.ListenerConfigs["max.connection.creation.rate"] != "")
	l.cond = sync.NewCond(&l.mu)
	for host, n := range b.cfg.MaxConnectionsPerIPOverrides {
		if ip := net.ParseIP(host); ip != nil {
			l.overrides[ip.String()] = n
			continue
		}
		ips, err := net.LookupIP(host)
		if err != nil {
			b.logger.Warn("max.connections.per.ip.overrides: cannot resolve host; its override does not apply", "host", host, "err", err)
		}
		for _, ip := range ips {
			l.overrides[ip.String()] = n
		}
	}
	return l
}

func (b *Broker) newListenerLimits(l *listener) *listenerLimits {
	prefix := "listener.name." + strings.ToLower(l.Name) + "."
	max, ok := b.cfg.ListenerConfigs[prefix+"max.connections"]
	ll := &listenerLimits{max: positiveSetting(max, ok)}
	rate, ok := b.cfg.ListenerConfigs[prefix+"max.connection.creation.rate"]
	ll.rate.perSecond = positiveSetting(rate, ok)
	return ll
}

// waitForSlot blocks while the broker or the listener is at its
// max.connections, until a connection closes or ctx ends; then it paces
// creation by max.connection.creation.rate.
func (cl *connLimits) waitForSlot(ctx context.Context, ll *listenerLimits) {
	cl.mu.Lock()
	for ctx.Err() == nil && ((cl.maxTotal > 0 && cl.total >= cl.maxTotal) || (ll.max > 0 && ll.count >= ll.max)) {
		cl.cond.Wait() // woken by release and by the broker's Close
	}
	cl.mu.Unlock()
	cl.rate.wait(ctx)
	ll.rate.wait(ctx)
}

// admit counts a new connection from ip, or refuses it when ip is at its
// max.connections.per.ip (or override).
func (cl *connLimits) admit(ll *listenerLimits, ip string) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	limit, ok := cl.overrides[ip]
	if !ok {
		limit = cl.maxPerIP
	}
	if (ok || limit > 0) && cl.perIP[ip] >= limit {
		return false
	}
	cl.perIP[ip]++
	cl.total++
	ll.count++
	return true
}

// release uncounts a closed connection.
func (cl *connLimits) release(ll *listenerLimits, ip string) {
	cl.mu.Lock()
	if cl.perIP[ip]--; cl.perIP[ip] <= 0 {
		delete(cl.perIP, ip)
	}
	cl.total--
	ll.count--
	cl.mu.Unlock()
	cl.cond.Broadcast()
}

// wakeAll ends every wait (on Close).
func (cl *connLimits) wakeAll() {
	cl.mu.Lock()
	cl.mu.Unlock()
	cl.cond.Broadcast()
}

// remoteIP is the IP address of a connection's peer.
func remoteIP(nc net.Conn) string {
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, _ := net.SplitHostPort(nc.RemoteAddr().String())
	return host
}
