package broker

// Authorization of every request, the way Kafka's KafkaApis does it, when
// authorizer.class.name is set (without it every request is served, as in
// Kafka). Each API's rule checks the principal's ACLs for what the request
// touches, answers the parts it may not touch with Kafka's error
// (TOPIC_AUTHORIZATION_FAILED per topic, GROUP_AUTHORIZATION_FAILED,
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED) and
// hands the rest to the API's handler, so handlers know nothing of ACLs:
//
//	Produce            Write on each topic; Write on the transactional id
//	Fetch              Read on each topic (a follower fetch: ClusterAction on the cluster)
//	ListOffsets, OffsetForLeaderEpoch, DescribeTopicPartitions
//	                   Describe on each topic
//	Metadata           Describe on each topic: undescribable topics are left
//	                   out of an all-topics answer, and answered
//	                   TOPIC_AUTHORIZATION_FAILED when named; auto-creation
//	                   needs Create on the cluster or the topic
//	CreateTopics       Create on the cluster or the topic
//	DeleteTopics, DeleteRecords  Delete on each topic
//	CreatePartitions   Alter on each topic
//	Describe/AlterConfigs, IncrementalAlterConfigs
//	                   DescribeConfigs/AlterConfigs on each topic, or on the cluster for brokers
//	FindCoordinator    Describe on the group or transactional id
//	OffsetCommit       Read on the group, Read on each topic
//	OffsetFetch        Describe on the group, Describe on each topic (an
//	                   all-topics fetch leaves undescribable ones out)
//	Join/Sync/Heartbeat/LeaveGroup, ConsumerGroupHeartbeat  Read on the group
//	DescribeGroups, ConsumerGroupDescribe  Describe on each group
//	ListGroups         Describe on the cluster, else the groups one may describe
//	DeleteGroups       Delete on each group; OffsetDelete: Delete on the group, Read on each topic
//	InitProducerId     Write on the transactional id; without one,
//	                   IdempotentWrite on the cluster or Write on some topic
//	AddPartitionsToTxn Write on the transactional id and on each topic
//	AddOffsetsToTxn    Write on the transactional id, Read on the group
//	TxnOffsetCommit    Write on the transactional id, Read on the group and each topic
//	EndTxn             Write on the transactional id
//	DescribeTransactions  Describe on each id; ListTransactions lists those
//	DescribeProducers  Read on each topic
//	DescribeLogDirs    Describe on the cluster
//	Describe/Create/DeleteAcls  Describe/Alter on the cluster
//	Describe/AlterUserScramCredentials  Describe/Alter on the cluster
//	Describe/AlterClientQuotas  DescribeConfigs/AlterConfigs on the cluster
//
// ApiVersions, SaslHandshake, SaslAuthenticate and DescribeCluster need
// nothing. A topic named by an id the broker does not know is left to the
// handler (UNKNOWN_TOPIC_ID), as nothing can be authorized by it.

import (
	"reflect"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/acl"
)

type apiHandler = func(*clientConn, *request) kmsg.Response

// authorization is one API's rule: it decides what may be served, serves
// that through handle and merges the refusals into the response.
type authorization func(c *clientConn, r *request, handle apiHandler) kmsg.Response

// serveAuthorized runs req through its API's authorization rule, then its
// handler.
func (c *clientConn) serveAuthorized(req *request) kmsg.Response {
	handle := c.withMutationQuota(req, c.b.apis[req.key].handle)
	if c.b.authorizer == nil {
		return handle(c, req)
	}
	rule, ok := authorizations[kmsg.Key(req.key)]
	if !ok {
		// Every API in the table has a rule (TestEveryAPIHasAnAuthorizationRule);
		// one without is refused rather than served unchecked.
		return errorResponse(req.kreq, kerr.ClusterAuthorizationFailed.Code)
	}
	return rule(c, req, handle)
}

const (
	opRead            = kmsg.ACLOperationRead
	opWrite           = kmsg.ACLOperationWrite
	opCreate          = kmsg.ACLOperationCreate
	opDelete          = kmsg.ACLOperationDelete
	opAlter           = kmsg.ACLOperationAlter
	opDescribe        = kmsg.ACLOperationDescribe
	opClusterAction   = kmsg.ACLOperationClusterAction
	opDescribeConfigs = kmsg.ACLOperationDescribeConfigs
	opAlterConfigs    = kmsg.ACLOperationAlterConfigs
	opIdempotentWrite = kmsg.ACLOperationIdempotentWrite

	resTopic   = kmsg.ACLResourceTypeTopic
	resGroup   = kmsg.ACLResourceTypeGroup
	resCluster = kmsg.ACLResourceTypeCluster
	resTxnID   = kmsg.ACLResourceTypeTransactionalId
)

