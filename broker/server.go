package broker

// Connections. Each client connection has a reader goroutine that frames and
// decodes requests, and a handler goroutine that serves them strictly in
// order and writes each response before taking the next request. This is
// Kafka's own per-connection model (it mutes a channel while a request is in
// flight), which keeps responses ordered and keeps produce requests of one
// connection applied in the order they were sent. Connections never share a
// lock except per partition, so one slow client cannot stall another.
//
// Bad input never panics: an impossible frame length, a frame over
// socket.request.max.bytes, an unknown API key, an unsupported version
// (other than ApiVersions, which answers UNSUPPORTED_VERSION in v0 form) or
// a body whose counts claim more than it holds (broker/internal/prescan)
// closes only that connection, and the reason is logged at debug level.

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/prescan"
)

type clientConn struct {
	b      *Broker
	nc     net.Conn
	logger *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	// fetch holds the batches read for the fetch being answered; the
	// serve loop sends them (fetch_write.go) and releases them.
	fetch fetchRecords
	// raw is nc's descriptor for sendfile, nil if it has none (TLS
	// connections: their bytes must pass through the cipher); fetchMode
	// is how fetch responses are written (fetchSendfile when raw is set).
	raw       syscall.RawConn
	fetchMode fetchWriteMode
	// out is the response writer, set by serve.
	out *bufio.Writer

	// sock is the TCP connection under nc (nc itself for PLAINTEXT
	// listeners): Broker.Close closes it, which ends any blocked read or
	// write without a TLS close_notify.
	sock     net.Conn
	listener *listener
	// principal is "User:ANONYMOUS" until TLS or SASL authenticates the
	// client; auth is its SASL state. Both are the handler goroutine's
	// (see connAuth for the reader's access).
	principal string
	auth      connAuth
	// handled is signalled by the handler after each request it served
	// while the connection was unauthenticated; the reader waits for it
	// before reading the next frame (whose form and size limit depend on
	// what the request did).
	handled chan struct{}
	// closeAfterResponse closes the connection once the response being
	// written is flushed (failed authentication, illegal SASL state).
	closeAfterResponse bool
	// throttle is how long to mute the connection after the response
	// being written (client quotas).
	throttle time.Duration
}

// request is one decoded request frame.
type request struct {
	key           int16
	version       int16
	correlationID int32
	clientID      string
	kreq          kmsg.Request
	received      time.Time
	// pooledFrame is the request's frame when it came from framePool; it goes
	// back once the response is encoded.
	pooledFrame []byte
	// charge is the frame's share of queued.max.request.bytes, given back
	// with the frame.
	charge *frameCharge
	// preAuth is set for a request read before the connection was
	// authenticated; raw for a SaslHandshake v0 raw token (answered with
	// a raw token, no response header).
	preAuth, raw bool
}

func (b *Broker) newClientConn(nc net.Conn, l *listener) *clientConn {
	ctx, cancel := context.WithCancel(b.ctx)
	c := &clientConn{b: b, nc: nc, sock: nc, listener: l, ctx: ctx, cancel: cancel, principal: anonymous,
		handled: make(chan struct{}, 1), fetchMode: fetchWritev, logger: b.logger.With("remote", nc.RemoteAddr().String())}
	if l.tls != nil {
		// No I/O until the handshake, which serve runs.
		c.nc = tls.Server(nc, l.tls)
	}
	if sc, ok := c.nc.(syscall.Conn); ok { // a *tls.Conn is not one
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw, c.fetchMode = raw, fetchSendfile
		}
	}
	if m := fetchWriteMode(b.fetchModeForTests.Load()); m != 0 && (m != fetchSendfile || c.raw != nil) {
		c.fetchMode = m
	}
	return c
}

// errCloseConn is returned by frame decoding when the connection must close.
var errCloseConn = errors.New("close connection")

