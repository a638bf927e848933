package security_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// startAuthorized is a secured broker with StandardAuthorizer on and
// User:admin a super user.
func startAuthorized(t testing.TB, opts ...testkit.BrokerOption) *secured {
	return startSecured(t, append([]testkit.BrokerOption{
		testkit.WithConfig("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer"),
		testkit.WithConfig("super.users", "User:admin"),
	}, opts...)...)
}

// firstErrorCode is the first non-zero ErrorCode anywhere in a response
// (or the request's transport error as a code, -1 for other errors).
func firstErrorCode(resp kmsg.Response, err error) int16 {
	if err != nil {
		var ke *kerr.Error
		if errors.As(err, &ke) {
			return ke.Code
		}
		return -1
	}
	var walk func(v reflect.Value) int16
	walk = func(v reflect.Value) int16 {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				return walk(v.Elem())
			}
		case reflect.Struct:
			if f := v.FieldByName("ErrorCode"); f.IsValid() && f.Kind() == reflect.Int16 && f.Int() != 0 {
				return int16(f.Int())
			}
			for i := range v.NumField() {
				if c := walk(v.Field(i)); c != 0 {
					return c
				}
			}
		case reflect.Slice:
			for i := range v.Len() {
				if c := walk(v.Index(i)); c != 0 {
					return c
				}
			}
		}
		return 0
	}
	return walk(reflect.ValueOf(resp))
}

func str(s string) *string { return &s }

type aclCase struct {
	name string
	// acl is what alice is given on the case's resource.
	op      kmsg.ACLOperation
	rt      kmsg.ACLResourceType
	pattern kmsg.ACLResourcePatternType
	res     string // the resource the ACL names ("kafka-cluster" for the cluster)
	// also are ACLs both users get (what the call needs besides the
	// case's ACL).
	also []kadm.ACLBuilder
	// call runs the request the ACL guards against resource name.
	call func(ctx context.Context, cl *kgo.Client) (kmsg.Response, error)
	// refused is the error code without the ACL.
	refused int16
}