var (
	errTopicAuth   = kerr.TopicAuthorizationFailed.Code
	errGroupAuth   = kerr.GroupAuthorizationFailed.Code
	errClusterAuth = kerr.ClusterAuthorizationFailed.Code
	errTxnIDAuth   = kerr.TransactionalIDAuthorizationFailed.Code
)

// allowed asks the authorizer about the connection's principal and host.
func (c *clientConn) allowed(op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	ok := c.b.authorizer.Authorize(c.principal, c.host(), op, rt, name)
	if !ok {
		c.logger.Debug("authorization denied", "principal", c.principal, "operation", op.String(), "resource", rt.String()+":"+name)
	}
	return ok
}

func (c *clientConn) clusterAllowed(op kmsg.ACLOperation) bool {
	return c.allowed(op, resCluster, acl.ClusterName)
}

// host is the client's IP address, as ACL hosts name it.
func (c *clientConn) host() string { return remoteIP(c.sock) }

// topicAllowed authorizes op on a topic given by name or id; an unknown id
// is allowed through to the handler, which answers UNKNOWN_TOPIC_ID.
func (c *clientConn) topicAllowed(op kmsg.ACLOperation, name string, id [16]byte) bool {
	if name == "" && id != ([16]byte{}) {
		n, ok := c.b.topics.TopicName(id)
		if !ok {
			return true
		}
		name = n
	}
	return c.allowed(op, resTopic, name)
}

// elemTopic reads the topic of a request list element: its Topic (string
// or *string) and TopicID fields.
func elemTopic(e reflect.Value) (string, [16]byte) {
	var name string
	var id [16]byte
	if f := e.FieldByName("Topic"); f.IsValid() {
		switch f.Kind() {
		case reflect.String:
			name = f.String()
		case reflect.Pointer:
			if !f.IsNil() {
				name = f.Elem().String()
			}
		}
	}
	if f := e.FieldByName("TopicID"); f.IsValid() {
		id = f.Interface().([16]byte)
	}
	return name, id
}

// topicsAllowed is a split predicate: op on each element's topic.
func (c *clientConn) topicsAllowed(op kmsg.ACLOperation) func(reflect.Value) bool {
	return func(e reflect.Value) bool {
		name, id := elemTopic(e)
		return c.topicAllowed(op, name, id)
	}
}

// serveSplit serves the elements of the request list field reqField that
// allowed accepts, and answers the others with code: their answers (built
// as errorResponse builds a whole error answer) are appended to the
// response list respField.
func (c *clientConn) serveSplit(r *request, handle apiHandler, reqField, respField string, code int16, allowed func(reflect.Value) bool) kmsg.Response {
	rv := reflect.ValueOf(r.kreq).Elem()
	list := rv.FieldByName(reqField)
	kept := reflect.MakeSlice(list.Type(), 0, list.Len())
	denied := reflect.MakeSlice(list.Type(), 0, 0)
	for i := range list.Len() {
		if e := list.Index(i); allowed(e) {
			kept = reflect.Append(kept, e)
		} else {
			denied = reflect.Append(denied, e)
		}
	}
	if denied.Len() == 0 {
		return handle(c, r)
	}
	dreq := reflect.New(rv.Type())
	dreq.Elem().Set(rv)
	dreq.Elem().FieldByName(reqField).Set(denied)
	refusals := reflect.ValueOf(errorResponse(dreq.Interface().(kmsg.Request), code)).Elem().FieldByName(respField)
	list.Set(kept)
	resp := handle(c, r)
	if resp == nil {
		return nil // acks=0
	}
	out := reflect.ValueOf(resp).Elem().FieldByName(respField)
	out.Set(reflect.AppendSlice(out, refusals))
	return resp
}

