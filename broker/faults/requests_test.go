package faults

// Hostile requests: counts that claim more than the request holds, and
// size headers that claim more than the client sends. Each costs the broker
// what its bytes justify, other clients keep being served, and the broker
// still stops promptly.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// processCPU is the CPU time this process (the test and the in-process
// broker) has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// tagCountBomb is a 22-byte ApiVersions v3 request whose body claims
// 2^32-1 tagged fields.
func tagCountBomb() []byte {
	var b []byte
	b = binary.BigEndian.AppendUint16(b, 18) // ApiVersions
	b = binary.BigEndian.AppendUint16(b, 3)
	b = binary.BigEndian.AppendUint32(b, 1) // correlation id
	b = binary.BigEndian.AppendUint16(b, 0) // client id ""
	b = append(b, 0)                        // header tags
	b = append(b, 1, 1)                     // client software name, version: ""
	b = binary.AppendUvarint(b, 0xffffffff) // body tag count
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

// waitClosed waits for the broker to close c.
func waitClosed(t *testing.T, c net.Conn, within time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("broker still holds the connection open %s after a hostile request", within)
	}
	if err == nil {
		t.Fatalf("broker answered a hostile request")
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Logf("connection ended with %v", err)
	}
}

func TestTaggedFieldCountBomb(t *testing.T) {
	b := testkit.StartBroker(t)
	if n := len(tagCountBomb()); n != 22 {
		t.Fatalf("bomb is %d bytes", n)
	}
	testkit.CreateTopic(t, b.Addr, "bombed", 1)
	cpu0 := processCPU()
	var conns []net.Conn
	for i := 0; i < 10; i++ {
		c, err := net.Dial("tcp", b.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(tagCountBomb()); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		waitClosed(t, c, 10*time.Second)
	}
	// Other clients are served meanwhile, and nothing is lost.
	acks := produce(t, b.Addr, "bombed", 500, "v")
	verifyAcked(t, b.Addr, acks)
	// Kmsg alone spends about two minutes of CPU per bomb; the guard
	// rejects them for next to nothing (the produce above is most of this).
	if used := processCPU() - cpu0; used > 5*time.Second {
		t.Fatalf("ten 22-byte requests cost %s of CPU", used)
	}
	// A bomb in flight does not hold up shutdown.
	c, err := net.Dial("tcp", b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(tagCountBomb())
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("broker did not stop within 10s of Close with a hostile request in flight")
	}
}

// claimFrame is the start of a Produce request frame whose size header
// claims size bytes; only its first few bytes are ever sent.
func claimFrame(size int) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint32(b, uint32(size))
	b = binary.BigEndian.AppendUint16(b, 0) // Produce
	b = binary.BigEndian.AppendUint16(b, 7)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = binary.BigEndian.AppendUint16(b, 0)
	return b
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// metricValue returns the value of an unlabelled series in /metrics, or -1.
func metricValue(t testing.TB, metricsAddr, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(scrape(t, metricsAddr), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	return -1
}

// A size header claiming 50 MB costs what the client sent, not 50 MB.
func TestClaimedSizeCostsWhatWasSent(t *testing.T) {
	b := testkit.StartBroker(t, testkit.WithMetrics())
	base := heapInUse()
	const conns, claim = 20, 50 << 20
	for i := 0; i < conns; i++ {
		c, err := net.Dial("tcp", b.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(claimFrame(claim)); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the broker has read every header: it then counts the
	// bytes it holds for them (or, unbounded, has allocated the claims).
	var grown int64
	testkit.Eventually(t, 10*time.Second, func() error {
		if grown = int64(heapInUse()) - int64(base); grown > 64<<20 {
			return nil
		}
		if got := metricValue(t, b.MetricsAddr(), "tributary_request_bytes_in_flight"); got < conns*10 {
			return fmt.Errorf("broker holds %v request bytes, want the %d headers read", got, conns*10)
		}
		return nil
	})
	t.Logf("heap grew %d KB for %d connections claiming %d MB each", grown>>10, conns, claim>>20)
	if grown > 64<<20 {
		t.Fatalf("heap grew %d MB for %d connections that sent 10 bytes each", grown>>20, conns)
	}
	testkit.CreateTopic(t, b.Addr, "others", 1)
	acks := produce(t, b.Addr, "others", 100, "v")
	verifyAcked(t, b.Addr, acks)
}

// queued.max.request.bytes bounds the request bytes held across all
// connections: past it the broker stops reading, and answered or abandoned
// requests give their memory back.
func TestQueuedMaxRequestBytes(t *testing.T) {
	const maxRequest, queued = 1 << 20, 2 << 20
	b := testkit.StartBroker(t, testkit.WithMetrics(),
		testkit.WithConfig("socket.request.max.bytes", strconv.Itoa(maxRequest)),
		testkit.WithConfig("queued.max.request.bytes", strconv.Itoa(queued)))
	inFlight := func() float64 { return metricValue(t, b.MetricsAddr(), "tributary_request_bytes_in_flight") }
	// Runs after the clients below are closed (cleanups run last first).
	t.Cleanup(func() {
		testkit.Eventually(t, 10*time.Second, func() error {
			if got := inFlight(); got != 0 {
				return fmt.Errorf("%v request bytes held after every client left", got)
			}
			return nil
		})
	})
	// Five clients each send 900 KB of a 1 MB request and stop: 4.5 MB
	// sent, more than the broker may hold.
	var hostile []net.Conn
	for i := 0; i < 5; i++ {
		c, err := net.Dial("tcp", b.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		hostile = append(hostile, c)
		go func() {
			c.Write(claimFrame(maxRequest))
			c.Write(make([]byte, 900<<10))
		}()
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		if got := inFlight(); got < queued {
			return fmt.Errorf("broker holds %v request bytes, want the bound (%d) reached", got, queued)
		}
		return nil
	})
	// It stops there: at most the bound plus one request's overdraft and
	// the chunk that crossed the bound.
	for i := 0; i < 5; i++ {
		if got := inFlight(); got > queued+1.5*maxRequest {
			t.Fatalf("broker holds %v request bytes, bound %d", got, queued)
		}
		time.Sleep(50 * time.Millisecond) // sample a while; the assertion is on memory, not time
	}
	for _, c := range hostile {
		c.Close()
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		if got := inFlight(); got != 0 {
			return fmt.Errorf("%v request bytes still held after the clients left", got)
		}
		return nil
	})
	testkit.CreateTopic(t, b.Addr, "after", 1)
	acks := produce(t, b.Addr, "after", 300, "v")
	verifyAcked(t, b.Addr, acks)
}
