package mirror_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/mirror"
)

// killRun is one kill test: records produced to A at a steady pace while
// `tributary mirror run` copies them to B as a child process that is killed
// with SIGKILL several times.
type killRun struct {
	records int
	kills   int
	// settings are the flow's own mm2.properties lines.
	settings string
	// exact: read with read_committed, and each record must be there once.
	exact bool
	// preserve: target offsets are source offsets (no header).
	preserve bool
}

// sourceLog is what the producer wrote: the source offset of each value.
type sourceLog struct {
	mu     sync.Mutex
	offset map[string]int64
	part   map[string]int32
}

func produceSteadily(t *testing.T, addr, topic string, partitions int32, n int, done chan<- struct{}, log *sourceLog) {
	cl := testkit.Client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	const batch = 100
	go func() {
		defer close(done)
		for i := 0; i < n; i += batch {
			var recs []*kgo.Record
			for j := i; j < i+batch && j < n; j++ {
				recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(j) % partitions, Key: []byte(strconv.Itoa(j)), Value: []byte(fmt.Sprintf("v%06d", j))})
			}
			res := cl.ProduceSync(context.Background(), recs...)
			if err := res.FirstErr(); err != nil {
				t.Errorf("produce: %v", err)
				return
			}
			log.mu.Lock()
			for _, r := range res {
				log.offset[string(r.Record.Value)] = r.Record.Offset
				log.part[string(r.Record.Value)] = r.Record.Partition
			}
			log.mu.Unlock()
			time.Sleep(20 * time.Millisecond) // a few thousand records/s: kills land while records flow
		}
	}()
}

// targetEnd is the sum of the remote topic's end offsets.
func targetEnd(t *testing.T, addr, topic string) int64 {
	offs, err := admin(t, addr).ListEndOffsets(context.Background(), topic)
	if err != nil {
		return 0
	}
	var n int64
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n
}

// killSetup is what a kill test runs on: the source broker with the
// topic "events", the target broker and the mirror's mm2.properties.
type killSetup struct {
	a, b *testkit.Broker
	file string
}

const killPartitions = 4

func newKillSetup(t *testing.T, settings string) killSetup {
	a := testkit.StartBroker(t)
	// The killed process's tasks move on after its group session times
	// out; a short one keeps the test quick.
	b := testkit.StartBroker(t, testkit.WithConfig("group.min.session.timeout.ms", "1000"))
	createTopic(t, a.Addr, "events", killPartitions)
	text := twoClusters(a.Addr, b.Addr) + `
session.timeout.ms = 1500
heartbeat.interval.ms = 300
A->B.enabled = true
A->B.tasks.max = 2
` + settings
	file := filepath.Join(t.TempDir(), "mm2.properties")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return killSetup{a: a, b: b, file: file}
}

func testKillMirror(t *testing.T, run killRun) {
	s := newKillSetup(t, run.settings)
	log := &sourceLog{offset: map[string]int64{}, part: map[string]int32{}}
	produced := make(chan struct{})
	produceSteadily(t, s.a.Addr, "events", killPartitions, run.records, produced, log)

	for kill := 0; kill < run.kills; kill++ {
		p := testkit.StartProcess(t, "mirror", s.file, "--log-level", "warn")
		start := targetEnd(t, s.b.Addr, "A.events")
		testkit.Eventually(t, 60*time.Second, func() error {
			if now := targetEnd(t, s.b.Addr, "A.events"); now <= start {
				return fmt.Errorf("run %d copied nothing yet (target at %d)\n%s", kill, now, p.Logs())
			}
			return nil
		})
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond) // kill somewhere in the copy
		p.Kill()
		t.Logf("kill %d: target end %d", kill, targetEnd(t, s.b.Addr, "A.events"))
	}
	<-produced
	s.finish(t, run, log)
}