// refuse answers the whole request with code.
func refuse(r *request, code int16) kmsg.Response {
	resp := errorResponse(r.kreq, code)
	// Answers whose lists are named otherwise than the request's.
	switch req := r.kreq.(type) {
	case *kmsg.ProduceRequest:
		if req.Acks == 0 {
			return nil
		}
	case *kmsg.CreateACLsRequest:
		out := resp.(*kmsg.CreateACLsResponse)
		for range req.Creations {
			out.Results = append(out.Results, kmsg.CreateACLsResponseResult{ErrorCode: code})
		}
	case *kmsg.DeleteACLsRequest:
		out := resp.(*kmsg.DeleteACLsResponse)
		for range req.Filters {
			out.Results = append(out.Results, kmsg.DeleteACLsResponseResult{ErrorCode: code})
		}
	case *kmsg.AlterUserSCRAMCredentialsRequest:
		out := resp.(*kmsg.AlterUserSCRAMCredentialsResponse)
		seen := map[string]bool{}
		add := func(user string) {
			if !seen[user] {
				seen[user] = true
				out.Results = append(out.Results, kmsg.AlterUserSCRAMCredentialsResponseResult{User: user, ErrorCode: code})
			}
		}
		for _, d := range req.Deletions {
			add(d.Name)
		}
		for _, u := range req.Upsertions {
			add(u.Name)
		}
	}
	return resp
}

// requireCluster is a rule needing op on the cluster.
func requireCluster(op kmsg.ACLOperation) authorization {
	return func(c *clientConn, r *request, handle apiHandler) kmsg.Response {
		if !c.clusterAllowed(op) {
			return refuse(r, errClusterAuth)
		}
		return handle(c, r)
	}
}

// onTopics is a rule needing op on each topic of the request's Topics.
func onTopics(op kmsg.ACLOperation) authorization {
	return func(c *clientConn, r *request, handle apiHandler) kmsg.Response {
		return c.serveSplit(r, handle, "Topics", "Topics", errTopicAuth, c.topicsAllowed(op))
	}
}

// onGroup is a rule needing op on the request's Group.
func onGroup(op kmsg.ACLOperation) authorization {
	return func(c *clientConn, r *request, handle apiHandler) kmsg.Response {
		if !c.allowed(op, resGroup, reflect.ValueOf(r.kreq).Elem().FieldByName("Group").String()) {
			return refuse(r, errGroupAuth)
		}
		return handle(c, r)
	}
}

// onGroups is a rule needing op on each group of the request's Groups.
func onGroups(op kmsg.ACLOperation) authorization {
	return func(c *clientConn, r *request, handle apiHandler) kmsg.Response {
		return c.serveSplit(r, handle, "Groups", "Groups", errGroupAuth, func(e reflect.Value) bool {
			return c.allowed(op, resGroup, e.String())
		})
	}
}

// onTxnID is a rule needing Write on the request's TransactionalID, then
// next's checks.
func onTxnID(next authorization) authorization {
	return func(c *clientConn, r *request, handle apiHandler) kmsg.Response {
		id := reflect.ValueOf(r.kreq).Elem().FieldByName("TransactionalID").String()
		if !c.allowed(opWrite, resTxnID, id) {
			return refuse(r, errTxnIDAuth)
		}
		if next == nil {
			return handle(c, r)
		}
		return next(c, r, handle)
	}
}

// configResources is a rule for Describe/Alter/IncrementalAlterConfigs:
// op on each topic resource, or on the cluster for broker resources.
func configResources(op kmsg.ACLOperation) authorization {
	return func(c *clientConn, r *request, handle apiHandler) kmsg.Response {
		code := errTopicAuth
		allowed := func(e reflect.Value) bool {
			name := e.FieldByName("ResourceName").String()
			switch kmsg.ConfigResourceType(e.FieldByName("ResourceType").Int()) {
			case kmsg.ConfigResourceTypeTopic:
				return c.allowed(op, resTopic, name)
			default: // brokers, broker loggers, client metrics
				return c.clusterAllowed(op)
			}
		}
		// Broker resources are refused CLUSTER_AUTHORIZATION_FAILED:
		// split twice, topics then the rest.
		topicsOnly := func(e reflect.Value) bool {
			return kmsg.ConfigResourceType(e.FieldByName("ResourceType").Int()) != kmsg.ConfigResourceTypeTopic || allowed(e)
		}
		return c.serveSplit(r, func(c *clientConn, r *request) kmsg.Response {
			return c.serveSplit(r, handle, "Resources", "Resources", errClusterAuth, func(e reflect.Value) bool {
				return kmsg.ConfigResourceType(e.FieldByName("ResourceType").Int()) == kmsg.ConfigResourceTypeTopic || allowed(e)
			})
		}, "Resources", "Resources", code, topicsOnly)
	}
}

