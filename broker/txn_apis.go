package broker

// Producer and transaction APIs.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/record"
)

func (b *Broker) txnAPIs() []api {
	return []api{
		{22, 0, 5, handler((*Broker).handleInitProducerID)},
	}
}

// handleInitProducerID serves idempotent producers: a new producer id with
// epoch 0. Transactional ids are not served yet and answer
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED... see the transactions issue.
func (b *Broker) handleInitProducerID(c *clientConn, req *kmsg.InitProducerIDRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		resp.ErrorCode = kerr.UnsupportedVersion.Code
		b.countError(22, resp.ErrorCode)
		return resp
	}
	id, err := b.producerIDs.allocate()
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp
}

// verifyTxnProduce checks a transactional batch against the transaction
// coordinator: the partition must have been added to the producer's open
// transaction.
func (b *Broker) verifyTxnProduce(txnID string, h record.Header, p *partition) int16 {
	return kerr.InvalidTxnState.Code
}
