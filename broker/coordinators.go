package broker

// The group and transaction coordinators. This node is the coordinator for
// every group and every transactional id. Their state lives in
// <data-dir>/__groups and <data-dir>/__transactions (no partition directory
// can have those names: those end in -<partition>).

import (
	"errors"
	"path/filepath"

	"github.com/tributary-streams/tributary/broker/internal/group"
	"github.com/tributary-streams/tributary/broker/internal/txn"
)

type coordinators struct {
	internalTopics *internalTopics
	producerIDs    *producerIDs
	groups         *group.Coordinator
	txns           *txn.Coordinator
}

func (b *Broker) startCoordinators() error {
	var err error
	if b.producerIDs, err = openProducerIDs(b.cfg.DataDir); err != nil {
		return err
	}
	if b.internalTopics, err = newInternalTopics(b); err != nil {
		return err
	}
	gc := groupConfig(b.cfg)
	gc.OffsetsLog = offsetsLog{b.internalTopics}
	gc.OffsetsTopicPartitions = b.internalTopics.partitions[group.OffsetsTopicName]
	if b.groups, err = group.New(gc, b.topics, b.logger.With("component", "groups")); err != nil {
		return err
	}
	b.txns, err = txn.New(txn.Config{
		Dir:                     filepath.Join(b.cfg.DataDir, "__transactions"),
		MaxTimeoutMs:            b.cfg.TransactionMaxTimeoutMs,
		AbortCheckIntervalMs:    b.cfg.TransactionAbortCheckInterval,
		SyncWrites:              b.cfg.FsyncAlways,
		IDExpirationMs:          b.cfg.TransactionalIDExpirationMs,
		RemoveExpiredIntervalMs: b.cfg.TransactionRemoveExpiredInterval,
	}, txnPartitions{b}, b.groups, b.producerIDs, b.logger.With("component", "transactions"))
	return err
}

func (b *Broker) stopCoordinators() error {
	var errs []error
	if b.txns != nil {
		errs = append(errs, b.txns.Close())
	}
	if b.groups != nil {
		errs = append(errs, b.groups.Close())
	}
	return errors.Join(errs...)
}
