package main

// The workload every target runs: produce N records of one size to a fresh
// 6-partition topic as fast as the client allows (acks=all, idempotent, no
// compression), then consume all N from the start. Client options are the
// same for every target; only the seed address differs. Both phases check
// what they measured, so a fast wrong answer is an error, not a result.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	partitions = 6
	// maxBufferedBytes bounds what the producer holds in flight: enough
	// for 5 in-flight 1 MB batches on every partition plus the ones
	// being filled.
	maxBufferedBytes = 64 << 20
	// Fetch sizes: 4 MiB per partition lets a fetch return several
	// producer-sized (1 MB) batches at once.
	fetchMaxBytes          = 32 << 20
	fetchMaxPartitionBytes = 4 << 20
	// phaseTimeout bounds a whole phase, and stallTimeout a consumer that
	// gets no records, so a hung target fails the run instead of hanging it.
	phaseTimeout = 3 * time.Minute
	stallTimeout = 30 * time.Second
)

// phase is one measured produce or consume.
type phase struct {
	records int64
	bytes   int64 // record value bytes
	elapsed time.Duration
	// cpu is the CPU time this process (the clients) used meanwhile, and
	// brokerCPU that of the target's process. cpu/elapsed near the CPU
	// count means the phase was CPU-bound; well below, that it waited.
	cpu, brokerCPU time.Duration
}

func (p phase) mbPerSec() float64  { return float64(p.bytes) / 1e6 / p.elapsed.Seconds() }
func (p phase) recPerSec() float64 { return float64(p.records) / p.elapsed.Seconds() }

// cores and brokerCores are the average number of CPUs the clients and the
// broker kept busy.
func (p phase) cores() float64       { return p.cpu.Seconds() / p.elapsed.Seconds() }
func (p phase) brokerCores() float64 { return p.brokerCPU.Seconds() / p.elapsed.Seconds() }

// brokerCPUPerGB is the broker's CPU-seconds per GB (10^9 bytes) of record
// values moved.
func (p phase) brokerCPUPerGB() float64 { return p.brokerCPU.Seconds() / (float64(p.bytes) / 1e9) }

// clock marks the start of a measured interval in wall time and in the CPU
// time of this process and of the broker's.
type clock struct {
	wall           time.Time
	cpu, brokerCPU time.Duration
	brokerPid      int
}

func startClock(inst *instance) (clock, error) {
	b, err := pidCPU(inst.pid)
	return clock{wall: time.Now(), cpu: processCPU(), brokerCPU: b, brokerPid: inst.pid}, err
}

// phase closes the interval for n records of recordBytes each.
func (c clock) phase(n int64, recordBytes int) (phase, error) {
	p := phase{records: n, bytes: n * int64(recordBytes), elapsed: time.Since(c.wall), cpu: processCPU() - c.cpu}
	b, err := pidCPU(c.brokerPid)
	p.brokerCPU = b - c.brokerCPU
	return p, err
}

// processCPU is the user plus system time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sizeResult is the workload's outcome for one record size on one target.
type sizeResult struct {
	produce, consume phase
}

// producerOpts are the producer settings every target gets.
func producerOpts(addr string, recordBytes int) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.MaxBufferedRecords(max(50_000, maxBufferedBytes/recordBytes)),
		kgo.MaxBufferedBytes(maxBufferedBytes),
		kgo.RecordDeliveryTimeout(time.Minute),
	}
}

// recordValue returns the value every record of a run shares: random bytes,
// so nothing along the way gets a free ride from compressible data.
func recordValue(size int) []byte {
	v := make([]byte, size)
	r := rand.NewChaCha8([32]byte{})
	r.Read(v)
	return v
}

// runWorkload creates topic on the instance, then produces and consumes n
// records of recordBytes each.
func runWorkload(ctx context.Context, t target, inst *instance, topic string, recordBytes int, n int64) (sizeResult, error) {
	var res sizeResult
	if err := createTopic(ctx, inst.addr, topic, partitions); err != nil {
		return res, err
	}
	var err error
	if res.produce, err = produce(ctx, inst, topic, recordBytes, n, t.stores); err != nil {
		return res, fmt.Errorf("produce %d x %d B to %s: %w", n, recordBytes, topic, err)
	}
	if res.consume, err = consume(ctx, inst, topic, recordBytes, n); err != nil {
		return res, fmt.Errorf("consume %d x %d B from %s: %w", n, recordBytes, topic, err)
	}
	return res, nil
}

