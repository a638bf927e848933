package broker_test

// Admin APIs through kadm and raw requests: topic creation and deletion,
// partitions, configs (sources, synonyms, AlterConfigs, incremental
// changes, dynamic broker defaults), DeleteRecords, OffsetForLeaderEpoch,
// DescribeCluster, DescribeLogDirs, DescribeTopicPartitions and Metadata;
// each with its bad input, and the results surviving a restart.

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/record"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func admin(t *testing.T, addr string) *kadm.Client {
	return kadm.NewClient(testkit.Client(t, addr))
}

// partitionCount returns a topic's partition count from Metadata, or -1 if
// the topic does not exist. It never creates the topic.
func partitionCount(t *testing.T, addr, topic string) int {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = &topic
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = false
	resp := roundTrip(t, addr, req).(*kmsg.MetadataResponse)
	if len(resp.Topics) != 1 {
		t.Fatalf("metadata for %s: %d topics", topic, len(resp.Topics))
	}
	switch code := resp.Topics[0].ErrorCode; code {
	case 0:
		return len(resp.Topics[0].Partitions)
	case kerr.UnknownTopicOrPartition.Code:
		return -1
	default:
		t.Fatalf("metadata for %s: %v", topic, kerr.ErrorForCode(code))
		return 0
	}
}

func createTopicsRaw(t *testing.T, addr string, validateOnly bool, topics ...kmsg.CreateTopicsRequestTopic) *kmsg.CreateTopicsResponse {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Version = 7
	req.TimeoutMillis = 5000
	req.ValidateOnly = validateOnly
	req.Topics = topics
	return roundTrip(t, addr, req).(*kmsg.CreateTopicsResponse)
}

func newTopic(name string, partitions int32, rf int16, configs ...string) kmsg.CreateTopicsRequestTopic {
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, partitions, rf
	for i := 0; i+1 < len(configs); i += 2 {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = configs[i], kmsg.StringPtr(configs[i+1])
		rt.Configs = append(rt.Configs, c)
	}
	return rt
}

func errMsg(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func TestCreateTopics(t *testing.T) {
	b := testkit.StartBroker(t, testkit.WithConfig("num.partitions", "3"))
	adm := admin(t, b.Addr)

	t.Run("validate only creates nothing", func(t *testing.T) {
		resp, err := adm.ValidateCreateTopics(ctxT(t), 4, 1, map[string]*string{"retention.ms": kmsg.StringPtr("1000")}, "dry")
		if err != nil {
			t.Fatal(err)
		}
		if r := resp["dry"]; r.Err != nil || r.NumPartitions != 4 {
			t.Fatalf("validate-only create: %v, %d partitions", r.Err, r.NumPartitions)
		}
		if n := partitionCount(t, b.Addr, "dry"); n != -1 {
			t.Fatalf("validate-only create made a topic with %d partitions", n)
		}
	})
	t.Run("-1 partitions and replication factor take the broker defaults", func(t *testing.T) {
		resp, err := adm.CreateTopics(ctxT(t), -1, -1, nil, "defaults")
		if err != nil || resp["defaults"].Err != nil {
			t.Fatalf("create: %v %v", err, resp["defaults"].Err)
		}
		if r := resp["defaults"]; r.NumPartitions != 3 || r.ReplicationFactor != 1 || r.ID == (kadm.TopicID{}) {
			t.Fatalf("response: %d partitions, replication factor %d, id %v", r.NumPartitions, r.ReplicationFactor, r.ID)
		}
		if n := partitionCount(t, b.Addr, "defaults"); n != 3 {
			t.Fatalf("num.partitions=3 gave %d partitions", n)
		}
	})
	t.Run("response carries the resulting configs", func(t *testing.T) {
		resp, err := adm.CreateTopics(ctxT(t), 2, 1, map[string]*string{"retention.ms": kmsg.StringPtr("5000")}, "withconfigs")
		if err != nil || resp["withconfigs"].Err != nil {
			t.Fatalf("create: %v %v", err, resp["withconfigs"].Err)
		}
		cfgs := resp["withconfigs"].Configs
		if c := cfgs["retention.ms"]; c.MaybeValue() != "5000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
			t.Fatalf("retention.ms in the response: %q from %v", c.MaybeValue(), c.Source)
		}
		if c := cfgs["cleanup.policy"]; c.MaybeValue() != "delete" || c.Source != kmsg.ConfigSourceDefaultConfig {
			t.Fatalf("cleanup.policy in the response: %q from %v", c.MaybeValue(), c.Source)
		}
	})
	t.Run("already exists", func(t *testing.T) {
		resp, err := adm.CreateTopics(ctxT(t), 1, 1, nil, "defaults")
		if err != nil {
			t.Fatal(err)
		}
		if r := resp["defaults"]; r.Err != kerr.TopicAlreadyExists {
			t.Fatalf("second create: %v, want TOPIC_ALREADY_EXISTS", r.Err)
		}
		if n := partitionCount(t, b.Addr, "defaults"); n != 3 {
			t.Fatalf("failed create changed the topic to %d partitions", n)
		}
	})

	bad := []struct {
		name    string
		topic   kmsg.CreateTopicsRequestTopic
		want    *kerr.Error
		mention string
	}{
		{"empty name", newTopic("", 1, 1), kerr.InvalidTopicException, "empty"},
		{"dot", newTopic(".", 1, 1), kerr.InvalidTopicException, `"."`},
		{"dot dot", newTopic("..", 1, 1), kerr.InvalidTopicException, `".."`},
		{"slash", newTopic("a/b", 1, 1), kerr.InvalidTopicException, `'/'`},
		{"space", newTopic("a b", 1, 1), kerr.InvalidTopicException, `' '`},
		{"too long", newTopic(strings.Repeat("x", 250), 1, 1), kerr.InvalidTopicException, "249"},
		{"zero partitions", newTopic("zero", 0, 1), kerr.InvalidPartitions, "0"},
		{"negative partitions", newTopic("negative", -3, 1), kerr.InvalidPartitions, "-3"},
		{"replication factor 2", newTopic("rf2", 1, 2), kerr.InvalidReplicationFactor, "2"},
		{"replication factor 0", newTopic("rf0", 1, 0), kerr.InvalidReplicationFactor, "0"},
		{"unknown config key", newTopic("unknownkey", 1, 1, "retention.msec", "10"), kerr.InvalidConfig, "retention.msec"},
		{"bad config value", newTopic("badvalue", 1, 1, "retention.ms", "soon"), kerr.InvalidConfig, "retention.ms"},
		{"bad cleanup policy", newTopic("badpolicy", 1, 1, "cleanup.policy", "shred"), kerr.InvalidConfig, "cleanup.policy"},
		{"recompression", newTopic("gzip", 1, 1, "compression.type", "gzip"), kerr.InvalidConfig, "compression.type"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			for _, validateOnly := range []bool{true, false} {
				resp := createTopicsRaw(t, b.Addr, validateOnly, tc.topic)
				if len(resp.Topics) != 1 {
					t.Fatalf("%d topics in response", len(resp.Topics))
				}
				got := resp.Topics[0]
				if got.ErrorCode != tc.want.Code || !strings.Contains(errMsg(got.ErrorMessage), tc.mention) {
					t.Fatalf("validateOnly=%v: %v %q, want %v naming %s", validateOnly, kerr.ErrorForCode(got.ErrorCode), errMsg(got.ErrorMessage), tc.want, tc.mention)
				}
			}
			if tc.topic.Topic != "" && len(tc.topic.Topic) < 250 && !strings.ContainsAny(tc.topic.Topic, "./ ") {
				if n := partitionCount(t, b.Addr, tc.topic.Topic); n != -1 {
					t.Fatalf("rejected create made a topic with %d partitions", n)
				}
			}
		})
	}
	t.Run("duplicate names in one request", func(t *testing.T) {
		resp := createTopicsRaw(t, b.Addr, false, newTopic("twice", 1, 1), newTopic("twice", 2, 1), newTopic("once", 1, 1))
		for _, r := range resp.Topics {
			want := int16(0)
			if r.Topic == "twice" {
				want = kerr.InvalidRequest.Code
			}
			if r.ErrorCode != want {
				t.Fatalf("%s: %v, want %v", r.Topic, kerr.ErrorForCode(r.ErrorCode), kerr.ErrorForCode(want))
			}
		}
		if n := partitionCount(t, b.Addr, "twice"); n != -1 {
			t.Fatalf("duplicated topic was created with %d partitions", n)
		}
		if n := partitionCount(t, b.Addr, "once"); n != 1 {
			t.Fatalf("the other topic of the request: %d partitions", n)
		}
	})
	t.Run("replica assignment naming another node", func(t *testing.T) {
		rt := newTopic("elsewhere", -1, -1)
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = 0, []int32{5}
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
		resp := createTopicsRaw(t, b.Addr, false, rt)
		if code := resp.Topics[0].ErrorCode; code != kerr.InvalidReplicaAssignment.Code {
			t.Fatalf("assignment to node 5: %v, want INVALID_REPLICA_ASSIGNMENT", kerr.ErrorForCode(code))
		}
	})
	stillServes(t, b.Addr)
}

