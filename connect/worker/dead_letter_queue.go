package worker

// The sink dead-letter queue: a record that fails is written, with its
// original key, value and headers, to errors.deadletterqueue.topic.name,
// plus Kafka Connect's __connect.errors.* context headers when
// errors.deadletterqueue.context.headers.enable=true. The write is
// acknowledged before the consumer offset past the record is committed.

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect"
)

// Context header names, Kafka's DeadLetterQueueReporter's.
const (
	headerPrefix           = "__connect.errors."
	headerOrigTopic        = headerPrefix + "topic"
	headerOrigPartition    = headerPrefix + "partition"
	headerOrigOffset       = headerPrefix + "offset"
	headerConnectorName    = headerPrefix + "connector.name"
	headerTaskID           = headerPrefix + "task.id"
	headerStage            = headerPrefix + "stage"
	headerClassName        = headerPrefix + "class.name"
	headerExceptionClass   = headerPrefix + "exception.class.name"
	headerExceptionMessage = headerPrefix + "exception.message"
	headerExceptionTrace   = headerPrefix + "exception.stacktrace"
)

type deadLetterQueue struct {
	topic   string
	headers bool
	id      taskID
	cl      *kgo.Client // a producer of its own, with the connector's producer settings
}

// openDeadLetterQueue creates the topic when missing (one partition, as
// Kafka does) with an admin client, and makes the queue's producer, both
// with the connector's client settings.
func openDeadLetterQueue(ctx context.Context, cfg *Config, cc *connectorConfig, id taskID) (*deadLetterQueue, error) {
	admin, err := cfg.connectorClient(roleAdmin, cc.Raw)
	if err != nil {
		return nil, err
	}
	producer, err := cfg.connectorClient(roleProducer, cc.Raw)
	if err != nil {
		return nil, err
	}
	acl, err := kgo.NewClient(admin.defaultClientID("connector-dlq-adminclient-" + id.Connector).opts()...)
	if err != nil {
		return nil, fmt.Errorf("dead letter queue admin client: %w", err)
	}
	resp, err := kadm.NewClient(acl).CreateTopic(ctx, 1, cc.Errors.DLQReplication, nil, cc.Errors.DLQTopic)
	acl.Close()
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return nil, fmt.Errorf("create dead letter queue topic %s: %w", cc.Errors.DLQTopic, err)
	}
	cl, err := kgo.NewClient(producer.defaultClientID("connector-dlq-producer-" + id.String()).opts()...)
	if err != nil {
		return nil, fmt.Errorf("dead letter queue producer: %w", err)
	}
	return &deadLetterQueue{topic: cc.Errors.DLQTopic, headers: cc.Errors.DLQContextHeaders, id: id, cl: cl}, nil
}

func (q *deadLetterQueue) close() { q.cl.Close() }

// exceptionClass names the error the way Kafka's headers name the Java
// exception, for tools that filter on it.
func exceptionClass(err error) string {
	var de *connect.DataError
	switch {
	case errors.As(err, &de):
		return "org.apache.kafka.connect.errors.DataException"
	case connect.IsRetriable(err):
		return "org.apache.kafka.connect.errors.RetriableException"
	}
	return "org.apache.kafka.connect.errors.ConnectException"
}

// send writes the failed record and waits for the acknowledgement.
func (q *deadLetterQueue) send(ctx context.Context, f failure) error {
	orig := f.consumed
	r := &kgo.Record{Topic: q.topic, Key: orig.Key, Value: orig.Value, Timestamp: orig.Timestamp}
	r.Headers = append(r.Headers, orig.Headers...)
	if q.headers {
		add := func(k, v string) { r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)}) }
		add(headerOrigTopic, orig.Topic)
		add(headerOrigPartition, strconv.Itoa(int(orig.Partition)))
		add(headerOrigOffset, strconv.FormatInt(orig.Offset, 10))
		add(headerConnectorName, q.id.Connector)
		add(headerTaskID, strconv.Itoa(q.id.Task))
		add(headerStage, string(f.stage))
		add(headerClassName, f.class)
		add(headerExceptionClass, exceptionClass(f.err))
		add(headerExceptionMessage, f.err.Error())
		add(headerExceptionTrace, fmt.Sprintf("%+v", f.err))
	}
	return q.cl.ProduceSync(ctx, r).FirstErr()
}