// finish runs the mirror once more, until the target holds every record
// the producer wrote, and checks the copies: each at its source partition
// and offset, first copies in source order, and in exactly-once modes
// each once.
func (s killSetup) finish(t *testing.T, run killRun, log *sourceLog) {
	t.Helper()
	p := testkit.StartProcess(t, "mirror", s.file, "--log-level", "warn")
	t.Logf("final run: target end %d", targetEnd(t, s.b.Addr, "A.events"))
	var opts []kgo.Opt
	if run.exact {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	got, missing := awaitCopies(t, s.b.Addr, "A.events", log, 120*time.Second, opts...)
	p.Stop()
	if len(missing) > 0 {
		reportLoss(t, s.b.Addr, log, missing, len(got), opts...)
		t.Fatalf("%d records lost, e.g. %s\nlast mirror's log:\n%s", len(missing), missing[0], p.Logs())
	}

	seen := map[string]int{}
	lastSrc := map[int32]int64{}
	firstSeen := map[int32]int64{}
	for p := range int32(killPartitions) {
		lastSrc[p], firstSeen[p] = -1, -1
	}
	dups := 0
	for _, r := range byPartitionFlat(got) {
		v := string(r.Value)
		seen[v]++
		if seen[v] > 1 {
			dups++
		}
		off := r.Offset
		if !run.preserve {
			src, ok := header(r, mirror.SourceOffsetHeaderKey)
			if !ok {
				t.Fatalf("record %s without source offset header", v)
			}
			off, _ = strconv.ParseInt(src, 10, 64)
		}
		if want := log.offset[v]; off != want || log.part[v] != r.Partition {
			t.Fatalf("record %s copied to partition %d with source offset %d; it is at %d/%d", v, r.Partition, off, log.part[v], want)
		}
		if run.exact && off <= lastSrc[r.Partition] {
			t.Fatalf("partition %d: source offset %d after %d: out of order or twice", r.Partition, off, lastSrc[r.Partition])
		}
		// First copies must come in source order (re-copies rewind).
		if seen[v] == 1 {
			if off <= firstSeen[r.Partition] {
				t.Fatalf("partition %d: first copy of offset %d after %d", r.Partition, off, firstSeen[r.Partition])
			}
			firstSeen[r.Partition] = off
		}
		lastSrc[r.Partition] = off
	}
	if run.exact && dups > 0 {
		t.Fatalf("%d duplicates in exactly-once mode", dups)
	}
	t.Logf("%d records, %d kills: every record copied, %d duplicates", len(log.offset), run.kills, dups)
}

// byPartitionFlat orders records by partition, then offset.
func byPartitionFlat(recs []*kgo.Record) []*kgo.Record {
	by := byPartition(recs)
	var out []*kgo.Record
	for p := int32(0); p < int32(len(by)); p++ {
		out = append(out, by[p]...)
	}
	return out
}

func TestKillMirrorAtLeastOnceLosesNothing(t *testing.T) {
	testKillMirror(t, killRun{records: 40_000, kills: 5})
}

func TestKillMirrorExactlyOnceNeitherLosesNorDuplicates(t *testing.T) {
	testKillMirror(t, killRun{records: 40_000, kills: 5, exact: true, settings: "A->B.exactly.once.support = required\n"})
}

// Offset-preserving copies resume at the target's end: no duplicates
// without transactions, and every record at its source offset.
func TestKillMirrorPreserveOffsetsNeitherLosesNorDuplicates(t *testing.T) {
	testKillMirror(t, killRun{records: 40_000, kills: 5, exact: true, preserve: true, settings: "A->B.replication.mode = preserve-offsets\n"})
}

// A mirror killed before it wrote any position copies everything again
// when it comes back. Two such runs leave the target holding as many
// records as the source has, every one a copy of its first half; the
// records produced after them must still arrive. (The kill tests once
// waited for as many records as were produced, and took such a target
// for complete.)
func TestKillMirrorBeforeAnyPositionLosesNothing(t *testing.T) {
	// Positions are written every hour: never, before the kills.
	s := newKillSetup(t, "offset.flush.interval.ms = 3600000\n")
	log := &sourceLog{offset: map[string]int64{}, part: map[string]int32{}}
	const half = 2000
	produceValues(t, s.a.Addr, 0, half, log)
	for run := 1; run <= 2; run++ {
		p := testkit.StartProcess(t, "mirror", s.file, "--log-level", "warn")
		testkit.Eventually(t, 60*time.Second, func() error {
			if now := targetEnd(t, s.b.Addr, "A.events"); now < int64(run*half) {
				return fmt.Errorf("run %d: target at %d, want %d\n%s", run, now, run*half, p.Logs())
			}
			return nil
		})
		p.Kill()
	}
	if n := targetEnd(t, s.b.Addr, "A.events"); n != 2*half {
		t.Fatalf("target holds %d records after two runs that wrote no position, want %d (the same %d twice)", n, 2*half, half)
	}
	produceValues(t, s.a.Addr, half, 2*half, log)
	s.finish(t, killRun{kills: 2}, log)
}

// produceValues writes the values v<from> to v<to-1> to the source topic,
// round-robin over its partitions, and notes where each landed.
func produceValues(t *testing.T, addr string, from, to int, log *sourceLog) {
	t.Helper()
	var recs []*kgo.Record
	for j := from; j < to; j++ {
		recs = append(recs, &kgo.Record{Topic: "events", Partition: int32(j) % killPartitions, Key: []byte(strconv.Itoa(j)), Value: []byte(fmt.Sprintf("v%06d", j))})
	}
	produce(t, addr, recs...)
	log.mu.Lock()
	defer log.mu.Unlock()
	for _, r := range recs {
		log.offset[string(r.Value)] = r.Offset
		log.part[string(r.Value)] = r.Partition
	}
}