// TestACLMatrix: for each operation and resource type, alice, who has
// the ACL, succeeds, and bob, who has not, is refused with Kafka's code;
// with prefixed patterns, DENY over ALLOW and super users.
func TestACLMatrix(t *testing.T) {
	s := startAuthorized(t)
	plain := s.ListenerAddr("PLAINTEXT") // User:ANONYMOUS
	admin := kadm.NewClient(s.client(t, "SASL_PLAINTEXT", "SCRAM-SHA-256", "admin", adminPassword))
	ctx := ctxT(t)
	for _, topic := range []string{"m-write", "m-read", "m-describe", "m-delete", "m-alter", "m-dconf", "m-aconf", "m-records", "m-prefixed-1", "m-deny", "m-all", "m-group", "m-delete-admin", "m-delete-bob"} {
		if _, err := admin.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	// Some data and a committed group to read, describe and delete.
	adminCl := s.client(t, "SASL_PLAINTEXT", "SCRAM-SHA-256", "admin", adminPassword, kgo.DisableIdempotentWrite())
	for _, topic := range []string{"m-read", "m-records", "m-group"} {
		if err := adminCl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []string{"g-describe", "g-delete-alice", "g-delete-bob", "g-delete-admin"} {
		if _, err := admin.CommitOffsets(ctx, g, kadm.OffsetsFromRecords(kgo.Record{Topic: "m-group", Partition: 0, Offset: 0})); err != nil {
			t.Fatal(err)
		}
	}

	topicReq := func(_ kmsg.Key, build func(topic string) kmsg.Request) func(topic string) func(context.Context, *kgo.Client) (kmsg.Response, error) {
		return func(topic string) func(context.Context, *kgo.Client) (kmsg.Response, error) {
			return func(ctx context.Context, cl *kgo.Client) (kmsg.Response, error) { return cl.Request(ctx, build(topic)) }
		}
	}
	produce := func(topic string) func(context.Context, *kgo.Client) (kmsg.Response, error) {
		return func(ctx context.Context, cl *kgo.Client) (kmsg.Response, error) {
			return nil, cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("matrix")}).FirstErr()
		}
	}
	// Requests whose newest versions name topics by id carry both.
	topicIDs := map[string][16]byte{}
	if md, err := admin.Metadata(ctx); err != nil {
		t.Fatal(err)
	} else {
		for _, td := range md.Topics {
			topicIDs[td.Topic] = td.ID
		}
	}
	fetch := topicReq(kmsg.Fetch, func(topic string) kmsg.Request {
		r := kmsg.NewPtrFetchRequest()
		r.MaxWaitMillis, r.MaxBytes = 10, 1<<20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = topic, topicIDs[topic]
		p := kmsg.NewFetchRequestTopicPartition()
		p.PartitionMaxBytes = 1 << 20
		rt.Partitions = append(rt.Partitions, p)
		r.Topics = append(r.Topics, rt)
		return r
	})
	metadata := topicReq(kmsg.Metadata, func(topic string) kmsg.Request {
		r := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = str(topic)
		r.Topics = append(r.Topics, rt)
		return r
	})
	listOffsets := topicReq(kmsg.ListOffsets, func(topic string) kmsg.Request {
		r := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		p := kmsg.NewListOffsetsRequestTopicPartition()
		p.Timestamp = -1
		rt.Partitions = append(rt.Partitions, p)
		r.Topics = append(r.Topics, rt)
		return r
	})
	createTopic := topicReq(kmsg.CreateTopics, func(topic string) kmsg.Request {
		r := kmsg.NewPtrCreateTopicsRequest()
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, 1, 1
		r.Topics = append(r.Topics, rt)
		r.TimeoutMillis = 5000
		return r
	})
	deleteTopic := topicReq(kmsg.DeleteTopics, func(topic string) kmsg.Request {
		r := kmsg.NewPtrDeleteTopicsRequest()
		r.TopicNames = []string{topic}
		rt := kmsg.NewDeleteTopicsRequestTopic()
		rt.Topic = str(topic)
		r.Topics = append(r.Topics, rt)
		r.TimeoutMillis = 5000
		return r
	})
	deleteRecords := topicReq(kmsg.DeleteRecords, func(topic string) kmsg.Request {
		r := kmsg.NewPtrDeleteRecordsRequest()
		rt := kmsg.NewDeleteRecordsRequestTopic()
		rt.Topic = topic
		p := kmsg.NewDeleteRecordsRequestTopicPartition()
		p.Offset = 0
		rt.Partitions = append(rt.Partitions, p)
		r.Topics = append(r.Topics, rt)
		r.TimeoutMillis = 5000
		return r
	})
	createPartitions := topicReq(kmsg.CreatePartitions, func(topic string) kmsg.Request {
		r := kmsg.NewPtrCreatePartitionsRequest()
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = topic, 2
		r.Topics = append(r.Topics, rt)
		r.TimeoutMillis, r.ValidateOnly = 5000, true
		return r
	})
	configs := func(rt kmsg.ConfigResourceType, name string, alter bool) func(context.Context, *kgo.Client) (kmsg.Response, error) {
		return func(ctx context.Context, cl *kgo.Client) (kmsg.Response, error) {
			if alter {
				r := kmsg.NewPtrIncrementalAlterConfigsRequest()
				res := kmsg.NewIncrementalAlterConfigsRequestResource()
				res.ResourceType, res.ResourceName = rt, name
				c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
				c.Name, c.Value = "retention.ms", str("3600000")
				if rt == kmsg.ConfigResourceTypeBroker {
					c.Name = "log.retention.ms"
				}
				res.Configs = append(res.Configs, c)
				r.Resources = append(r.Resources, res)
				r.ValidateOnly = true
				return cl.Request(ctx, r)
			}
			r := kmsg.NewPtrDescribeConfigsRequest()
			res := kmsg.NewDescribeConfigsRequestResource()
			res.ResourceType, res.ResourceName = rt, name
			r.Resources = append(r.Resources, res)
			return cl.Request(ctx, r)
		}
	}
	group := func(build func(g string) kmsg.Request, g string) func(context.Context, *kgo.Client) (kmsg.Response, error) {
		return func(ctx context.Context, cl *kgo.Client) (kmsg.Response, error) { return cl.Request(ctx, build(g)) }
	}
	offsetCommit := func(g string) kmsg.Request {
		r := kmsg.NewPtrOffsetCommitRequest()
		r.Group, r.Generation = g, -1
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic, rt.TopicID = "m-group", topicIDs["m-group"]
		p := kmsg.NewOffsetCommitRequestTopicPartition()
		p.Offset = 1
		rt.Partitions = append(rt.Partitions, p)
		r.Topics = append(r.Topics, rt)
		return r
	}
	describeGroup := func(g string) kmsg.Request {
		r := kmsg.NewPtrDescribeGroupsRequest()
		r.Groups = []string{g}
		return r
	}
	deleteGroup := func(g string) kmsg.Request {
		r := kmsg.NewPtrDeleteGroupsRequest()
		r.Groups = []string{g}
		return r
	}
	initProducer := func(txn *string) func(context.Context, *kgo.Client) (kmsg.Response, error) {
		return func(ctx context.Context, cl *kgo.Client) (kmsg.Response, error) {
			r := kmsg.NewPtrInitProducerIDRequest()
			r.TransactionalID, r.TransactionTimeoutMillis = txn, 60000
			return cl.Request(ctx, r)
		}
	}
	findTxnCoordinator := func(ctx context.Context, cl *kgo.Client) (kmsg.Response, error) {
		r := kmsg.NewPtrFindCoordinatorRequest()
		r.CoordinatorType, r.CoordinatorKeys = 1, []string{"tx-describe"}
		return cl.Request(ctx, r)
	}
	describeACLs := func(ctx context.Context, cl *kgo.Client) (kmsg.Response, error) {
		r := kmsg.NewPtrDescribeACLsRequest()
		r.ResourceType, r.ResourcePatternType, r.Operation, r.PermissionType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny, kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
		return cl.Request(ctx, r)
	}
	createACL := func(ctx context.Context, cl *kgo.Client) (kmsg.Response, error) {
		r := kmsg.NewPtrCreateACLsRequest()
		c := kmsg.NewCreateACLsRequestCreation()
		c.ResourceType, c.ResourceName, c.ResourcePatternType = kmsg.ACLResourceTypeTopic, "created-by-matrix", kmsg.ACLResourcePatternTypeLiteral
		c.Principal, c.Host, c.Operation, c.PermissionType = "User:carol", "*", kmsg.ACLOperationRead, kmsg.ACLPermissionTypeAllow
		r.Creations = append(r.Creations, c)
		return cl.Request(ctx, r)
	}
	everyone := func(op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) kadm.ACLBuilder {
		b := kadm.NewACLs().Allow("User:*").AllowHosts("*").Operations(kadm.ACLOperation(op)).ResourcePatternType(kadm.ACLPatternLiteral)
		switch rt {
		case kmsg.ACLResourceTypeTopic:
			b = b.Topics(name)
		case kmsg.ACLResourceTypeGroup:
			b = b.Groups(name)
		}
		return *b
	}

	lit, pre := kmsg.ACLResourcePatternTypeLiteral, kmsg.ACLResourcePatternTypePrefixed
	topicT, groupT, clusterT, txnT := kmsg.ACLResourceTypeTopic, kmsg.ACLResourceTypeGroup, kmsg.ACLResourceTypeCluster, kmsg.ACLResourceTypeTransactionalId
	topicAuth, groupAuth, clusterAuth, txnAuth := kerr.TopicAuthorizationFailed.Code, kerr.GroupAuthorizationFailed.Code, kerr.ClusterAuthorizationFailed.Code, kerr.TransactionalIDAuthorizationFailed.Code
	cases := []aclCase{
		{name: "topic Write: Produce", op: kmsg.ACLOperationWrite, rt: topicT, pattern: lit, res: "m-write", call: produce("m-write"), refused: topicAuth},
		{name: "topic Read: Fetch", op: kmsg.ACLOperationRead, rt: topicT, pattern: lit, res: "m-read", call: fetch("m-read"), refused: topicAuth},
		{name: "topic Describe: Metadata", op: kmsg.ACLOperationDescribe, rt: topicT, pattern: lit, res: "m-describe", call: metadata("m-describe"), refused: topicAuth},
		{name: "topic Describe: ListOffsets", op: kmsg.ACLOperationDescribe, rt: topicT, pattern: lit, res: "m-describe", call: listOffsets("m-describe"), refused: topicAuth},
		{name: "topic Read implies Describe", op: kmsg.ACLOperationRead, rt: topicT, pattern: lit, res: "m-read", call: metadata("m-read"), refused: topicAuth},
		{name: "topic Create: CreateTopics", op: kmsg.ACLOperationCreate, rt: topicT, pattern: lit, res: "m-new-alice", call: createTopic("m-new-alice"), refused: topicAuth},
		{name: "topic Delete: DeleteRecords", op: kmsg.ACLOperationDelete, rt: topicT, pattern: lit, res: "m-records", call: deleteRecords("m-records"), refused: topicAuth},
		{name: "topic Delete: DeleteTopics", op: kmsg.ACLOperationDelete, rt: topicT, pattern: lit, res: "m-delete", call: deleteTopic("m-delete"), refused: topicAuth},
		{name: "topic Alter: CreatePartitions", op: kmsg.ACLOperationAlter, rt: topicT, pattern: lit, res: "m-alter", call: createPartitions("m-alter"), refused: topicAuth},
		{name: "topic DescribeConfigs", op: kmsg.ACLOperationDescribeConfigs, rt: topicT, pattern: lit, res: "m-dconf", call: configs(kmsg.ConfigResourceTypeTopic, "m-dconf", false), refused: topicAuth},
		{name: "topic AlterConfigs", op: kmsg.ACLOperationAlterConfigs, rt: topicT, pattern: lit, res: "m-aconf", call: configs(kmsg.ConfigResourceTypeTopic, "m-aconf", true), refused: topicAuth},
		{name: "topic All", op: kmsg.ACLOperationAll, rt: topicT, pattern: lit, res: "m-all", call: produce("m-all"), refused: topicAuth},
		{name: "topic prefixed Write", op: kmsg.ACLOperationWrite, rt: topicT, pattern: pre, res: "m-prefixed-", call: produce("m-prefixed-1"), refused: topicAuth},
		{name: "group Read: OffsetCommit", op: kmsg.ACLOperationRead, rt: groupT, pattern: lit, res: "g-read",
			also: []kadm.ACLBuilder{everyone(kmsg.ACLOperationRead, topicT, "m-group")}, call: group(offsetCommit, "g-read"), refused: groupAuth},
		{name: "group prefixed Read", op: kmsg.ACLOperationRead, rt: groupT, pattern: pre, res: "g-pre-",
			also: []kadm.ACLBuilder{everyone(kmsg.ACLOperationRead, topicT, "m-group")}, call: group(offsetCommit, "g-pre-1"), refused: groupAuth},
		{name: "group Describe: DescribeGroups", op: kmsg.ACLOperationDescribe, rt: groupT, pattern: lit, res: "g-describe", call: group(describeGroup, "g-describe"), refused: groupAuth},
		{name: "group Delete: DeleteGroups", op: kmsg.ACLOperationDelete, rt: groupT, pattern: pre, res: "g-delete-", call: nil, refused: groupAuth},
		{name: "cluster Create: CreateTopics", op: kmsg.ACLOperationCreate, rt: clusterT, pattern: lit, res: "kafka-cluster", call: nil, refused: topicAuth},
		{name: "cluster Alter: CreateAcls", op: kmsg.ACLOperationAlter, rt: clusterT, pattern: lit, res: "kafka-cluster", call: createACL, refused: clusterAuth},
		{name: "cluster Describe: DescribeAcls", op: kmsg.ACLOperationDescribe, rt: clusterT, pattern: lit, res: "kafka-cluster", call: describeACLs, refused: clusterAuth},
		{name: "cluster DescribeConfigs", op: kmsg.ACLOperationDescribeConfigs, rt: clusterT, pattern: lit, res: "kafka-cluster", call: configs(kmsg.ConfigResourceTypeBroker, "0", false), refused: clusterAuth},
		{name: "cluster AlterConfigs", op: kmsg.ACLOperationAlterConfigs, rt: clusterT, pattern: lit, res: "kafka-cluster", call: configs(kmsg.ConfigResourceTypeBroker, "0", true), refused: clusterAuth},
		{name: "cluster IdempotentWrite: InitProducerId", op: kmsg.ACLOperationIdempotentWrite, rt: clusterT, pattern: lit, res: "kafka-cluster", call: initProducer(nil), refused: clusterAuth},
		{name: "transactional id Write: InitProducerId", op: kmsg.ACLOperationWrite, rt: txnT, pattern: lit, res: "tx-write", call: initProducer(str("tx-write")), refused: txnAuth},
		{name: "transactional id Describe: FindCoordinator", op: kmsg.ACLOperationDescribe, rt: txnT, pattern: lit, res: "tx-describe", call: findTxnCoordinator, refused: txnAuth},
	}
	// Calls that differ between the two users (names they may not share).
	callFor := func(c aclCase, user string) func(context.Context, *kgo.Client) (kmsg.Response, error) {
		switch c.name {
		case "group Delete: DeleteGroups":
			return group(deleteGroup, "g-delete-"+user)
		case "cluster Create: CreateTopics":
			return createTopic("m-cluster-created-" + user)
		case "topic Create: CreateTopics":
			return createTopic("m-new-" + user)
		case "topic Delete: DeleteTopics":
			if user != "alice" {
				return deleteTopic("m-delete-" + user)
			}
		}
		return c.call
	}
	// Producers are not idempotent, so a refused Write is the topic's,
	// not InitProducerId's.
	alice := s.client(t, "SASL_PLAINTEXT", "SCRAM-SHA-512", "alice", alicePassword, kgo.DisableIdempotentWrite())
	bob := s.client(t, "SASL_PLAINTEXT", "SCRAM-SHA-512", "bob", bobPassword, kgo.DisableIdempotentWrite())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := kadm.NewACLs().Allow("User:alice").AllowHosts("*").Operations(kadm.ACLOperation(c.op)).ResourcePatternType(kadm.ACLPattern(c.pattern))
			switch c.rt {
			case topicT:
				b = b.Topics(c.res)
			case groupT:
				b = b.Groups(c.res)
			case clusterT:
				b = b.Clusters()
			case txnT:
				b = b.TransactionalIDs(c.res)
			}
			builders := append([]*kadm.ACLBuilder{b}, ptrs(c.also)...)
			for _, ab := range builders {
				results, err := admin.CreateACLs(ctx, ab)
				if err == nil {
					for _, r := range results {
						err = errors.Join(err, r.Err)
					}
				}
				if err != nil {
					t.Fatalf("create ACL: %v", err)
				}
			}
			if code := firstErrorCode(callFor(c, "alice")(ctx, alice)); code != 0 {
				t.Errorf("alice, with the ACL: error %v", kerr.ErrorForCode(code))
			}
			if code := firstErrorCode(callFor(c, "bob")(ctx, bob)); code != c.refused {
				t.Errorf("bob, without it: error %v, want %v", kerr.ErrorForCode(code), kerr.ErrorForCode(c.refused))
			}
			if code := firstErrorCode(callFor(c, "admin")(ctx, adminCl)); code != 0 {
				t.Errorf("admin, a super user: error %v", kerr.ErrorForCode(code))
			}
		})
	}

	t.Run("deny overrides allow", func(t *testing.T) {
		allowAll := kadm.NewACLs().Allow("User:alice").AllowHosts("*").Operations(kadm.OpAll).ResourcePatternType(kadm.ACLPatternPrefixed).Topics("m-de")
		denyWrite := kadm.NewACLs().Deny("User:alice").DenyHosts("*").Operations(kadm.OpWrite).ResourcePatternType(kadm.ACLPatternLiteral).Topics("m-deny")
		for _, b := range []*kadm.ACLBuilder{allowAll, denyWrite} {
			if _, err := admin.CreateACLs(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		if code := firstErrorCode(produce("m-deny")(ctx, alice)); code != topicAuth {
			t.Errorf("produce under a Write DENY: %v", kerr.ErrorForCode(code))
		}
		if code := firstErrorCode(fetch("m-deny")(ctx, alice)); code != 0 {
			t.Errorf("fetch, allowed by All and not denied: %v", kerr.ErrorForCode(code))
		}
	})

	t.Run("Metadata hides undescribable topics", func(t *testing.T) {
		names := func(cl *kgo.Client) map[string]bool {
			resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, tp := range resp.Topics {
				out[*tp.Topic] = true
			}
			return out
		}
		a, b, all := names(alice), names(bob), names(adminCl)
		if !a["m-write"] || !a["m-read"] || a["m-dconf"] {
			t.Errorf("alice sees %v", a)
		}
		if len(b) != 1 || !b["m-group"] {
			t.Errorf("bob, with only User:*'s Read on m-group, sees %v", b)
		}
		if !all["m-dconf"] || !all["m-write"] {
			t.Errorf("admin sees %v", all)
		}
		anon := testkit.Client(t, plain)
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, anon)
		if err != nil || len(resp.Topics) != 1 || *resp.Topics[0].Topic != "m-group" {
			t.Errorf("ANONYMOUS on the PLAINTEXT listener sees %d topics, want only User:*'s m-group (%v)", len(resp.Topics), err)
		}
	})
}

