package group

import (
	"errors"
	"fmt"

	"github.com/tributary-streams/tributary/broker/internal/statefile"
)

// TopicDeleted removes every group's committed offsets for a deleted topic,
// durably, as Kafka does, so that a topic re-created with the same name does
// not resume from stale offsets. The broker calls it after deleting a topic.
// Offsets staged by open transactions are left to CompleteTxn.
func (c *Coordinator) TopicDeleted(topic string) error {
	if c.isClosed() {
		return fmt.Errorf("group state: %w", ErrStoreClosed)
	}
	var errs []error
	for _, id := range c.groupIDs() {
		g := c.lockGroup(id, false)
		if g == nil {
			continue
		}
		ps := g.offsets[topic]
		var recs []statefile.Record
		for p := range ps {
			recs = append(recs, offsetTombstone(offsetKey{g.id, topic, p}))
		}
		if err := c.append(recs...); err != nil {
			errs = append(errs, fmt.Errorf("delete offsets of topic %s in group %s: %w", topic, id, err))
		} else {
			delete(g.offsets, topic)
		}
		g.mu.Unlock()
	}
	return errors.Join(errs...)
}
