package broker

// DeleteTopics v0-6 (v6 may name topics by id). Deletion closes the
// partition logs and removes their directories; waiting fetches are woken
// and see UNKNOWN_TOPIC_OR_PARTITION. delete.topic.enable=false answers
// TOPIC_DELETION_DISABLED. Kafka's internal topics are
// TOPIC_AUTHORIZATION_FAILED (internal_topics.go).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDeleteTopics(c *clientConn, req *kmsg.DeleteTopicsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	targets := req.Topics
	if req.Version < 6 {
		targets = nil
		for _, name := range req.TopicNames {
			n := name
			targets = append(targets, kmsg.DeleteTopicsRequestTopic{Topic: &n})
		}
	}
	for _, rt := range targets {
		st := kmsg.DeleteTopicsResponseTopic{Topic: rt.Topic, TopicID: rt.TopicID}
		var t *topic
		if rt.Topic != nil {
			t = b.topics.get(*rt.Topic)
		} else {
			t = b.topics.getByID(rt.TopicID)
		}
		switch {
		case b.cfg.DisableTopicDeletion:
			st.ErrorCode = kerr.TopicDeletionDisabled.Code
		case t == nil && rt.Topic == nil:
			st.ErrorCode = kerr.UnknownTopicID.Code
		case t == nil:
			st.ErrorCode = kerr.UnknownTopicOrPartition.Code
		default:
			name := t.name
			st.Topic, st.TopicID = &name, t.id
			if err := b.topics.delete(t.name); err != nil {
				st.ErrorCode = errorCode(err)
				st.ErrorMessage = errorMessage(err)
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
