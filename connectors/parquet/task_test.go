package parquet

import (
	"context"
	"errors"

	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

var eventSchema = data.StructSchema("event",
	data.NewField("partition", data.Int32Schema),
	data.NewField("offset", data.Int64Schema),
	data.NewField("color", data.StringSchema),
	data.NewField("amount", data.Optional(data.DecimalSchema(2))),
	data.NewField("at", data.Optional(data.TimestampSchema)),
)

var colors = []string{"red", "green", "blue"}

// event is the record at offset off of partition p.
func event(topic string, p int32, off int64) connect.SinkRecord {
	v := data.NewStruct(eventSchema)
	v.Put("partition", p)
	v.Put("offset", off)
	v.Put("color", colors[off%3])
	if off%5 != 0 {
		v.Put("amount", data.NewDecimal(off*7-300, 2))
		v.Put("at", time.UnixMilli(1700000000000+off*60000).UTC())
	}
	tp := connect.TopicPartition{Topic: topic, Partition: p}
	return connect.SinkRecord{
		Record:   connect.Record{Topic: topic, Partition: p, ValueSchema: eventSchema, Value: v, Offset: off, Timestamp: time.UnixMilli(1700000000000 + off*60000)},
		Original: tp, OriginalOffset: off,
	}
}

func sinkConfig(dir string, extra ...string) map[string]string {
	cfg := map[string]string{"name": "sink", "connector.class": "parquet", "topics": "orders",
		keyStoreURL: "file://" + dir, keyFlushSize: "100"}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = extra[i+1]
	}
	return cfg
}

func startSink(t *testing.T, cfg map[string]string, parts ...connect.TopicPartition) *Task {
	t.Helper()
	task := NewTask()
	if err := task.Start(nil, cfg); err != nil {
		t.Fatal(err)
	}
	if err := task.Open(parts); err != nil {
		t.Fatal(err)
	}
	return task
}

// committedFiles lists the final files under dir, relative, sorted.
func committedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".parquet") {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// offsetsInFiles reads every committed file with parquet-go and counts
// each (partition, offset) row.
func offsetsInFiles(t *testing.T, dir string) map[[2]int64]int {
	t.Helper()
	seen := map[[2]int64]int{}
	for _, f := range committedFiles(t, dir) {
		for _, row := range readFile(t, filepath.Join(dir, f)) {
			seen[[2]int64{int64(row["partition"].(int32)), row["offset"].(int64)}]++
		}
	}
	return seen
}

// TestExactlyOnceFiles writes three partitions through several crashes: a
// crash leaves open files behind and can come after files were committed
// but before their offsets were; each restart resumes from the committed
// offsets. In the end every record up to the last committed file is in
// exactly one file, files are named by their first offset, and no
// temporary file is left.
func TestExactlyOnceFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := sinkConfig(dir)
	parts := []connect.TopicPartition{{Topic: "orders", Partition: 0}, {Topic: "orders", Partition: 1}, {Topic: "orders", Partition: 2}}
	const total = 1050
	committed := map[connect.TopicPartition]int64{}
	for round := 0; ; round++ {
		task := startSink(t, cfg, parts...)
		// Deliver from the committed offsets, in batches of 37 per partition,
		// flushing every third batch and committing what Flush returns only
		// every other flush; crash after a number of batches that grows with
		// each round.
		pos := map[connect.TopicPartition]int64{}
		for _, tp := range parts {
			pos[tp] = committed[tp]
		}
		flushes := 0
		done := true
		for batch := 0; ; batch++ {
			var recs []connect.SinkRecord
			for _, tp := range parts {
				for i := 0; i < 37 && pos[tp] < total; i++ {
					recs = append(recs, event(tp.Topic, tp.Partition, pos[tp]))
					pos[tp]++
				}
			}
			if len(recs) == 0 {
				break
			}
			if err := task.Put(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			if batch%3 == 2 {
				got, err := task.Flush(context.Background(), pos)
				if err != nil {
					t.Fatal(err)
				}
				if flushes++; flushes%2 == 0 {
					for tp, off := range got {
						committed[tp] = off
					}
				}
			}
			if round < 4 && batch == 5+4*round {
				done = false
				break // crash: no Close, no Stop, open files abandoned
			}
		}
		if done {
			got, _ := task.Flush(context.Background(), pos)
			for tp, off := range got {
				committed[tp] = off
			}
			task.Stop()
			break
		}
	}
	seen := offsetsInFiles(t, dir)
	for _, tp := range parts {
		if committed[tp] != 1000 {
			t.Errorf("%v: committed %d, want 1000 (the last 50 records are in an open file)", tp, committed[tp])
		}
		for off := int64(0); off < 1000; off++ {
			if n := seen[[2]int64{int64(tp.Partition), off}]; n != 1 {
				t.Fatalf("%v offset %d is in %d files", tp, off, n)
			}
		}
	}
	if len(seen) != 3000 {
		t.Errorf("%d records in files, want 3000", len(seen))
	}
	files := committedFiles(t, dir)
	if len(files) != 30 || files[0] != "topics/orders/partition=0/orders+0+0000000000.parquet" || files[29] != "topics/orders/partition=2/orders+2+0000000900.parquet" {
		t.Errorf("files %v", files)
	}
	var temps []string
	filepath.WalkDir(filepath.Join(dir, "topics", "+tmp"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			temps = append(temps, path)
		}
		return nil
	})
	if len(temps) != 0 {
		t.Errorf("temporary files left: %v", temps)
	}
}

