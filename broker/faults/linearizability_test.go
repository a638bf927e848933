package faults

// Linearizability of produce, fetch and offset commits under kill -9 and
// restart, checked with porcupine. A broker child process is killed with
// SIGKILL and restarted on the same data dir again and again while
// producers, fetchers and offset committers run against it; every
// operation's call and return times and its outcome are recorded, and the
// history must be linearizable against two models:
//
//   - per partition, an append-only log: an acknowledged produce appends
//     its record at exactly the offset it was acknowledged with; a produce
//     whose outcome the client never learnt may or may not have appended;
//     a fetch at offset o returns the record at o, or nothing if the log is
//     shorter (a fetch may never skip an offset or see a record move);
//   - per (group, partition), a register of committed offsets: an
//     acknowledged commit sets it, an unanswered one may have, a fetch of
//     committed offsets reads it.
//
// It runs linearizabilityRounds rounds of linearizabilityRun each, every
// round on a topic and a group of its own so that each history is checked
// on its own (one round of seconds in make test, many under the soak build
// tag: make soak), and ends with a clean restart in which every
// acknowledged record of every round must be readable at its offset.

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// Operation inputs and outputs.
type (
	produceIn  struct{ value string }
	produceOut struct {
		offset int64
		known  bool // false: the client never learnt the outcome
	}
	fetchIn  struct{ offset int64 }
	fetchOut struct {
		value   string
		present bool
	}
	commitIn     struct{ offset int64 }
	commitOut    struct{ known bool }
	committedIn  struct{}
	committedOut struct{ offset int64 }
)

// linState is one partition's state: the log (for log partitions) or the
// committed offset (for commit partitions). The log is a persistent list,
// newest record first, so a step appends without copying; each node holds
// the log's length and a hash of all of it. Steps never modify a state.
type linState struct {
	log       *logNode
	committed int64
}

type logNode struct {
	value string
	prev  *logNode
	n     int64  // records in the log up to and including this one
	hash  uint64 // of every value up to and including this one
}

func (s linState) length() int64 {
	if s.log == nil {
		return 0
	}
	return s.log.n
}

// at is the value at offset o < length.
func (s linState) at(o int64) string {
	n := s.log
	for n.n-1 > o {
		n = n.prev
	}
	return n.value
}

func appendTo(s linState, v string) linState {
	h := fnv.New64a()
	if s.log != nil {
		fmt.Fprintf(h, "%d/", s.log.hash)
	}
	h.Write([]byte(v))
	return linState{log: &logNode{value: v, prev: s.log, n: s.length() + 1, hash: h.Sum64()}, committed: s.committed}
}

func sameLog(a, b *logNode) bool {
	for a != b {
		if a == nil || b == nil || a.n != b.n || a.hash != b.hash || a.value != b.value {
			return false
		}
		a, b = a.prev, b.prev
	}
	return true
}

var linModel = porcupine.NondeterministicModel{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		by := map[any][]porcupine.Operation{}
		var keys []any
		for _, op := range history {
			k := op.Metadata
			if _, ok := by[k]; !ok {
				keys = append(keys, k)
			}
			by[k] = append(by[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, by[k])
		}
		return out
	},
	Init: func() []any { return []any{linState{committed: -1}} },
	Step: func(state, input, output any) []any {
		s := state.(linState)
		switch in := input.(type) {
		case produceIn:
			out := output.(produceOut)
			if !out.known {
				return []any{s, appendTo(s, in.value)}
			}
			if s.length() == out.offset {
				return []any{appendTo(s, in.value)}
			}
		case fetchIn:
			out := output.(fetchOut)
			if out.present && in.offset < s.length() && s.at(in.offset) == out.value {
				return []any{s}
			}
			if !out.present && in.offset >= s.length() {
				return []any{s}
			}
		case commitIn:
			next := linState{log: s.log, committed: in.offset}
			if !output.(commitOut).known {
				return []any{s, next}
			}
			return []any{next}
		case committedIn:
			if output.(committedOut).offset == s.committed {
				return []any{s}
			}
		}
		return nil
	},
	Equal: func(a, b any) bool {
		x, y := a.(linState), b.(linState)
		return x.committed == y.committed && sameLog(x.log, y.log)
	},
	Hash: func(a any) uint64 {
		s := a.(linState)
		if s.log == nil {
			return uint64(s.committed)
		}
		return s.log.hash ^ uint64(s.committed)
	},
	DescribeOperation: func(input, output any) string { return fmt.Sprintf("%+v -> %+v", input, output) },
}

// history collects operations from many goroutines.
type history struct {
	start time.Time
	mu    sync.Mutex
	ops   []porcupine.Operation
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(client int, key any, in any, call int64, out any, ret int64) {
	h.mu.Lock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret, Metadata: key})
	h.mu.Unlock()
}

type logKey struct{ partition int32 }
type commitKey struct{ partition int32 }

