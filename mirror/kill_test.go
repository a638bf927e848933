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

func testKillMirror(t *testing.T, run killRun) {
	a := testkit.StartBroker(t)
	// The killed process's tasks move on after its group session times
	// out; a short one keeps the test quick.
	b := testkit.StartBroker(t, testkit.WithConfig("group.min.session.timeout.ms", "1000"))
	const partitions = 4
	createTopic(t, a.Addr, "events", partitions)
	text := twoClusters(a.Addr, b.Addr) + `
session.timeout.ms = 1500
heartbeat.interval.ms = 300
A->B.enabled = true
A->B.tasks.max = 2
` + run.settings
	file := filepath.Join(t.TempDir(), "mm2.properties")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	log := &sourceLog{offset: map[string]int64{}, part: map[string]int32{}}
	produced := make(chan struct{})
	produceSteadily(t, a.Addr, "events", partitions, run.records, produced, log)

	for kill := 0; kill < run.kills; kill++ {
		p := testkit.StartProcess(t, "mirror", file, "--log-level", "warn")
		start := targetEnd(t, b.Addr, "A.events")
		testkit.Eventually(t, 60*time.Second, func() error {
			if now := targetEnd(t, b.Addr, "A.events"); now <= start {
				return fmt.Errorf("run %d copied nothing yet (target at %d)\n%s", kill, now, p.Logs())
			}
			return nil
		})
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond) // kill somewhere in the copy
		p.Kill()
		t.Logf("kill %d at %s: target end %d", kill, time.Now().Format("15:04:05.000"), targetEnd(t, b.Addr, "A.events"))
	}
	<-produced
	p := testkit.StartProcess(t, "mirror", file, "--log-level", "warn")
	t.Logf("final run at %s: target end %d", time.Now().Format("15:04:05.000"), targetEnd(t, b.Addr, "A.events"))
	var opts []kgo.Opt
	if run.exact {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	got := consumeN(t, b.Addr, "A.events", run.records, 120*time.Second, opts...)
	p.Stop()

	seen := map[string]int{}
	lastSrc := map[int32]int64{}
	firstSeen := map[int32]int64{}
	for p := range int32(partitions) {
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
	var lost []string
	for v := range log.offset {
		if seen[v] == 0 {
			lost = append(lost, v)
		}
	}
	if len(lost) > 0 {
		reportLoss(t, a.Addr, b.Addr, log, lost, len(got), opts...)
		t.Fatalf("%d records lost, e.g. %s", len(lost), lost[0])
	}
	if run.exact && dups > 0 {
		t.Fatalf("%d duplicates in exactly-once mode", dups)
	}
	t.Logf("%d records, %d kills: every record copied, %d duplicates", run.records, run.kills, dups)
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
