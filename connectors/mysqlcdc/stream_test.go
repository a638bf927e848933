package mysqlcdc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connectors/mysqlcdc/internal/ddl"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// reader runs a binlog reader from from with the definitions of schemas,
// until want row changes arrived, and returns every change.
func readFrom(t *testing.T, s *server, schemas *ddl.Schemas, h *memoryHistory, from position, want int, skip string) []change {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	col := &collector{want: want, ops: "cudt", cancel: cancel}
	skipOps := map[byte]bool{}
	for i := 0; i < len(skip); i++ {
		skipOps[skip[i]] = true
	}
	r := &binlogReader{server: s, serverID: 1001, tables: newTableSet(schemas, captureFilters(t, `shop\..*`), defaultTypes, "test"),
		history: h, emit: col.emit, log: testLogger(), skipOps: skipOps, schemaChanges: true}
	if want == 0 {
		cancel()
	}
	err := r.run(ctx, from)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("binlog reader: %v (after %d changes)", err, col.count)
	}
	return col.changes
}

// describeChange renders a row change compactly: op, table, before, after.
func describeChange(c change) string {
	row := func(vals []any) string {
		if vals == nil {
			return "-"
		}
		var parts []string
		for i, v := range vals {
			if c.table.columns[i] == nil {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s=%v", c.table.columns[i].Name, v))
		}
		return strings.Join(parts, ",")
	}
	if c.op == opTruncate {
		return "t " + c.table.id.Table
	}
	return fmt.Sprintf("%c %s %s %s", c.op, c.table.id.Table, row(c.before), row(c.after))
}

func rowChanges(cs []change) []change {
	var out []change
	for _, c := range cs {
		if strings.IndexByte("cudt", c.op) >= 0 {
			out = append(out, c)
		}
	}
	return out
}

// TestStreamDDLAndTransactions streams inserts, updates, deletes, an
// ALTER TABLE between them, a rolled-back transaction and a truncate:
// rows before and after the ALTER decode with their own definitions, the
// rollback leaves nothing, and the schema history and schema change
// events follow the DDL.
func TestStreamDDLAndTransactions(t *testing.T) {
	m := testkit.StartMariaDB(t)
	s := testServer(t, m)
	m.Exec(t,
		"CREATE DATABASE shop",
		"CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(10), qty INT)",
		"BEGIN; INSERT INTO shop.items VALUES (1, 'pen', 10), (2, 'ink', 20); COMMIT",
		"UPDATE shop.items SET name = 'pen2' WHERE id = 1",
		"ALTER TABLE shop.items ADD COLUMN price DECIMAL(6,2) AFTER name, DROP COLUMN qty",
		"INSERT INTO shop.items VALUES (3, 'cap', 1.50)",
		"BEGIN; INSERT INTO shop.items VALUES (4, 'gone', 9.99); ROLLBACK",
		"DELETE FROM shop.items WHERE id = 2",
		"CREATE TABLE shop.other (k VARCHAR(5) PRIMARY KEY)",
		"INSERT INTO shop.other VALUES ('a')",
		"TRUNCATE TABLE shop.other",
	)
	h := &memoryHistory{}
	all := readFrom(t, s, ddl.NewSchemas(s.charset), h, firstBinlog(t, s), 7, "")
	var got []string
	for _, c := range rowChanges(all) {
		got = append(got, describeChange(c))
	}
	want := []string{
		"c items - id=1,name=pen,qty=10",
		"c items - id=2,name=ink,qty=20",
		"u items id=1,name=pen,qty=10 id=1,name=pen2,qty=10",
		"c items - id=3,name=cap,price=1.50",
		"d items id=2,name=ink,price=<nil> -",
		"c other - k=a",
		"t other",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var ddls []string
	for _, c := range all {
		if c.op == opSchemaChange {
			ddls = append(ddls, strings.Fields(c.ddl.ddl)[0]+" "+c.ddl.changes[0].Type)
		}
	}
	if strings.Join(ddls, ",") != "CREATE DATABASE,CREATE CREATE,ALTER ALTER,CREATE CREATE,TRUNCATE TRUNCATE" {
		t.Errorf("schema changes %v", ddls)
	}
	if len(h.records) != 5 { // CREATE DATABASE, CREATE, ALTER, CREATE, TRUNCATE
		t.Errorf("%d history records, want 5", len(h.records))
	}
	// The rolled-back row never shows up; the update carries the
	// transaction's position, the last change of each transaction the
	// position after it.
	for _, c := range rowChanges(all) {
		if c.op == opCreate && c.after[0] == int32(4) {
			t.Errorf("rolled back row emitted")
		}
	}
}

// TestResumeFromEveryOffset restarts the reader from the offset of every
// change it emitted (with the definitions the history holds at that
// offset): the restarted reader continues with exactly the next change,
// nothing repeated and nothing skipped, including inside multi-row and
// multi-statement transactions and across an ALTER TABLE.
func TestResumeFromEveryOffset(t *testing.T) {
	m := testkit.StartMariaDB(t)
	s := testServer(t, m)
	m.Exec(t,
		"CREATE DATABASE shop",
		"CREATE TABLE shop.items (id INT PRIMARY KEY, v VARCHAR(10))",
		"BEGIN; INSERT INTO shop.items VALUES (1, 'a'), (2, 'b'), (3, 'c'); UPDATE shop.items SET v = 'bb' WHERE id = 2; INSERT INTO shop.items VALUES (4, 'd'); COMMIT",
		"INSERT INTO shop.items VALUES (5, 'e')",
		"ALTER TABLE shop.items ADD COLUMN w INT",
		"BEGIN; UPDATE shop.items SET w = id; DELETE FROM shop.items WHERE id = 1; COMMIT",
		"INSERT INTO shop.items VALUES (6, 'f', 6)",
	)
	h := &memoryHistory{}
	start := firstBinlog(t, s)
	all := rowChanges(readFrom(t, s, ddl.NewSchemas(s.charset), h, start, 13, ""))
	if len(all) != 13 {
		t.Fatalf("%d changes, want 13", len(all))
	}
	for i := 0; i < len(all)-1; i++ {
		from := all[i].offset
		schemas, _, err := replayHistory(h.records, from, s.flavor, s.charset)
		if err != nil {
			t.Fatal(err)
		}
		next := rowChanges(readFrom(t, s, schemas, &memoryHistory{}, from, 1, ""))
		if len(next) == 0 {
			t.Fatalf("resume after change %d (%+v): nothing", i, from)
		}
		if got, want := describeChange(next[0]), describeChange(all[i+1]); got != want {
			t.Fatalf("resume after change %d (%s) at %+v:\n got %s\nwant %s", i, describeChange(all[i]), from, got, want)
		}
	}
}
