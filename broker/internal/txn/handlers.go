package txn

// Protocol handlers: InitProducerId v0-5, AddPartitionsToTxn v0-3,
// AddOffsetsToTxn v0-3, EndTxn v0-4, DescribeTransactions v0,
// ListTransactions v0-1. Errors are the codes a Java client expects: a
// stale epoch is PRODUCER_FENCED from the versions that know it (Kafka 2.7+:
// InitProducerId v4, AddPartitionsToTxn v2, AddOffsetsToTxn v2, EndTxn v2)
// and INVALID_PRODUCER_EPOCH before; a producer id that is not the
// transactional id's is INVALID_PRODUCER_ID_MAPPING; a transaction that is
// being completed is CONCURRENT_TRANSACTIONS.

import (
	"context"
	"math"
	"regexp"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// InitProducerID handles transactional requests (idempotent-only requests
// are the broker's: they need no coordinator state).
func (c *Coordinator) InitProducerID(ctx context.Context, req *kmsg.InitProducerIDRequest) *kmsg.InitProducerIDResponse {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	id := *req.TransactionalID
	if id == "" {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp
	}
	if req.TransactionTimeoutMillis <= 0 || req.TransactionTimeoutMillis > c.cfg.MaxTimeoutMs {
		resp.ErrorCode = kerr.InvalidTransactionTimeout.Code
		return resp
	}
	var t *txnState
	fresh := false
	for {
		c.mu.Lock()
		t = c.txns[id]
		fresh = t == nil
		if fresh {
			t = &txnState{id: id, producerID: -1, partitions: map[TopicPartition]struct{}{}, groups: map[string]struct{}{}}
			c.txns[id] = t
		}
		c.mu.Unlock()
		t.mu.Lock()
		if !t.removed {
			break
		}
		t.mu.Unlock() // expired meanwhile: look the id up again
	}
	defer t.mu.Unlock()
	switch {
	case fresh || t.producerID < 0:
		pid, err := c.ids.Allocate()
		if err != nil {
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
			return resp
		}
		t.producerID, t.epoch = pid, 0
	default:
		if req.Version >= 3 && req.ProducerID >= 0 && (req.ProducerID != t.producerID || req.ProducerEpoch != t.epoch) {
			// KIP-360: the producer says which id/epoch it had; an older one
			// has been replaced by a newer instance.
			resp.ErrorCode = fencedCode(req.Version, 4)
			return resp
		}
		if t.state == Ongoing {
			// A new instance of the producer: abort what the old one left
			// open, fenced under a bumped epoch.
			fence(t)
			if err := c.end(t, false); err != nil {
				c.logger.Error("abort transaction on InitProducerId", "transactional_id", id, "err", err)
				resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
				return resp
			}
		}
		if t.epoch >= math.MaxInt16-1 {
			pid, err := c.ids.Allocate()
			if err != nil {
				resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
				return resp
			}
			t.producerID, t.epoch = pid, 0
		} else {
			t.epoch++
		}
	}
	t.timeoutMs = req.TransactionTimeoutMillis
	if t.state != CompleteCommit && t.state != CompleteAbort {
		t.state = Empty
	}
	if err := c.persist(t); err != nil {
		c.logger.Error("init producer id", "transactional_id", id, "err", err)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	resp.ProducerID, resp.ProducerEpoch = t.producerID, t.epoch
	return resp
}

func fencedCode(version, fencedFrom int16) int16 {
	if version >= fencedFrom {
		return kerr.ProducerFenced.Code
	}
	return kerr.InvalidProducerEpoch.Code
}

// check validates a request's producer id and epoch against t, which the
// caller holds locked, and that t may take part in a transaction now.
func (c *Coordinator) check(t *txnState, producerID int64, epoch int16, version, fencedFrom int16) int16 {
	switch {
	case t == nil || t.removed || t.producerID != producerID:
		return kerr.InvalidProducerIDMapping.Code
	case epoch != t.epoch:
		return fencedCode(version, fencedFrom)
	case t.state == PrepareCommit || t.state == PrepareAbort:
		return kerr.ConcurrentTransactions.Code
	}
	return 0
}

func (c *Coordinator) begin(t *txnState) {
	if t.state != Ongoing {
		t.state = Ongoing
		t.startMs = c.now().UnixMilli()
	}
}

// AddPartitionsToTxn v0-3.
func (c *Coordinator) AddPartitionsToTxn(ctx context.Context, req *kmsg.AddPartitionsToTxnRequest) *kmsg.AddPartitionsToTxnResponse {
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	t := c.get(req.TransactionalID)
	var code int16
	if t == nil {
		code = kerr.InvalidProducerIDMapping.Code
	} else {
		t.mu.Lock()
		defer t.mu.Unlock()
		code = c.check(t, req.ProducerID, req.ProducerEpoch, req.Version, 2)
	}
	// Unknown partitions fail the whole request; the others were not
	// attempted, as in Kafka.
	unknown := false
	if code == 0 {
		for _, rt := range req.Topics {
			for _, p := range rt.Partitions {
				if !c.parts.Exists(rt.Topic, p) {
					unknown = true
				}
			}
		}
	}
	for _, rt := range req.Topics {
		st := kmsg.AddPartitionsToTxnResponseTopic{Topic: rt.Topic}
		for _, p := range rt.Partitions {
			pc := code
			if code == 0 && unknown {
				pc = kerr.OperationNotAttempted.Code
				if !c.parts.Exists(rt.Topic, p) {
					pc = kerr.UnknownTopicOrPartition.Code
				}
			}
			st.Partitions = append(st.Partitions, kmsg.AddPartitionsToTxnResponseTopicPartition{Partition: p, ErrorCode: pc})
		}
		resp.Topics = append(resp.Topics, st)
	}
	if code != 0 || unknown {
		return resp
	}
	for _, rt := range req.Topics {
		for _, p := range rt.Partitions {
			t.partitions[TopicPartition{rt.Topic, p}] = struct{}{}
		}
	}
	c.begin(t)
	if err := c.persist(t); err != nil {
		c.logger.Error("add partitions to transaction", "transactional_id", t.id, "err", err)
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				resp.Topics[i].Partitions[j].ErrorCode = kerr.CoordinatorNotAvailable.Code
			}
		}
	}
	return resp
}

