package topology

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Partition must agree with the producer's default partitioner, or
// interactive queries would look for keys in the wrong task.
func TestPartitionMatchesKafkaDefault(t *testing.T) {
	p := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for i := range 2000 {
		key := []byte(fmt.Sprintf("key-%d-%s", i, string(make([]byte, i%7))))
		for _, n := range []int32{1, 3, 7, 12} {
			want := int32(p.Partition(&kgo.Record{Key: key}, int(n)))
			if got := Partition(key, n); got != want {
				t.Fatalf("Partition(%q, %d) = %d, kgo says %d", key, n, got, want)
			}
		}
	}
}
