package broker

// Mapping from the broker's Go errors to Kafka error codes. Handlers return
// codes through kerr values, never magic numbers.

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-streams/tributary/broker/internal/log"
	"github.com/tributary-streams/tributary/broker/internal/record"
)

// errorCode maps an error to the Kafka error code a Java client expects.
func errorCode(err error) int16 {
	var ke *kerr.Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ke):
		return ke.Code
	case errors.Is(err, errTopicNotFound):
		return kerr.UnknownTopicOrPartition.Code
	case errors.Is(err, errTopicExists):
		return kerr.TopicAlreadyExists.Code
	case errors.Is(err, errInvalidTopic):
		return kerr.InvalidTopicException.Code
	case errors.Is(err, errInvalidPartitions):
		return kerr.InvalidPartitions.Code
	case errors.Is(err, errInvalidReplication):
		return kerr.InvalidReplicationFactor.Code
	case errors.Is(err, errInvalidConfig):
		return kerr.InvalidConfig.Code
	case errors.Is(err, log.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange.Code
	case errors.Is(err, log.ErrClosed):
		// The partition was deleted or the broker is stopping: the client
		// refreshes metadata and retries.
		return kerr.NotLeaderForPartition.Code
	case errors.Is(err, record.ErrCorrupt):
		return kerr.CorruptMessage.Code
	default:
		return kerr.KafkaStorageError.Code
	}
}

// errorMessage is the message for responses that carry one, or nil.
func errorMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}

// kafkaError is a Kafka error code with a specific message; errors.As finds
// the *kerr.Error through Unwrap.
type kafkaError struct {
	code *kerr.Error
	msg  string
}

func (e *kafkaError) Error() string { return e.code.Message + ": " + e.msg }
func (e *kafkaError) Unwrap() error { return e.code }

func kerrWith(code *kerr.Error, msg string) error { return &kafkaError{code: code, msg: msg} }
