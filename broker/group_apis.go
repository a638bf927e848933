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
	gc.InitialRebalanceDelayMs = orNone(cfg.GroupInitialRebalanceDelayMs)
	gc.OffsetsRetentionMs = cfg.OffsetsRetentionMinutes * 60000
	gc.ConsumerHeartbeatIntervalMs = cfg.ConsumerHeartbeatIntervalMs
	gc.ConsumerSessionTimeoutMs = cfg.ConsumerSessionTimeoutMs
	gc.SyncWrites = cfg.FsyncAlways
	return gc
}

// groupAPITable is the API table of the group coordinator gc; the version
// ranges are group.Versions.
func groupAPITable(gc *group.Coordinator) []api {
	entry := func(key kmsg.Key, h func(*clientConn, *request) kmsg.Response) api {
		v := group.Versions[int16(key)]
		return api{key, v[0], v[1], h}
	}
	return []api{
		entry(kmsg.OffsetCommit, groupHandler(gc.OffsetCommit)),
		entry(kmsg.OffsetFetch, groupHandler(gc.OffsetFetch)),
		entry(kmsg.JoinGroup, groupHandler(gc.JoinGroup)),
		entry(kmsg.Heartbeat, groupHandler(gc.Heartbeat)),
		entry(kmsg.LeaveGroup, groupHandler(gc.LeaveGroup)),
		entry(kmsg.SyncGroup, groupHandler(gc.SyncGroup)),
		entry(kmsg.DescribeGroups, groupHandler(gc.DescribeGroups)),
		entry(kmsg.ListGroups, groupHandler(gc.ListGroups)),
		entry(kmsg.TxnOffsetCommit, groupHandler(gc.TxnOffsetCommit)),
		entry(kmsg.DeleteGroups, groupHandler(gc.DeleteGroups)),
		entry(kmsg.OffsetDelete, groupHandler(gc.OffsetDelete)),
		entry(kmsg.ConsumerGroupHeartbeat, groupHandler(gc.ConsumerGroupHeartbeat)),
		entry(kmsg.ConsumerGroupDescribe, groupHandler(gc.ConsumerGroupDescribe)),
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
