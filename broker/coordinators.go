package broker

// coordinators holds the group and transaction coordinators. This node is
// the coordinator for every group and transactional id.
type coordinators struct {
	producerIDs *producerIDs
}

func (b *Broker) startCoordinators() error {
	var err error
	if b.producerIDs, err = openProducerIDs(b.cfg.DataDir); err != nil {
		return err
	}
	return nil
}

func (b *Broker) stopCoordinators() error { return nil }
