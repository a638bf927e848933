package mysqlcdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// taskContext is a SourceTaskContext over an in-memory offset store.
type taskContext struct {
	mu      sync.Mutex
	offsets map[string]map[string]any
}

func (c *taskContext) Offset(partition map[string]any) (map[string]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offsets[partition["server"].(string)], nil
}

func (c *taskContext) Logger() *slog.Logger { return testLogger() }

// commit stores the offset of the last record, as the runtime does once
// the records are in Kafka; integers read back as int64.
func (c *taskContext) commit(recs []connect.SourceRecord) {
	if len(recs) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.offsets == nil {
		c.offsets = map[string]map[string]any{}
	}
	last := recs[len(recs)-1]
	c.offsets[last.SourcePartition["server"].(string)] = last.SourceOffset
}

func taskConfig(m *testkit.MariaDB, broker string, extra ...string) map[string]string {
	cfg := map[string]string{
		"name": "cdc-test", "connector.class": "mysql-cdc",
		keyHostname: m.Host, keyPort: itoa(m.Port), keyUser: m.User, keyPassword: m.Password,
		keyTopicPrefix: "srv", keyHistoryBootstrap: broker, keyHistoryTopic: "srv-history",
		keyTopicPartitions: "3", keySkippedOps: "none",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = extra[i+1]
	}
	return cfg
}

func itoa(n int) string { return strconv.Itoa(n) }

// pollUntil polls the task until want records of the table topics (and
// every other record) arrived.
func pollUntil(t *testing.T, task *Task, tc *taskContext, want int, match func(connect.SourceRecord) bool) []connect.SourceRecord {
	t.Helper()
	var out []connect.SourceRecord
	n := 0
	deadline := time.Now().Add(30 * time.Second)
	for n < want {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d records after 30s", n, want)
		}
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		tc.commit(recs)
		for _, r := range recs {
			out = append(out, r)
			if match(r) {
				n++
			}
		}
	}
	return out
}

func onTopic(topic string) func(connect.SourceRecord) bool {
	return func(r connect.SourceRecord) bool { return r.Topic == topic }
}