func TestDeleteTopics(t *testing.T) {
	b := testkit.StartBroker(t)
	adm := admin(t, b.Addr)
	cl := testkit.Client(t, b.Addr)
	createTopic(t, b.Addr, "doomed", 2, nil)
	produceTo(t, b.Addr, "doomed", 0, valueBatch(t, "old"))
	id := topicID(t, cl, "doomed")

	// A fetch waiting on the topic hears about the deletion.
	waiting := make(chan *kmsg.FetchResponse, 1)
	waitErr := make(chan error, 1)
	go func() {
		resp, err := exchange(b.Addr, newFetch(12, 60000, 1, 1<<20, fetchPart{topic: "doomed", offset: 1, maxBytes: 1 << 20}), 10*time.Second)
		if err != nil {
			waitErr <- err
			return
		}
		waiting <- resp.(*kmsg.FetchResponse)
	}()

	resp, err := adm.DeleteTopics(ctxT(t), "doomed")
	if err != nil || resp["doomed"].Err != nil {
		t.Fatalf("delete: %v %v", err, resp["doomed"].Err)
	}
	if resp["doomed"].ID != id {
		t.Fatalf("delete response id %v, want %v", resp["doomed"].ID, id)
	}
	select {
	case err := <-waitErr:
		t.Fatalf("waiting fetch on a deleted topic: %v", err)
	case r := <-waiting:
		fp := fetchedPart(r, fetchPart{topic: "doomed", partition: 0})
		if fp == nil || fp.ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("waiting fetch on a deleted topic returned %+v, want UNKNOWN_TOPIC_OR_PARTITION", fp)
		}
	}
	if got := produceRaw(t, b.Addr, "doomed", -1, testBatch(t, 1, 10)); got.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("produce to deleted topic: %v", kerr.ErrorForCode(got.ErrorCode))
	}
	for _, p := range []fetchPart{{topic: "doomed", maxBytes: 1 << 20}, {id: id, maxBytes: 1 << 20}} {
		v := int16(12)
		want := kerr.UnknownTopicOrPartition
		if p.topic == "" {
			v, want = 13, kerr.UnknownTopicID
		}
		if fp := fetchedPart(fetchRaw(t, b.Addr, newFetch(v, 0, 1, 1<<20, p)), p); fp == nil || fp.ErrorCode != want.Code {
			t.Fatalf("fetch v%d from deleted topic: %+v, want %v", v, fp, want)
		}
	}
	if n := partitionCount(t, b.Addr, "doomed"); n != -1 {
		t.Fatalf("deleted topic still in metadata with %d partitions", n)
	}

	// A new topic of the same name starts empty.
	createTopic(t, b.Addr, "doomed", 1, nil)
	if end := listEnds(t, cl, "doomed", 1)[0]; end != 0 {
		t.Fatalf("recreated topic starts at end offset %d", end)
	}

	t.Run("by topic id at v6", func(t *testing.T) {
		createTopic(t, b.Addr, "byid", 1, nil)
		id := topicID(t, cl, "byid")
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.Version = 6
		req.TimeoutMillis = 5000
		rt := kmsg.NewDeleteTopicsRequestTopic()
		rt.TopicID = id
		unknown := kmsg.NewDeleteTopicsRequestTopic()
		unknown.TopicID = [16]byte{9, 9, 9}
		req.Topics = append(req.Topics, rt, unknown)
		resp := roundTrip(t, b.Addr, req).(*kmsg.DeleteTopicsResponse)
		if len(resp.Topics) != 2 {
			t.Fatalf("%d topics in the response", len(resp.Topics))
		}
		if r := resp.Topics[0]; r.ErrorCode != 0 || r.Topic == nil || *r.Topic != "byid" || r.TopicID != id {
			t.Fatalf("delete by id: %v, name %v", kerr.ErrorForCode(r.ErrorCode), r.Topic)
		}
		if r := resp.Topics[1]; r.ErrorCode != kerr.UnknownTopicID.Code {
			t.Fatalf("delete of an unknown id: %v, want UNKNOWN_TOPIC_ID", kerr.ErrorForCode(r.ErrorCode))
		}
		if n := partitionCount(t, b.Addr, "byid"); n != -1 {
			t.Fatalf("topic deleted by id is still there")
		}
	})
	t.Run("unknown name", func(t *testing.T) {
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.Version = 3
		req.TopicNames = []string{"never-was"}
		resp := roundTrip(t, b.Addr, req).(*kmsg.DeleteTopicsResponse)
		if code := resp.Topics[0].ErrorCode; code != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("delete unknown topic: %v", kerr.ErrorForCode(code))
		}
	})
}

func TestDeleteTopicsDisabled(t *testing.T) {
	b := testkit.StartBroker(t, testkit.WithConfig("delete.topic.enable", "false"))
	createTopic(t, b.Addr, "kept", 1, nil)
	resp, err := admin(t, b.Addr).DeleteTopics(ctxT(t), "kept")
	if err != nil {
		t.Fatal(err)
	}
	if r := resp["kept"]; r.Err != kerr.TopicDeletionDisabled {
		t.Fatalf("delete with delete.topic.enable=false: %v, want TOPIC_DELETION_DISABLED", r.Err)
	}
	if n := partitionCount(t, b.Addr, "kept"); n != 1 {
		t.Fatalf("topic gone after a refused delete")
	}
}