func TestLinearizableUnderKill9(t *testing.T) {
	dir := t.TempDir()
	addr := testkit.FreePort(t)
	broker := testkit.StartBrokerProcess(t, dir, addr)
	var acks []acked
	for round := 0; round < linearizabilityRounds; round++ {
		acks = append(acks, linearizabilityRound(t, round, dir, addr, &broker)...)
	}
	// A clean restart: every acknowledged record of every round is at its
	// offset.
	broker.Stop()
	broker = testkit.StartBrokerProcess(t, dir, addr)
	verifyAcked(t, addr, acks)
}

// linearizabilityRound runs the workload and the nemesis on a topic and a
// group of the round's own for linearizabilityRun, checks the history and
// returns the acknowledged records. The broker and its data dir carry on
// from round to round.
func linearizabilityRound(t *testing.T, round int, dir, addr string, brokerp **testkit.Process) []acked {
	const partitions = 3
	topic, group := fmt.Sprintf("lin-%d", round), fmt.Sprintf("lin-group-%d", round)
	testkit.CreateTopic(t, addr, topic, partitions)

	h := &history{start: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), linearizabilityRun)
	defer cancel()
	var (
		wg      sync.WaitGroup
		clients atomic.Int32
		ackMu   sync.Mutex
		acks    []acked
		maxAck  [partitions]atomic.Int64
		stats   struct{ produced, unknown, fetched, committed, kills atomic.Int64 }
	)
	for p := range partitions {
		maxAck[p].Store(-1)
	}
	clientID := func() int { return int(clients.Add(1)) - 1 }

	// Producers: idempotent, a few records in flight each.
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := clientID()
			cl := testkit.Client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0),
				kgo.MaxBufferedRecords(4), kgo.RecordDeliveryTimeout(20*time.Second),
				kgo.ProducerBatchCompression(kgo.NoCompression())) // the fetchers decode batches themselves
			var inflight sync.WaitGroup
			for seq := 0; ctx.Err() == nil; seq++ {
				p := int32(rand.IntN(partitions))
				v := fmt.Sprintf("c%d-%d", id, seq)
				call := h.now()
				inflight.Add(1)
				cl.Produce(context.Background(), &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)}, func(r *kgo.Record, err error) {
					defer inflight.Done()
					if err != nil {
						stats.unknown.Add(1)
						h.add(id, logKey{p}, produceIn{v}, call, produceOut{known: false}, math.MaxInt64)
						return
					}
					ret := h.now()
					stats.produced.Add(1)
					h.add(id, logKey{p}, produceIn{v}, call, produceOut{offset: r.Offset, known: true}, ret)
					ackMu.Lock()
					acks = append(acks, acked{topic, p, r.Offset, v})
					ackMu.Unlock()
					for cur := maxAck[p].Load(); r.Offset > cur && !maxAck[p].CompareAndSwap(cur, r.Offset); cur = maxAck[p].Load() {
					}
				})
			}
			inflight.Wait()
		}()
	}
	// Fetchers: a fetch at an offset up to just past the acknowledged end.
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := clientID()
			cl := testkit.Client(t, addr, kgo.MaxVersions(kversion.V3_0_0()))
			for ctx.Err() == nil {
				p := int32(rand.IntN(partitions))
				off := rand.Int64N(maxAck[p].Load() + 3)
				call := h.now()
				got, err := fetchAtErr(ctx, cl, topic, p, off)
				ret := h.now()
				var out fetchOut
				switch {
				case errors.Is(err, kerr.OffsetOutOfRange):
				case err != nil:
					continue // the outcome of a read is not needed: it changed nothing
				default:
					v, ok := got[off]
					out = fetchOut{value: v, present: ok}
				}
				stats.fetched.Add(1)
				h.add(id, logKey{p}, fetchIn{off}, call, out, ret)
			}
		}()
	}
	// An offset committer and reader for one group.
	wg.Add(1)
	go func() {
		defer wg.Done()
		id := clientID()
		adm := kadm.NewClient(testkit.Client(t, addr))
		for seq := int64(0); ctx.Err() == nil; seq++ {
			p := int32(seq % partitions)
			var os kadm.Offsets
			os.AddOffset(topic, p, seq, -1)
			call := h.now()
			cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
			resps, err := adm.CommitOffsets(cctx, group, os)
			ccancel()
			if err == nil {
				err = resps.Error()
			}
			if err != nil {
				h.add(id, commitKey{p}, commitIn{seq}, call, commitOut{known: false}, math.MaxInt64)
			} else {
				h.add(id, commitKey{p}, commitIn{seq}, call, commitOut{known: true}, h.now())
				stats.committed.Add(1)
			}
			call = h.now()
			fctx, fcancel := context.WithTimeout(ctx, 5*time.Second)
			fetched, err := adm.FetchOffsets(fctx, group)
			fcancel()
			if err != nil {
				continue
			}
			ret := h.now()
			for q := int32(0); q < partitions; q++ {
				o, ok := fetched.Lookup(topic, q)
				at := int64(-1)
				if ok && o.Err == nil {
					at = o.At
				}
				h.add(id, commitKey{q}, committedIn{}, call, committedOut{at}, ret)
			}
		}
	}()
	// The nemesis: kill -9 and restart, over and over.
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(500+rand.IntN(1500)) * time.Millisecond):
			(*brokerp).Kill()
			stats.kills.Add(1)
			*brokerp = testkit.StartBrokerProcess(t, dir, addr)
		}
	}
	wg.Wait()

	t.Logf("round %d: %d kills; %d produces acknowledged, %d with unknown outcome; %d fetches; %d commits acknowledged; %d operations",
		round, stats.kills.Load(), stats.produced.Load(), stats.unknown.Load(), stats.fetched.Load(), stats.committed.Load(), len(h.ops))
	if stats.kills.Load() == 0 || stats.produced.Load() == 0 || stats.fetched.Load() == 0 || stats.committed.Load() == 0 {
		t.Fatal("the run did too little to check anything")
	}
	checkStart := time.Now()
	res, info := porcupine.CheckOperationsVerbose(linModel.ToModel(), h.ops, 2*time.Minute)
	t.Logf("checked in %s", time.Since(checkStart).Round(time.Millisecond))
	switch res {
	case porcupine.Illegal:
		describeIllegal(t, info)
		t.Fatal("the history of produce, fetch and offset commits is not linearizable")
	case porcupine.Unknown:
		t.Fatal("the linearizability check did not finish in time")
	}
	return acks
}

