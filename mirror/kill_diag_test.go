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

// reportLoss logs what explains lost records: for each (a few), its
// source partition and offset, what the target holds now around that
// source offset, and the positions the mirror wrote for the partition.
func reportLoss(t *testing.T, srcAddr, tgtAddr string, log *sourceLog, lost []string, consumed int, opts ...kgo.Opt) {
	t.Helper()
	slices.Sort(lost)
	t.Logf("%d records lost after consuming %d records; first lost %s, last %s", len(lost), consumed, lost[0], lost[len(lost)-1])
	now := readToEnd(t, tgtAddr, "A.events", opts...)
	t.Logf("target A.events now holds %d records", len(now))
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
	stillLost := 0
	for _, v := range lost {
		if _, ok := present[v]; !ok {
			stillLost++
		}
	}
	t.Logf("of the %d lost records, %d are not in the target on a full re-read", len(lost), stillLost)
	// Runs of copies per partition: each run is a stretch of consecutive
	// source offsets; a restart shows as a run starting at or before the
	// previous run's end, a loss as one starting after it.
	for p := int32(0); p < 4; p++ {
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
		t.Logf("target partition %d: %d records in runs: %s", p, len(cs), strings.Join(runs, "; "))
	}
	log.mu.Lock()
	for i, v := range lost {
		if i == 5 {
			break
		}
		where := "absent"
		if off, ok := present[v]; ok {
			where = fmt.Sprintf("present at target offset %d on re-read", off)
		}
		t.Logf("lost %s: source partition %d offset %d; %s", v, log.part[v], log.offset[v], where)
	}
	log.mu.Unlock()
	written := map[int32][]string{}
	for _, r := range readToEnd(t, tgtAddr, "mm2-offsets.A.internal") {
		pos, err := mm2.DecodePosition(r.Key, r.Value)
		if err != nil || pos.Topic != "events" {
			continue
		}
		written[pos.Partition] = append(written[pos.Partition], fmt.Sprintf("%d@%s", pos.Offset, r.Timestamp.Format("15:04:05.000")))
	}
	for p := int32(0); p < 4; p++ {
		t.Logf("positions written for partition %d: %s", p, strings.Join(written[p], " "))
	}
}