// TestTaskEvents runs the task: a snapshot, then streamed inserts,
// updates, a delete with its tombstone and a truncate, as Debezium
// envelopes with keys in the partition their key hashes to; then a
// restart resumes from the committed offset without snapshotting again.
func TestTaskEvents(t *testing.T) {
	m := testkit.StartMariaDB(t)
	broker := testkit.StartBroker(t)
	m.Exec(t, "CREATE DATABASE shop",
		"CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(8,2))",
		"INSERT INTO shop.items VALUES (1, 'pen', 1.50), (2, 'ink', 2.25)")
	tc := &taskContext{}
	cfg := taskConfig(m, broker.Addr)
	task := NewTask()
	if err := task.Start(tc, cfg); err != nil {
		t.Fatal(err)
	}
	snap := pollUntil(t, task, tc, 2, onTopic("srv.shop.items"))
	m.Exec(t, "UPDATE shop.items SET price = 1.75 WHERE id = 1", "DELETE FROM shop.items WHERE id = 2",
		"INSERT INTO shop.items VALUES (3, 'cap', NULL)", "UPDATE shop.items SET id = 4 WHERE id = 3")
	stream := pollUntil(t, task, tc, 7, onTopic("srv.shop.items")) // u, d, tombstone, c, d+tombstone+c for the key change
	task.Stop()

	var got []string
	for _, r := range append(snap, stream...) {
		if r.Topic != "srv.shop.items" {
			continue
		}
		got = append(got, describeRecord(t, r))
	}
	want := []string{
		"r 1 <nil> -> {1 pen 1.50}",
		"r 2 <nil> -> {2 ink 2.25}",
		"u 1 {1 pen 1.50} -> {1 pen 1.75}",
		"d 2 {2 ink 2.25} -> <nil>",
		"tombstone 2",
		"c 3 <nil> -> {3 cap <nil>}",
		"d 3 {3 cap <nil>} -> <nil>",
		"tombstone 3",
		"c 4 <nil> -> {4 cap <nil>}",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range snap {
		if r.Topic == "srv.shop.items" {
			src := r.Value.(*data.Struct).Get("source").(*data.Struct)
			if src.Get("snapshot") != "true" || src.Get("connector") != "mariadb" || src.Get("db") != "shop" || src.Get("table") != "items" {
				t.Errorf("snapshot source block %v", src)
			}
			if r.SourceOffset[offsetSnapshot] != true {
				t.Errorf("snapshot record offset %v lacks snapshot=true", r.SourceOffset)
			}
			if r.Partition != keyPartition(r.Key.(*data.Struct), 3) {
				t.Errorf("record in partition %d, its key hashes elsewhere", r.Partition)
			}
		}
	}

	// A restart resumes after the last committed record.
	m.Exec(t, "INSERT INTO shop.items VALUES (5, 'pad', 9.99)", "TRUNCATE TABLE shop.items")
	task2 := NewTask()
	if err := task2.Start(tc, cfg); err != nil {
		t.Fatal(err)
	}
	defer task2.Stop()
	more := pollUntil(t, task2, tc, 4, onTopic("srv.shop.items")) // c 5, then a truncate per partition
	got = got[:0]
	for _, r := range more {
		if r.Topic == "srv.shop.items" {
			got = append(got, describeRecord(t, r))
		}
	}
	if strings.Join(got, "\n") != "c 5 <nil> -> {5 pad 9.99}\nt\nt\nt" {
		t.Fatalf("after restart:\n%s", strings.Join(got, "\n"))
	}
}

// describeRecord renders a change record: op, key, before -> after.
func describeRecord(t *testing.T, r connect.SourceRecord) string {
	t.Helper()
	if r.Value == nil {
		return "tombstone " + fmtValue(r.Key.(*data.Struct).At(0))
	}
	env := r.Value.(*data.Struct)
	if env.Get("op") == "t" {
		return "t"
	}
	row := func(v any) string {
		s, ok := v.(*data.Struct)
		if !ok || s == nil {
			return "<nil>"
		}
		var parts []string
		for i := range s.Schema().Fields {
			parts = append(parts, fmtValue(s.At(i)))
		}
		return "{" + strings.Join(parts, " ") + "}"
	}
	return env.Get("op").(string) + " " + fmtValue(r.Key.(*data.Struct).At(0)) + " " + row(env.Get("before")) + " -> " + row(env.Get("after"))
}

func fmtValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "<nil>"
	case data.Decimal:
		return x.String()
	case int32:
		return itoa(int(x))
	case string:
		return x
	}
	return "?"
}

// TestBadServers: each misconfiguration fails the connector's Start with
// an error naming the fix.
func TestBadServers(t *testing.T) {
	broker := testkit.StartBroker(t)
	good := testkit.StartMariaDB(t)
	good.Exec(t, "CREATE DATABASE shop", "CREATE TABLE shop.nokey (a INT, b TEXT)")
	off := testkit.StartMariaDB(t, testkit.WithoutBinlog())
	stmt := testkit.StartMariaDB(t, testkit.WithBinlogFormat("STATEMENT"))
	for _, tc := range []struct {
		name  string
		cfg   map[string]string
		is    error
		fixes string
	}{
		{"wrong password", taskConfig(good, broker.Addr, keyPassword, "wrong"), ErrAccessDenied, "database.password"},
		{"binlog off", taskConfig(off, broker.Addr), ErrBinlogOff, "--log-bin"},
		{"statement format", taskConfig(stmt, broker.Addr), ErrBinlogFormat, "binlog_format=ROW"},
		{"no primary key", taskConfig(good, broker.Addr), ErrNoPrimaryKey, "message.key.columns"},
	} {
		err := (&Connector{}).Start(nil, tc.cfg)
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.fixes) {
			t.Errorf("%s: %v; want %v naming %s", tc.name, err, tc.is, tc.fixes)
		}
		if strings.Contains(err.Error(), testkit.MariaDBRootPassword) {
			t.Errorf("%s: error shows the password: %v", tc.name, err)
		}
	}
	// A key named by message.key.columns makes the keyless table fine.
	if err := (&Connector{}).Start(nil, taskConfig(good, broker.Addr, keyKeyColumns, "shop.nokey:a")); err != nil {
		t.Errorf("with message.key.columns: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := ParseConfig(map[string]string{keyTopicPrefix: "bad prefix!", keySnapshotMode: "sometimes",
		keyTableInclude: "a", keyTableExclude: "b", keyPort: "99999"})
	var ce *connect.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a ConfigError", err)
	}
	byKey := ce.ByKey()
	for _, key := range []string{keyHostname, keyUser, keySnapshotMode, keyPort, keyHistoryBootstrap, keyHistoryTopic} {
		if len(byKey[key]) == 0 {
			t.Errorf("no error for %s in %v", key, err)
		}
	}
	_, err = ParseConfig(map[string]string{keyHostname: "h", keyUser: "u", keyTopicPrefix: "bad prefix!",
		keyHistoryBootstrap: "b:1", keyHistoryTopic: "h", keyTableInclude: "a", keyTableExclude: "b", keyColumnExclude: "(("})
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a ConfigError", err)
	}
	for _, key := range []string{keyTopicPrefix, keyTableExclude, keyColumnExclude} {
		if len(ce.ByKey()[key]) == 0 {
			t.Errorf("no error for %s in %v", key, err)
		}
	}
}