// TestRecordsReadBack: the files hold the records as written (decimals,
// timestamps and nulls), in the field and daily partitioners' layouts.
func TestPartitionersAndContent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []string
		want  []string
	}{
		{"field", []string{keyPartitioner, "FieldPartitioner", keyPartitionField, "color"},
			[]string{"topics/orders/color=blue/orders+0+0000000002.parquet", "topics/orders/color=green/orders+0+0000000001.parquet", "topics/orders/color=red/orders+0+0000000000.parquet"}},
		{"daily", []string{keyPartitioner, "io.confluent.connect.storage.partitioner.DailyPartitioner", keyTimezone, "UTC"},
			[]string{"topics/orders/year=2023/month=11/day=14/orders+0+0000000000.parquet", "topics/orders/year=2023/month=11/day=15/orders+0+0000000107.parquet"}},
		{"time by field", []string{keyPartitioner, "TimeBasedPartitioner", keyPathFormat, "'dt'=YYYY-MM-dd/'h'=HH", keyPartitionDur, "3600000",
			keyTimezone, "Europe/Paris", keyTSExtractor, "RecordField", keyTSField, "at"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			task := startSink(t, sinkConfig(dir, append(tc.extra, keyFlushSize, "1000")...), connect.TopicPartition{Topic: "orders"})
			var recs []connect.SinkRecord
			for off := int64(0); off < 150; off++ {
				if tc.name == "time by field" && off%5 == 0 {
					continue // no "at"
				}
				recs = append(recs, event("orders", 0, off))
			}
			if err := task.Put(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			if err := task.writers[connect.TopicPartition{Topic: "orders"}].rotate(); err != nil {
				t.Fatal(err)
			}
			files := committedFiles(t, dir)
			if tc.want != nil && strings.Join(files, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("files:\n%s\nwant:\n%s", strings.Join(files, "\n"), strings.Join(tc.want, "\n"))
			}
			if tc.name == "time by field" && (len(files) != 3 || !strings.HasPrefix(files[0], "topics/orders/dt=2023-11-14/h=23/") || !strings.HasPrefix(files[2], "topics/orders/dt=2023-11-15/h=01/")) {
				t.Fatalf("files %v", files)
			}
			rows := 0
			for _, f := range files {
				for _, row := range readFile(t, filepath.Join(dir, f)) {
					rows++
					off := row["offset"].(int64)
					want := event("orders", 0, off).Value.(*data.Struct)
					if err := sameRow(want, row); err != nil {
						t.Fatalf("%s offset %d: %v", f, off, err)
					}
				}
			}
			if rows != len(recs) {
				t.Errorf("%d rows in files, %d records", rows, len(recs))
			}
		})
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1700000000, 0)
	task := startSink(t, sinkConfig(dir, keyFlushSize, "1000", keyRotateInterval, "600000", keyRotateSchedule, "3600000"), connect.TopicPartition{Topic: "orders"})
	task.now = func() time.Time { return now }
	var recs []connect.SinkRecord
	for off := int64(0); off < 25; off++ { // a record a minute: a file per 10 minutes of record time
		recs = append(recs, event("orders", 0, off))
	}
	if err := task.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	files := committedFiles(t, dir)
	if len(files) != 2 || !strings.HasSuffix(files[1], "+0000000010.parquet") {
		t.Fatalf("rotate.interval.ms: files %v", files)
	}
	got, _ := task.Flush(context.Background(), map[connect.TopicPartition]int64{{Topic: "orders"}: 25})
	if got[connect.TopicPartition{Topic: "orders"}] != 20 {
		t.Errorf("Flush with an open file from offset 20: %v", got)
	}
	// The wall clock passes the hour: the open file is committed.
	now = now.Add(time.Hour)
	if err := task.Put(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if files := committedFiles(t, dir); len(files) != 3 {
		t.Fatalf("rotate.schedule.interval.ms: files %v", files)
	}
	got, _ = task.Flush(context.Background(), map[connect.TopicPartition]int64{{Topic: "orders"}: 25})
	if got[connect.TopicPartition{Topic: "orders"}] != 25 {
		t.Errorf("Flush after the scheduled rotation: %v", got)
	}
}

func TestSchemaChange(t *testing.T) {
	v2 := data.StructSchema("event", append(append([]data.Field(nil), eventSchema.Fields...), data.NewField("note", data.OptionalStringSchema))...)
	newer := func(off int64) connect.SinkRecord {
		r := event("orders", 0, off)
		old := r.Value.(*data.Struct)
		v := data.NewStruct(v2)
		for i := range eventSchema.Fields {
			v.PutAt(i, old.At(i))
		}
		v.Put("note", "v2")
		r.Value, r.ValueSchema = v, v2
		return r
	}
	for _, tc := range []struct {
		compat string
		files  int
	}{{"NONE", 3}, {"BACKWARD", 2}} {
		t.Run(tc.compat, func(t *testing.T) {
			dir := t.TempDir()
			task := startSink(t, sinkConfig(dir, keyCompatibility, tc.compat, keyFlushSize, "10"), connect.TopicPartition{Topic: "orders"})
			// v1, v1, v2 (rolls), v1 (NONE rolls again; BACKWARD writes it as v2) ...
			recs := []connect.SinkRecord{event("orders", 0, 0), event("orders", 0, 1), newer(2), event("orders", 0, 3)}
			if err := task.Put(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			task.Flush(context.Background(), nil)
			if err := task.writers[connect.TopicPartition{Topic: "orders"}].rotate(); err != nil {
				t.Fatal(err)
			}
			files := committedFiles(t, dir)
			if len(files) != tc.files {
				t.Fatalf("files %v, want %d", files, tc.files)
			}
			last := readFile(t, filepath.Join(dir, files[len(files)-1]))
			if tc.compat == "BACKWARD" && (len(last) != 2 || last[1]["note"] != nil || last[0]["note"] != "v2") {
				t.Errorf("BACKWARD file rows %v", last)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, []byte("x"), 0o644)
	err := (&Connector{}).Start(nil, sinkConfig(filepath.Join(blocker, "out")))
	if !errors.Is(err, ErrUnwritable) || !strings.Contains(err.Error(), "store.url") {
		t.Errorf("unwritable directory: %v", err)
	}
	if files := committedFiles(t, dir); len(files) != 0 {
		t.Errorf("files written: %v", files)
	}

	_, err = ParseConfig(map[string]string{keyStoreURL: "s3://bucket/x", keyFlushSize: "0", keyPartitioner: "FieldPartitioner", keyCodec: "brotli"})
	var ce *connect.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("bad config: %v", err)
	}
	for _, key := range []string{keyFlushSize, keyCodec} {
		if len(ce.ByKey()[key]) == 0 {
			t.Errorf("no error for %s: %v", key, err)
		}
	}
	_, err = ParseConfig(map[string]string{keyStoreURL: "s3://bucket/x", keyFlushSize: "1", keyPartitioner: "FieldPartitioner"})
	if !errors.As(err, &ce) || len(ce.ByKey()[keyStoreURL]) == 0 || len(ce.ByKey()[keyPartitionField]) == 0 {
		t.Errorf("store.url / partition.field.name: %v", err)
	}

	task := startSink(t, sinkConfig(dir), connect.TopicPartition{Topic: "orders"})
	tomb := event("orders", 0, 0)
	tomb.Value = nil
	var de *connect.DataError
	if err := task.Put(context.Background(), []connect.SinkRecord{tomb}); !errors.As(err, &de) || !strings.Contains(err.Error(), "behavior.on.null.values") {
		t.Errorf("tombstone: %v", err)
	}
	str := event("orders", 0, 1)
	str.Value, str.ValueSchema = "text", data.StringSchema
	if err := task.Put(context.Background(), []connect.SinkRecord{str}); !errors.As(err, &de) {
		t.Errorf("string value: %v", err)
	}
	big := event("orders", 0, 2)
	prec := data.DecimalSchema(2)
	prec.Parameters["connect.decimal.precision"] = "3"
	s := data.StructSchema("d", data.NewField("d", prec))
	v := data.NewStruct(s)
	v.Put("d", data.NewDecimal(123456, 2))
	big.Value, big.ValueSchema = v, s
	if err := task.Put(context.Background(), []connect.SinkRecord{big}); !errors.As(err, &de) || !strings.Contains(err.Error(), "digits") {
		t.Errorf("decimal over its precision: %v", err)
	}

}