var authorizations = map[kmsg.Key]authorization{
	kmsg.ApiVersions:      nothingNeeded,
	kmsg.SASLHandshake:    nothingNeeded,
	kmsg.SASLAuthenticate: nothingNeeded,
	kmsg.DescribeCluster:  nothingNeeded,

	kmsg.Produce:                 authorizeProduce,
	kmsg.Fetch:                   authorizeFetch,
	kmsg.ListOffsets:             onTopics(opDescribe),
	kmsg.OffsetForLeaderEpoch:    onTopics(opDescribe),
	kmsg.DescribeTopicPartitions: authorizeDescribeTopicPartitions,
	kmsg.Metadata:                authorizeMetadata,
	kmsg.CreateTopics:            authorizeCreateTopics,
	kmsg.DeleteTopics:            authorizeDeleteTopics,
	kmsg.DeleteRecords:           onTopics(opDelete),
	kmsg.CreatePartitions:        onTopics(opAlter),
	kmsg.DescribeProducers:       onTopics(opRead),
	kmsg.DescribeConfigs:         configResources(opDescribeConfigs),
	kmsg.AlterConfigs:            configResources(opAlterConfigs),
	kmsg.IncrementalAlterConfigs: configResources(opAlterConfigs),
	kmsg.DescribeLogDirs:         requireCluster(opDescribe),

	kmsg.FindCoordinator:        authorizeFindCoordinator,
	kmsg.OffsetCommit:           then(onGroup(opRead), onTopics(opRead)),
	kmsg.OffsetFetch:            authorizeOffsetFetch,
	kmsg.JoinGroup:              onGroup(opRead),
	kmsg.SyncGroup:              onGroup(opRead),
	kmsg.Heartbeat:              onGroup(opRead),
	kmsg.LeaveGroup:             onGroup(opRead),
	kmsg.ConsumerGroupHeartbeat: authorizeConsumerGroupHeartbeat,
	kmsg.DescribeGroups:         onGroups(opDescribe),
	kmsg.ConsumerGroupDescribe:  onGroups(opDescribe),
	kmsg.ListGroups:             authorizeListGroups,
	kmsg.DeleteGroups:           onGroups(opDelete),
	kmsg.OffsetDelete:           then(onGroup(opDelete), onTopics(opRead)),

	kmsg.InitProducerID:       authorizeInitProducerID,
	kmsg.AddPartitionsToTxn:   onTxnID(onTopics(opWrite)),
	kmsg.AddOffsetsToTxn:      onTxnID(onGroup(opRead)),
	kmsg.TxnOffsetCommit:      onTxnID(then(onGroup(opRead), onTopics(opRead))),
	kmsg.EndTxn:               onTxnID(nil),
	kmsg.DescribeTransactions: authorizeDescribeTransactions,
	kmsg.ListTransactions:     authorizeListTransactions,

	kmsg.DescribeACLs:                 requireCluster(opDescribe),
	kmsg.CreateACLs:                   requireCluster(opAlter),
	kmsg.DeleteACLs:                   requireCluster(opAlter),
	kmsg.DescribeUserSCRAMCredentials: requireCluster(opDescribe),
	kmsg.AlterUserSCRAMCredentials:    requireCluster(opAlter),
	kmsg.DescribeClientQuotas:         requireCluster(opDescribeConfigs),
	kmsg.AlterClientQuotas:            requireCluster(opAlterConfigs),
}

func nothingNeeded(c *clientConn, r *request, handle apiHandler) kmsg.Response { return handle(c, r) }

// then chains two rules: first's checks, then second's.
func then(first, second authorization) authorization {
	return func(c *clientConn, r *request, handle apiHandler) kmsg.Response {
		return first(c, r, func(c *clientConn, r *request) kmsg.Response { return second(c, r, handle) })
	}
}

func authorizeProduce(c *clientConn, r *request, handle apiHandler) kmsg.Response {
	req := r.kreq.(*kmsg.ProduceRequest)
	if req.TransactionID != nil && !c.allowed(opWrite, resTxnID, *req.TransactionID) {
		return refuse(r, errTxnIDAuth)
	}
	return onTopics(opWrite)(c, r, handle)
}

