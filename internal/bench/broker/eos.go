package main

// Exactly-once throughput: one franz-go GroupTransactSession reads an input
// topic (pre-filled, not measured) with read_committed in a consumer group
// and, in one transaction per poll, produces one output record per input
// record and commits the group's offsets with it. The clock runs from the
// first poll to the commit that covers the last input record.
//
// The output is then checked, outside the clock: a read_committed consumer
// must see exactly one output record for every input record, and the
// group's committed offsets must be the input's end offsets. Each output
// record says which input record it came from (key: input partition and
// offset; it goes to the same partition number), so a duplicate or a gap is
// found, not only a wrong count.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	eosRecordBytes = 1024
	eosInput       = "eos-in"
	eosOutput      = "eos-out"
	eosGroup       = "eos-bench"
	eosTxnID       = "eos-bench"
	// eosKeyBytes is an output key: input partition (4 bytes) and offset
	// (8 bytes), big-endian.
	eosKeyBytes = 12
)

// eosEndKey marks the non-transactional record the check appends to every
// output partition after the run; see checkEOSOutput.
var eosEndKey = []byte("end")

// eosResult is one target's exactly-once run.
type eosResult struct {
	phase // input records committed through, and their value bytes
	// transactions ended, and how many of them aborted (a rebalance or
	// an abortable commit error; their records are read again).
	transactions, aborted int
}

// measureEOS runs the exactly-once loop over n records on a fresh instance
// of t, committing a transaction at most every pollMax records. With a
// cpuProfile path, the broker process's whole life (fill and check
// included) is profiled to it.
func measureEOS(ctx context.Context, t target, n int64, pollMax int, cpuProfile string) (res eosResult, err error) {
	inst, err := t.start(ctx, eosRecordBytes, cpuProfile)
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := inst.close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close %s: %w", t.name, cerr))
		}
	}()
	for _, topic := range []string{eosInput, eosOutput} {
		if err := createTopic(ctx, inst.addr, topic, partitions); err != nil {
			return res, err
		}
	}
	if _, err := produce(ctx, inst, eosInput, eosRecordBytes, n, true); err != nil {
		return res, fmt.Errorf("fill %s with %d records: %w", eosInput, n, err)
	}
	if res, err = transformInTransactions(ctx, inst, n, pollMax); err != nil {
		return res, err
	}
	if err := checkEOSOutput(ctx, inst.addr, n); err != nil {
		return res, fmt.Errorf("check output: %w", err)
	}
	return res, nil
}

// transformInTransactions is the measured loop.
func transformInTransactions(ctx context.Context, inst *instance, n int64, pollMax int) (eosResult, error) {
	var res eosResult
	ctx, cancel := context.WithTimeout(ctx, phaseTimeout)
	defer cancel()
	sess, err := kgo.NewGroupTransactSession(append(producerOpts(inst.addr, eosRecordBytes),
		kgo.TransactionalID(eosTxnID),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ConsumerGroup(eosGroup),
		kgo.ConsumeTopics(eosInput),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxBytes(fetchMaxBytes),
		kgo.FetchMaxPartitionBytes(fetchMaxPartitionBytes),
	)...)
	if err != nil {
		return res, fmt.Errorf("transact session: %w", err)
	}
	defer sess.Close()

	var (
		errOnce sync.Once
		failed  atomic.Bool
		first   error
	)
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			errOnce.Do(func() { first = err; failed.Store(true) })
		}
	}

	var committed int64
	clk, err := startClock(inst)
	if err != nil {
		return res, err
	}
	for committed < n {
		pollCtx, cancel := context.WithTimeout(ctx, stallTimeout)
		fetches := sess.PollRecords(pollCtx, pollMax)
		cancel()
		if errs := fetches.Errors(); len(errs) > 0 {
			e := errs[0]
			if errors.Is(e.Err, context.DeadlineExceeded) && ctx.Err() == nil {
				return res, fmt.Errorf("no records for %s after %d committed", stallTimeout, committed)
			}
			return res, fmt.Errorf("fetch %s[%d] after %d committed: %w", e.Topic, e.Partition, committed, e.Err)
		}
		polled := fetches.NumRecords()
		if polled == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			return res, fmt.Errorf("begin transaction %d: %w", res.transactions+1, err)
		}
		// One allocation for the poll's keys rather than one per record.
		keys := make([]byte, 0, polled*eosKeyBytes)
		fetches.EachRecord(func(r *kgo.Record) {
			k := len(keys)
			keys = binary.BigEndian.AppendUint32(keys, uint32(r.Partition))
			keys = binary.BigEndian.AppendUint64(keys, uint64(r.Offset))
			sess.Produce(ctx, &kgo.Record{Topic: eosOutput, Partition: r.Partition, Key: keys[k:len(keys):len(keys)], Value: r.Value}, promise)
		})
		ok, err := sess.End(ctx, kgo.TryCommit)
		// End flushed: every promise of the transaction has run.
		if failed.Load() {
			return res, fmt.Errorf("transaction %d: produce: %w", res.transactions+1, first)
		}
		if err != nil {
			return res, fmt.Errorf("end transaction %d: %w", res.transactions+1, err)
		}
		res.transactions++
		if !ok {
			res.aborted++
			continue
		}
		committed += int64(polled)
	}
	if res.phase, err = clk.phase(committed, eosRecordBytes); err != nil {
		return res, err
	}
	if committed != n {
		return res, fmt.Errorf("committed %d input records, the input holds %d", committed, n)
	}
	return res, nil
}