// TestInterruptedSnapshot: a snapshot cut short (its offset committed
// mid-way) is taken again after the binlog from its position is read, so
// a row the first snapshot emitted and that was deleted meanwhile gets its
// delete: replaying the records gives the table.
func TestInterruptedSnapshot(t *testing.T) {
	m := testkit.StartMariaDB(t)
	broker := testkit.StartBroker(t)
	m.Exec(t, "CREATE DATABASE shop", "CREATE TABLE shop.items (id INT PRIMARY KEY, v VARCHAR(10))")
	for i := 1; i <= 20; i++ {
		m.Exec(t, fmt.Sprintf("INSERT INTO shop.items VALUES (%d, 'v%d')", i, i))
	}
	tc := &taskContext{}
	cfg := taskConfig(m, broker.Addr, keyFetchSize, "3")
	task := NewTask()
	if err := task.Start(tc, cfg); err != nil {
		t.Fatal(err)
	}
	first := pollUntil(t, task, &taskContext{}, 20, onTopic("srv.shop.items"))
	task.Stop()
	// The crash: only the first five snapshot records' offsets were
	// committed.
	var seen []connect.SourceRecord
	for _, r := range first {
		if r.Topic == "srv.shop.items" && len(seen) < 5 {
			seen = append(seen, r)
		}
	}
	tc.commit(seen)
	if tc.offsets["srv"][offsetSnapshot] != true {
		t.Fatalf("committed offset %v is not a snapshot offset", tc.offsets["srv"])
	}
	m.Exec(t, "DELETE FROM shop.items WHERE id IN (1, 2, 3)", "UPDATE shop.items SET v = 'new' WHERE id = 4",
		"INSERT INTO shop.items VALUES (21, 'v21')")
	task2 := NewTask()
	if err := task2.Start(tc, cfg); err != nil {
		t.Fatal(err)
	}
	defer task2.Stop()
	// 3 deletes (+3 tombstones), 1 update, 1 insert, then 18 snapshot rows.
	second := pollUntil(t, task2, tc, 26, onTopic("srv.shop.items"))
	state := map[string]string{}
	for _, r := range append(seen, second...) {
		if r.Topic != "srv.shop.items" {
			continue
		}
		key := fmtValue(r.Key.(*data.Struct).At(0))
		if r.Value == nil {
			delete(state, key)
			continue
		}
		env := r.Value.(*data.Struct)
		if env.Get("op") == "d" {
			delete(state, key)
			continue
		}
		state[key] = env.Get("after").(*data.Struct).Get("v").(string)
	}
	want := map[string]string{}
	for _, row := range m.Query(t, "SELECT id, v FROM shop.items") {
		want[row[0]] = row[1]
	}
	if fmt.Sprint(state) != fmt.Sprint(want) {
		t.Fatalf("replayed %v\nwant     %v", state, want)
	}
	var ops []string
	for _, r := range second {
		if r.Topic == "srv.shop.items" && r.Value != nil {
			ops = append(ops, r.Value.(*data.Struct).Get("op").(string))
		}
	}
	if got := strings.Join(ops, ""); got != "ddduc"+strings.Repeat("r", 18) {
		t.Errorf("ops after the restart %v: the binlog changes come before the new snapshot", ops)
	}
}
