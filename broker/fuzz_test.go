package broker

// FuzzRequest feeds arbitrary frames to the request decoder and, for
// frames that decode, to the handlers of a running broker (produce, fetch,
// metadata, list offsets and the describe APIs; fetch with no wait). Nothing
// a client sends may panic, and no frame may cost more than 100 ms of CPU:
// the seeds include flexible requests whose tag and array counts claim far
// more than the bytes left.

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// threadCPU is the calling OS thread's CPU time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_THREAD, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func FuzzRequest(f *testing.F) {
	cfg := Config{Listen: "127.0.0.1:0", DataDir: f.TempDir()}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := Start(context.Background(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	defer b.Close()
	spec, err := b.topics.checkCreate("fuzz", 2, 1, nil)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := b.topics.create(spec); err != nil {
		f.Fatal(err)
	}

	seed := func(r kmsg.Request, v int16) {
		r.SetVersion(v)
		hdr := []byte{byte(r.Key() >> 8), byte(r.Key()), byte(v >> 8), byte(v), 0, 0, 0, 1, 0, 1, 'c'}
		if r.IsFlexible() {
			hdr = append(hdr, 0)
		}
		f.Add(r.AppendTo(hdr))
	}
	md := kmsg.NewPtrMetadataRequest()
	name := "fuzz"
	md.Topics = []kmsg.MetadataRequestTopic{{Topic: &name}}
	seed(md, 1)
	seed(md, 12)
	fr := kmsg.NewPtrFetchRequest()
	fr.Topics = []kmsg.FetchRequestTopic{{Topic: "fuzz", Partitions: []kmsg.FetchRequestTopicPartition{{PartitionMaxBytes: 1000}}}}
	seed(fr, 4)
	seed(fr, 12)
	pr := kmsg.NewPtrProduceRequest()
	pr.Acks = -1
	pr.Topics = []kmsg.ProduceRequestTopic{{Topic: "fuzz", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 49}}}}}
	seed(pr, 3)
	seed(pr, 9)
	seed(kmsg.NewPtrApiVersionsRequest(), 3)
	seed(kmsg.NewPtrListOffsetsRequest(), 1)
	seed(kmsg.NewPtrDescribeConfigsRequest(), 4)
	// Counts claiming more than the frame holds: a 2^32-1 tag count at the
	// end of each flexible seed's body, and in its header.
	huge := binary.AppendUvarint(nil, 0xffffffff)
	for _, r := range []kmsg.Request{md, fr, pr, kmsg.NewPtrApiVersionsRequest()} {
		r.SetVersion(r.MaxVersion())
		hdr := []byte{byte(r.Key() >> 8), byte(r.Key()), byte(r.MaxVersion() >> 8), byte(r.MaxVersion()), 0, 0, 0, 1, 0, 1, 'c'}
		body := r.AppendTo(nil)
		f.Add(append(append(append(hdr, 0), body[:len(body)-1]...), huge...))
		f.Add(append(append(hdr, huge...), body...))
	}

	readOnly := map[int16]bool{0: true, 1: true, 2: true, 3: true, 18: true, 23: true, 32: true, 35: true, 60: true, 75: true}
	c := b.newClientConn(nopConn{}, b.listeners[0])
	f.Fuzz(func(t *testing.T, raw []byte) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		start := threadCPU()
		defer func() {
			if used := threadCPU() - start; used > 100*time.Millisecond {
				t.Fatalf("a %d-byte frame cost %s of CPU", len(raw), used)
			}
		}()
		req, err := b.decodeRequest(raw)
		if err != nil || req.kreq == nil || !readOnly[req.key] {
			return
		}
		if fetch, ok := req.kreq.(*kmsg.FetchRequest); ok {
			fetch.MaxWaitMillis = 0
		}
		if md, ok := req.kreq.(*kmsg.MetadataRequest); ok {
			md.AllowAutoTopicCreation = false
			if md.Version < 4 {
				md.Topics = nil
			}
		}
		resp, err := c.handle(req)
		if err != nil {
			t.Fatalf("handler failed: %v", err)
		}
		if resp != nil {
			c.appendResponse(nil, req, resp)
		}
	})
}
