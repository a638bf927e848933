package datagen

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// offsets is a SourceTaskContext holding committed offsets.
type offsets map[int64]int64

func (o offsets) Offset(p map[string]any) (map[string]any, error) {
	seq, ok := o[p[TaskField].(int64)]
	if !ok {
		return nil, nil
	}
	return map[string]any{SeqField: seq}, nil
}

func (offsets) Logger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// wantText is a record's value as the format defines it: "<task>-<seq>"
// with seq zero-padded to 12 digits, then a space and x's up to size.
func wantText(task int, seq int64, size int) string {
	s := strconv.Itoa(task) + "-" + strings.Repeat("0", max(0, 12-len(strconv.FormatInt(seq, 10)))) + strconv.FormatInt(seq, 10)
	if len(s) < size {
		s += " " + strings.Repeat("x", size-len(s)-1)
	}
	return s
}

func startTask(t *testing.T, ctx connect.SourceTaskContext, config map[string]string) *Task {
	t.Helper()
	task := &Task{}
	if err := task.Start(ctx, config); err != nil {
		t.Fatal(err)
	}
	return task
}

// Polls return every record once, in order, with the exact values, the
// partition on each and the offset on the last; batches larger than one
// value chunk and values longer than value.size (a long task number and
// sequence) come out whole.
func TestPollValues(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		task, size, batch, its int
		resume                 int64 // committed seq, or -1
	}{
		{name: "chunks", task: 1, size: 100, batch: 2000, its: 4500, resume: -1},
		{name: "resume", task: 0, size: 100, batch: 700, its: 2000, resume: 655},
		{name: "big values", task: 3, size: 200_000, batch: 3, its: 7, resume: -1},
		{name: "short values", task: 123456789, size: 20, batch: 5000, its: 5000, resume: 1_000},
		{name: "carry into a 13th digit", task: 5, size: 30, batch: 7, its: 1_000_000_000_010, resume: 999_999_999_989},
		{name: "carries", task: 0, size: 100, batch: 1500, its: 10_100, resume: 8_998},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := offsets{}
			if tc.resume >= 0 {
				ctx[int64(tc.task)] = tc.resume
			}
			task := startTask(t, ctx, map[string]string{TopicKey: "t", taskKey: strconv.Itoa(tc.task),
				ValueSizeKey: strconv.Itoa(tc.size), BatchSizeKey: strconv.Itoa(tc.batch), IterationsKey: strconv.Itoa(tc.its)})
			next := tc.resume + 1
			for next < int64(tc.its) {
				recs, err := task.Poll(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if want := min(int64(tc.batch), int64(tc.its)-next); int64(len(recs)) != want {
					t.Fatalf("poll returned %d records, want %d", len(recs), want)
				}
				for i, r := range recs {
					want := wantText(tc.task, next, tc.size)
					if got, ok := r.Value.(string); !ok || got != want {
						t.Fatalf("record %d: value %.40q (len %d), want %.40q (len %d)", next, got, len(got), want, len(want))
					}
					if r.ValueSchema != data.StringSchema || r.Topic != "t" || r.Partition != connect.AnyPartition || r.Timestamp.IsZero() {
						t.Fatalf("record %d: %+v", next, r.Record)
					}
					if r.SourcePartition[TaskField] != int64(tc.task) {
						t.Fatalf("record %d: source partition %v", next, r.SourcePartition)
					}
					if last := i == len(recs)-1; last != (r.SourceOffset != nil) || last && r.SourceOffset[SeqField] != next {
						t.Fatalf("record %d (%d of %d): source offset %v", next, i, len(recs), r.SourceOffset)
					}
					if task, seq, ok := Parse(r.Value.(string)); !ok || task != tc.task || seq != next {
						t.Fatalf("record %d: Parse = %d, %d, %v", next, task, seq, ok)
					}
					next++
				}
			}
		})
	}
}

func TestPollStructs(t *testing.T) {
	task := startTask(t, offsets{}, map[string]string{TopicKey: "t", taskKey: "2", ValueSchemaKey: "struct",
		BatchSizeKey: "1000", IterationsKey: "1000"})
	recs, err := task.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		st, ok := r.Value.(*data.Struct)
		if !ok || r.ValueSchema != ValueSchema {
			t.Fatalf("record %d: value %T, schema %v", i, r.Value, r.ValueSchema)
		}
		if err := st.Validate(); err != nil {
			t.Fatal(err)
		}
		if st.Get("task") != int32(2) || st.Get("seq") != int64(i) || st.Get("payload") != wantText(2, int64(i), 100) ||
			!st.Get("ts").(time.Time).Equal(r.Timestamp) {
			t.Fatalf("record %d: %v", i, st)
		}
	}
}

func BenchmarkPoll(b *testing.B) {
	task := &Task{}
	if err := task.Start(offsets{}, map[string]string{TopicKey: "t", taskKey: "0", BatchSizeKey: "5000"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := task.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*5000), "ns/record")
}
