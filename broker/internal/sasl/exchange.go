package sasl

// Exchange is the server side of one SASL conversation. Next is given each
// token the client sends, in order, and returns the challenge to send back;
// done is true once the client is authenticated (the last challenge, maybe
// empty, still goes to the client). An error ends the exchange: it wraps
// ErrAuthenticationFailed, and its text names no secret, so it may be
// logged and sent to the client.
type Exchange interface {
	Next(token []byte) (challenge []byte, done bool, err error)
	// Mechanism is the mechanism's name (PLAIN, SCRAM-SHA-256, ...).
	Mechanism() string
	// User is the authenticated (or claimed, before done) user name.
	User() string
}
