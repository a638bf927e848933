package broker

// Fetch v4-18 (record format v2 only; v13+ addresses topics by id).
//
// Record batches are served as the stored bytes, without re-encoding and
// without reading them into memory: they go from the segment files to the
// socket (fetch_write.go). A
// fetch waits up to max wait for min bytes (long poll): it registers with
// every partition it reads before reading, so an append that lands between
// the read and the wait still wakes it. Limits: the first batch of the
// response is returned whole even when larger than the limits (KIP-74);
// after that, partition max bytes and the response max bytes (capped by the
// broker's fetch.max.bytes) hold. read_committed reads stop at the last
// stable offset and list the aborted transactions in range. Fetch sessions
// are in fetch_sessions.go.

import (
	"cmp"
	"errors"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/log"
)

func (b *Broker) handleFetch(c *clientConn, req *kmsg.FetchRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	useIDs := req.Version >= 13

	// Work out which partitions this request reads, through the session.
	var sess *fetchSession
	incremental := false
	switch {
	case req.Version < 7 || (req.SessionID == 0 && req.SessionEpoch == -1):
	case req.SessionEpoch == 0:
		// Epoch 0 opens a new session, closing the one named if any.
		if req.SessionID != 0 {
			b.fetchSessions.remove(req.SessionID)
		}
		sess = b.fetchSessions.create()
	case req.SessionEpoch == -1:
		b.fetchSessions.remove(req.SessionID)
	default:
		sess = b.fetchSessions.get(req.SessionID)
		if sess == nil {
			resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
			return resp
		}
		incremental = true
	}
	var parts []*sessionPartition
	if sess != nil {
		sess.mu.Lock()
		defer sess.mu.Unlock()
		if incremental && req.SessionEpoch != sess.epoch {
			resp.ErrorCode = kerr.InvalidFetchSessionEpoch.Code
			return resp
		}
		for _, rt := range req.Topics {
			for _, rp := range rt.Partitions {
				sess.upsert(sessionKey{topic: rt.Topic, topicID: rt.TopicID, partition: rp.Partition}, rp.FetchOffset, rp.PartitionMaxBytes)
			}
		}
		for _, ft := range req.ForgottenTopics {
			for _, p := range ft.Partitions {
				sess.forget(sessionKey{topic: ft.Topic, topicID: ft.TopicID, partition: p})
			}
		}
		sess.epoch++
		if sess.epoch < 0 {
			sess.epoch = 1
		}
		resp.SessionID = sess.id
		parts = sess.parts
	} else {
		for _, rt := range req.Topics {
			for _, rp := range rt.Partitions {
				parts = append(parts, &sessionPartition{topic: rt.Topic, topicID: rt.TopicID, partition: rp.Partition,
					fetchOffset: rp.FetchOffset, maxBytes: rp.PartitionMaxBytes})
			}
		}
	}

	maxBytes := req.MaxBytes
	if req.Version < 3 || maxBytes <= 0 || maxBytes > b.cfg.FetchMaxBytes {
		maxBytes = b.cfg.FetchMaxBytes
	}
	readCommitted := req.IsolationLevel == 1

	// Resolve partitions once; register for wake-ups before the first read.
	resolved := make([]*partition, len(parts))
	var waiter *fetchWaiter
	wait := req.MaxWaitMillis > 0 && req.MinBytes > 0
	if wait {
		waiter = newFetchWaiter()
	}
	for i, sp := range parts {
		var t *topic
		if useIDs {
			t = b.topics.getByID(sp.topicID)
		} else {
			t = b.topics.get(sp.topic)
		}
		if t != nil {
			resolved[i] = t.partition(sp.partition)
			if waiter != nil && resolved[i] != nil {
				resolved[i].addWaiter(waiter)
			}
		}
	}
	if waiter != nil {
		defer func() {
			for _, p := range resolved {
				if p != nil {
					p.removeWaiter(waiter)
				}
			}
		}()
	}

	deadline := time.Now().Add(time.Duration(req.MaxWaitMillis) * time.Millisecond)
	var timer *time.Timer
	// The batches read stay in the segment files: c.fetch holds sections
	// of them, which the serve loop sends from the files once the response
	// is framed, then releases (and which are released while waiting, so
	// idle long polls pin no segment).
	for {
		topics, total, hasErr := b.readFetch(&c.fetch, parts, resolved, useIDs, incremental, readCommitted, maxBytes)
		if !wait || total >= int(req.MinBytes) || hasErr || !time.Now().Before(deadline) {
			resp.Topics = topics
			commitSessionSends(parts, topics)
			return resp
		}
		c.fetch.release()
		c.flushResponses()
		if timer == nil {
			timer = time.NewTimer(time.Until(deadline))
			defer timer.Stop()
		}
		select {
		case <-waiter.ch:
		case <-timer.C:
		case <-c.ctx.Done():
			return resp
		}
	}
}