// AddOffsetsToTxn v0-3.
func (c *Coordinator) AddOffsetsToTxn(ctx context.Context, req *kmsg.AddOffsetsToTxnRequest) *kmsg.AddOffsetsToTxnResponse {
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	t := c.get(req.TransactionalID)
	if t == nil {
		resp.ErrorCode = kerr.InvalidProducerIDMapping.Code
		return resp
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	if resp.ErrorCode = c.check(t, req.ProducerID, req.ProducerEpoch, req.Version, 2); resp.ErrorCode != 0 {
		return resp
	}
	t.groups[req.Group] = struct{}{}
	c.begin(t)
	if err := c.persist(t); err != nil {
		c.logger.Error("add offsets to transaction", "transactional_id", t.id, "err", err)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
	}
	return resp
}

// EndTxn v0-4.
func (c *Coordinator) EndTxn(ctx context.Context, req *kmsg.EndTxnRequest) *kmsg.EndTxnResponse {
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	t := c.get(req.TransactionalID)
	if t == nil {
		resp.ErrorCode = kerr.InvalidProducerIDMapping.Code
		return resp
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if resp.ErrorCode = c.check(t, req.ProducerID, req.ProducerEpoch, req.Version, 2); resp.ErrorCode != 0 {
		return resp
	}
	switch t.state {
	case Ongoing:
		if err := c.end(t, req.Commit); err != nil {
			c.logger.Error("end transaction", "transactional_id", t.id, "commit", req.Commit, "err", err)
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		}
	case CompleteCommit:
		if !req.Commit { // a retry must ask for the same outcome
			resp.ErrorCode = kerr.InvalidTxnState.Code
		}
	case CompleteAbort:
		if req.Commit {
			resp.ErrorCode = kerr.InvalidTxnState.Code
		}
	default:
		resp.ErrorCode = kerr.InvalidTxnState.Code
	}
	return resp
}

// VerifyProduce checks that a transactional batch for topic/partition
// belongs to the producer's open transaction. On success it returns 0 and a
// release func that the caller must call after appending: until then the
// transaction cannot be ended, so the batch cannot land after its marker.
func (c *Coordinator) VerifyProduce(txnID string, producerID int64, epoch int16, topic string, partition int32) (int16, func()) {
	t := c.get(txnID)
	if t == nil {
		return kerr.InvalidProducerIDMapping.Code, nil
	}
	t.mu.RLock()
	code := int16(0)
	switch _, added := t.partitions[TopicPartition{topic, partition}]; {
	case t.removed || t.producerID != producerID:
		code = kerr.InvalidProducerIDMapping.Code
	case epoch < t.epoch:
		code = kerr.InvalidProducerEpoch.Code
	case epoch > t.epoch || t.state != Ongoing || !added:
		code = kerr.InvalidTxnState.Code
	}
	if code != 0 {
		t.mu.RUnlock()
		return code, nil
	}
	return 0, t.mu.RUnlock
}

// DescribeTransactions v0.
func (c *Coordinator) DescribeTransactions(ctx context.Context, req *kmsg.DescribeTransactionsRequest) *kmsg.DescribeTransactionsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	for _, id := range req.TransactionalIDs {
		ts := kmsg.DescribeTransactionsResponseTransactionState{TransactionalID: id, ProducerID: -1, ProducerEpoch: -1, StartTimestamp: -1}
		t := c.get(id)
		if t == nil {
			ts.ErrorCode = kerr.TransactionalIDNotFound.Code
			resp.TransactionStates = append(resp.TransactionStates, ts)
			continue
		}
		t.mu.RLock()
		if t.removed {
			t.mu.RUnlock()
			ts.ErrorCode = kerr.TransactionalIDNotFound.Code
			resp.TransactionStates = append(resp.TransactionStates, ts)
			continue
		}
		ts.State, ts.TimeoutMillis = t.state.String(), t.timeoutMs
		ts.ProducerID, ts.ProducerEpoch = t.producerID, t.epoch
		if t.state == Ongoing || t.state == PrepareCommit || t.state == PrepareAbort {
			ts.StartTimestamp = t.startMs
		}
		byTopic := map[string][]int32{}
		for tp := range t.partitions {
			byTopic[tp.Topic] = append(byTopic[tp.Topic], tp.Partition)
		}
		t.mu.RUnlock()
		for topic, ps := range byTopic {
			ts.Topics = append(ts.Topics, kmsg.DescribeTransactionsResponseTransactionStateTopic{Topic: topic, Partitions: ps})
		}
		resp.TransactionStates = append(resp.TransactionStates, ts)
	}
	return resp
}

// ListTransactions v0-1 (the v2 id pattern is honoured too, as a Go
// regular expression).
func (c *Coordinator) ListTransactions(ctx context.Context, req *kmsg.ListTransactionsRequest) *kmsg.ListTransactionsResponse {
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	states := map[string]bool{}
	for _, s := range req.StateFilters {
		known := false
		for _, n := range stateNames {
			known = known || n == s
		}
		if !known {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, s)
		}
		states[s] = true
	}
	pids := map[int64]bool{}
	for _, p := range req.ProducerIDFilters {
		pids[p] = true
	}
	var pattern *regexp.Regexp
	if req.TransactionalIDPattern != nil && *req.TransactionalIDPattern != "" {
		var err error
		if pattern, err = regexp.Compile(*req.TransactionalIDPattern); err != nil {
			resp.ErrorCode = kerr.InvalidRegularExpression.Code
			return resp
		}
	}
	now := c.now().UnixMilli()
	c.mu.Lock()
	all := make([]*txnState, 0, len(c.txns))
	for _, t := range c.txns {
		all = append(all, t)
	}
	c.mu.Unlock()
	for _, t := range all {
		t.mu.RLock()
		ok := !t.removed && (len(states) == 0 || states[t.state.String()]) && (len(pids) == 0 || pids[t.producerID]) &&
			(pattern == nil || pattern.MatchString(t.id)) &&
			(req.DurationFilterMillis <= 0 || (t.state == Ongoing && now-t.startMs >= req.DurationFilterMillis))
		ls := kmsg.ListTransactionsResponseTransactionState{TransactionalID: t.id, ProducerID: t.producerID, TransactionState: t.state.String()}
		t.mu.RUnlock()
		if ok {
			resp.TransactionStates = append(resp.TransactionStates, ls)
		}
	}
	return resp
}