func TestCreatePartitions(t *testing.T) {
	b := testkit.StartBroker(t)
	adm := admin(t, b.Addr)
	createTopic(t, b.Addr, "growing", 1, nil)
	produceTo(t, b.Addr, "growing", 0, valueBatch(t, "p0"))

	resp, err := adm.ValidateCreatePartitions(ctxT(t), 2, "growing")
	if err != nil || resp["growing"].Err != nil {
		t.Fatalf("validate-only: %v %v", err, resp["growing"].Err)
	}
	if n := partitionCount(t, b.Addr, "growing"); n != 1 {
		t.Fatalf("validate-only changed the partition count to %d", n)
	}

	resp, err = adm.CreatePartitions(ctxT(t), 2, "growing")
	if err != nil || resp["growing"].Err != nil {
		t.Fatalf("grow: %v %v", err, resp["growing"].Err)
	}
	if n := partitionCount(t, b.Addr, "growing"); n != 3 {
		t.Fatalf("after adding 2: %d partitions", n)
	}
	if off := produceTo(t, b.Addr, "growing", 2, valueBatch(t, "p2")); off != 0 {
		t.Fatalf("new partition starts at %d", off)
	}

	bad := []struct {
		name  string
		topic string
		count int32
		want  *kerr.Error
	}{
		{"shrink", "growing", 2, kerr.InvalidPartitions},
		{"same count", "growing", 3, kerr.InvalidPartitions},
		{"unknown topic", "nope", 4, kerr.UnknownTopicOrPartition},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			for _, validateOnly := range []bool{true, false} {
				req := kmsg.NewPtrCreatePartitionsRequest()
				req.Version = 3
				req.TimeoutMillis = 5000
				req.ValidateOnly = validateOnly
				rt := kmsg.NewCreatePartitionsRequestTopic()
				rt.Topic, rt.Count = tc.topic, tc.count
				req.Topics = append(req.Topics, rt)
				got := roundTrip(t, b.Addr, req).(*kmsg.CreatePartitionsResponse).Topics[0]
				if got.ErrorCode != tc.want.Code {
					t.Fatalf("validateOnly=%v: %v, want %v", validateOnly, kerr.ErrorForCode(got.ErrorCode), tc.want)
				}
			}
		})
	}
	t.Run("assignment to another node", func(t *testing.T) {
		req := kmsg.NewPtrCreatePartitionsRequest()
		req.Version = 3
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = "growing", 4
		a := kmsg.NewCreatePartitionsRequestTopicAssignment()
		a.Replicas = []int32{3}
		rt.Assignment = append(rt.Assignment, a)
		req.Topics = append(req.Topics, rt)
		if code := roundTrip(t, b.Addr, req).(*kmsg.CreatePartitionsResponse).Topics[0].ErrorCode; code != kerr.InvalidReplicaAssignment.Code {
			t.Fatalf("assignment to node 3: %v", kerr.ErrorForCode(code))
		}
	})
	if n := partitionCount(t, b.Addr, "growing"); n != 3 {
		t.Fatalf("refused changes left %d partitions", n)
	}
	b.Restart()
	if n := partitionCount(t, b.Addr, "growing"); n != 3 {
		t.Fatalf("after restart: %d partitions", n)
	}
	cl := testkit.Client(t, b.Addr)
	if ends := listEnds(t, cl, "growing", 3); ends[0] != 1 || ends[1] != 0 || ends[2] != 1 {
		t.Fatalf("end offsets after restart: %v", ends)
	}
}

// synonym is one entry of a config's synonym chain.
type synonym struct {
	name, value string
	source      kmsg.ConfigSource
}

func topicConfig(t *testing.T, adm *kadm.Client, topic, key string) kadm.Config {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(ctxT(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe %s: %v %v", topic, err, rc.Err)
	}
	for _, c := range rc.Configs {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("describe %s: no %s", topic, key)
	return kadm.Config{}
}

func checkConfig(t *testing.T, c kadm.Config, value string, source kmsg.ConfigSource, chain ...synonym) {
	t.Helper()
	if c.MaybeValue() != value || c.Source != source {
		t.Fatalf("%s = %q from %v, want %q from %v", c.Key, c.MaybeValue(), c.Source, value, source)
	}
	var got []synonym
	for _, s := range c.Synonyms {
		v := ""
		if s.Value != nil {
			v = *s.Value
		}
		got = append(got, synonym{s.Key, v, s.Source})
	}
	if !slices.Equal(got, chain) {
		t.Fatalf("%s synonyms %+v, want %+v", c.Key, got, chain)
	}
}

// createdSource creates a topic and checks the retention.ms that the
// CreateTopics response reports: the same value and source as
// DescribeConfigs.
func createdSource(t *testing.T, adm *kadm.Client, topic, value string, source kmsg.ConfigSource) {
	t.Helper()
	resp, err := adm.CreateTopics(ctxT(t), 1, 1, nil, topic)
	if err != nil || resp[topic].Err != nil {
		t.Fatalf("create %s: %v %v", topic, err, resp[topic].Err)
	}
	if c := resp[topic].Configs["retention.ms"]; c.MaybeValue() != value || c.Source != source {
		t.Fatalf("CreateTopics response: retention.ms = %q from %v, want %q from %v", c.MaybeValue(), c.Source, value, source)
	}
	if c := topicConfig(t, adm, topic, "retention.ms"); c.MaybeValue() != value || c.Source != source {
		t.Fatalf("DescribeConfigs: retention.ms = %q from %v, want %q from %v", c.MaybeValue(), c.Source, value, source)
	}
}

func TestDescribeConfigsSources(t *testing.T) {
	b := testkit.StartBroker(t, testkit.WithConfig("log.retention.ms", "3600000"))
	adm := admin(t, b.Addr)
	createTopic(t, b.Addr, "plain", 1, nil)
	createTopic(t, b.Addr, "own", 1, map[string]*string{"retention.ms": kmsg.StringPtr("1000")})

	def := synonym{"log.retention.ms", "604800000", kmsg.ConfigSourceDefaultConfig}
	static := synonym{"log.retention.ms", "3600000", kmsg.ConfigSourceStaticBrokerConfig}
	checkConfig(t, topicConfig(t, adm, "plain", "segment.bytes"), "1073741824", kmsg.ConfigSourceDefaultConfig,
		synonym{"log.segment.bytes", "1073741824", kmsg.ConfigSourceDefaultConfig})
	checkConfig(t, topicConfig(t, adm, "plain", "retention.ms"), "3600000", kmsg.ConfigSourceStaticBrokerConfig, static, def)
	createdSource(t, adm, "created-static", "3600000", kmsg.ConfigSourceStaticBrokerConfig)
	checkConfig(t, topicConfig(t, adm, "own", "retention.ms"), "1000", kmsg.ConfigSourceDynamicTopicConfig,
		synonym{"retention.ms", "1000", kmsg.ConfigSourceDynamicTopicConfig}, static, def)

	// A dynamic broker default sits between the topic's own value and the
	// static configuration.
	resp, err := adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: kmsg.StringPtr("7200000")}})
	if err != nil || resp[0].Err != nil {
		t.Fatalf("alter broker default: %v %+v", err, resp)
	}
	dyn := synonym{"log.retention.ms", "7200000", kmsg.ConfigSourceDynamicDefaultBrokerConfig}
	createdSource(t, adm, "created-dynamic", "7200000", kmsg.ConfigSourceDynamicDefaultBrokerConfig)
	check := func() {
		t.Helper()
		checkConfig(t, topicConfig(t, adm, "plain", "retention.ms"), "7200000", kmsg.ConfigSourceDynamicDefaultBrokerConfig, dyn, static, def)
		checkConfig(t, topicConfig(t, adm, "own", "retention.ms"), "1000", kmsg.ConfigSourceDynamicTopicConfig,
			synonym{"retention.ms", "1000", kmsg.ConfigSourceDynamicTopicConfig}, dyn, static, def)
		rcs, err := adm.DescribeBrokerConfigs(ctxT(t))
		if err != nil || len(rcs) != 1 || rcs[0].Err != nil {
			t.Fatalf("describe broker: %v %+v", err, rcs)
		}
		seen := 0
		for _, c := range rcs[0].Configs {
			switch c.Key {
			case "log.retention.ms":
				seen++
				if c.MaybeValue() != "7200000" || c.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
					t.Fatalf("broker log.retention.ms = %q from %v", c.MaybeValue(), c.Source)
				}
			case "num.partitions":
				seen++
				if c.MaybeValue() != "1" || c.Source != kmsg.ConfigSourceStaticBrokerConfig {
					t.Fatalf("broker num.partitions = %q from %v", c.MaybeValue(), c.Source)
				}
			}
		}
		if seen != 2 {
			t.Fatalf("broker configs lack log.retention.ms or num.partitions")
		}
	}
	check()
	b.Restart()
	adm = admin(t, b.Addr)
	check()

	// Deleting the dynamic default falls back to the static value.
	resp, err = adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "log.retention.ms"}})
	if err != nil || resp[0].Err != nil {
		t.Fatalf("delete broker default: %v %+v", err, resp)
	}
	checkConfig(t, topicConfig(t, adm, "plain", "retention.ms"), "3600000", kmsg.ConfigSourceStaticBrokerConfig, static, def)

	t.Run("old versions and filters", func(t *testing.T) {
		for v := int16(0); v <= 4; v++ {
			req := kmsg.NewPtrDescribeConfigsRequest()
			req.Version = v
			req.IncludeSynonyms = v >= 1
			req.IncludeDocumentation = v >= 3
			rr := kmsg.NewDescribeConfigsRequestResource()
			rr.ResourceType, rr.ResourceName, rr.ConfigNames = kmsg.ConfigResourceTypeTopic, "own", []string{"retention.ms"}
			req.Resources = append(req.Resources, rr)
			resp := roundTrip(t, b.Addr, req).(*kmsg.DescribeConfigsResponse)
			if len(resp.Resources) != 1 || resp.Resources[0].ErrorCode != 0 || len(resp.Resources[0].Configs) != 1 {
				t.Fatalf("v%d: %+v", v, resp.Resources)
			}
			c := resp.Resources[0].Configs[0]
			if c.Name != "retention.ms" || c.Value == nil || *c.Value != "1000" || c.IsDefault {
				t.Fatalf("v%d: %s=%v default=%v", v, c.Name, c.Value, c.IsDefault)
			}
			if v >= 3 && (c.Documentation == nil || *c.Documentation == "") {
				t.Fatalf("v%d: no documentation", v)
			}
		}
	})
	t.Run("bad input", func(t *testing.T) {
		req := kmsg.NewPtrDescribeConfigsRequest()
		req.Version = 4
		for _, r := range []struct {
			typ  kmsg.ConfigResourceType
			name string
		}{{kmsg.ConfigResourceTypeTopic, "nope"}, {kmsg.ConfigResourceTypeBroker, "17"}, {kmsg.ConfigResourceTypeBrokerLogger, "0"}} {
			rr := kmsg.NewDescribeConfigsRequestResource()
			rr.ResourceType, rr.ResourceName = r.typ, r.name
			req.Resources = append(req.Resources, rr)
		}
		resp := roundTrip(t, b.Addr, req).(*kmsg.DescribeConfigsResponse)
		want := []*kerr.Error{kerr.UnknownTopicOrPartition, kerr.InvalidRequest, kerr.InvalidRequest}
		for i, r := range resp.Resources {
			if r.ErrorCode != want[i].Code || len(r.Configs) != 0 {
				t.Fatalf("resource %s: %v with %d configs, want %v", r.ResourceName, kerr.ErrorForCode(r.ErrorCode), len(r.Configs), want[i])
			}
		}
	})
}

