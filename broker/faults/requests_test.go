package faults

// Hostile requests: counts that claim more than the request holds, and
// size headers that claim more than the client sends. Each costs the broker
// what its bytes justify, other clients keep being served, and the broker
// still stops promptly.

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
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
	createTopic(t, b.Addr, "bombed", 1, nil)
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
