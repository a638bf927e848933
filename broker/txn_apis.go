package broker

// Producer and transaction APIs. Idempotent producers get their id here;
// everything about transactional ids is the transaction coordinator's
// (broker/internal/txn). DescribeProducers reads the partitions' producer state.

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/record"
)

func (b *Broker) txnAPIs() []api {
	return []api{
		{kmsg.InitProducerID, 0, 5, handler((*Broker).handleInitProducerID)},
		{kmsg.AddPartitionsToTxn, 0, 3, txnHandler(b.txns.AddPartitionsToTxn)},
		{kmsg.AddOffsetsToTxn, 0, 3, txnHandler(b.txns.AddOffsetsToTxn)},
		{kmsg.EndTxn, 0, 4, txnHandler(b.txns.EndTxn)},
		{kmsg.DescribeProducers, 0, 0, handler((*Broker).handleDescribeProducers)},
		{kmsg.DescribeTransactions, 0, 0, txnHandler(b.txns.DescribeTransactions)},
		{kmsg.ListTransactions, 0, 1, txnHandler(b.txns.ListTransactions)},
	}
}

func txnHandler[Req kmsg.Request, Resp kmsg.Response](fn func(context.Context, Req) Resp) func(*clientConn, *request) kmsg.Response {
	return func(c *clientConn, r *request) kmsg.Response { return fn(c.ctx, r.kreq.(Req)) }
}

// handleInitProducerID (v0-5): an idempotent producer gets a fresh id at
// epoch 0; a transactional one goes to the coordinator.
func (b *Broker) handleInitProducerID(c *clientConn, req *kmsg.InitProducerIDRequest) kmsg.Response {
	if req.TransactionalID != nil {
		// Kafka creates its transaction log on first use; here it is
		// listed and stays empty (see internal_topics.go).
		b.internalTopics.ensureSoon(transactionStateTopic)
		return b.txns.InitProducerID(c.ctx, req)
	}
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	id, err := b.producerIDs.Allocate()
	if err != nil {
		b.logger.Error("allocate producer id", "err", err)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp
}

// txnPartitions gives the transaction coordinator the partitions.
type txnPartitions struct{ b *Broker }

func (tp txnPartitions) Exists(topic string, partition int32) bool {
	t := tp.b.topics.get(topic)
	return t.partition(partition) != nil
}

// WriteMarker appends a control batch: one record whose key is
// (version 0, type 0 abort / 1 commit) and whose value is (version 0,
// coordinator epoch 0).
func (tp txnPartitions) WriteMarker(topic string, partition int32, producerID int64, epoch int16, commit bool) error {
	t := tp.b.topics.get(topic)
	if t == nil {
		return fmt.Errorf("%w: %q", errTopicNotFound, topic)
	}
	p := t.partition(partition)
	if p == nil {
		return fmt.Errorf("%w: %s-%d", errTopicNotFound, topic, partition)
	}
	key := make([]byte, 4)
	if commit {
		binary.BigEndian.PutUint16(key[2:], 1)
	}
	now := timeNowMs()
	batch, err := record.Build(record.Header{
		Magic: 2, Attributes: 0x10 | 0x20, BaseTimestamp: now, MaxTimestamp: now,
		ProducerID: producerID, ProducerEpoch: epoch, BaseSequence: -1, NumRecords: 1,
	}, []record.Record{{Key: key, Value: make([]byte, 6)}}, record.None)
	if err != nil {
		return err
	}
	h, err := record.ParseHeader(batch)
	if err != nil {
		return err
	}
	_, code, err := p.appendBatch(batch, h)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("marker for producer %d epoch %d: %w", producerID, epoch, kerr.ErrorForCode(code))
	}
	return nil
}

// verifyTxnProduce checks a transactional batch with the coordinator. On
// success the returned release must be called after the append.
func (b *Broker) verifyTxnProduce(txnID string, h record.Header, p *partition) (int16, func()) {
	return b.txns.VerifyProduce(txnID, h.ProducerID, h.ProducerEpoch, p.topic.name, p.index)
}

// handleDescribeProducers (v0) lists each partition's active producers.
func (b *Broker) handleDescribeProducers(c *clientConn, req *kmsg.DescribeProducersRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeProducersResponse)
	for _, rt := range req.Topics {
		st := kmsg.DescribeProducersResponseTopic{Topic: rt.Topic}
		t := b.topics.get(rt.Topic)
		for _, pi := range rt.Partitions {
			sp := kmsg.DescribeProducersResponseTopicPartition{Partition: pi}
			p := t.partition(pi)
			if p == nil {
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			} else {
				p.appendMu.Lock()
				for id, e := range p.producers.producers {
					ap := kmsg.DescribeProducersResponseTopicPartitionActiveProducer{
						ProducerID: id, ProducerEpoch: int32(e.epoch), LastSequence: -1,
						LastTimestamp: e.lastTimestamp, CoordinatorEpoch: -1, CurrentTxnStartOffset: e.txnFirstOffset,
					}
					if n := len(e.batches); n > 0 {
						ap.LastSequence = e.batches[n-1].lastSeq
					}
					sp.ActiveProducers = append(sp.ActiveProducers, ap)
				}
				p.appendMu.Unlock()
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
