package mysqlcdc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect/worker"
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
			wcfg := worker.Defaults()
			wcfg.BootstrapServers = []string{broker.Addr}
			wcfg.RestListen = "127.0.0.1:0"
			wcfg.OffsetStorageFile = t.TempDir() + "/offsets"
			wcfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			w, err := worker.StartStandalone(context.Background(), wcfg, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			testkit.Eventually(t, 30*time.Second, func() error {
				st, err := w.Status(cfg["name"])
				if err != nil {
					return err
				}
				if st.Connector.State != "FAILED" || !strings.Contains(st.Connector.Trace, tc.fix) {
					return fmt.Errorf("status %s, trace %q; want FAILED naming %q", st.Connector.State, st.Connector.Trace, tc.fix)
				}
				if strings.Contains(st.Connector.Trace, testkit.MariaDBRootPassword) {
					return fmt.Errorf("the trace shows the password: %s", st.Connector.Trace)
				}
				return nil
			})
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