// readFetch reads every partition once and builds the response topics;
// the batches read go to recs.
func (b *Broker) readFetch(recs *fetchRecords, parts []*sessionPartition, resolved []*partition, useIDs, incremental, readCommitted bool, maxBytes int32) ([]kmsg.FetchResponseTopic, int, bool) {
	var topics []kmsg.FetchResponseTopic
	topicIdx := map[sessionKey]int{}
	total := 0
	hasErr := false
	for i, sp := range parts {
		p := resolved[i]
		// RecordBatches is never null: librdkafka rejects a null record set
		// (size -1) on non-flexible versions. The tagged fields keep their
		// defaults (-1), so flexible versions send none of them.
		fp := kmsg.NewFetchResponseTopicPartition()
		fp.Partition, fp.HighWatermark, fp.RecordBatches = sp.partition, -1, []byte{}
		var read fetchedPart
		if p == nil || p.topic.deleted.Load() {
			fp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			if useIDs && b.topics.getByID(sp.topicID) == nil {
				// Only an unknown id is UNKNOWN_TOPIC_ID; a known topic
				// without this partition is UNKNOWN_TOPIC_OR_PARTITION.
				fp.ErrorCode = kerr.UnknownTopicID.Code
			}
		} else {
			remaining := int(maxBytes) - total
			read = b.readPartition(recs, p, sp, &fp, readCommitted, remaining, total == 0)
			total += int(read.size)
		}
		if fp.ErrorCode != 0 {
			hasErr = true
		}
		if incremental && fp.ErrorCode == 0 && read.size == 0 && sp.sentOnce &&
			fp.HighWatermark == sp.sentHWM && fp.LastStableOffset == sp.sentLSO && fp.LogStartOffset == sp.sentLogStart {
			continue // nothing new for this partition
		}
		k := sessionKey{topic: sp.topic, topicID: sp.topicID}
		ti, ok := topicIdx[k]
		if !ok {
			ti = len(topics)
			topicIdx[k] = ti
			topics = append(topics, kmsg.FetchResponseTopic{Topic: sp.topic, TopicID: sp.topicID})
		}
		if read.size > 0 {
			read.topic, read.partition = ti, len(topics[ti].Partitions)
			recs.parts = append(recs.parts, read)
		}
		topics[ti].Partitions = append(topics[ti].Partitions, fp)
	}
	// Partitions were read in session order; the response lists them by
	// topic, the order they are written in.
	slices.SortFunc(recs.parts, func(a, b fetchedPart) int {
		return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition))
	})
	return topics, total, hasErr
}

// readPartition fills fp for one partition and returns what it read: the
// sections appended to recs.sections.
func (b *Broker) readPartition(recs *fetchRecords, p *partition, sp *sessionPartition, fp *kmsg.FetchResponseTopicPartition, readCommitted bool, remaining int, first bool) fetchedPart {
	hwm := p.highWatermark()
	lso := p.lastStableOffset()
	fp.HighWatermark = hwm
	fp.LastStableOffset = lso
	fp.LogStartOffset = p.log.StartOffset()
	read := fetchedPart{from: len(recs.sections)}
	if remaining <= 0 && !first {
		return read
	}
	// Both the partition's max bytes and what is left of the response's
	// hold, as in Kafka; only the response's first batch may exceed them
	// (KIP-74), which a read's first batch always does.
	limit := min(int(sp.maxBytes), remaining)
	upTo := hwm
	if readCommitted {
		upTo = lso
	}
	secs, err := p.log.ReadSections(recs.sections, sp.fetchOffset, int32(max(limit, 1)), upTo)
	if err != nil {
		fp.ErrorCode = errorCode(err)
		if !errors.Is(err, log.ErrOffsetOutOfRange) {
			b.logger.Warn("fetch read failed", "topic", p.topic.name, "partition", p.index, "offset", sp.fetchOffset, "err", err)
		}
		return read
	}
	var records int64
	for i := read.from; i < len(secs); i++ {
		read.size += secs[i].Size()
		records += secs[i].Records()
	}
	if !first && read.size > int64(limit) {
		// A batch larger than the limits is sent only as the response's
		// first; here the partition gets nothing, as Kafka answers.
		log.ReleaseAll(secs[read.from:])
		recs.sections = secs[:read.from]
		return fetchedPart{from: read.from}
	}
	recs.sections = secs
	read.to = len(secs)
	if read.size == 0 {
		return read
	}
	if readCommitted {
		p.appendMu.Lock()
		for _, a := range p.producers.abortedIn(sp.fetchOffset, upTo) {
			fp.AbortedTransactions = append(fp.AbortedTransactions,
				kmsg.FetchResponseTopicPartitionAbortedTransaction{ProducerID: a.producerID, FirstOffset: a.firstOffset})
		}
		p.appendMu.Unlock()
	}
	b.metrics.fetched(p, read.size, records)
	return read
}

// fetchRecords are the record data of the Fetch response a connection is
// answering: sections of segment files, sent from the files by writeFetch
// and released after. Only the connection's handler goroutine touches it.
type fetchRecords struct {
	sections []log.Section
	// parts are the partitions with data, in the order the response
	// lists them.
	parts []fetchedPart
}

// fetchedPart is one partition's data: the response's
// Topics[topic].Partitions[partition] has its batches in
// sections[from:to], size bytes in all.
type fetchedPart struct {
	topic, partition int
	from, to         int
	size             int64
}

// release drops every section's segment reference.
func (r *fetchRecords) release() {
	log.ReleaseAll(r.sections)
	r.sections = r.sections[:0]
	r.parts = r.parts[:0]
}

// commitSessionSends remembers what each session partition's client was
// told, so the next incremental response can skip unchanged partitions.
func commitSessionSends(parts []*sessionPartition, topics []kmsg.FetchResponseTopic) {
	type pk struct {
		topic     string
		topicID   [16]byte
		partition int32
	}
	sent := map[pk]*kmsg.FetchResponseTopicPartition{}
	for ti := range topics {
		for pi := range topics[ti].Partitions {
			fp := &topics[ti].Partitions[pi]
			sent[pk{topics[ti].Topic, topics[ti].TopicID, fp.Partition}] = fp
		}
	}
	for _, sp := range parts {
		if fp := sent[pk{sp.topic, sp.topicID, sp.partition}]; fp != nil {
			sp.sentOnce = true
			sp.sentHWM, sp.sentLSO, sp.sentLogStart = fp.HighWatermark, fp.LastStableOffset, fp.LogStartOffset
		}
	}
}