func (c *clientConn) serve() {
	if tc, ok := c.nc.(*tls.Conn); ok {
		principal, err := c.startTLS(tc)
		if err != nil {
			// A plaintext client on a TLS listener ends here.
			c.logger.Info("closing connection", "listener", c.listener.Name, "reason", err)
			c.cancel()
			c.sock.Close()
			return
		}
		c.principal = principal
	}
	// Requests read but not served when the connection ends give their
	// memory back: this deferred drain runs after the connection is closed
	// and cancelled, so the reader stops and closes reqs, ending the range.
	reqs := make(chan *request, 4)
	defer func() {
		for req := range reqs {
			c.finish(req)
		}
	}()
	defer c.cancel()
	defer c.nc.Close()
	// A handler that failed may leave sections unsent.
	defer c.fetch.release()
	c.b.metrics.connections.Inc()
	defer c.b.metrics.connections.Dec()

	// The reader may run a few requests ahead so decoding overlaps with
	// handling; requests are still handled one at a time, in order. Until
	// a SASL listener's client is authenticated, the reader reads one
	// frame at a time and waits for the handler to serve it (handled).
	authed := !usesSASL(c.listener.Protocol)
	go func() {
		defer close(reqs)
		br := bufio.NewReaderSize(c.nc, 64<<10)
		for {
			var req *request
			var err error
			if !authed && c.auth.rawTokens {
				req, err = c.readRawToken(br)
			} else {
				req, err = c.readRequest(br, !authed)
			}
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && c.ctx.Err() == nil {
					c.logger.Debug("closing connection", "reason", err)
				}
				if req != nil {
					c.finish(req)
				}
				c.cancel()
				return
			}
			req.preAuth = !authed
			select {
			case reqs <- req:
			case <-c.ctx.Done():
				c.finish(req)
				return
			}
			if !authed {
				select {
				case <-c.handled:
					// The handler is done with the request and waits
					// for the next: the SASL state is still.
					authed = c.auth.authenticated
				case <-c.ctx.Done():
					return
				}
			}
		}
	}()

	bw := bufio.NewWriterSize(c.nc, 64<<10)
	c.out = bw
	for req := range reqs {
		ok := c.serveRequest(req, bw, len(reqs) == 0 || req.preAuth)
		if ok && c.closeAfterResponse {
			bw.Flush()
			ok = false
		}
		if req.preAuth {
			c.handled <- struct{}{}
		}
		if !ok {
			return
		}
		if !c.mute() {
			return
		}
	}
}

// serveRequest handles one request and writes its response, flushing when
// flush is set. It reports whether the connection can go on.
func (c *clientConn) serveRequest(req *request, bw *bufio.Writer, flush bool) bool {
	if waitsForOthers(req.key) {
		c.flushResponses()
	}
	resp, err := c.handle(req)
	if err != nil {
		c.logger.Debug("closing connection", "api", kmsg.NameForKey(req.key), "reason", err)
		c.finish(req)
		return false
	}
	if resp == nil { // acks=0 produce: no response
		c.finish(req)
		return true
	}
	if req.raw {
		return c.writeRawToken(req, resp, bw)
	}
	if fr, ok := resp.(*kmsg.FetchResponse); ok {
		c.finish(req)
		return c.writeFetch(bw, req, fr, flush)
	}
	buf := c.appendResponse(responsePool.get(0, 4<<10), req, resp)
	// The response is encoded: nothing refers to the request frame now.
	c.finish(req)
	_, err = bw.Write(buf)
	responsePool.put(buf)
	if err != nil {
		return false
	}
	// Flush only when no further request is already waiting, so
	// pipelined requests share one write.
	if flush {
		if err := bw.Flush(); err != nil {
			return false
		}
	}
	return true
}

// waitsForOthers reports whether a request of the API key waits for other
// clients (a rebalance) before it is answered.
func waitsForOthers(key int16) bool {
	return key == kmsg.JoinGroup.Int16() || key == kmsg.SyncGroup.Int16()
}

// flushResponses sends the responses written but held back for the next
// one (see serveRequest), before a request that may wait is handled (a
// long-polling fetch calls it when it starts to wait), so that they do not
// wait with it. A write error shows at the
// next write.
func (c *clientConn) flushResponses() {
	if c.out != nil && c.out.Buffered() > 0 {
		c.out.Flush()
	}
}

// finish returns a request's frame to its pool and its memory to the
// budget. Nothing may use the frame afterwards.
func (c *clientConn) finish(req *request) {
	framePool.put(req.pooledFrame)
	req.pooledFrame = nil
	c.b.requestMemory.release(req.charge)
}

// bufPool recycles one kind of large, short-lived buffer of the produce and
// fetch paths. Each kind has its own pool so sizes stay alike and a small
// buffer is never handed out where a large one is needed. sync.Pool drops
// idle buffers at GC, so memory follows the load.
type bufPool struct{ p sync.Pool }

var (
	framePool    bufPool // Produce request frames
	responsePool bufPool // encoded responses
	fetchPool    bufPool // batches read into memory for one fetch, where sendfile cannot serve
)

const maxPooledBuf = 64 << 20

// get returns a buffer of length n and capacity at least capHint, reused
// when the pool has one large enough.
func (bp *bufPool) get(n, capHint int) []byte {
	capHint = max(n, capHint)
	if p, _ := bp.p.Get().(*[]byte); p != nil && cap(*p) >= capHint {
		return (*p)[:n]
	}
	return make([]byte, n, max(capHint, 4<<10))
}

