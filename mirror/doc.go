// Package mirror replicates topics between Kafka-protocol clusters, as
// MirrorMaker 2 does, from MM2's own mm2.properties format: LoadConfig
// reads a file, Start runs its enabled flows (`tributary mirror run`).
// Clients are franz-go only, so any Kafka-compatible cluster works at
// either end, with any security protocol: each cluster's
// security.protocol, sasl.* and ssl.* keys (A.security.protocol=SASL_SSL,
// A.sasl.mechanism, A.sasl.jaas.config, A.ssl.truststore.location, ...)
// are read by the builder every client in Tributary shares
// (internal/kafkaclient: PLAIN and SCRAM, TLS from PEM stores).
//
// A flow A->B copies the topics of A that its `topics`/`topics.exclude`
// select to B, as "A.<topic>" with DefaultReplicationPolicy or under the
// same name with IdentityReplicationPolicy. Remote topics are created with
// the source's partition count and its topic-level configs (MM2's
// exclusions never copied), grown when the source grows (only topics named
// for their source: see TopicStatus errors otherwise), and re-synced every
// sync.topic.configs.interval.seconds. Each record keeps its key, value,
// headers, timestamp and partition, and each partition its order; copies
// carry the header SourceOffsetHeaderKey unless disabled.
//
// Topic ACLs are copied every sync.topic.acls.interval.seconds with MM2's
// rules: literal topic bindings whose name the flow copies, for the remote
// name, ALLOW WRITE never, ALLOW ALL as ALLOW READ, DENY as it is; prefixed
// patterns and the wildcard "*" are not copied, and nothing is deleted. A
// source without an authorizer turns the sync off with one log line; a
// target that refuses is logged, and copying goes on (acls.go).
//
// # Delivery
//
// At-least-once (the default): a source position is written, in Kafka
// Connect's offsets layout in mm2-offsets.<source>.internal on the target,
// only after the target acknowledged every record up to it; a restart
// copies again what came after the last written position.
//
// Exactly-once (exactly.once.source.support = enabled, or
// exactly.once.support = required): records and positions are committed in
// one transaction on the target; a new owner of a task fences the previous
// one first. Target consumers read with read_committed. Changing tasks.max
// of an exactly-once flow needs every mirror process of it stopped first:
// a task's fencing covers its own transactional ID only.
//
// Offset-preserving (replication.mode = preserve-offsets): every record is
// written at its source offset, and group offsets are copied unchanged.
// The target partition's end is the position, so restarts neither lose nor
// duplicate. A partition is stopped, with an error, at the first offset it
// cannot keep: a gap (compaction, retention), transactional data, or a
// foreign write; see preserve.go for the exact rules.
//
// # Offsets of consumer groups
//
// Offset syncs (MM2's mm2-offset-syncs.<target>.internal, on the source
// unless offset-syncs.topic.location = target) are written on the first
// record, every offset.lag.max records and at every gap. Checkpoints
// (<source>.checkpoints.internal on the target) translate each group's
// committed offsets with MM2's rule, which never skips a record; with the
// source offset header the checkpointer then finds the exact position. With
// sync.group.offsets.enabled, translated offsets are committed to target
// groups that have no members there, never moving one back.
//
// # Heartbeats and cycles
//
// Each flow writes MM2 heartbeats to "heartbeats" on its target; the
// heartbeats topics are copied onward whatever `topics` says (except by
// preserve-offsets flows: compaction leaves gaps in them). A topic is
// never copied to a cluster it came from (MM2's cycle check on the policy's
// prefixes), so A->B with B->A copies each side's topics once. Identity
// policy cannot tell, so Validate refuses an identity cycle unless its
// flows list disjoint plain topic names.
//
// # Processes
//
// A flow's partitions are split among tasks.max tasks; every process
// running the flow joins the group "tributary-mirror.<flow>" on the target
// and runs the tasks it is assigned, so processes started with the same
// file share the work. WithTargetClusters (--clusters) runs only the flows
// into the given clusters.
//
// Metrics (WithRegisterer) are listed in metrics.go.
package mirror
