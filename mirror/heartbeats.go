package mirror

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/mirror/internal/mm2"
)

// emitHeartbeats writes a heartbeat (source, target, now) to the target's
// heartbeats topic every emit.heartbeats.interval.seconds, as MM2's
// MirrorHeartbeatConnector does. Flows out of the target copy the topic
// onward (as <target>.heartbeats), so any cluster downstream can tell how
// fresh each hop is.
func (f *flow) emitHeartbeats(ctx context.Context) error {
	cl, err := f.newClient(f.tgt, producerClient, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer cl.Close()
	tick := time.NewTicker(f.cfg.EmitHeartbeatsInterval)
	defer tick.Stop()
	for {
		h := mm2.Heartbeat{Source: f.cfg.Source, Target: f.cfg.Target, Timestamp: time.Now().UnixMilli()}
		pctx, cancel := context.WithTimeout(ctx, f.cfg.AdminTimeout)
		err := cl.ProduceSync(pctx, &kgo.Record{Topic: f.heartbeatsTopic, Partition: 0, Key: h.Key(), Value: h.Value()}).FirstErr()
		cancel()
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("heartbeat to %s on cluster %s: %w", f.heartbeatsTopic, f.cfg.Target, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
