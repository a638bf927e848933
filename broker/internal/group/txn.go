package group

import (
	"errors"
	"fmt"

	"github.com/tributary-streams/tributary/broker/internal/statefile"
)

// CompleteTxn ends a transaction's offset commits: with commit, the offsets
// staged by TxnOffsetCommit for producerID become committed offsets (unless
// a plain commit for the same partition came after the staging); without,
// they are dropped. Each group's outcome is written as one atomic frame. It
// is idempotent, so the transaction coordinator may retry it after a failure
// or a restart. The producer epoch is not checked: fencing happened before
// the transaction coordinator decided the outcome.
func (c *Coordinator) CompleteTxn(producerID int64, producerEpoch int16, commit bool) error {
	if c.isClosed() {
		return fmt.Errorf("group state: %w", ErrStoreClosed)
	}
	c.txnMu.Lock()
	groups := sortedKeys(c.txnIdx[producerID])
	c.txnMu.Unlock()
	var errs []error
	for _, id := range groups {
		g := c.lockGroup(id, false)
		if g == nil {
			c.unindexTxn(producerID, id)
			continue
		}
		if err := g.completeTxn(producerID, commit); err != nil {
			errs = append(errs, fmt.Errorf("complete transaction of producer %d in group %s: %w", producerID, id, err))
		}
		g.mu.Unlock()
	}
	return errors.Join(errs...)
}

func (g *group) completeTxn(pid int64, commit bool) error {
	ps := g.pending[pid]
	var recs []statefile.Record
	var apply []tp
	for k, s := range ps {
		if commit {
			if cur, ok := g.offsets[k.topic][k.partition]; !ok || s.seq > cur.seq {
				recs = append(recs, offsetRecord(offsetKey{g.id, k.topic, k.partition}, s.offsetValue))
				apply = append(apply, k)
			}
		}
		recs = append(recs, pendingTombstone(pendingKey{g.id, pid, k.topic, k.partition}))
	}
	if err := g.c.append(recs...); err != nil {
		return err
	}
	for _, k := range apply {
		g.setOffset(k.topic, k.partition, ps[k].offsetValue)
	}
	delete(g.pending, pid)
	g.c.unindexTxn(pid, g.id)
	return nil
}

// HasPendingTxnOffsets reports whether a transaction has staged offsets for
// group that are not yet committed or aborted.
func (c *Coordinator) HasPendingTxnOffsets(group string) bool {
	g := c.lockGroup(group, false)
	if g == nil {
		return false
	}
	defer g.mu.Unlock()
	return len(g.pending) > 0
}
