package mysqlcdc

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tributary-streams/tributary/connectors/internal/standalone"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// TestBadInputFailsConnector runs each misconfiguration in a worker: the
// connector's status is FAILED with a trace naming the fix, and nothing
// reaches the table topic.
func TestBadInputFailsConnector(t *testing.T) {
	broker := testkit.StartBroker(t)
	good := testkit.StartMariaDB(t)
	good.Exec(t, "CREATE DATABASE shop", "CREATE TABLE shop.nokey (a INT, b TEXT)", "INSERT INTO shop.nokey VALUES (1, 'x')")
	off := testkit.StartMariaDB(t, testkit.WithoutBinlog())
	stmt := testkit.StartMariaDB(t, testkit.WithBinlogFormat("STATEMENT"))
	for _, m := range []*testkit.MariaDB{off, stmt} {
		m.Exec(t, "CREATE DATABASE shop", "CREATE TABLE shop.items (id INT PRIMARY KEY)", "INSERT INTO shop.items VALUES (1)")
	}
	for i, tc := range []struct {
		name  string
		m     *testkit.MariaDB
		extra []string
		fix   string
	}{
		{"wrong credentials", good, []string{keyPassword, "wrong"}, "check database.user and database.password"},
		{"binlog off", off, nil, "--log-bin"},
		{"statement format", stmt, nil, "binlog_format=ROW"},
		{"table without a primary key", good, nil, "message.key.columns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := taskConfig(tc.m, broker.Addr, tc.extra...)
			cfg["name"] = fmt.Sprintf("bad-%d", i)
			cfg[keyTopicPrefix] = fmt.Sprintf("bad%d", i)
			w := standalone.InProcess(t, broker.Addr, cfg)
			trace := standalone.WaitFailed(t, w, cfg["name"], -1, tc.fix)
			if strings.Contains(trace, testkit.MariaDBRootPassword) {
				t.Errorf("the trace shows the password: %s", trace)
			}
			topics, err := testkit.Admin(t, broker.Addr).ListTopics(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for name := range topics {
				if strings.HasPrefix(name, cfg[keyTopicPrefix]+".") {
					t.Errorf("topic %s was created", name)
				}
			}
		})
	}
}
