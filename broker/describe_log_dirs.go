package broker

// DescribeLogDirs v0-4: the single data directory with every requested
// partition's size (all partitions when topics is null). Offset lag is 0:
// there are no future replicas.

import (
	"path/filepath"
	"syscall"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDescribeLogDirs(c *clientConn, req *kmsg.DescribeLogDirsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	dir, _ := filepath.Abs(b.cfg.DataDir)
	d := kmsg.DescribeLogDirsResponseDir{Dir: dir, TotalBytes: -1, UsableBytes: -1}
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) == nil {
		d.TotalBytes = int64(st.Blocks) * st.Bsize
		d.UsableBytes = int64(st.Bavail) * st.Bsize
	}
	addTopic := func(t *topic, partitions []int32) {
		dt := kmsg.DescribeLogDirsResponseDirTopic{Topic: t.name}
		for _, i := range partitions {
			if p := t.partition(i); p != nil {
				dt.Partitions = append(dt.Partitions, kmsg.DescribeLogDirsResponseDirTopicPartition{Partition: i, Size: p.log.Size()})
			}
		}
		if len(dt.Partitions) > 0 {
			d.Topics = append(d.Topics, dt)
		}
	}
	if req.Topics == nil {
		for _, t := range b.topics.list() {
			all := make([]int32, t.numPartitions())
			for i := range all {
				all[i] = int32(i)
			}
			addTopic(t, all)
		}
	} else {
		for _, rt := range req.Topics {
			if t := b.topics.get(rt.Topic); t != nil {
				addTopic(t, rt.Partitions)
			}
		}
	}
	resp.Dirs = []kmsg.DescribeLogDirsResponseDir{d}
	return resp
}