// checkEOSOutput reads the output with read_committed and requires exactly
// one record for each input record, then the group's committed offsets to
// be the input's end offsets.
//
// Counting alone cannot tell when the output is read to its end: commit
// markers take offsets, so end offsets do not count records. So a plain
// producer first appends an eosEndKey record to every output partition;
// read_committed returns it only once every transaction before it is
// decided, so reading up to it reads everything the run committed.
func checkEOSOutput(ctx context.Context, addr string, n int64) error {
	ctx, cancel := context.WithTimeout(ctx, phaseTimeout)
	defer cancel()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ConsumeTopics(eosOutput),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxBytes(fetchMaxBytes),
		kgo.FetchMaxPartitionBytes(fetchMaxPartitionBytes),
	)
	if err != nil {
		return fmt.Errorf("check client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	inputEnds, err := adm.ListEndOffsets(ctx, eosInput)
	if err == nil {
		err = inputEnds.Error()
	}
	if err != nil {
		return fmt.Errorf("list %s end offsets: %w", eosInput, err)
	}
	seen := make([][]bool, partitions) // input partition → offset → output record seen
	inputEnds.Each(func(o kadm.ListedOffset) {
		if o.Partition >= 0 && o.Partition < partitions {
			seen[o.Partition] = make([]bool, o.Offset)
		}
	})

	ends := make([]*kgo.Record, partitions)
	for p := range ends {
		ends[p] = &kgo.Record{Topic: eosOutput, Partition: int32(p), Key: eosEndKey}
	}
	if err := cl.ProduceSync(ctx, ends...).FirstErr(); err != nil {
		return fmt.Errorf("append end markers: %w", err)
	}

	want := recordValue(eosRecordBytes)
	var got int64
	ended := 0
	for ended < partitions {
		pollCtx, cancel := context.WithTimeout(ctx, stallTimeout)
		fetches := cl.PollFetches(pollCtx)
		cancel()
		if errs := fetches.Errors(); len(errs) > 0 {
			e := errs[0]
			return fmt.Errorf("fetch %s[%d] after %d records, %d partitions read to their end: %w", e.Topic, e.Partition, got, ended, e.Err)
		}
		var bad error
		fetches.EachRecord(func(r *kgo.Record) {
			if bad != nil {
				return
			}
			if bytes.Equal(r.Key, eosEndKey) {
				ended++
				return
			}
			if len(r.Key) != eosKeyBytes {
				bad = fmt.Errorf("%s[%d] offset %d: %d-byte key, want %d", eosOutput, r.Partition, r.Offset, len(r.Key), eosKeyBytes)
				return
			}
			from := int32(binary.BigEndian.Uint32(r.Key))
			off := int64(binary.BigEndian.Uint64(r.Key[4:]))
			switch {
			case from != r.Partition:
				bad = fmt.Errorf("%s[%d] offset %d comes from input partition %d", eosOutput, r.Partition, r.Offset, from)
			case off < 0 || off >= int64(len(seen[from])):
				bad = fmt.Errorf("%s[%d] offset %d comes from input offset %d, past the input's end %d", eosOutput, r.Partition, r.Offset, off, len(seen[from]))
			case seen[from][off]:
				bad = fmt.Errorf("input %s[%d] offset %d was written to the output twice", eosInput, from, off)
			case !bytes.Equal(r.Value, want):
				bad = fmt.Errorf("%s[%d] offset %d: value differs from the input's", eosOutput, r.Partition, r.Offset)
			default:
				seen[from][off] = true
				got++
			}
		})
		if bad != nil {
			return bad
		}
	}
	// Every output record is distinct and within the input, so n of them
	// are the whole input.
	if got != n {
		return fmt.Errorf("output holds %d committed records, input %d", got, n)
	}

	committed, err := adm.FetchOffsets(ctx, eosGroup)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		return fmt.Errorf("fetch group %s offsets: %w", eosGroup, err)
	}
	for p, s := range seen {
		c, ok := committed.Lookup(eosInput, int32(p))
		if !ok || c.At != int64(len(s)) {
			return fmt.Errorf("group %s committed %s[%d] at %d, want the end offset %d", eosGroup, eosInput, p, c.At, len(s))
		}
	}
	return nil
}
