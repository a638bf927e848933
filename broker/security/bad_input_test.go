package security_test

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/kafkaclient"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// rawConn speaks the Kafka protocol by hand, to send what no client would.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
	id int32
}

func dialRaw(t *testing.T, addr string, tlsCfg *tls.Config) *rawConn {
	t.Helper()
	var nc net.Conn
	var err error
	if tlsCfg != nil {
		nc, err = tls.Dial("tcp", addr, tlsCfg)
	} else {
		nc, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// send writes req with a request header.
func (c *rawConn) send(req kmsg.Request) {
	c.id++
	buf := []byte{0, 0, 0, 0}
	buf = kbin.AppendInt16(buf, req.Key())
	buf = kbin.AppendInt16(buf, req.GetVersion())
	buf = kbin.AppendInt32(buf, c.id)
	buf = kbin.AppendNullableString(buf, str("raw"))
	if req.IsFlexible() {
		buf = append(buf, 0)
	}
	buf = req.AppendTo(buf)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	c.write(buf)
}

func (c *rawConn) write(b []byte) {
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// recv reads one response into resp.
func (c *rawConn) recv(resp kmsg.Response) error {
	var size [4]byte
	if _, err := io.ReadFull(c.br, size[:]); err != nil {
		return err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c.br, body); err != nil {
		return err
	}
	body = body[4:] // correlation id
	if resp.IsFlexible() && resp.Key() != int16(kmsg.ApiVersions) {
		body = body[1:] // empty header tags
	}
	return resp.ReadFrom(body)
}

// closed reports whether the broker closed the connection (a read ends
// in EOF or a reset, not a timeout).
func (c *rawConn) closed() bool {
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.br.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func handshake(t *testing.T, c *rawConn, mech string) {
	t.Helper()
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, mech
	c.send(hs)
	resp := kmsg.NewPtrSASLHandshakeResponse()
	resp.Version = 1
	if err := c.recv(resp); err != nil || resp.ErrorCode != 0 {
		t.Fatalf("handshake: %v %v", err, resp.ErrorCode)
	}
}

// TestBadInput: clients speaking the wrong protocol or sending garbage are
// refused cleanly, and the broker goes on serving everyone else.
func TestBadInput(t *testing.T) {
	s := startSecured(t)
	healthy := func(t *testing.T) {
		t.Helper()
		for _, l := range []string{"SASL_PLAINTEXT", "SASL_SSL", "SSL"} {
			mech := "SCRAM-SHA-256"
			if l == "SSL" {
				mech = ""
			}
			if err := metadata(t, s.client(t, l, mech, "alice", alicePassword)); err != nil {
				t.Fatalf("after bad input, a good client on %s: %v", l, err)
			}
		}
	}

	t.Run("plaintext client on a TLS listener", func(t *testing.T) {
		c := dialRaw(t, s.ListenerAddr("SSL"), nil)
		c.send(kmsg.NewPtrApiVersionsRequest())
		if !c.closed() {
			t.Fatal("the TLS listener kept a plaintext connection open")
		}
		// franz-go without TLS gives up rather than hanging.
		cl := testkit.Client(t, s.ListenerAddr("SASL_SSL"), kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))
		if err := metadata(t, cl); err == nil {
			t.Fatal("a plaintext client got an answer from a TLS listener")
		}
		healthy(t)
	})

	t.Run("TLS client on a plaintext listener", func(t *testing.T) {
		for _, l := range []string{"PLAINTEXT", "SASL_PLAINTEXT"} {
			nc, err := net.Dial("tcp", s.ListenerAddr(l))
			if err != nil {
				t.Fatal(err)
			}
			tc := tls.Client(nc, s.certs.ClientTLS("", ""))
			tc.SetDeadline(time.Now().Add(10 * time.Second))
			err = tc.Handshake()
			nc.Close()
			var ne net.Error
			if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
				t.Fatalf("%s: TLS handshake against a plaintext listener: %v (want it refused, not hung)", l, err)
			}
		}
		sec, _ := kafkaclient.Opts(s.props("SSL", "", "", ""))
		cl := testkit.Client(t, s.ListenerAddr("PLAINTEXT"), append(sec, kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))...)
		if err := metadata(t, cl); err == nil {
			t.Fatal("a TLS client got an answer from a plaintext listener")
		}
		healthy(t)
	})

	t.Run("requests before authentication", func(t *testing.T) {
		c := dialRaw(t, s.ListenerAddr("SASL_PLAINTEXT"), nil)
		c.send(kmsg.NewPtrApiVersionsRequest()) // allowed
		if err := c.recv(kmsg.NewPtrApiVersionsResponse()); err != nil {
			t.Fatalf("ApiVersions before authentication: %v", err)
		}
		c.send(kmsg.NewPtrMetadataRequest())
		if !c.closed() {
			t.Fatal("Metadata before authentication was not refused by closing")
		}
		healthy(t)
	})

	t.Run("garbage in the SASL exchange", func(t *testing.T) {
		for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
			for _, garbage := range [][]byte{{}, []byte("\x00\x00\x00"), []byte("n,,n=alice,r=\xff\xfe"), []byte(strings.Repeat("x,", 1000)), {0xff, 0, 0xff, 0}} {
				c := dialRaw(t, s.ListenerAddr("SASL_PLAINTEXT"), nil)
				handshake(t, c, mech)
				auth := kmsg.NewPtrSASLAuthenticateRequest()
				auth.Version, auth.SASLAuthBytes = 1, garbage
				c.send(auth)
				resp := kmsg.NewPtrSASLAuthenticateResponse()
				resp.Version = 1
				if err := c.recv(resp); err != nil {
					t.Fatalf("%s %q: no answer: %v", mech, garbage, err)
				}
				if resp.ErrorCode != kerr.SaslAuthenticationFailed.Code {
					t.Fatalf("%s %q: error %d, want SASL_AUTHENTICATION_FAILED", mech, garbage, resp.ErrorCode)
				}
				if !c.closed() {
					t.Fatalf("%s %q: connection left open after a failed authentication", mech, garbage)
				}
			}
		}
		// A SaslAuthenticate without a handshake, and a second handshake.
		c := dialRaw(t, s.ListenerAddr("SASL_PLAINTEXT"), nil)
		auth := kmsg.NewPtrSASLAuthenticateRequest()
		auth.Version = 1
		c.send(auth)
		resp := kmsg.NewPtrSASLAuthenticateResponse()
		resp.Version = 1
		if err := c.recv(resp); err != nil || resp.ErrorCode != kerr.IllegalSaslState.Code {
			t.Fatalf("SaslAuthenticate before a handshake: %v, code %d", err, resp.ErrorCode)
		}
		// Not a Kafka frame at all.
		c = dialRaw(t, s.ListenerAddr("SASL_PLAINTEXT"), nil)
		c.write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		if !c.closed() {
			t.Fatal("an HTTP request kept the connection open")
		}
		// A raw token (SaslHandshake v0) that is garbage.
		c = dialRaw(t, s.ListenerAddr("SASL_PLAINTEXT"), nil)
		hs := kmsg.NewPtrSASLHandshakeRequest()
		hs.Version, hs.Mechanism = 0, "SCRAM-SHA-256"
		c.send(hs)
		if err := c.recv(kmsg.NewPtrSASLHandshakeResponse()); err != nil {
			t.Fatal(err)
		}
		c.write([]byte{0, 0, 0, 4, 'j', 'u', 'n', 'k'})
		if !c.closed() {
			t.Fatal("a garbage raw token kept the connection open")
		}
		healthy(t)
	})

	t.Run("oversized SASL tokens", func(t *testing.T) {
		c := dialRaw(t, s.ListenerAddr("SASL_PLAINTEXT"), nil)
		handshake(t, c, "PLAIN")
		auth := kmsg.NewPtrSASLAuthenticateRequest()
		auth.Version, auth.SASLAuthBytes = 1, make([]byte, 600<<10) // over sasl.server.max.receive.size
		c.send(auth)
		if !c.closed() {
			t.Fatal("a 600 KiB token before authentication was read")
		}
		// A raw token claiming 1 GiB.
		c = dialRaw(t, s.ListenerAddr("SASL_PLAINTEXT"), nil)
		hs := kmsg.NewPtrSASLHandshakeRequest()
		hs.Version, hs.Mechanism = 0, "PLAIN"
		c.send(hs)
		if err := c.recv(kmsg.NewPtrSASLHandshakeResponse()); err != nil {
			t.Fatal(err)
		}
		c.write([]byte{0x40, 0, 0, 0})
		if !c.closed() {
			t.Fatal("a raw token claiming 1 GiB was waited for")
		}
		healthy(t)
	})
}

var errRefused = errors.New("refused")

func bufioReader(nc net.Conn) *bufio.Reader { return bufio.NewReader(nc) }