// tryGet returns a pooled buffer of capacity at least n with length 0, or
// nil when the pool has none that large.
func (bp *bufPool) tryGet(n int) []byte {
	if p, _ := bp.p.Get().(*[]byte); p != nil && cap(*p) >= n {
		return (*p)[:0]
	}
	return nil
}

func (bp *bufPool) put(b []byte) {
	if b == nil || cap(b) > maxPooledBuf {
		return
	}
	bp.p.Put(&b)
}

// readRequest reads and decodes one frame.
// Before authentication, frames are bounded by sasl.server.max.receive.size.
func (c *clientConn) readRequest(br *bufio.Reader, preAuth bool) (*request, error) {
	if idle := c.b.cfg.ConnectionsMaxIdleMs; idle > 0 {
		c.nc.SetReadDeadline(time.Now().Add(time.Duration(idle) * time.Millisecond))
	}
	var sizeBuf [4]byte
	if _, err := io.ReadFull(br, sizeBuf[:]); err != nil {
		return nil, err
	}
	size := int32(binary.BigEndian.Uint32(sizeBuf[:]))
	if size < 8 {
		return nil, fmt.Errorf("%w: frame length %d is impossible (a request header needs at least 8 bytes)", errCloseConn, size)
	}
	if err := c.checkFrameSize(size, preAuth); err != nil {
		return nil, err
	}
	// Produce frames are the large ones and nothing keeps a reference to
	// them once the response is encoded, so they come from the pool and go
	// back after the response. Other frames may be referenced by what a
	// handler keeps (strings decoded in place), so they are never reused.
	produce := false
	if key, err := br.Peek(2); err == nil && binary.BigEndian.Uint16(key) == 0 {
		produce = true
	}
	fc := &frameCharge{}
	frame, err := c.readFrame(br, int(size), produce, fc)
	if err != nil {
		c.b.requestMemory.release(fc)
		return nil, fmt.Errorf("%w: truncated frame: %v", errCloseConn, err)
	}
	req, err := c.b.decodeRequest(frame)
	req.charge = fc
	if produce {
		req.pooledFrame = frame
	}
	if err != nil {
		c.b.metrics.requestErrors.WithLabelValues(kmsg.NameForKey(req.key), "DECODE").Inc()
		return req, err
	}
	req.received = time.Now()
	return req, nil
}

// firstFrameChunk is how much of a frame is read (and allocated) before
// the buffer grows: it then doubles with the data received.
const firstFrameChunk = 64 << 10

// readFrame reads a frame of size bytes as it arrives, charging each chunk
// to the request memory budget before reading it (and so waiting while the
// budget is spent). A pooled buffer large enough is used when pooled is set
// and the pool has one; otherwise the buffer grows with the data, so a
// client that claims much and sends little costs what it sent.
func (c *clientConn) readFrame(br *bufio.Reader, size int, pooled bool, fc *frameCharge) ([]byte, error) {
	var frame []byte
	if pooled {
		frame = framePool.tryGet(size)
	}
	for len(frame) < size {
		n := min(size-len(frame), max(firstFrameChunk, len(frame)))
		if err := c.b.requestMemory.reserve(c.ctx, fc, int64(n)); err != nil {
			return nil, err
		}
		if cap(frame)-len(frame) < n {
			c := min(size, max(2*cap(frame), len(frame)+n))
			if pooled && c == size {
				// The last growth of a pooled frame leaves room for a
				// somewhat larger one, so that the buffer serves the
				// next frames of about this size from the pool (a
				// producer's requests vary in size).
				c += size / 8
			}
			grown := make([]byte, len(frame), c)
			copy(grown, frame)
			frame = grown
		}
		if _, err := io.ReadFull(br, frame[len(frame):len(frame)+n]); err != nil {
			return nil, err
		}
		frame = frame[:len(frame)+n]
	}
	return frame, nil
}

