package streams

import (
	"strconv"

	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// DeserializationError describes a record that did not decode.
type DeserializationError struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Err       error
}

// DeserializationHandler decides what happens to a record whose key or
// value does not decode: LogAndFail (the default, as in Kafka Streams),
// LogAndContinue, SendToDeadLetterTopic, or a function of your own
// (DeserializationHandlerFunc).
type DeserializationHandler struct {
	handle func(ctx *topology.Context, in *topology.Input, err error) error
}

func (h DeserializationHandler) orDefault() DeserializationHandler {
	if h.handle == nil {
		return LogAndFail()
	}
	return h
}

func deserializationError(in *topology.Input, err error) DeserializationError {
	return DeserializationError{Topic: in.Topic, Partition: in.Partition, Offset: in.Offset, Key: in.Key, Value: in.Value, Err: err}
}

// LogAndFail logs the record's position and stops processing with the
// error: the application fails, and the record is processed again when it
// restarts.
func LogAndFail() DeserializationHandler {
	return DeserializationHandler{handle: func(ctx *topology.Context, in *topology.Input, err error) error {
		ctx.Logger().Error("a record does not decode; stopping (LogAndFail)", "topic", in.Topic, "partition", in.Partition,
			"offset", in.Offset, "error", err)
		return err
	}}
}

// LogAndContinue logs the record's position, counts it as skipped and goes
// on with the next record.
func LogAndContinue() DeserializationHandler {
	return DeserializationHandler{handle: func(ctx *topology.Context, in *topology.Input, err error) error {
		ctx.Stats.Skipped.Add(1)
		ctx.Logger().Warn("skipping a record that does not decode (LogAndContinue)", "topic", in.Topic, "partition", in.Partition,
			"offset", in.Offset, "error", err)
		return nil
	}}
}

// Header keys of records sent to a dead-letter topic, as in Kafka Streams
// (KIP-1034).
const (
	HeaderErrorException = "__streams.errors.exception"
	HeaderErrorMessage   = "__streams.errors.message"
	HeaderErrorTopic     = "__streams.errors.topic"
	HeaderErrorPartition = "__streams.errors.partition"
	HeaderErrorOffset    = "__streams.errors.offset"
)

// SendToDeadLetterTopic writes the record as it came (key, value,
// headers) to topic, with headers saying where it came from and why it
// failed, counts it as skipped and goes on. Under exactly-once the
// dead-letter record is part of the transaction.
func SendToDeadLetterTopic(topic string) DeserializationHandler {
	return DeserializationHandler{handle: func(ctx *topology.Context, in *topology.Input, err error) error {
		ctx.Stats.Skipped.Add(1)
		headers := append(append([]Header(nil), in.Headers...),
			Header{Key: HeaderErrorException, Value: []byte("DeserializationException")},
			Header{Key: HeaderErrorMessage, Value: []byte(err.Error())},
			Header{Key: HeaderErrorTopic, Value: []byte(in.Topic)},
			Header{Key: HeaderErrorPartition, Value: []byte(strconv.Itoa(int(in.Partition)))},
			Header{Key: HeaderErrorOffset, Value: []byte(strconv.FormatInt(in.Offset, 10))},
		)
		ctx.Send(topic, -1, in.Key, in.Value, in.Timestamp, headers)
		ctx.Logger().Warn("sent a record that does not decode to the dead-letter topic", "dead_letter_topic", topic,
			"topic", in.Topic, "partition", in.Partition, "offset", in.Offset, "error", err)
		return nil
	}}
}

// DeserializationHandlerFunc makes a handler of fn: return nil to skip
// the record, an error to stop.
func DeserializationHandlerFunc(fn func(DeserializationError) error) DeserializationHandler {
	return DeserializationHandler{handle: func(ctx *topology.Context, in *topology.Input, err error) error {
		if herr := fn(deserializationError(in, err)); herr != nil {
			return herr
		}
		ctx.Stats.Skipped.Add(1)
		return nil
	}}
}