func ptrs(bs []kadm.ACLBuilder) []*kadm.ACLBuilder {
	out := make([]*kadm.ACLBuilder, len(bs))
	for i := range bs {
		out[i] = &bs[i]
	}
	return out
}

// TestGroupAndTransactionalIDACLs: a franz-go group consumer needs Read on
// its group, a transactional producer Write on its transactional id.
func TestGroupAndTransactionalIDACLs(t *testing.T) {
	s := startAuthorized(t)
	admin := kadm.NewClient(s.client(t, "SASL_PLAINTEXT", "SCRAM-SHA-256", "admin", adminPassword))
	ctx := ctxT(t)
	if _, err := admin.CreateTopic(ctx, 2, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	for _, b := range []*kadm.ACLBuilder{
		// Both may read and write the topic; only alice has the group and
		// the transactional id.
		kadm.NewACLs().Allow("User:alice", "User:bob").AllowHosts("*").Operations(kadm.OpRead, kadm.OpWrite).Topics("orders"),
		kadm.NewACLs().Allow("User:alice").AllowHosts("*").Operations(kadm.OpRead).Groups("orders-app"),
		kadm.NewACLs().Allow("User:alice").AllowHosts("*").Operations(kadm.OpWrite, kadm.OpDescribe).TransactionalIDs("orders-tx"),
	} {
		if _, err := admin.CreateACLs(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for user, pw := range map[string]string{"alice": alicePassword, "bob": bobPassword} {
		t.Run(user, func(t *testing.T) {
			producer := s.client(t, "SASL_SSL", "SCRAM-SHA-512", user, pw, kgo.TransactionalID("orders-tx"), kgo.DefaultProduceTopic("orders"))
			err := producer.BeginTransaction()
			if err == nil {
				err = producer.ProduceSync(ctx, &kgo.Record{Value: []byte("tx by " + user)}).FirstErr()
			}
			if err == nil {
				err = producer.EndTransaction(ctx, kgo.TryCommit)
			}
			consumer := s.client(t, "SASL_SSL", "SCRAM-SHA-512", user, pw, kgo.ConsumeTopics("orders"), kgo.ConsumerGroup("orders-app"),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
			var got []*kgo.Record
			var groupErr error
			testkit.Eventually(t, 30*time.Second, func() error {
				fs := consumer.PollFetches(ctx)
				fs.EachError(func(_ string, _ int32, e error) { groupErr = e })
				got = append(got, fs.Records()...)
				if groupErr != nil || len(got) > 0 {
					return nil
				}
				return fmt.Errorf("nothing consumed yet")
			})
			if user == "alice" {
				if err != nil {
					t.Fatalf("transaction: %v", err)
				}
				if groupErr != nil || len(got) == 0 {
					t.Fatalf("group consume: %v, %d records", groupErr, len(got))
				}
				if err := consumer.CommitUncommittedOffsets(ctx); err != nil {
					t.Fatalf("commit: %v", err)
				}
				return
			}
			if !errors.Is(err, kerr.TransactionalIDAuthorizationFailed) {
				t.Errorf("transaction without the id's ACL: %v, want TRANSACTIONAL_ID_AUTHORIZATION_FAILED", err)
			}
			if !errors.Is(groupErr, kerr.GroupAuthorizationFailed) {
				t.Errorf("group consume without the group's ACL: %v (%d records), want GROUP_AUTHORIZATION_FAILED", groupErr, len(got))
			}
		})
	}
}