// decodeRequest parses a request frame (without its length prefix). It is
// the fuzzed entry point for everything a client can send. For an
// ApiVersions request of an unknown version, it returns a request with a nil
// kreq; the handler answers it in v0 form.
func (b *Broker) decodeRequest(frame []byte) (req *request, err error) {
	req = &request{}
	defer func() {
		// kmsg's decoders are bounds-checked, but a panic on anything a
		// client sends must never take the broker down.
		if r := recover(); r != nil {
			b.logger.Error("panic decoding request", "api", req.key, "version", req.version, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: undecodable request", errCloseConn)
		}
	}()
	r := kbin.Reader{Src: frame}
	req.key = r.Int16()
	req.version = r.Int16()
	req.correlationID = r.Int32()
	if cid := r.NullableString(); cid != nil {
		req.clientID = *cid
	}
	if err := r.Complete(); err != nil {
		return req, fmt.Errorf("%w: truncated request header", errCloseConn)
	}
	a, ok := b.apis[req.key]
	if !ok {
		return req, fmt.Errorf("%w: unknown API key %d", errCloseConn, req.key)
	}
	if req.version < a.min || req.version > a.max {
		if req.key == apiKeyApiVersions && req.version > a.max {
			return req, nil // answered in v0 form with UNSUPPORTED_VERSION
		}
		return req, fmt.Errorf("%w: %s version %d is not supported (supported %d..%d)",
			errCloseConn, kmsg.NameForKey(req.key), req.version, a.min, a.max)
	}
	kreq := kmsg.RequestForKey(req.key)
	kreq.SetVersion(req.version)
	if kreq.IsFlexible() {
		// Request header v2 adds tagged fields after the client id.
		for n := r.Uvarint(); n > 0 && r.Ok(); n-- {
			r.Uvarint()
			r.Span(int(r.Uvarint()))
		}
		if err := r.Complete(); err != nil {
			return req, fmt.Errorf("%w: bad request header tags", errCloseConn)
		}
	}
	body := r.Src
	// kmsg trusts the counts it reads (a 22-byte request can claim 2^32
	// tagged fields and keep its decoder busy for minutes), so the body is
	// first walked against the request's schema, bounding every count by
	// the bytes left; what passes decodes in time linear in its size.
	if err := prescan.Check(req.key, req.version, kreq.IsFlexible(), body); err != nil {
		return req, fmt.Errorf("%w: %s v%d: %v", errCloseConn, kmsg.NameForKey(req.key), req.version, err)
	}
	// The frame buffer belongs to this request alone, so decoders may alias
	// it: Produce keeps record batches as slices of the frame, no copy.
	if u, ok := kreq.(kmsg.UnsafeReadFrom); ok {
		err = u.UnsafeReadFrom(body)
	} else {
		err = kreq.ReadFrom(body)
	}
	if err != nil {
		return req, fmt.Errorf("%w: malformed %s v%d body: %v", errCloseConn, kmsg.NameForKey(req.key), req.version, err)
	}
	req.kreq = kreq
	return req, nil
}

// handle runs one request through its handler, recovering from a handler
// panic by closing the connection (a bug, logged with its stack).
func (c *clientConn) handle(req *request) (resp kmsg.Response, err error) {
	name := kmsg.NameForKey(req.key)
	defer func() {
		if r := recover(); r != nil {
			c.logger.Error("panic in handler", "api", name, "version", req.version, "panic", r, "stack", string(debug.Stack()))
			c.b.metrics.requestErrors.WithLabelValues(name, "PANIC").Inc()
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	defer c.b.apiMetrics[req.key].observe(req.received)
	if req.kreq == nil {
		// An ApiVersions version newer than ours: answer in v0 form.
		resp = c.b.apiVersionsUnsupported()
		c.b.countResponseErrors(req.key, resp)
		return resp, nil
	}
	if err := c.saslAllowed(req.key); err != nil {
		return nil, err
	}
	if f := c.b.cfg.Faults; f != nil {
		if fault, ok := f.take(req.key, req.kreq); ok {
			if resp, injected, err := c.inject(req, fault); injected {
				return resp, err
			}
		}
	}
	start := time.Now()
	resp = c.serveAuthorized(req)
	c.throttleByQuotas(req, resp, time.Since(start))
	if resp != nil {
		resp.SetVersion(req.version)
		c.b.countResponseErrors(req.key, resp)
	}
	return resp, nil
}

// inject applies a test fault to req. injected is false when the fault
// only delayed the request, which is then handled as usual.
func (c *clientConn) inject(req *request, fault Fault) (resp kmsg.Response, injected bool, err error) {
	if fault.Delay > 0 {
		t := time.NewTimer(fault.Delay)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return nil, true, c.ctx.Err()
		}
	}
	switch {
	case fault.DropConnection:
		return nil, true, errors.New("fault injection: dropping the connection")
	case fault.ErrorCode != 0:
		if pr, ok := req.kreq.(*kmsg.ProduceRequest); ok && pr.Acks == 0 {
			return nil, true, nil // acks=0 gets no answer, error or not
		}
		resp = errorResponse(req.kreq, fault.ErrorCode)
		c.b.countResponseErrors(req.key, resp)
		return resp, true, nil
	}
	return nil, false, nil
}

// appendResponse frames a response: length, correlation id, the header's
// tagged fields when flexible (never for ApiVersions), then the body.
func (c *clientConn) appendResponse(dst []byte, req *request, resp kmsg.Response) []byte {
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(req.correlationID))
	if resp.IsFlexible() && req.key != apiKeyApiVersions {
		dst = append(dst, 0)
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst, uint32(len(dst)-4))
	return dst
}
