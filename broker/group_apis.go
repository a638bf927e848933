package broker

func (b *Broker) groupAPIs() []api { return nil }
