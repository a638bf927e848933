package mysqlcdc

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect/connecttest"
	_ "github.com/tributary-streams/tributary/connect/transforms"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// TestConformance runs connect's conformance suite: each run captures its
// own table, whose topic a RegexRouter renames to the suite's topic.
func TestConformance(t *testing.T) {
	m := testkit.StartMariaDB(t)
	broker := testkit.StartBroker(t)
	t.Setenv(testkit.BootstrapEnv, broker.Addr)
	m.Exec(t, "CREATE DATABASE conf")
	var runs, next atomic.Int64
	table := func() string { return fmt.Sprintf("t%d", runs.Load()) }
	connecttest.RunSource(t, connecttest.Source{
		Config: func(t *testing.T, topic string) map[string]string {
			n := runs.Add(1)
			m.Exec(t, fmt.Sprintf("CREATE TABLE conf.t%d (id INT PRIMARY KEY, v VARCHAR(20))", n))
			return map[string]string{
				"connector.class": "mysql-cdc", keyHostname: m.Host, keyPort: itoa(m.Port), keyUser: m.User, keyPassword: m.Password,
				keyTopicPrefix: fmt.Sprintf("conf%d", n), keyTableInclude: fmt.Sprintf(`conf\.t%d`, n),
				keyHistoryBootstrap: broker.Addr, keyHistoryTopic: fmt.Sprintf("conf%d-history", n),
				"transforms": "route", "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
				"transforms.route.regex": fmt.Sprintf(`conf%d\.conf\.t%d`, n, n), "transforms.route.replacement": topic,
			}
		},
		Produce: func(t *testing.T, n int) []string {
			var ids []string
			for i := 0; i < n; i++ {
				id := next.Add(1)
				m.Exec(t, fmt.Sprintf("INSERT INTO conf.%s VALUES (%d, 'v%d')", table(), id, id))
				ids = append(ids, fmt.Sprint(id))
			}
			return ids
		},
		ID: func(r *kgo.Record) (string, bool) {
			var v struct {
				Payload struct {
					After *struct {
						ID int64 `json:"id"`
					} `json:"after"`
				} `json:"payload"`
			}
			if r.Value == nil || json.Unmarshal(r.Value, &v) != nil || v.Payload.After == nil {
				return "", false
			}
			return fmt.Sprint(v.Payload.After.ID), true
		},
		BadConfigs: []connecttest.BadConfig{
			{Name: "bad snapshot.mode", Config: map[string]string{"connector.class": "mysql-cdc", keyHostname: "h", keyUser: "u", keyTopicPrefix: "p",
				keyHistoryBootstrap: "b:1", keyHistoryTopic: "h", keySnapshotMode: "sometimes"}, Keys: []string{keySnapshotMode}},
			{Name: "include and exclude", Config: map[string]string{"connector.class": "mysql-cdc", keyHostname: "h", keyUser: "u", keyTopicPrefix: "p",
				keyHistoryBootstrap: "b:1", keyHistoryTopic: "h", keyTableInclude: "a", keyTableExclude: "b"}, Keys: []string{keyTableExclude}},
		},
		Timeout: 60 * time.Second,
	})
}