func TestAlterConfigsReplacesOverrides(t *testing.T) {
	b := testkit.StartBroker(t)
	adm := admin(t, b.Addr)
	createTopic(t, b.Addr, "replaced", 1, map[string]*string{"retention.ms": kmsg.StringPtr("1000"), "cleanup.policy": kmsg.StringPtr("compact")})

	set := []kadm.AlterConfig{{Name: "segment.bytes", Value: kmsg.StringPtr("1048576")}}
	resp, err := adm.ValidateAlterTopicConfigsState(ctxT(t), set, "replaced")
	if err != nil || resp[0].Err != nil {
		t.Fatalf("validate-only: %v %+v", err, resp)
	}
	checkConfig(t, topicConfig(t, adm, "replaced", "retention.ms"), "1000", kmsg.ConfigSourceDynamicTopicConfig,
		synonym{"retention.ms", "1000", kmsg.ConfigSourceDynamicTopicConfig}, synonym{"log.retention.ms", "604800000", kmsg.ConfigSourceDefaultConfig})

	resp, err = adm.AlterTopicConfigsState(ctxT(t), set, "replaced")
	if err != nil || resp[0].Err != nil {
		t.Fatalf("alter: %v %+v", err, resp)
	}
	if c := topicConfig(t, adm, "replaced", "segment.bytes"); c.MaybeValue() != "1048576" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("segment.bytes = %q from %v", c.MaybeValue(), c.Source)
	}
	for key, def := range map[string]string{"retention.ms": "604800000", "cleanup.policy": "delete"} {
		if c := topicConfig(t, adm, "replaced", key); c.MaybeValue() != def || c.Source != kmsg.ConfigSourceDefaultConfig {
			t.Fatalf("%s not given to AlterConfigs = %q from %v, want the default", key, c.MaybeValue(), c.Source)
		}
	}
	// Back to delete: keyless records are accepted again.
	if got := produceRaw(t, b.Addr, "replaced", -1, valueBatchNoKey(t)); got.ErrorCode != 0 {
		t.Fatalf("keyless record after dropping compact: %v", kerr.ErrorForCode(got.ErrorCode))
	}

	// On the broker resource too, AlterConfigs replaces every dynamic
	// default: one not given goes back to the static value.
	if resp, err := adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: kmsg.StringPtr("5000")}}); err != nil || resp[0].Err != nil {
		t.Fatalf("set dynamic default: %v %+v", err, resp)
	}
	if resp, err := adm.AlterBrokerConfigsState(ctxT(t), []kadm.AlterConfig{{Name: "log.segment.bytes", Value: kmsg.StringPtr("2097152")}}); err != nil || resp[0].Err != nil {
		t.Fatalf("replace dynamic defaults: %v %+v", err, resp)
	}
	if c := topicConfig(t, adm, "replaced", "segment.bytes"); c.MaybeValue() != "1048576" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("topic's own segment.bytes after a broker change: %q from %v", c.MaybeValue(), c.Source)
	}
	createTopic(t, b.Addr, "follower", 1, nil)
	if c := topicConfig(t, adm, "follower", "segment.bytes"); c.MaybeValue() != "2097152" || c.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Fatalf("segment.bytes = %q from %v, want the dynamic default", c.MaybeValue(), c.Source)
	}
	if c := topicConfig(t, adm, "follower", "retention.ms"); c.MaybeValue() != "604800000" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Fatalf("retention.ms not given to AlterConfigs = %q from %v, want the default", c.MaybeValue(), c.Source)
	}

	bad := []struct {
		name    string
		topic   string
		configs []kadm.AlterConfig
		want    *kerr.Error
		mention string
	}{
		{"unknown key", "replaced", []kadm.AlterConfig{{Name: "retention.msec", Value: kmsg.StringPtr("1")}}, kerr.InvalidConfig, "retention.msec"},
		{"bad value", "replaced", []kadm.AlterConfig{{Name: "segment.bytes", Value: kmsg.StringPtr("-4")}}, kerr.InvalidConfig, "segment.bytes"},
		{"unknown topic", "nope", []kadm.AlterConfig{{Name: "retention.ms", Value: kmsg.StringPtr("1")}}, kerr.UnknownTopicOrPartition, ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := adm.AlterTopicConfigsState(ctxT(t), tc.configs, tc.topic)
			if err != nil {
				t.Fatal(err)
			}
			if resp[0].Err != tc.want || !strings.Contains(resp[0].ErrMessage, tc.mention) {
				t.Fatalf("%v %q, want %v naming %q", resp[0].Err, resp[0].ErrMessage, tc.want, tc.mention)
			}
		})
	}
	if c := topicConfig(t, adm, "replaced", "segment.bytes"); c.MaybeValue() != "1048576" {
		t.Fatalf("refused AlterConfigs changed segment.bytes to %q", c.MaybeValue())
	}
}