func authorizeFetch(c *clientConn, r *request, handle apiHandler) kmsg.Response {
	if req := r.kreq.(*kmsg.FetchRequest); req.ReplicaID >= 0 || req.ReplicaState.ID >= 0 {
		// A follower's fetch: this node has none, but Kafka's rule stands.
		return requireCluster(opClusterAction)(c, r, handle)
	}
	return onTopics(opRead)(c, r, handle)
}

func authorizeMetadata(c *clientConn, r *request, handle apiHandler) kmsg.Response {
	req := r.kreq.(*kmsg.MetadataRequest)
	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	if all {
		resp := handle(c, r).(*kmsg.MetadataResponse)
		kept := resp.Topics[:0]
		for _, t := range resp.Topics {
			if t.Topic != nil && c.allowed(opDescribe, resTopic, *t.Topic) {
				kept = append(kept, t)
			}
		}
		resp.Topics = kept
		c.addAuthorizedOperations(req, resp)
		return resp
	}
	autoCreate := !c.b.cfg.DisableAutoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation)
	mayCreateAny := autoCreate && c.clusterAllowed(opCreate)
	var kept []kmsg.MetadataRequestTopic
	var refused []kmsg.MetadataResponseTopic
	for _, rt := range req.Topics {
		name := ""
		if rt.Topic != nil {
			name = *rt.Topic
		}
		ok := c.topicAllowed(opDescribe, name, rt.TopicID)
		if ok && autoCreate && name != "" && !mayCreateAny && c.b.topics.get(name) == nil {
			ok = c.allowed(opCreate, resTopic, name)
		}
		if ok {
			kept = append(kept, rt)
			continue
		}
		mt := kmsg.NewMetadataResponseTopic()
		mt.ErrorCode, mt.Topic, mt.TopicID, mt.AuthorizedOperations = errTopicAuth, rt.Topic, rt.TopicID, -2147483648
		refused = append(refused, mt)
	}
	var resp *kmsg.MetadataResponse
	if len(kept) == 0 {
		// Asking for no topic would ask for all of them.
		resp = req.ResponseKind().(*kmsg.MetadataResponse)
		resp.Brokers, resp.ClusterID, resp.ControllerID = c.b.brokerList(c), &c.b.clusterID, c.b.cfg.NodeID
		resp.AuthorizedOperations = -2147483648
	} else {
		req.Topics = kept
		resp = handle(c, r).(*kmsg.MetadataResponse)
	}
	resp.Topics = append(resp.Topics, refused...)
	c.addAuthorizedOperations(req, resp)
	return resp
}

// Operations Kafka reports as authorized, by resource type.
var (
	topicOperations   = []kmsg.ACLOperation{opRead, opWrite, opCreate, opDelete, opAlter, opDescribe, opDescribeConfigs, opAlterConfigs}
	clusterOperations = []kmsg.ACLOperation{opCreate, opAlter, opDescribe, opClusterAction, opDescribeConfigs, opAlterConfigs, opIdempotentWrite}
)

// authorizedOperations is Kafka's bit field of the operations allowed.
func (c *clientConn) authorizedOperations(ops []kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) int32 {
	var bits int32
	for _, op := range ops {
		if c.b.authorizer.Authorize(c.principal, c.host(), op, rt, name) {
			bits |= 1 << op
		}
	}
	return bits
}

func (c *clientConn) addAuthorizedOperations(req *kmsg.MetadataRequest, resp *kmsg.MetadataResponse) {
	if req.IncludeTopicAuthorizedOperations {
		for i := range resp.Topics {
			if t := &resp.Topics[i]; t.ErrorCode == 0 && t.Topic != nil {
				t.AuthorizedOperations = c.authorizedOperations(topicOperations, resTopic, *t.Topic)
			}
		}
	}
	if req.IncludeClusterAuthorizedOperations {
		resp.AuthorizedOperations = c.authorizedOperations(clusterOperations, resCluster, acl.ClusterName)
	}
}