func createTopic(ctx context.Context, addr, topic string, nPartitions int32) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	adm := kadm.NewClient(cl)
	defer adm.Close()
	resp, err := adm.CreateTopic(ctx, nPartitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// produce sends n records asynchronously; Produce blocks once the client
// buffers maxBufferedBytes, which is what bounds the records in flight. The
// clock runs from the first Produce until Flush returns, so every record is
// acknowledged inside it. When the target stores records, the end offsets
// must then add up to exactly n.
func produce(ctx context.Context, inst *instance, topic string, recordBytes int, n int64, stores bool) (phase, error) {
	ctx, cancel := context.WithTimeout(ctx, phaseTimeout)
	defer cancel()
	cl, err := kgo.NewClient(producerOpts(inst.addr, recordBytes)...)
	if err != nil {
		return phase{}, fmt.Errorf("producer client: %w", err)
	}
	defer cl.Close()

	var (
		acked   atomic.Int64
		errOnce sync.Once
		failed  atomic.Bool
		first   error
	)
	// The promise is one shared func, not a closure per record, so the
	// harness adds as little as possible to the client's own cost.
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			errOnce.Do(func() { first = err; failed.Store(true) })
			return
		}
		acked.Add(1)
	}
	value := recordValue(recordBytes)

	clk, err := startClock(inst)
	if err != nil {
		return phase{}, err
	}
	for i := int64(0); i < n && !failed.Load(); i++ {
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: value}, promise)
	}
	if err := cl.Flush(ctx); err != nil {
		return phase{}, fmt.Errorf("flush: %w", err)
	}
	measured, err := clk.phase(n, recordBytes)
	if err != nil {
		return phase{}, err
	}
	// Flush returned, so every promise has run and first is settled.
	if failed.Load() {
		return phase{}, fmt.Errorf("record failed: %w", first)
	}
	if got := acked.Load(); got != n {
		return phase{}, fmt.Errorf("%d of %d records acknowledged", got, n)
	}
	if stores {
		if err := checkEndOffsets(ctx, cl, topic, n); err != nil {
			return phase{}, err
		}
	}
	return measured, nil
}

// checkEndOffsets asserts that the topic's partitions hold n records in all.
func checkEndOffsets(ctx context.Context, cl *kgo.Client, topic string, n int64) error {
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("list end offsets: %w", err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != n {
		return fmt.Errorf("end offsets add up to %d records, produced %d", total, n)
	}
	return nil
}

// consume reads n records from the start of every partition, without a
// group. Each partition's offsets must run 0, 1, 2, ... and each value must
// be recordBytes long, so n records read are n distinct records. A
// synthetic target serves more than n; the rest is ignored.
func consume(ctx context.Context, inst *instance, topic string, recordBytes int, n int64) (phase, error) {
	ctx, cancel := context.WithTimeout(ctx, phaseTimeout)
	defer cancel()
	opts := []kgo.Opt{
		kgo.SeedBrokers(inst.addr),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(fetchMaxBytes),
		kgo.FetchMaxPartitionBytes(fetchMaxPartitionBytes),
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return phase{}, fmt.Errorf("consumer client: %w", err)
	}
	defer cl.Close()

	next := make([]int64, partitions)
	var got int64
	clk, err := startClock(inst)
	if err != nil {
		return phase{}, err
	}
	for got < n {
		pollCtx, cancel := context.WithTimeout(ctx, stallTimeout)
		fetches := cl.PollFetches(pollCtx)
		cancel()
		if errs := fetches.Errors(); len(errs) > 0 {
			e := errs[0]
			if errors.Is(e.Err, context.DeadlineExceeded) && ctx.Err() == nil {
				return phase{}, fmt.Errorf("no records for %s after %d (next offsets by partition %v)", stallTimeout, got, next)
			}
			return phase{}, fmt.Errorf("fetch %s[%d] after %d records: %w", e.Topic, e.Partition, got, e.Err)
		}
		var bad error
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			for _, r := range p.Records {
				if got == n || bad != nil {
					return
				}
				switch {
				case r.Partition < 0 || int(r.Partition) >= partitions:
					bad = fmt.Errorf("record from partition %d of a %d-partition topic", r.Partition, partitions)
				case r.Offset != next[r.Partition]:
					bad = fmt.Errorf("partition %d: offset %d, want %d", r.Partition, r.Offset, next[r.Partition])
				case len(r.Value) != recordBytes:
					bad = fmt.Errorf("partition %d offset %d: %d-byte value, want %d", r.Partition, r.Offset, len(r.Value), recordBytes)
				default:
					next[r.Partition]++
					got++
				}
			}
		})
		if bad != nil {
			return phase{}, bad
		}
	}
	return clk.phase(n, recordBytes)
}