// describeIllegal logs the longest linearizable prefix found per
// partition, to show where the history went wrong.
func describeIllegal(t *testing.T, info porcupine.LinearizationInfo) {
	for i, part := range info.PartialLinearizationsOperations() {
		longest := []porcupine.Operation{}
		for _, lin := range part {
			if len(lin) > len(longest) {
				longest = lin
			}
		}
		if n := len(longest); n > 0 {
			tail := longest[max(0, n-5):]
			t.Logf("partition %d: %d operations linearize; the last: %v", i, n, tail)
		}
	}
}

// fetchAtErr is fetchAt for goroutines: the records of one fetch at
// offset, by offset, or the error.
func fetchAtErr(ctx context.Context, cl *kgo.Client, topic string, partition int32, offset int64) (map[int64]string, error) {
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return fetchRecords(fctx, cl, topic, partition, offset)
}

// The models reject what the broker must never do: a fetch that skips an
// acknowledged record, one that misses it after its acknowledgement, a
// produce acknowledged at an offset already taken, a committed offset that
// reads back older after its commit was acknowledged.
func TestLinearizabilityModelsReject(t *testing.T) {
	op := func(key, in, out any, call, ret int64) porcupine.Operation {
		return porcupine.Operation{Input: in, Output: out, Call: call, Return: ret, Metadata: key}
	}
	p0, c0 := logKey{0}, commitKey{0}
	ok := [][]porcupine.Operation{
		{op(p0, produceIn{"a"}, produceOut{0, true}, 0, 1), op(p0, fetchIn{0}, fetchOut{"a", true}, 2, 3)},
		{op(p0, produceIn{"a"}, produceOut{known: false}, 0, math.MaxInt64), op(p0, fetchIn{0}, fetchOut{"a", true}, 2, 3)},
		{op(p0, produceIn{"a"}, produceOut{known: false}, 0, math.MaxInt64), op(p0, fetchIn{0}, fetchOut{}, 2, 3)},
		{op(c0, commitIn{5}, commitOut{true}, 0, 1), op(c0, committedIn{}, committedOut{5}, 2, 3)},
	}
	bad := [][]porcupine.Operation{
		{op(p0, produceIn{"a"}, produceOut{0, true}, 0, 1), op(p0, fetchIn{0}, fetchOut{"b", true}, 2, 3)},
		{op(p0, produceIn{"a"}, produceOut{0, true}, 0, 1), op(p0, fetchIn{0}, fetchOut{}, 2, 3)},
		{op(p0, produceIn{"a"}, produceOut{0, true}, 0, 1), op(p0, produceIn{"b"}, produceOut{0, true}, 2, 3)},
		{op(c0, commitIn{5}, commitOut{true}, 0, 1), op(c0, commitIn{6}, commitOut{true}, 2, 3), op(c0, committedIn{}, committedOut{5}, 4, 5)},
	}
	for i, h := range ok {
		if !porcupine.CheckOperations(linModel.ToModel(), h) {
			t.Errorf("legal history %d rejected", i)
		}
	}
	for i, h := range bad {
		if porcupine.CheckOperations(linModel.ToModel(), h) {
			t.Errorf("illegal history %d accepted", i)
		}
	}
}
