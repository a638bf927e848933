package mirror_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/mirror"
	"github.com/tributary-streams/tributary/mirror/internal/mm2"
)

// awaitCopies reads topic from the start until every record the producer
// wrote is there at least once (or timeout passes), and then briefly more,
// to catch extra copies. It returns what it read and the values still
// missing, sorted.
//
// It waits for values, not for a count of records: at-least-once, what a
// killed mirror copied but had not yet covered by a written position is
// copied again, so the target can hold more records than were produced
// while it still lacks the newest ones.
func awaitCopies(t *testing.T, addr, topic string, log *sourceLog, timeout time.Duration, opts ...kgo.Opt) ([]*kgo.Record, []string) {
	t.Helper()
	log.mu.Lock()
	want := make(map[string]bool, len(log.offset))
	for v := range log.offset {
		want[v] = true
	}
	log.mu.Unlock()
	cl := testkit.Client(t, addr, append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	var out []*kgo.Record
	seen := map[string]bool{}
	deadline := time.Now().Add(timeout)
	extra := time.Time{}
	for {
		now := time.Now()
		if len(seen) == len(want) && extra.IsZero() {
			extra = now.Add(300 * time.Millisecond)
		}
		if (!extra.IsZero() && now.After(extra)) || now.After(deadline) {
			break
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		fetches := cl.PollFetches(ctx)
		cancel()
		fetches.EachRecord(func(r *kgo.Record) {
			out = append(out, r)
			if want[string(r.Value)] {
				seen[string(r.Value)] = true
			}
		})
	}
	var missing []string
	for v := range want {
		if !seen[v] {
			missing = append(missing, v)
		}
	}
	slices.Sort(missing)
	return out, missing
}

// readToEnd reads every record of topic up to the end offsets it has now.
func readToEnd(t *testing.T, addr, topic string, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	ends, err := admin(t, addr).ListEndOffsets(context.Background(), topic)
	if err != nil {
		t.Logf("list end offsets of %s: %v", topic, err)
		return nil
	}
	last := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset > 0 {
			last[o.Partition] = o.Offset - 1
		}
	})
	cl := testkit.Client(t, addr, append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.KeepControlRecords()}, opts...)...)
	var out []*kgo.Record
	deadline := time.Now().Add(30 * time.Second)
	for len(last) > 0 && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fetches := cl.PollFetches(ctx)
		cancel()
		fetches.EachRecord(func(r *kgo.Record) {
			if l, ok := last[r.Partition]; ok && r.Offset >= l {
				delete(last, r.Partition)
			}
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
		})
	}
	if len(last) > 0 {
		t.Logf("read %s: partitions %v not read to their end", topic, last)
	}
	return out
}

// reportLoss logs what explains missing records: per partition, the runs
// of consecutive source offsets the target holds (a restart shows as a
// run starting at or before the previous one's end, a skip as one starting
// after it) and the positions written; per missing record (a few), its
// source partition and offset, and whether the mirror's position for the
// partition is past it, which is a loss, or not, which is a copy that had
// not come yet.
func reportLoss(t *testing.T, tgtAddr string, log *sourceLog, missing []string, consumed int, opts ...kgo.Opt) {
	t.Helper()
	t.Logf("%d records missing after reading %d; first %s, last %s", len(missing), consumed, missing[0], missing[len(missing)-1])
	now := readToEnd(t, tgtAddr, "A.events", opts...)
	type copyAt struct{ src, dst int64 }
	byPart := map[int32][]copyAt{}
	present := map[string]int64{}
	for _, r := range now {
		src := r.Offset
		if h, ok := header(r, mirror.SourceOffsetHeaderKey); ok {
			src, _ = strconv.ParseInt(h, 10, 64)
		}
		byPart[r.Partition] = append(byPart[r.Partition], copyAt{src, r.Offset})
		if _, ok := present[string(r.Value)]; !ok {
			present[string(r.Value)] = r.Offset
		}
	}
	for p := range int32(killPartitions) {
		var runs []string
		cs := byPart[p]
		for i := 0; i < len(cs); {
			j := i
			for j+1 < len(cs) && cs[j+1].src == cs[j].src+1 {
				j++
			}
			runs = append(runs, fmt.Sprintf("src %d-%d at %d", cs[i].src, cs[j].src, cs[i].dst))
			i = j + 1
		}
		t.Logf("target partition %d, re-read to its end: %d records, runs: %s", p, len(cs), strings.Join(runs, "; "))
	}
	written := map[int32][]string{}
	position := map[int32]int64{}
	for _, r := range readToEnd(t, tgtAddr, "mm2-offsets.A.internal") {
		pos, err := mm2.DecodePosition(r.Key, r.Value)
		if err != nil || pos.Topic != "events" {
			continue
		}
		written[pos.Partition] = append(written[pos.Partition], strconv.FormatInt(pos.Offset, 10))
		if cur, ok := position[pos.Partition]; !ok || pos.Offset > cur {
			position[pos.Partition] = pos.Offset
		}
	}
	for p := range int32(killPartitions) {
		t.Logf("positions written for partition %d (compaction may have dropped some): %s", p, strings.Join(written[p], " "))
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for i, v := range missing {
		if i == 5 {
			break
		}
		part, off := log.part[v], log.offset[v]
		verdict := "after the partition's position: not copied yet"
		if pos, ok := position[part]; ok && off <= pos {
			verdict = fmt.Sprintf("LOST: the partition's position %d is past it", pos)
		}
		if at, ok := present[v]; ok {
			verdict += fmt.Sprintf("; on a re-read it is at target offset %d", at)
		}
		t.Logf("missing %s: source partition %d offset %d; %s", v, part, off, verdict)
	}
}
