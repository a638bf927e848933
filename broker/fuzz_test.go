package broker

// FuzzRequest feeds arbitrary frames to the request decoder and, for
// frames that decode, to the handlers of a running broker (produce, fetch,
// metadata, list offsets and the describe APIs; fetch with no wait). Nothing
// a client sends may panic.

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/fuzzguard"
)

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

	readOnly := map[int16]bool{0: true, 1: true, 2: true, 3: true, 18: true, 23: true, 32: true, 35: true, 60: true, 75: true}
	c := b.newClientConn(nopConn{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		if fuzzguard.HugeUvarint(raw) {
			return // kmsg's tagged-field loop; see fuzzguard.HugeUvarint
		}
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
