package broker

// SaslHandshake v0-1: the client picks a mechanism on a SASL_PLAINTEXT or
// SASL_SSL listener. After v1 the exchange runs in SaslAuthenticate
// requests; after v0 the client's next frames are the mechanism's raw
// tokens (length-prefixed, no request header), as Kafka still serves for
// old clients. An unsupported mechanism is answered
// UNSUPPORTED_SASL_MECHANISM with the enabled ones, then the connection is
// closed; a handshake on a listener without SASL, or out of turn, is
// ILLEGAL_SASL_STATE, as in Kafka.

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/sasl"
)

func (b *Broker) handleSaslHandshake(c *clientConn, req *kmsg.SASLHandshakeRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
	l := c.listener
	if !usesSASL(l.Protocol) {
		resp.ErrorCode = kerr.IllegalSaslState.Code
		return resp
	}
	resp.SupportedMechanisms = l.mechanisms
	a := &c.auth
	if a.exchange != nil {
		// A second handshake before the exchange ended.
		resp.ErrorCode = kerr.IllegalSaslState.Code
		c.closeAfterResponse = true
		return resp
	}
	if !slices.Contains(l.mechanisms, req.Mechanism) {
		c.logger.Info("SASL handshake refused: mechanism not enabled on this listener",
			"listener", l.Name, "mechanism", req.Mechanism, "enabled", l.mechanisms)
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		c.closeAfterResponse = true
		return resp
	}
	if a.authenticated {
		// Re-authentication (KIP-368) keeps the mechanism and needs the
		// SaslAuthenticate form.
		if req.Mechanism != a.mechanism || req.Version < 1 {
			resp.ErrorCode = kerr.IllegalSaslState.Code
			c.closeAfterResponse = true
			return resp
		}
	}
	a.mechanism = req.Mechanism
	a.exchange = b.newExchange(l, req.Mechanism)
	a.rawTokens = req.Version == 0
	return resp
}

// newExchange starts the server side of mechanism on l.
func (b *Broker) newExchange(l *listener, mechanism string) sasl.Exchange {
	if mechanism == sasl.Plain {
		if l.plainUsers != nil {
			return sasl.NewPlainExchange(l.plainUsers.Check)
		}
		return sasl.NewPlainExchange(b.credentials.CheckPassword)
	}
	m, _ := sasl.ScramByName(mechanism) // enabled mechanisms are known ones
	return sasl.NewScramExchange(m, b.credentials.Lookup, b.fakeCredentialKey)
}

func (b *Broker) saslAPIs() []api {
	return []api{
		{kmsg.SASLHandshake, 0, 1, handler((*Broker).handleSaslHandshake)},
		{kmsg.SASLAuthenticate, 0, 2, handler((*Broker).handleSaslAuthenticate)},
	}
}