func authorizeDescribeTopicPartitions(c *clientConn, r *request, handle apiHandler) kmsg.Response {
	req := r.kreq.(*kmsg.DescribeTopicPartitionsRequest)
	if len(req.Topics) > 0 {
		return onTopics(opDescribe)(c, r, handle)
	}
	resp := handle(c, r).(*kmsg.DescribeTopicPartitionsResponse)
	kept := resp.Topics[:0]
	for _, t := range resp.Topics {
		if t.Topic != nil && c.allowed(opDescribe, resTopic, *t.Topic) {
			kept = append(kept, t)
		}
	}
	resp.Topics = kept
	return resp
}

func authorizeCreateTopics(c *clientConn, r *request, handle apiHandler) kmsg.Response {
	if c.clusterAllowed(opCreate) {
		return handle(c, r)
	}
	return c.serveSplit(r, handle, "Topics", "Topics", errTopicAuth, func(e reflect.Value) bool {
		return c.allowed(opCreate, resTopic, e.FieldByName("Topic").String())
	})
}

func authorizeDeleteTopics(c *clientConn, r *request, handle apiHandler) kmsg.Response {
	req := r.kreq.(*kmsg.DeleteTopicsRequest)
	if req.Version < 6 {
		return c.serveSplit(r, handle, "TopicNames", "Topics", errTopicAuth, func(e reflect.Value) bool {
			return c.allowed(opDelete, resTopic, e.String())
		})
	}
	var kept []kmsg.DeleteTopicsRequestTopic
	var refused []kmsg.DeleteTopicsResponseTopic
	for _, t := range req.Topics {
		name := ""
		if t.Topic != nil {
			name = *t.Topic
		}
		if c.topicAllowed(opDelete, name, t.TopicID) {
			kept = append(kept, t)
			continue
		}
		rt := kmsg.NewDeleteTopicsResponseTopic()
		rt.Topic, rt.TopicID, rt.ErrorCode = t.Topic, t.TopicID, errTopicAuth
		refused = append(refused, rt)
	}
	req.Topics = kept
	resp := handle(c, r).(*kmsg.DeleteTopicsResponse)
	resp.Topics = append(resp.Topics, refused...)
	return resp
}

func authorizeFindCoordinator(c *clientConn, r *request, handle apiHandler) kmsg.Response {
	req := r.kreq.(*kmsg.FindCoordinatorRequest)
	rt, code := resGroup, errGroupAuth
	if req.CoordinatorType == 1 {
		rt, code = resTxnID, errTxnIDAuth
	}
	if req.Version < 4 {
		if !c.allowed(opDescribe, rt, req.CoordinatorKey) {
			return refuse(r, code)
		}
		return handle(c, r)
	}
	return c.serveSplit(r, handle, "CoordinatorKeys", "Coordinators", code, func(e reflect.Value) bool {
		return c.allowed(opDescribe, rt, e.String())
	})
}

func authorizeOffsetFetch(c *clientConn, r *request, handle apiHandler) kmsg.Response {
	req := r.kreq.(*kmsg.OffsetFetchRequest)
	if req.Version < 8 {
		if !c.allowed(opDescribe, resGroup, req.Group) {
			return refuse(r, errGroupAuth)
		}
		if req.Topics == nil { // all topics: leave undescribable ones out
			resp := handle(c, r).(*kmsg.OffsetFetchResponse)
			kept := resp.Topics[:0]
			for _, t := range resp.Topics {
				if c.allowed(opDescribe, resTopic, t.Topic) {
					kept = append(kept, t)
				}
			}
			resp.Topics = kept
			return resp
		}
		return c.serveSplit(r, handle, "Topics", "Topics", errTopicAuth, c.topicsAllowed(opDescribe))
	}
	// v8+: several groups, each with its topics.
	var kept []kmsg.OffsetFetchRequestGroup
	var refused []kmsg.OffsetFetchResponseGroup
	deniedTopics := map[string][]kmsg.OffsetFetchRequestGroupTopic{}
	for _, g := range req.Groups {
		if !c.allowed(opDescribe, resGroup, g.Group) {
			rg := kmsg.NewOffsetFetchResponseGroup()
			rg.Group, rg.ErrorCode = g.Group, errGroupAuth
			refused = append(refused, rg)
			continue
		}
		if g.Topics != nil {
			var ok []kmsg.OffsetFetchRequestGroupTopic
			for _, t := range g.Topics {
				if c.topicAllowed(opDescribe, t.Topic, t.TopicID) {
					ok = append(ok, t)
				} else {
					deniedTopics[g.Group] = append(deniedTopics[g.Group], t)
				}
			}
			if ok == nil {
				ok = []kmsg.OffsetFetchRequestGroupTopic{}
			}
			g.Topics = ok
		}
		kept = append(kept, g)
	}
	req.Groups = kept
	resp := handle(c, r).(*kmsg.OffsetFetchResponse)
	for i := range resp.Groups {
		g := &resp.Groups[i]
		if _, named := deniedTopics[g.Group]; !named && !groupNamedTopics(req, g.Group) {
			// All topics: leave undescribable ones out.
			ts := g.Topics[:0]
			for _, t := range g.Topics {
				if c.topicAllowed(opDescribe, t.Topic, t.TopicID) {
					ts = append(ts, t)
				}
			}
			g.Topics = ts
		}
		for _, t := range deniedTopics[g.Group] {
			rt := kmsg.NewOffsetFetchResponseGroupTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
				rp.Partition, rp.Offset, rp.LeaderEpoch, rp.ErrorCode = p, -1, -1, errTopicAuth
				rt.Partitions = append(rt.Partitions, rp)
			}
			g.Topics = append(g.Topics, rt)
		}
	}
	resp.Groups = append(resp.Groups, refused...)
	return resp
}

