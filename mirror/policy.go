package mirror

import (
	"fmt"
	"strings"
)

// The class names MirrorMaker 2 files use for `replication.policy.class`;
// the short names are accepted too.
const (
	DefaultReplicationPolicyClass  = "org.apache.kafka.connect.mirror.DefaultReplicationPolicy"
	IdentityReplicationPolicyClass = "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"
)

// ReplicationPolicy names remote topics, as MirrorMaker 2's interface of the
// same name does: which topic on the target a source topic is copied to, and
// which cluster a topic came from. Cycle detection relies on TopicSource.
type ReplicationPolicy interface {
	// FormatRemoteTopic is the name on the target of topic from cluster
	// sourceAlias, e.g. "us-west.orders".
	FormatRemoteTopic(sourceAlias, topic string) string
	// TopicSource is the cluster a remote topic came from, or "" if the
	// name says it is not a remote topic.
	TopicSource(topic string) string
	// UpstreamTopic is the topic's name one hop upstream, or "" if it is
	// not a remote topic.
	UpstreamTopic(topic string) string
	// OffsetSyncsTopic, CheckpointsTopic and HeartbeatsTopic name MM2's
	// internal topics.
	OffsetSyncsTopic(clusterAlias string) string
	CheckpointsTopic(clusterAlias string) string
	HeartbeatsTopic() string
	// IsInternalTopic reports topics that are never replicated: MM2's
	// own (".internal" suffix) and the cluster's ("__" prefix).
	IsInternalTopic(topic string) bool
}

// heartbeatsTopic is MM2's heartbeats topic name.
const heartbeatsTopic = "heartbeats"

// DefaultReplicationPolicy prefixes remote topics with the source cluster's
// alias and the separator: orders on us-west becomes us-west.orders.
type DefaultReplicationPolicy struct {
	// Separator is `replication.policy.separator`, default ".".
	Separator string
	// InternalTopicSeparatorEnabled is
	// `replication.policy.internal.topic.separator.enabled` (default
	// true): whether MM2's internal topic names use Separator too, or
	// always ".".
	InternalTopicSeparatorEnabled bool
}

func (p DefaultReplicationPolicy) sep() string {
	if p.Separator == "" {
		return "."
	}
	return p.Separator
}

func (p DefaultReplicationPolicy) internalSep() string {
	if p.InternalTopicSeparatorEnabled {
		return p.sep()
	}
	return "."
}

// FormatRemoteTopic returns sourceAlias + separator + topic.
func (p DefaultReplicationPolicy) FormatRemoteTopic(sourceAlias, topic string) string {
	return sourceAlias + p.sep() + topic
}

// TopicSource returns the part before the first separator, or "" when the
// topic has none (MM2 splits on the separator and needs two parts).
func (p DefaultReplicationPolicy) TopicSource(topic string) string {
	source, rest, ok := strings.Cut(topic, p.sep())
	if !ok || source == "" || rest == "" {
		return ""
	}
	return source
}

// UpstreamTopic strips the source prefix.
func (p DefaultReplicationPolicy) UpstreamTopic(topic string) string {
	source := p.TopicSource(topic)
	if source == "" {
		return ""
	}
	return topic[len(source)+len(p.sep()):]
}

// OffsetSyncsTopic is mm2-offset-syncs.<alias>.internal.
func (p DefaultReplicationPolicy) OffsetSyncsTopic(clusterAlias string) string {
	return "mm2-offset-syncs" + p.internalSep() + clusterAlias + p.internalSep() + "internal"
}

// CheckpointsTopic is <alias>.checkpoints.internal.
func (p DefaultReplicationPolicy) CheckpointsTopic(clusterAlias string) string {
	return clusterAlias + p.internalSep() + "checkpoints" + p.internalSep() + "internal"
}

// HeartbeatsTopic is "heartbeats".
func (p DefaultReplicationPolicy) HeartbeatsTopic() string { return heartbeatsTopic }

// IsInternalTopic reports MM2's internal topics and the cluster's own.
func (p DefaultReplicationPolicy) IsInternalTopic(topic string) bool {
	return isInternalTopic(topic) || strings.HasSuffix(topic, p.internalSep()+"internal")
}

func isInternalTopic(topic string) bool {
	return strings.HasSuffix(topic, ".internal") || strings.HasSuffix(topic, "-internal") ||
		strings.HasPrefix(topic, "__") || strings.HasPrefix(topic, ".")
}

// IdentityReplicationPolicy keeps topic names unchanged, for migrations and
// one-way replication. As in MM2, heartbeats topics are still prefixed, and
// a topic's source cannot be told from its name, so cycles cannot be
// detected: Validate refuses an enabled flow cycle under this policy.
type IdentityReplicationPolicy struct {
	DefaultReplicationPolicy
}

func (p IdentityReplicationPolicy) looksLikeHeartbeat(topic string) bool {
	return strings.HasSuffix(topic, heartbeatsTopic)
}

// FormatRemoteTopic returns topic unchanged (heartbeats are prefixed).
func (p IdentityReplicationPolicy) FormatRemoteTopic(sourceAlias, topic string) string {
	if p.looksLikeHeartbeat(topic) {
		return p.DefaultReplicationPolicy.FormatRemoteTopic(sourceAlias, topic)
	}
	return topic
}

// TopicSource is "" except for prefixed heartbeats topics.
func (p IdentityReplicationPolicy) TopicSource(topic string) string {
	if p.looksLikeHeartbeat(topic) {
		return p.DefaultReplicationPolicy.TopicSource(topic)
	}
	return ""
}

// UpstreamTopic is "" except for prefixed heartbeats topics: any topic may
// be remote, and its upstream name is its own.
func (p IdentityReplicationPolicy) UpstreamTopic(topic string) string {
	if p.looksLikeHeartbeat(topic) {
		return p.DefaultReplicationPolicy.UpstreamTopic(topic)
	}
	return ""
}

// newPolicy builds the policy `replication.policy.class` names.
func newPolicy(class, separator string, internalSep bool) (ReplicationPolicy, error) {
	base := DefaultReplicationPolicy{Separator: separator, InternalTopicSeparatorEnabled: internalSep}
	switch class {
	case DefaultReplicationPolicyClass, "DefaultReplicationPolicy":
		return base, nil
	case IdentityReplicationPolicyClass, "IdentityReplicationPolicy":
		return IdentityReplicationPolicy{base}, nil
	}
	return nil, fmt.Errorf("unknown replication policy %q: accepted %s or %s (or their short names)",
		class, DefaultReplicationPolicyClass, IdentityReplicationPolicyClass)
}

// isCycle reports whether topic, seen on a flow's source, already came from
// the flow's target somewhere upstream: copying it would send records back
// to where they started.
func isCycle(p ReplicationPolicy, topic, target string) bool {
	for hops := 0; topic != "" && hops < 64; hops++ {
		source := p.TopicSource(topic)
		if source == "" {
			return false
		}
		if source == target {
			return true
		}
		topic = p.UpstreamTopic(topic)
	}
	return false
}
