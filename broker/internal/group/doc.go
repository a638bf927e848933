// Package group is the consumer group coordinator of a single-node broker.
// The node coordinates every group; the broker answers FindCoordinator.
//
// It serves the classic group protocol and KIP-848 consumer groups, stores
// committed offsets and transactional offset commits, and keeps all durable
// state in an append-only, CRC-framed file, Config.Dir/groups.log (see
// broker/statefile; the records are in records.go).
//
// APIs and versions (each handler file opens with its Kafka differences):
//
//	 8 OffsetCommit            v0-10
//	 9 OffsetFetch             v0-10
//	11 JoinGroup               v0-9
//	12 Heartbeat               v0-4
//	13 LeaveGroup              v0-5
//	14 SyncGroup               v0-5
//	15 DescribeGroups          v0-6
//	16 ListGroups              v0-5
//	28 TxnOffsetCommit         v0-6
//	42 DeleteGroups            v0-3
//	47 OffsetDelete            v0
//	68 ConsumerGroupHeartbeat  v0-1
//	69 ConsumerGroupDescribe   v0-1
//
// Each handler takes the decoded request and returns the response of the
// same version. Handlers never panic on request content. JoinGroup and
// SyncGroup block until the rebalance step completes; they return early when
// their context is cancelled or the coordinator closes.
//
// The same state is written, in Kafka's record format, to the
// __consumer_offsets topic through Config.OffsetsLog (offsets_topic.go): a
// view that lag monitors and Kafka's tools can read, rebuilt from the state
// file where it fell behind.
//
// After a restart groups come back Empty with their committed and staged
// offsets and their generation (or group epoch); members rejoin. A classic
// group that was Stable with a static member comes back Stable with its
// members instead (static_members.go).
package group

// Versions lists the API versions the coordinator serves, by API key.
var Versions = map[int16][2]int16{
	8:  {0, 10},
	9:  {0, 10},
	11: {0, 9},
	12: {0, 4},
	13: {0, 5},
	14: {0, 5},
	15: {0, 6},
	16: {0, 5},
	28: {0, 6},
	42: {0, 3},
	47: {0, 0},
	68: {0, 1},
	69: {0, 1},
}