// groupNamedTopics reports whether the request named topics for group.
func groupNamedTopics(req *kmsg.OffsetFetchRequest, group string) bool {
	for _, g := range req.Groups {
		if g.Group == group {
			return g.Topics != nil
		}
	}
	return false
}

func authorizeConsumerGroupHeartbeat(c *clientConn, r *request, handle apiHandler) kmsg.Response {
	req := r.kreq.(*kmsg.ConsumerGroupHeartbeatRequest)
	if !c.allowed(opRead, resGroup, req.Group) {
		return refuse(r, errGroupAuth)
	}
	for _, t := range req.SubscribedTopicNames {
		if !c.allowed(opDescribe, resTopic, t) {
			return refuse(r, errTopicAuth)
		}
	}
	return handle(c, r)
}

func authorizeListGroups(c *clientConn, r *request, handle apiHandler) kmsg.Response {
	resp := handle(c, r).(*kmsg.ListGroupsResponse)
	if c.clusterAllowed(opDescribe) {
		return resp
	}
	kept := resp.Groups[:0]
	for _, g := range resp.Groups {
		if c.allowed(opDescribe, resGroup, g.Group) {
			kept = append(kept, g)
		}
	}
	resp.Groups = kept
	return resp
}

func authorizeInitProducerID(c *clientConn, r *request, handle apiHandler) kmsg.Response {
	req := r.kreq.(*kmsg.InitProducerIDRequest)
	if req.TransactionalID != nil {
		if !c.allowed(opWrite, resTxnID, *req.TransactionalID) {
			return refuse(r, errTxnIDAuth)
		}
		return handle(c, r)
	}
	if !c.clusterAllowed(opIdempotentWrite) && !c.b.authorizer.AuthorizeAny(c.principal, c.host(), opWrite, resTopic) {
		return refuse(r, errClusterAuth)
	}
	return handle(c, r)
}

func authorizeDescribeTransactions(c *clientConn, r *request, handle apiHandler) kmsg.Response {
	req := r.kreq.(*kmsg.DescribeTransactionsRequest)
	var kept []string
	var refused []kmsg.DescribeTransactionsResponseTransactionState
	for _, id := range req.TransactionalIDs {
		if c.allowed(opDescribe, resTxnID, id) {
			kept = append(kept, id)
			continue
		}
		s := kmsg.NewDescribeTransactionsResponseTransactionState()
		s.TransactionalID, s.ErrorCode, s.ProducerID, s.ProducerEpoch = id, errTxnIDAuth, -1, -1
		refused = append(refused, s)
	}
	req.TransactionalIDs = kept
	resp := handle(c, r).(*kmsg.DescribeTransactionsResponse)
	resp.TransactionStates = append(resp.TransactionStates, refused...)
	return resp
}

func authorizeListTransactions(c *clientConn, r *request, handle apiHandler) kmsg.Response {
	resp := handle(c, r).(*kmsg.ListTransactionsResponse)
	kept := resp.TransactionStates[:0]
	for _, s := range resp.TransactionStates {
		if c.allowed(opDescribe, resTxnID, s.TransactionalID) {
			kept = append(kept, s)
		}
	}
	resp.TransactionStates = kept
	return resp
}