// valueBatchNoKey is a one-record batch whose record has no key.
func valueBatchNoKey(t *testing.T) []byte {
	t.Helper()
	now := time.Now().UnixMilli()
	b, err := record.Build(record.Header{Magic: 2, BaseTimestamp: now, MaxTimestamp: now, ProducerID: -1, ProducerEpoch: -1,
		BaseSequence: -1, NumRecords: 1}, []record.Record{{Value: []byte("no key")}}, record.None)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIncrementalAlterConfigs(t *testing.T) {
	b := testkit.StartBroker(t)
	adm := admin(t, b.Addr)
	createTopic(t, b.Addr, "inc", 1, nil)
	createTopic(t, b.Addr, "pinned", 1, map[string]*string{"max.message.bytes": kmsg.StringPtr("1048588")})

	alter := func(op kadm.IncrementalOp, name string, value *string) error {
		t.Helper()
		resp, err := adm.AlterTopicConfigs(ctxT(t), []kadm.AlterConfig{{Op: op, Name: name, Value: value}}, "inc")
		if err != nil {
			t.Fatal(err)
		}
		return resp[0].Err
	}
	steps := []struct {
		op     kadm.IncrementalOp
		value  *string
		want   string
		source kmsg.ConfigSource
	}{
		{kadm.AppendConfig, kmsg.StringPtr("compact"), "delete,compact", kmsg.ConfigSourceDynamicTopicConfig},
		{kadm.AppendConfig, kmsg.StringPtr("compact"), "delete,compact", kmsg.ConfigSourceDynamicTopicConfig},
		{kadm.SubtractConfig, kmsg.StringPtr("delete"), "compact", kmsg.ConfigSourceDynamicTopicConfig},
		{kadm.SetConfig, kmsg.StringPtr("delete"), "delete", kmsg.ConfigSourceDynamicTopicConfig},
		{kadm.DeleteConfig, nil, "delete", kmsg.ConfigSourceDefaultConfig},
	}
	for i, s := range steps {
		if err := alter(s.op, "cleanup.policy", s.value); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if c := topicConfig(t, adm, "inc", "cleanup.policy"); c.MaybeValue() != s.want || c.Source != s.source {
			t.Fatalf("step %d: cleanup.policy = %q from %v, want %q from %v", i, c.MaybeValue(), c.Source, s.want, s.source)
		}
	}

	t.Run("validate only changes nothing", func(t *testing.T) {
		resp, err := adm.ValidateAlterTopicConfigs(ctxT(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kmsg.StringPtr("5")}}, "inc")
		if err != nil || resp[0].Err != nil {
			t.Fatalf("validate: %v %+v", err, resp)
		}
		if c := topicConfig(t, adm, "inc", "retention.ms"); c.Source != kmsg.ConfigSourceDefaultConfig {
			t.Fatalf("validate-only set retention.ms to %q", c.MaybeValue())
		}
	})
	t.Run("bad input", func(t *testing.T) {
		cases := []struct {
			name    string
			configs []kadm.AlterConfig
			want    *kerr.Error
			mention string
		}{
			{"unknown key", []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "cleanup.polcy", Value: kmsg.StringPtr("compact")}}, kerr.InvalidConfig, "cleanup.polcy"},
			{"bad value", []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kmsg.StringPtr("forever")}}, kerr.InvalidConfig, "retention.ms"},
			{"bad list element", []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: kmsg.StringPtr("shred")}}, kerr.InvalidConfig, "cleanup.policy"},
			{"append to a non-list", []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "retention.ms", Value: kmsg.StringPtr("5")}}, kerr.InvalidRequest, "retention.ms"},
			{"set without value", []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms"}}, kerr.InvalidRequest, "retention.ms"},
			{"one bad change fails all", []kadm.AlterConfig{
				{Op: kadm.SetConfig, Name: "retention.ms", Value: kmsg.StringPtr("5")},
				{Op: kadm.SetConfig, Name: "segment.bytes", Value: kmsg.StringPtr("tiny")},
			}, kerr.InvalidConfig, "segment.bytes"},
		}
		for _, tc := range cases {
			resp, err := adm.AlterTopicConfigs(ctxT(t), tc.configs, "inc")
			if err != nil {
				t.Fatal(err)
			}
			if resp[0].Err != tc.want || !strings.Contains(resp[0].ErrMessage, tc.mention) {
				t.Fatalf("%s: %v %q, want %v naming %s", tc.name, resp[0].Err, resp[0].ErrMessage, tc.want, tc.mention)
			}
		}
		if c := topicConfig(t, adm, "inc", "retention.ms"); c.Source != kmsg.ConfigSourceDefaultConfig {
			t.Fatalf("a refused change set retention.ms to %q", c.MaybeValue())
		}
		resp, err := adm.AlterTopicConfigs(ctxT(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kmsg.StringPtr("5")}}, "nope")
		if err != nil || resp[0].Err != kerr.UnknownTopicOrPartition {
			t.Fatalf("unknown topic: %v %+v", err, resp)
		}
		// An operation code outside 0..3.
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		req.Version = 1
		rr := kmsg.NewIncrementalAlterConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeTopic, "inc"
		rc := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		rc.Name, rc.Op, rc.Value = "retention.ms", 9, kmsg.StringPtr("5")
		rr.Configs = append(rr.Configs, rc)
		req.Resources = append(req.Resources, rr)
		if code := roundTrip(t, b.Addr, req).(*kmsg.IncrementalAlterConfigsResponse).Resources[0].ErrorCode; code != kerr.InvalidRequest.Code {
			t.Fatalf("operation 9: %v", kerr.ErrorForCode(code))
		}
	})

	// A dynamic broker default reaches every topic without its own value,
	// at once and after a restart.
	resp, err := adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "message.max.bytes", Value: kmsg.StringPtr("1024")}})
	if err != nil || resp[0].Err != nil {
		t.Fatalf("set message.max.bytes: %v %+v", err, resp)
	}
	checkLimit := func() {
		t.Helper()
		if c := topicConfig(t, adm, "inc", "max.message.bytes"); c.MaybeValue() != "1024" || c.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
			t.Fatalf("max.message.bytes = %q from %v", c.MaybeValue(), c.Source)
		}
		if got := produceRaw(t, b.Addr, "inc", -1, testBatch(t, 1, 2000)); got.ErrorCode != kerr.MessageTooLarge.Code {
			t.Fatalf("2 KB batch under a 1 KB dynamic limit: %v", kerr.ErrorForCode(got.ErrorCode))
		}
		if got := produceRaw(t, b.Addr, "pinned", -1, testBatch(t, 1, 2000)); got.ErrorCode != 0 {
			t.Fatalf("topic with its own max.message.bytes: %v", kerr.ErrorForCode(got.ErrorCode))
		}
	}
	checkLimit()
	b.Restart()
	adm = admin(t, b.Addr)
	checkLimit()

	t.Run("broker bad input", func(t *testing.T) {
		cases := []struct {
			name    string
			configs []kadm.AlterConfig
			brokers []int32
			want    *kerr.Error
			mention string
		}{
			{"read-only key", []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "num.partitions", Value: kmsg.StringPtr("4")}}, nil, kerr.InvalidRequest, "num.partitions"},
			{"bad value", []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: kmsg.StringPtr("x")}}, nil, kerr.InvalidConfig, "log.retention.ms"},
			{"append", []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "log.cleanup.policy", Value: kmsg.StringPtr("compact")}}, nil, kerr.InvalidRequest, "log.cleanup.policy"},
		}
		for _, tc := range cases {
			resp, err := adm.AlterBrokerConfigs(ctxT(t), tc.configs, tc.brokers...)
			if err != nil {
				t.Fatal(err)
			}
			if resp[0].Err != tc.want || !strings.Contains(resp[0].ErrMessage, tc.mention) {
				t.Fatalf("%s: %v %q, want %v naming %s", tc.name, resp[0].Err, resp[0].ErrMessage, tc.want, tc.mention)
			}
		}
		// A broker id other than this node's (kadm cannot route it).
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		req.Version = 1
		rr := kmsg.NewIncrementalAlterConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeBroker, "4"
		rc := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		rc.Name, rc.Op, rc.Value = "log.retention.ms", kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr("1")
		rr.Configs = append(rr.Configs, rc)
		req.Resources = append(req.Resources, rr)
		got := roundTrip(t, b.Addr, req).(*kmsg.IncrementalAlterConfigsResponse).Resources[0]
		if got.ErrorCode != kerr.InvalidRequest.Code || !strings.Contains(errMsg(got.ErrorMessage), `"4"`) {
			t.Fatalf("broker 4: %v %q", kerr.ErrorForCode(got.ErrorCode), errMsg(got.ErrorMessage))
		}
		if c := topicConfig(t, adm, "inc", "retention.ms"); c.Source != kmsg.ConfigSourceDefaultConfig {
			t.Fatalf("a refused broker change set retention.ms to %q from %v", c.MaybeValue(), c.Source)
		}
	})
}

