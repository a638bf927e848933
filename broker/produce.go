package broker

// Produce v3-13 (record format v2 only; v13 addresses topics by id).
//
// Batches are validated (framing, magic 2, CRC-32C) and stored as the bytes
// the producer sent; only the base offset, the leader epoch and, for
// LogAppendTime topics, the timestamp are rewritten. acks=0 gets no
// response; acks=1 and acks=all are the same on a single node: the batch is
// in the log (and, with --fsync=always, on disk) before the response.
//
// Internal topics (__consumer_offsets, __transaction_state) refuse every
// batch with INVALID_TOPIC_EXCEPTION, as Kafka does for clients.
//
// Differences from Kafka: a request may carry several batches for one
// partition (Kafka allows exactly one); each is appended in order and the
// first batch's offset is returned.

import (
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/record"
)

func (b *Broker) handleProduce(c *clientConn, req *kmsg.ProduceRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	if req.Acks != 0 && req.Acks != 1 && req.Acks != -1 {
		for _, rt := range req.Topics {
			st := kmsg.ProduceResponseTopic{Topic: rt.Topic, TopicID: rt.TopicID}
			for _, rp := range rt.Partitions {
				st.Partitions = append(st.Partitions, produceError(rp.Partition, kerr.InvalidRequiredAcks.Code,
					fmt.Sprintf("acks=%d is not valid; accepted: -1 (all), 0, 1", req.Acks)))
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp
	}
	now := time.Now()
	// Resolve every partition first, then append. Appends to different
	// partitions are independent, so a large request spreads them over the
	// cores; each partition's batches still go in in request order.
	var jobs []produceJob
	size := 0
	for _, rt := range req.Topics {
		st := kmsg.ProduceResponseTopic{Topic: rt.Topic, TopicID: rt.TopicID, Partitions: make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))}
		var t *topic
		if req.Version >= 13 {
			t = b.topics.getByID(rt.TopicID)
		} else {
			t = b.topics.get(rt.Topic)
		}
		for i, rp := range rt.Partitions {
			sp := &st.Partitions[i]
			switch p := t.partition(rp.Partition); {
			case t == nil:
				code := kerr.UnknownTopicOrPartition.Code
				if req.Version >= 13 {
					code = kerr.UnknownTopicID.Code
				}
				*sp = produceError(rp.Partition, code, "")
			case p == nil:
				*sp = produceError(rp.Partition, kerr.UnknownTopicOrPartition.Code,
					fmt.Sprintf("topic %q has %d partitions, no partition %d", t.name, t.numPartitions(), rp.Partition))
			case t.internal:
				err := errInternalTopicWrite(t.name, "append to")
				*sp = produceError(rp.Partition, errorCode(err), err.Error())
			default:
				size += len(rp.Records)
				jobs = append(jobs, produceJob{p, rp, sp})
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	run := func(j produceJob) { *j.sp = b.produceToPartition(req, j.p, j.rp, now) }
	if len(jobs) > 1 && size >= parallelProduceBytes && distinctPartitions(jobs) {
		var wg sync.WaitGroup
		for _, j := range jobs[1:] {
			wg.Add(1)
			go func() { defer wg.Done(); run(j) }()
		}
		run(jobs[0])
		wg.Wait()
	} else {
		for _, j := range jobs {
			run(j)
		}
	}
	if req.Acks == 0 {
		// No response goes back, so count its errors here (handle
		// counts those of every response it sends).
		b.countResponseErrors(kmsg.Produce.Int16(), resp)
		return nil
	}
	return resp
}

// parallelProduceBytes is the request size from which partitions are
// appended concurrently; below it a goroutine costs more than it saves.
const parallelProduceBytes = 256 << 10

// distinctPartitions reports whether no partition appears twice: a
// partition named twice in one request must be appended in order.
func distinctPartitions(jobs []produceJob) bool {
	seen := make(map[*partition]struct{}, len(jobs))
	for _, j := range jobs {
		if _, dup := seen[j.p]; dup {
			return false
		}
		seen[j.p] = struct{}{}
	}
	return true
}

// produceJob is one partition's part of a Produce request and where its
// answer goes.
type produceJob struct {
	p  *partition
	rp kmsg.ProduceRequestTopicPartition
	sp *kmsg.ProduceResponseTopicPartition
}

func produceError(partition int32, code int16, msg string) kmsg.ProduceResponseTopicPartition {
	sp := kmsg.ProduceResponseTopicPartition{Partition: partition, ErrorCode: code, BaseOffset: -1, LogAppendTime: -1, LogStartOffset: -1}
	if msg != "" {
		sp.ErrorMessage = &msg
	}
	return sp
}

func (b *Broker) produceToPartition(req *kmsg.ProduceRequest, p *partition, rp kmsg.ProduceRequestTopicPartition, now time.Time) kmsg.ProduceResponseTopicPartition {
	settings := p.topic.settings.Load()
	type checked struct {
		batch []byte
		h     record.Header
	}
	// Validate every batch before appending any, so a bad request appends
	// nothing.
	var batches []checked
	err := record.SplitProduce(rp.Records, func(batch []byte, h record.Header) error {
		batches = append(batches, checked{batch, h})
		return nil
	})
	if err != nil {
		return produceError(rp.Partition, kerr.CorruptMessage.Code, err.Error())
	}
	if len(batches) == 0 {
		return produceError(rp.Partition, kerr.InvalidRecord.Code, "the request holds no record batch")
	}
	logAppendTime := int64(-1)
	if settings.logAppendTime {
		logAppendTime = now.UnixMilli()
	}
	for _, cb := range batches {
		if cb.h.Size() > int(settings.maxMessageBytes) {
			return produceError(rp.Partition, kerr.MessageTooLarge.Code,
				fmt.Sprintf("batch of %d bytes exceeds max.message.bytes (%d)", cb.h.Size(), settings.maxMessageBytes))
		}
		if cb.h.IsControl() {
			return produceError(rp.Partition, kerr.InvalidRecord.Code, "clients may not write control batches")
		}
		if cb.h.IsTransactional() != (req.TransactionID != nil) {
			return produceError(rp.Partition, kerr.InvalidRecord.Code,
				"a transactional batch needs a transactional id on the request, and only transactional batches may carry one")
		}
		if !settings.logAppendTime {
			ok, err := settings.timestampAcceptable(cb.batch, cb.h, now)
			if err != nil {
				return produceError(rp.Partition, kerr.CorruptMessage.Code, err.Error())
			}
			if !ok {
				return produceError(rp.Partition, kerr.InvalidTimestamp.Code,
					fmt.Sprintf("a record timestamp (batch max %d) is outside message.timestamp.before.max.ms/after.max.ms of now", cb.h.MaxTimestamp))
			}
		}
		if settings.compacted {
			if msg := keylessRecord(cb.batch); msg != "" {
				return produceError(rp.Partition, kerr.InvalidRecord.Code, msg)
			}
		}
	}
	first := int64(-1)
	for _, cb := range batches {
		if logAppendTime >= 0 {
			record.SetLogAppendTime(cb.batch, logAppendTime)
		}
		// A transactional batch must belong to the producer's open
		// transaction, which cannot end until the batch is appended.
		release := func() {}
		if req.TransactionID != nil {
			code, rel := b.verifyTxnProduce(*req.TransactionID, cb.h, p)
			if code != 0 {
				return produceError(rp.Partition, code, "")
			}
			release = rel
		}
		base, code, err := p.appendBatch(cb.batch, cb.h)
		release()
		if err != nil {
			if !b.noteWriteError("append", err) {
				b.logger.Error("append failed", "topic", p.topic.name, "partition", p.index, "err", err)
			}
			return produceError(rp.Partition, errorCode(err), err.Error())
		}
		b.noteWriteOK()
		if code != 0 {
			return produceError(rp.Partition, code, "")
		}
		if first < 0 {
			first = base
		}
		b.metrics.produced(p, len(cb.batch), int(cb.h.NumRecords))
	}
	return kmsg.ProduceResponseTopicPartition{
		Partition:      rp.Partition,
		BaseOffset:     first,
		LogAppendTime:  logAppendTime,
		LogStartOffset: p.log.StartOffset(),
	}
}

// keylessRecord returns a message if a batch for a compacted topic holds a
// record without a key, which Kafka rejects.
func keylessRecord(batch []byte) string {
	recs, err := record.Records(batch)
	if err != nil {
		return err.Error()
	}
	for _, r := range recs {
		if r.Key == nil {
			return "compacted topic cannot accept a record without a key"
		}
	}
	return ""
}

func timeNowMs() int64 { return time.Now().UnixMilli() }
