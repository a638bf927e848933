package parquet

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connectors/internal/standalone"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func jsonRecord(topic string, p int32, i int) *kgo.Record {
	return &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil,
		`{"schema":{"type":"struct","name":"ev","fields":[{"field":"n","type":"int64"},{"field":"p","type":"int32"},{"field":"tag","type":"string","optional":true}]},"payload":{"n":%d,"p":%d,"tag":%s}}`,
		i, p, map[bool]string{true: "null", false: `"t"`}[i%7 == 0])}
}

func properties(t *testing.T, dir string, cfg map[string]string) string {
	var b strings.Builder
	for k, v := range cfg {
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	path := filepath.Join(dir, "sink.properties")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func tempFiles(dir string) []string {
	var out []string
	filepath.WalkDir(filepath.Join(dir, "topics", "+tmp"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, path)
		}
		return nil
	})
	return out
}

// TestKillSinkWorker kills a real worker process writing Parquet several
// times, between writes and commits: in the end every record up to the
// last committed file is in exactly one file, and no temporary file
// remains.
func TestKillSinkWorker(t *testing.T) {
	broker := testkit.StartBroker(t)
	testkit.CreateTopic(t, broker.Addr, "events", 3)
	dir, work := t.TempDir(), t.TempDir()
	file := properties(t, work, map[string]string{
		"name": "sink", "connector.class": "parquet", "topics": "events", keyStoreURL: "file://" + dir,
		keyFlushSize: "50", "value.converter": "org.apache.kafka.connect.json.JsonConverter",
	})
	offsets := filepath.Join(work, "offsets")
	// Each kill costs the sink's consumer group a session timeout (kgo's
	// 45 s) before the restarted worker gets the partitions back.
	const perPartition = 600
	kills := 2
	if os.Getenv("TRIBUTARY_SOAK") != "" {
		kills = 6
	}
	next := 0
	produce := func(n int) {
		var recs []*kgo.Record
		for i := 0; i < n; i++ {
			for p := int32(0); p < 3; p++ {
				recs = append(recs, jsonRecord("events", p, next))
			}
			next++
		}
		cl := testkit.Client(t, broker.Addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	files := func() int { return len(committedFiles(t, dir)) }
	proc := standalone.Start(t, broker.Addr, offsets, file)
	for k := 0; k < kills; k++ {
		base := files()
		produce(perPartition / kills)
		testkit.Eventually(t, 120*time.Second, func() error {
			if n := files(); n < base+2 {
				return fmt.Errorf("%d files, waiting for %d (worker: %s)", n, base+2, proc.Logs())
			}
			return nil
		})
		proc.Kill()
		proc = standalone.Start(t, broker.Addr, offsets, file)
	}
	// Every partition got 600 records: 12 files of 50 each.
	testkit.Eventually(t, 120*time.Second, func() error {
		if n := files(); n != 36 {
			return fmt.Errorf("%d files, want 36: %v", n, committedFiles(t, dir))
		}
		return nil
	})
	proc.Stop()
	seen := map[[2]int64]int{}
	for _, f := range committedFiles(t, dir) {
		for _, row := range readFile(t, filepath.Join(dir, f)) {
			seen[[2]int64{int64(row["p"].(int32)), row["n"].(int64)}]++
		}
	}
	for p := int64(0); p < 3; p++ {
		for n := int64(0); n < perPartition; n++ {
			if c := seen[[2]int64{p, n}]; c != 1 {
				t.Fatalf("partition %d record %d is in %d files", p, n, c)
			}
		}
	}
	if tmp := tempFiles(dir); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

// TestBadInputFailsSink: an unwritable output directory fails the
// connector, a tombstone fails the task; the status names the fix and no
// file, partial or not, is left.
func TestBadInputFailsSink(t *testing.T) {
	broker := testkit.StartBroker(t)
	testkit.CreateTopic(t, broker.Addr, "events", 1)
	base := t.TempDir()
	blocker := filepath.Join(base, "not-a-dir")
	os.WriteFile(blocker, nil, 0o644)
	testkit.Produce(t, broker.Addr, jsonRecord("events", 0, 1), jsonRecord("events", 0, 2), &kgo.Record{Topic: "events", Partition: 0})
	good := filepath.Join(base, "out")
	for _, tc := range []struct {
		name, dir, task, fix string
	}{
		{"unwritable directory", filepath.Join(blocker, "out"), "", "store.url"},
		{"tombstone", good, "task", "behavior.on.null.values=ignore"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := map[string]string{"name": "sink-" + strings.ReplaceAll(tc.name, " ", "-"), "connector.class": "parquet", "topics": "events",
				keyStoreURL: "file://" + tc.dir, keyFlushSize: "2", "value.converter": "org.apache.kafka.connect.json.JsonConverter"}
			w := standalone.InProcess(t, broker.Addr, cfg)
			task := -1
			if tc.task != "" {
				task = 0
			}
			standalone.WaitFailed(t, w, cfg["name"], task, tc.fix)
			w.Close()
			// Records before the tombstone went to a committed file (flush.size
			// 2); nothing partial is left.
			if tmp := tempFiles(tc.dir); len(tmp) != 0 {
				t.Errorf("temporary files left: %v", tmp)
			}
			if tc.task == "" {
				if _, err := os.Stat(tc.dir); err == nil {
					t.Errorf("%s was created", tc.dir)
				}
			}
		})
	}
}
