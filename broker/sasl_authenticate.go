package broker

// SaslAuthenticate v0-2 (and SaslHandshake v0's raw tokens): one token of
// the exchange the handshake started. Failure is answered
// SASL_AUTHENTICATION_FAILED after connection.failed.authentication.delay.ms
// (so guessing passwords is slow), logged with the client's address and
// the mechanism, never a secret, and the connection is closed, as in Kafka.
// With connections.max.reauth.ms set, the response's session lifetime
// (v1+) tells the client when to re-authenticate (KIP-368); a request on
// an expired session closes the connection. Re-authentication must keep
// the principal.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/sasl"
)

// connAuth is a connection's SASL state. The handler goroutine owns it;
// the reader reads it only while the connection is unauthenticated, after
// the handler has signalled that it finished the previous request (see
// clientConn.serve), so the two never touch it at once.
type connAuth struct {
	authenticated bool
	mechanism     string
	exchange      sasl.Exchange // the exchange in progress, nil between
	rawTokens     bool          // SaslHandshake v0: raw tokens follow
	// expires is when the session ends (connections.max.reauth.ms); zero
	// for never.
	expires time.Time
	user    string
}

func (b *Broker) handleSaslAuthenticate(c *clientConn, req *kmsg.SASLAuthenticateRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	a := &c.auth
	if !usesSASL(c.listener.Protocol) || a.exchange == nil {
		resp.ErrorCode = kerr.IllegalSaslState.Code
		msg := "SaslAuthenticate before a SaslHandshake"
		resp.ErrorMessage = &msg
		c.closeAfterResponse = true
		return resp
	}
	challenge, done, err := a.exchange.Next(req.SASLAuthBytes)
	if err == nil && done && a.authenticated && a.exchange.User() != a.user {
		err = errors.New("cannot change principals during re-authentication")
	}
	if err != nil {
		b.authenticationFailed(c, a.exchange.Mechanism(), a.exchange.User(), err)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := "Authentication failed during authentication due to invalid credentials with SASL mechanism " + a.exchange.Mechanism()
		resp.ErrorMessage = &msg
		a.exchange = nil
		c.closeAfterResponse = true
		return resp
	}
	resp.SASLAuthBytes = challenge
	if !done {
		return resp
	}
	reauth := a.authenticated
	a.authenticated, a.user, a.exchange, a.rawTokens = true, a.exchange.User(), nil, false
	c.principal = "User:" + a.user
	a.expires = time.Time{}
	if ms := b.cfg.ConnectionsMaxReauthMs; ms > 0 {
		a.expires = time.Now().Add(time.Duration(ms) * time.Millisecond)
		resp.SessionLifetimeMillis = ms
	}
	b.secMetrics.authentications.WithLabelValues(c.listener.Name, a.mechanism, "success").Inc()
	c.logger.Debug("authenticated", "listener", c.listener.Name, "mechanism", a.mechanism, "principal", c.principal, "reauthentication", reauth)
	return resp
}

// authenticationFailed logs and counts a failed authentication and holds
// the answer back for connection.failed.authentication.delay.ms.
func (b *Broker) authenticationFailed(c *clientConn, mechanism, user string, err error) {
	b.secMetrics.authentications.WithLabelValues(c.listener.Name, mechanism, "failure").Inc()
	// err names no secret (package sasl's contract); the user name is
	// what the client claimed.
	c.logger.Info("authentication failed", "listener", c.listener.Name, "mechanism", mechanism, "user", user, "reason", err)
	if d := b.cfg.ConnectionFailedAuthenticationDelayMs; d > 0 {
		t := time.NewTimer(time.Duration(d) * time.Millisecond)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
		}
	}
}

// saslAllowed reports whether a request may be served in the connection's
// SASL state: before authentication only ApiVersions and the SASL requests
// are (Kafka closes the connection on anything else), and so after the
// session expired, which the client had to prevent by re-authenticating.
func (c *clientConn) saslAllowed(key int16) error {
	if !usesSASL(c.listener.Protocol) {
		return nil
	}
	switch kmsg.Key(key) {
	case kmsg.ApiVersions, kmsg.SASLHandshake, kmsg.SASLAuthenticate:
		return nil
	}
	a := &c.auth
	if !a.authenticated || a.exchange != nil {
		return errors.New("unexpected " + kmsg.NameForKey(key) + " request before SASL authentication completed")
	}
	if !a.expires.IsZero() && time.Now().After(a.expires) {
		c.logger.Info("closing connection: SASL session expired without re-authentication (connections.max.reauth.ms)",
			"listener", c.listener.Name, "principal", c.principal)
		return errors.New("SASL session expired")
	}
	return nil
}

// checkFrameSize bounds a frame: socket.request.max.bytes, and
// sasl.server.max.receive.size before authentication (so an
// unauthenticated client cannot make the broker hold a large frame).
func (c *clientConn) checkFrameSize(size int32, preAuth bool) error {
	if preAuth && size > c.b.cfg.SASLServerMaxReceiveSize {
		c.logger.Info("closing connection: frame before authentication exceeds sasl.server.max.receive.size",
			"listener", c.listener.Name, "size", size, "limit", c.b.cfg.SASLServerMaxReceiveSize)
		return fmt.Errorf("%w: frame of %d bytes before authentication exceeds sasl.server.max.receive.size (%d)", errCloseConn, size, c.b.cfg.SASLServerMaxReceiveSize)
	}
	if size > c.b.cfg.SocketRequestMaxBytes {
		return fmt.Errorf("%w: frame of %d bytes exceeds socket.request.max.bytes (%d)", errCloseConn, size, c.b.cfg.SocketRequestMaxBytes)
	}
	return nil
}

// readRawToken reads a SASL token sent after SaslHandshake v0: a length
// and the token, no request header. It comes back as a SaslAuthenticate
// request marked raw.
func (c *clientConn) readRawToken(br *bufio.Reader) (*request, error) {
	var sizeBuf [4]byte
	if _, err := io.ReadFull(br, sizeBuf[:]); err != nil {
		return nil, err
	}
	size := int32(binary.BigEndian.Uint32(sizeBuf[:]))
	if size < 0 {
		return nil, fmt.Errorf("%w: SASL token length %d is impossible", errCloseConn, size)
	}
	if err := c.checkFrameSize(size, true); err != nil {
		return nil, err
	}
	token := make([]byte, size)
	if _, err := io.ReadFull(br, token); err != nil {
		return nil, fmt.Errorf("%w: truncated SASL token: %v", errCloseConn, err)
	}
	kreq := &kmsg.SASLAuthenticateRequest{SASLAuthBytes: token}
	return &request{key: int16(kmsg.SASLAuthenticate), kreq: kreq, raw: true, received: time.Now(), charge: &frameCharge{}}, nil
}

// writeRawToken answers a raw token with the challenge, length-prefixed;
// a failed exchange gets no answer (Kafka closes the connection).
func (c *clientConn) writeRawToken(req *request, resp kmsg.Response, bw *bufio.Writer) bool {
	c.finish(req)
	ar := resp.(*kmsg.SASLAuthenticateResponse)
	if ar.ErrorCode != 0 {
		return false
	}
	var size [4]byte
	binary.BigEndian.PutUint32(size[:], uint32(len(ar.SASLAuthBytes)))
	bw.Write(size[:])
	bw.Write(ar.SASLAuthBytes)
	return bw.Flush() == nil
}
