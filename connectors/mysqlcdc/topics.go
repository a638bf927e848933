package mysqlcdc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-streams/tributary/connect/data"
)

// topics creates the connector's topics on first use and remembers their
// partition counts, so each record can be sent to the partition its key
// hashes to: every change of a row lands in one partition, in order,
// whatever converter serialises the key.
type topics struct {
	mu          sync.Mutex // guards counts; held across a creation
	admin       *kadm.Client
	partitions  int32 // topic.creation.default.partitions (-1: broker default)
	replication int16
	counts      map[string]int32
}

// count returns the partitions of topic, creating it with want partitions
// (0: the configured default) when it does not exist.
func (t *topics) count(ctx context.Context, topic string, want int32) (int32, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.counts[topic]; ok {
		return n, nil
	}
	if want == 0 {
		want = t.partitions
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	details, err := t.admin.ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("mysqlcdc: describe topic %s: %w", topic, err)
	}
	if d, ok := details[topic]; !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
		resp, err := t.admin.CreateTopic(ctx, want, t.replication, nil, topic)
		if err != nil {
			return 0, fmt.Errorf("mysqlcdc: create topic %s: %w", topic, err)
		}
		if resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
			return 0, fmt.Errorf("mysqlcdc: create topic %s: %w", topic, resp.Err)
		}
		if resp.Err == nil && resp.NumPartitions > 0 {
			t.counts[topic] = resp.NumPartitions
			return resp.NumPartitions, nil
		}
		// A new topic takes a moment to show in metadata.
		for {
			if details, err = t.admin.ListTopics(ctx, topic); err != nil {
				return 0, fmt.Errorf("mysqlcdc: describe topic %s: %w", topic, err)
			}
			if d := details[topic]; d.Err == nil && len(d.Partitions) > 0 || ctx.Err() != nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	d := details[topic]
	if d.Err != nil {
		return 0, fmt.Errorf("mysqlcdc: describe topic %s: %w", topic, d.Err)
	}
	n := int32(len(d.Partitions))
	if n == 0 {
		return 0, fmt.Errorf("mysqlcdc: topic %s has no partitions", topic)
	}
	t.counts[topic] = n
	return n, nil
}

// keyPartition hashes a key's field values (not their serialised form)
// to a partition.
func keyPartition(key *data.Struct, n int32) int32 {
	h := fnv.New32a()
	var buf [8]byte
	for i := range key.Schema().Fields {
		switch v := key.At(i).(type) {
		case nil:
			h.Write([]byte{0})
		case int16:
			binary.BigEndian.PutUint64(buf[:], uint64(v))
			h.Write(buf[:])
		case int32:
			binary.BigEndian.PutUint64(buf[:], uint64(v))
			h.Write(buf[:])
		case int64:
			binary.BigEndian.PutUint64(buf[:], uint64(v))
			h.Write(buf[:])
		case float32:
			binary.BigEndian.PutUint64(buf[:], math.Float64bits(float64(v)))
			h.Write(buf[:])
		case float64:
			binary.BigEndian.PutUint64(buf[:], math.Float64bits(v))
			h.Write(buf[:])
		case bool:
			if v {
				h.Write([]byte{1})
			} else {
				h.Write([]byte{2})
			}
		case string:
			binary.BigEndian.PutUint32(buf[:4], uint32(len(v)))
			h.Write(buf[:4])
			h.Write([]byte(v))
		case []byte:
			binary.BigEndian.PutUint32(buf[:4], uint32(len(v)))
			h.Write(buf[:4])
			h.Write(v)
		case data.Decimal:
			h.Write([]byte(v.String()))
		default:
			h.Write([]byte(fmt.Sprint(v)))
		}
	}
	return int32(h.Sum32() % uint32(n))
}
