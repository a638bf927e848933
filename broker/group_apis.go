package broker

// Group coordinator APIs: served by broker/internal/group (see its package doc for
// per-API behaviour). This node is the coordinator for every group;
// FindCoordinator is answered in find_coordinator.go.

import (
	"context"
	"net"
	"path/filepath"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/group"
)

// groupAPIs returns the group API table entries.
func (b *Broker) groupAPIs() []api { return groupAPITable(b.groups) }

// groupConfig maps the broker configuration to the coordinator's. Its state
// lives in <data-dir>/__groups (no topic directory can have that name: those
// end in -<partition>).
func groupConfig(cfg Config) group.Config {
	gc := group.DefaultConfig()
	gc.Dir = filepath.Join(cfg.DataDir, "__groups")
	gc.MinSessionTimeoutMs = cfg.GroupMinSessionTimeoutMs
	gc.MaxSessionTimeoutMs = cfg.GroupMaxSessionTimeoutMs
	gc.InitialRebalanceDelayMs = cfg.GroupInitialRebalanceDelayMs
	gc.OffsetsRetentionMs = cfg.OffsetsRetentionMinutes * 60000
	gc.ConsumerHeartbeatIntervalMs = cfg.ConsumerHeartbeatIntervalMs
	gc.ConsumerSessionTimeoutMs = cfg.ConsumerSessionTimeoutMs
	gc.SyncWrites = cfg.FsyncAlways
	return gc
}

// groupAPITable is the API table of the group coordinator gc; the version
// ranges are group.Versions.
func groupAPITable(gc *group.Coordinator) []api {
	entry := func(key int16, h func(*clientConn, *request) kmsg.Response) api {
		v := group.Versions[key]
		return api{key, v[0], v[1], h}
	}
	return []api{
		entry(8, groupHandler(gc.OffsetCommit)),
		entry(9, groupHandler(gc.OffsetFetch)),
		entry(11, groupHandler(gc.JoinGroup)),
		entry(12, groupHandler(gc.Heartbeat)),
		entry(13, groupHandler(gc.LeaveGroup)),
		entry(14, groupHandler(gc.SyncGroup)),
		entry(15, groupHandler(gc.DescribeGroups)),
		entry(16, groupHandler(gc.ListGroups)),
		entry(28, groupHandler(gc.TxnOffsetCommit)),
		entry(42, groupHandler(gc.DeleteGroups)),
		entry(47, groupHandler(gc.OffsetDelete)),
		entry(68, groupHandler(gc.ConsumerGroupHeartbeat)),
		entry(69, groupHandler(gc.ConsumerGroupDescribe)),
	}
}

// groupHandler adapts a coordinator method to the API table. The context is
// the connection's (cancelled when the client disconnects or the broker
// stops, which releases a JoinGroup or SyncGroup waiting for a rebalance),
// carrying the client id and host the coordinator reports.
func groupHandler[Req kmsg.Request, Resp kmsg.Response](fn func(context.Context, Req) Resp) func(*clientConn, *request) kmsg.Response {
	return func(c *clientConn, r *request) kmsg.Response {
		ctx := group.WithClient(c.ctx, r.clientID, clientHost(c.nc))
		return fn(ctx, r.kreq.(Req))
	}
}

// clientHost is the client's address as Kafka reports it: "/" + IP.
func clientHost(nc net.Conn) string {
	addr := nc.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return "/" + addr
}