// Describing configs while the dynamic broker defaults change is safe (the
// race detector watches this test).
func TestBrokerConfigChangesDuringDescribe(t *testing.T) {
	b := testkit.StartBroker(t)
	adm := admin(t, b.Addr)
	createTopic(t, b.Addr, "watched", 1, nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 30; i++ {
			adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: kmsg.StringPtr(fmt.Sprint(60000 + i))}})
		}
	}()
	for i := 0; i < 30; i++ {
		if _, err := adm.DescribeTopicConfigs(ctxT(t), "watched"); err != nil {
			t.Fatal(err)
		}
		if _, err := adm.DescribeBrokerConfigs(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if _, err := adm.CreateTopics(ctxT(t), 1, 1, nil, fmt.Sprintf("during-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if c := topicConfig(t, adm, "watched", "retention.ms"); c.MaybeValue() != "60029" {
		t.Fatalf("after the last change retention.ms = %q", c.MaybeValue())
	}
}

func TestDeleteRecords(t *testing.T) {
	b := testkit.StartBroker(t)
	adm := admin(t, b.Addr)
	cl := testkit.Client(t, b.Addr)
	createTopic(t, b.Addr, "trimmed", 1, map[string]*string{"segment.bytes": kmsg.StringPtr("1024")})
	for i := 0; i < 10; i++ {
		produceTo(t, b.Addr, "trimmed", 0, testBatch(t, 1, 200))
	}

	var o kadm.Offsets
	o.AddOffset("trimmed", 0, 4, -1)
	resp, err := adm.DeleteRecords(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := resp.Lookup("trimmed", 0); r.Err != nil || r.LowWatermark != 4 {
		t.Fatalf("delete records before 4: %v, low watermark %d", r.Err, r.LowWatermark)
	}
	check := func() {
		t.Helper()
		if start := listStart(t, cl, "trimmed"); start != 4 {
			t.Fatalf("log start %d, want 4", start)
		}
		p := fetchPart{topic: "trimmed", offset: 2, maxBytes: 1 << 20}
		if fp := fetchedPart(fetchRaw(t, b.Addr, newFetch(12, 0, 1, 1<<20, p)), p); fp == nil || fp.ErrorCode != kerr.OffsetOutOfRange.Code || fp.LogStartOffset != 4 {
			t.Fatalf("fetch below the log start: %+v", fp)
		}
		p.offset = 4
		recs := decodeBatches(t, mustPart(t, fetchRaw(t, b.Addr, newFetch(12, 0, 1, 1<<20, p)), p).RecordBatches)
		if len(recs) == 0 || recs[0].offset != 4 {
			t.Fatalf("fetch at the log start: first offset %v", offsetsOf(recs))
		}
	}
	check()
	b.Restart()
	check()
	cl = testkit.Client(t, b.Addr)
	adm = admin(t, b.Addr)

	// Deleting below the current start changes nothing; -1 means the high
	// watermark.
	raw := func(partition int32, offset int64) kmsg.DeleteRecordsResponseTopicPartition {
		req := kmsg.NewPtrDeleteRecordsRequest()
		req.Version = 2
		req.TimeoutMillis = 5000
		rt := kmsg.NewDeleteRecordsRequestTopic()
		rt.Topic = "trimmed"
		rp := kmsg.NewDeleteRecordsRequestTopicPartition()
		rp.Partition, rp.Offset = partition, offset
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return roundTrip(t, b.Addr, req).(*kmsg.DeleteRecordsResponse).Topics[0].Partitions[0]
	}
	if r := raw(0, 2); r.ErrorCode != 0 || r.LowWatermark != 4 {
		t.Fatalf("delete below the start: %v, low watermark %d", kerr.ErrorForCode(r.ErrorCode), r.LowWatermark)
	}
	for _, tc := range []struct {
		name      string
		partition int32
		offset    int64
		want      *kerr.Error
	}{
		{"past the high watermark", 0, 11, kerr.OffsetOutOfRange},
		{"negative", 0, -2, kerr.OffsetOutOfRange},
		{"unknown partition", 1, 0, kerr.UnknownTopicOrPartition},
	} {
		if r := raw(tc.partition, tc.offset); r.ErrorCode != tc.want.Code {
			t.Fatalf("%s: %v, want %v", tc.name, kerr.ErrorForCode(r.ErrorCode), tc.want)
		}
	}
	if start := listStart(t, cl, "trimmed"); start != 4 {
		t.Fatalf("refused deletes moved the log start to %d", start)
	}
	if r := raw(0, -1); r.ErrorCode != 0 || r.LowWatermark != 10 {
		t.Fatalf("delete to the high watermark: %v, low watermark %d", kerr.ErrorForCode(r.ErrorCode), r.LowWatermark)
	}
	if off := produceTo(t, b.Addr, "trimmed", 0, valueBatch(t, "after")); off != 10 {
		t.Fatalf("append after emptying the log at %d, want 10", off)
	}
}

func TestOffsetForLeaderEpoch(t *testing.T) {
	b := testkit.StartBroker(t)
	adm := admin(t, b.Addr)
	createTopic(t, b.Addr, "epochs", 2, nil)
	for i := 0; i < 5; i++ {
		produceTo(t, b.Addr, "epochs", 0, valueBatch(t, "x"))
	}
	var req kadm.OffsetForLeaderEpochRequest
	req.Add("epochs", 0, 0)
	req.Add("epochs", 1, 0)
	resp, err := adm.OffsetForLeaderEpoch(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{0: 5, 1: 0}
	for p, end := range want {
		r := resp["epochs"][p]
		if r.Err != nil || r.LeaderEpoch != 0 || r.EndOffset != end {
			t.Fatalf("partition %d: %v, epoch %d, end %d (want 0, %d)", p, r.Err, r.LeaderEpoch, r.EndOffset, end)
		}
	}

	raw := func(topic string, partition, current, epoch int32) kmsg.OffsetForLeaderEpochResponseTopicPartition {
		req := kmsg.NewPtrOffsetForLeaderEpochRequest()
		req.Version = 4
		req.ReplicaID = -1
		rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = partition, current, epoch
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return roundTrip(t, b.Addr, req).(*kmsg.OffsetForLeaderEpochResponse).Topics[0].Partitions[0]
	}
	if r := raw("epochs", 0, -1, 3); r.ErrorCode != 0 || r.LeaderEpoch != -1 || r.EndOffset != -1 {
		t.Fatalf("a later epoch: %v, epoch %d, end %d; want undefined (-1, -1)", kerr.ErrorForCode(r.ErrorCode), r.LeaderEpoch, r.EndOffset)
	}
	for _, tc := range []struct {
		name              string
		topic             string
		partition, curEpc int32
		want              *kerr.Error
	}{
		{"current epoch from the future", "epochs", 0, 2, kerr.UnknownLeaderEpoch},
		{"unknown partition", "epochs", 2, -1, kerr.UnknownTopicOrPartition},
		{"unknown topic", "nope", 0, -1, kerr.UnknownTopicOrPartition},
	} {
		if r := raw(tc.topic, tc.partition, tc.curEpc, 0); r.ErrorCode != tc.want.Code {
			t.Fatalf("%s: %v, want %v", tc.name, kerr.ErrorForCode(r.ErrorCode), tc.want)
		}
	}
}

func TestDescribeCluster(t *testing.T) {
	b := testkit.StartBroker(t)
	for v := int16(0); v <= 1; v++ {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.Version = v
		req.EndpointType = 1
		resp := roundTrip(t, b.Addr, req).(*kmsg.DescribeClusterResponse)
		if resp.ErrorCode != 0 || resp.ClusterID != b.ClusterID() || resp.ControllerID != 0 || len(resp.Brokers) != 1 {
			t.Fatalf("v%d: %v cluster %q controller %d brokers %+v", v, kerr.ErrorForCode(resp.ErrorCode), resp.ClusterID, resp.ControllerID, resp.Brokers)
		}
		br := resp.Brokers[0]
		if addr := fmt.Sprintf("%s:%d", br.Host, br.Port); br.NodeID != 0 || addr != b.Addr {
			t.Fatalf("v%d: broker %d at %s, want 0 at %s", v, br.NodeID, addr, b.Addr)
		}
	}
	req := kmsg.NewPtrDescribeClusterRequest()
	req.Version = 1
	req.EndpointType = 7
	if resp := roundTrip(t, b.Addr, req).(*kmsg.DescribeClusterResponse); resp.ErrorCode != kerr.UnsupportedEndpointType.Code {
		t.Fatalf("endpoint type 7: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
}

func TestDescribeLogDirs(t *testing.T) {
	b := testkit.StartBroker(t)
	adm := admin(t, b.Addr)
	createTopic(t, b.Addr, "sized", 2, nil)
	size := func(p int32) int64 {
		t.Helper()
		all, err := adm.DescribeAllLogDirs(ctxT(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		dirs := all[0]
		if len(dirs) != 1 {
			t.Fatalf("%d log dirs, want the one data dir", len(dirs))
		}
		for _, d := range dirs {
			if d.Err != nil || d.TotalBytes <= 0 || d.UsableBytes <= 0 {
				t.Fatalf("dir %s: %v, total %d, usable %d", d.Dir, d.Err, d.TotalBytes, d.UsableBytes)
			}
			dp, ok := d.Topics.Lookup("sized", p)
			if !ok {
				t.Fatalf("dir %s lacks sized[%d]", d.Dir, p)
			}
			return dp.Size
		}
		return 0
	}
	before := size(0)
	batch := testBatch(t, 10, 100)
	produceTo(t, b.Addr, "sized", 0, batch)
	if after := size(0); after != before+int64(len(batch)) {
		t.Fatalf("partition size %d after a %d-byte batch, was %d", after, len(batch), before)
	}
	if other := size(1); other != before {
		t.Fatalf("untouched partition grew to %d", other)
	}

	req := kmsg.NewPtrDescribeLogDirsRequest()
	req.Version = 4
	for _, name := range []string{"sized", "nope"} {
		rt := kmsg.NewDescribeLogDirsRequestTopic()
		rt.Topic, rt.Partitions = name, []int32{1, 5}
		req.Topics = append(req.Topics, rt)
	}
	resp := roundTrip(t, b.Addr, req).(*kmsg.DescribeLogDirsResponse)
	if len(resp.Dirs) != 1 || len(resp.Dirs[0].Topics) != 1 {
		t.Fatalf("describe sized[1,5] and nope: %+v", resp.Dirs)
	}
	if got := resp.Dirs[0].Topics[0]; got.Topic != "sized" || len(got.Partitions) != 1 || got.Partitions[0].Partition != 1 {
		t.Fatalf("described %+v, want only sized[1]", got)
	}
}

func TestDescribeTopicPartitionsPages(t *testing.T) {
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "dtp-a", 3, nil)
	createTopic(t, b.Addr, "dtp-b", 2, nil)
	createTopic(t, b.Addr, "dtp-c", 1, nil)

	describe := func(names []string, limit int32, cursor *kmsg.DescribeTopicPartitionsRequestCursor) *kmsg.DescribeTopicPartitionsResponse {
		t.Helper()
		req := kmsg.NewPtrDescribeTopicPartitionsRequest()
		req.ResponsePartitionLimit = limit
		req.Cursor = cursor
		for _, n := range names {
			rt := kmsg.NewDescribeTopicPartitionsRequestTopic()
			rt.Topic = n
			req.Topics = append(req.Topics, rt)
		}
		return roundTrip(t, b.Addr, req).(*kmsg.DescribeTopicPartitionsResponse)
	}
	page := func(resp *kmsg.DescribeTopicPartitionsResponse) []string {
		var out []string
		for _, rt := range resp.Topics {
			if rt.ErrorCode != 0 {
				out = append(out, fmt.Sprintf("%s:%s", *rt.Topic, kerr.ErrorForCode(rt.ErrorCode).(*kerr.Error).Message))
				continue
			}
			for _, p := range rt.Partitions {
				if p.LeaderID != 0 || !slices.Equal(p.Replicas, []int32{0}) {
					t.Fatalf("%s[%d]: leader %d replicas %v", *rt.Topic, p.Partition, p.LeaderID, p.Replicas)
				}
				out = append(out, fmt.Sprintf("%s/%d", *rt.Topic, p.Partition))
			}
		}
		return out
	}
	cursorOf := func(resp *kmsg.DescribeTopicPartitionsResponse) *kmsg.DescribeTopicPartitionsRequestCursor {
		if resp.NextCursor == nil {
			return nil
		}
		return &kmsg.DescribeTopicPartitionsRequestCursor{Topic: resp.NextCursor.Topic, Partition: resp.NextCursor.Partition}
	}

	names := []string{"dtp-c", "dtp-a", "dtp-b"}
	var all [][]string
	var cursor *kmsg.DescribeTopicPartitionsRequestCursor
	for i := 0; ; i++ {
		if i > 5 {
			t.Fatalf("pagination does not end: %v", all)
		}
		resp := describe(names, 2, cursor)
		all = append(all, page(resp))
		if cursor = cursorOf(resp); cursor == nil {
			break
		}
	}
	want := [][]string{{"dtp-a/0", "dtp-a/1"}, {"dtp-a/2", "dtp-b/0"}, {"dtp-b/1", "dtp-c/0"}}
	if fmt.Sprint(all) != fmt.Sprint(want) {
		t.Fatalf("pages %v, want %v", all, want)
	}

	// A page that ends exactly at a topic's end says where the next starts
	// and does not list that next topic empty.
	resp := describe(names, 3, nil)
	if got := page(resp); fmt.Sprint(got) != "[dtp-a/0 dtp-a/1 dtp-a/2]" {
		t.Fatalf("limit 3: %v", got)
	}
	if len(resp.Topics) != 1 || resp.NextCursor == nil || resp.NextCursor.Topic != "dtp-b" || resp.NextCursor.Partition != 0 {
		t.Fatalf("limit 3: %d topics, cursor %+v; want dtp-a only and cursor dtp-b/0", len(resp.Topics), resp.NextCursor)
	}

	// A cursor must name a requested topic and a partition >= 0; otherwise
	// every topic of the request is INVALID_REQUEST, as in Kafka.
	for _, c := range []kmsg.DescribeTopicPartitionsRequestCursor{{Topic: "dtp-z", Partition: 0}, {Topic: "dtp-b", Partition: -1}} {
		resp := describe(names, 0, &c)
		if len(resp.Topics) != len(names) || resp.NextCursor != nil {
			t.Fatalf("cursor %s/%d: %d topics, cursor %+v", c.Topic, c.Partition, len(resp.Topics), resp.NextCursor)
		}
		for _, rt := range resp.Topics {
			if rt.ErrorCode != kerr.InvalidRequest.Code || len(rt.Partitions) != 0 {
				t.Fatalf("cursor %s/%d: topic %s %v with %d partitions", c.Topic, c.Partition, *rt.Topic, kerr.ErrorForCode(rt.ErrorCode), len(rt.Partitions))
			}
		}
	}

	// Every topic when none is named; unknown topics are reported.
	if got := page(describe(nil, 0, nil)); len(got) != 6 {
		t.Fatalf("all topics: %v", got)
	}
	if got := page(describe([]string{"dtp-c", "ghost"}, 0, nil)); fmt.Sprint(got) != "[dtp-c/0 ghost:UNKNOWN_TOPIC_OR_PARTITION]" {
		t.Fatalf("with an unknown topic: %v", got)
	}
}

func metadataRaw(t *testing.T, addr string, version int16, allowAuto bool, topics []string) *kmsg.MetadataResponse {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.Version = version
	req.AllowAutoTopicCreation = allowAuto
	if topics != nil {
		req.Topics = []kmsg.MetadataRequestTopic{}
		for _, n := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(n)
			req.Topics = append(req.Topics, rt)
		}
	}
	return roundTrip(t, addr, req).(*kmsg.MetadataResponse)
}

func topicNames(resp *kmsg.MetadataResponse) []string {
	var out []string
	for _, rt := range resp.Topics {
		if rt.Topic != nil {
			out = append(out, *rt.Topic)
		}
	}
	slices.Sort(out)
	return out
}

func TestMetadataAutoCreate(t *testing.T) {
	b := testkit.StartBroker(t, testkit.WithConfig("num.partitions", "2"))
	// v4+ creates only when the request allows it; v0-v3 always may.
	for _, tc := range []struct {
		version int16
		allow   bool
		topic   string
		created bool
	}{
		{12, false, "auto-denied", false},
		{12, true, "auto-v12", true},
		{4, true, "auto-v4", true},
		{3, false, "auto-v3", true},
		{0, false, "auto-v0", true},
	} {
		resp := metadataRaw(t, b.Addr, tc.version, tc.allow, []string{tc.topic})
		rt := resp.Topics[0]
		if tc.created {
			if rt.ErrorCode != 0 || len(rt.Partitions) != 2 {
				t.Fatalf("v%d %s: %v with %d partitions, want created with num.partitions=2", tc.version, tc.topic, kerr.ErrorForCode(rt.ErrorCode), len(rt.Partitions))
			}
			if p := rt.Partitions[1]; p.Leader != 0 || !slices.Equal(p.ISR, []int32{0}) {
				t.Fatalf("v%d %s: partition 1 leader %d isr %v", tc.version, tc.topic, p.Leader, p.ISR)
			}
		} else if rt.ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("v%d %s without permission: %v", tc.version, tc.topic, kerr.ErrorForCode(rt.ErrorCode))
		}
	}
	if n := partitionCount(t, b.Addr, "auto-denied"); n != -1 {
		t.Fatalf("topic created although the request did not allow it")
	}
	if rt := metadataRaw(t, b.Addr, 12, true, []string{"bad name!"}).Topics[0]; rt.ErrorCode != kerr.InvalidTopicException.Code {
		t.Fatalf("auto-create of an invalid name: %v", kerr.ErrorForCode(rt.ErrorCode))
	}

	// franz-go's producer creates the topic it produces to.
	cl := testkit.Client(t, b.Addr, kgo.AllowAutoTopicCreation())
	if err := cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "auto-franz", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if n := partitionCount(t, b.Addr, "auto-franz"); n != 2 {
		t.Fatalf("auto-created by produce: %d partitions", n)
	}

	off := testkit.StartBroker(t, testkit.WithConfig("auto.create.topics.enable", "false"))
	for _, v := range []int16{0, 3, 12} {
		if rt := metadataRaw(t, off.Addr, v, true, []string{"never"}).Topics[0]; rt.ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("v%d with auto.create.topics.enable=false: %v", v, kerr.ErrorForCode(rt.ErrorCode))
		}
	}
	if n := partitionCount(t, off.Addr, "never"); n != -1 {
		t.Fatalf("auto.create.topics.enable=false created a topic")
	}
}

func TestMetadataTopicLists(t *testing.T) {
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "meta-a", 1, nil)
	createTopic(t, b.Addr, "meta-b", 3, nil)
	cl := testkit.Client(t, b.Addr)
	all := []string{"meta-a", "meta-b"}

	// v0: an empty list means every topic.
	if got := topicNames(metadataRaw(t, b.Addr, 0, false, []string{})); !slices.Equal(got, all) {
		t.Fatalf("v0 empty list: %v", got)
	}
	// v1+: null means every topic, an empty list none.
	for _, v := range []int16{1, 4, 9, 12, 13} {
		if got := topicNames(metadataRaw(t, b.Addr, v, false, nil)); !slices.Equal(got, all) {
			t.Fatalf("v%d null list: %v", v, got)
		}
		resp := metadataRaw(t, b.Addr, v, false, []string{})
		if len(resp.Topics) != 0 || len(resp.Brokers) != 1 {
			t.Fatalf("v%d empty list: %d topics, %d brokers", v, len(resp.Topics), len(resp.Brokers))
		}
		if br := resp.Brokers[0]; fmt.Sprintf("%s:%d", br.Host, br.Port) != b.Addr {
			t.Fatalf("v%d advertises %s:%d, want %s", v, br.Host, br.Port, b.Addr)
		}
	}

	// Topic ids: a known id resolves, an unknown one is UNKNOWN_TOPIC_ID.
	id := topicID(t, cl, "meta-b")
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	for _, tid := range [][16]byte{id, {7, 7, 7}} {
		rt := kmsg.NewMetadataRequestTopic()
		rt.TopicID = tid
		req.Topics = append(req.Topics, rt)
	}
	resp := roundTrip(t, b.Addr, req).(*kmsg.MetadataResponse)
	if len(resp.Topics) != 2 {
		t.Fatalf("by id: %d topics", len(resp.Topics))
	}
	if rt := resp.Topics[0]; rt.ErrorCode != 0 || rt.Topic == nil || *rt.Topic != "meta-b" || len(rt.Partitions) != 3 {
		t.Fatalf("known id: %v %v", kerr.ErrorForCode(rt.ErrorCode), rt.Topic)
	}
	if rt := resp.Topics[1]; rt.ErrorCode != kerr.UnknownTopicID.Code || rt.TopicID != [16]byte{7, 7, 7} {
		t.Fatalf("unknown id: %v", kerr.ErrorForCode(rt.ErrorCode))
	}
}

// Topic metadata, configs and data survive a clean restart, ids unchanged.
func TestTopicsSurviveRestart(t *testing.T) {
	b := testkit.StartBroker(t)
	adm := admin(t, b.Addr)
	createTopic(t, b.Addr, "lasting", 3, map[string]*string{"retention.ms": kmsg.StringPtr("123456"), "cleanup.policy": kmsg.StringPtr("compact,delete")})
	createTopic(t, b.Addr, "gone", 1, nil)
	cl := testkit.Client(t, b.Addr)
	id := topicID(t, cl, "lasting")
	for p := int32(0); p < 3; p++ {
		produceTo(t, b.Addr, "lasting", p, valueBatch(t, fmt.Sprint("value-", p)))
	}
	if resp, err := adm.DeleteTopics(ctxT(t), "gone"); err != nil || resp["gone"].Err != nil {
		t.Fatalf("delete: %v %+v", err, resp)
	}
	b.Restart()
	adm = admin(t, b.Addr)
	cl = testkit.Client(t, b.Addr)

	if n := partitionCount(t, b.Addr, "lasting"); n != 3 {
		t.Fatalf("after restart: %d partitions", n)
	}
	if n := partitionCount(t, b.Addr, "gone"); n != -1 {
		t.Fatalf("deleted topic came back with %d partitions", n)
	}
	if got := topicID(t, cl, "lasting"); got != id {
		t.Fatalf("topic id changed across restart: %x -> %x", id, got)
	}
	if c := topicConfig(t, adm, "lasting", "retention.ms"); c.MaybeValue() != "123456" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("retention.ms after restart: %q from %v", c.MaybeValue(), c.Source)
	}
	if c := topicConfig(t, adm, "lasting", "cleanup.policy"); c.MaybeValue() != "compact,delete" {
		t.Fatalf("cleanup.policy after restart: %q", c.MaybeValue())
	}
	// Still compacted: a keyless record is refused.
	if got := produceRaw(t, b.Addr, "lasting", -1, valueBatchNoKey(t)); got.ErrorCode != kerr.InvalidRecord.Code {
		t.Fatalf("keyless record to a compacted topic after restart: %v", kerr.ErrorForCode(got.ErrorCode))
	}
	got := readPartitions(t, b.Addr, "lasting", 3)
	for p := int32(0); p < 3; p++ {
		if got[p][0] != fmt.Sprint("value-", p) {
			t.Fatalf("partition %d after restart: %v", p, got[p])
		}
	}
}
