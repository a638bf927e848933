package mysqlcdc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect/data"
	"github.com/tributary-streams/tributary/connectors/mysqlcdc/internal/ddl"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// memoryHistory keeps schema history records in memory.
type memoryHistory struct {
	mu      sync.Mutex
	records []historyRecord
}

func (h *memoryHistory) record(_ context.Context, pos position, sc *schemaChange) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Through JSON, as the history topic stores it.
	b, err := json.Marshal(newHistoryRecord("test", pos, sc))
	if err != nil {
		return err
	}
	var r historyRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	h.records = append(h.records, r)
	return nil
}

// collector gathers changes until it has want of the given ops, then
// cancels.
type collector struct {
	mu      sync.Mutex
	changes []change
	want    int
	ops     string
	count   int
	cancel  context.CancelFunc
}

func (c *collector) emit(_ context.Context, cs []change) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range cs {
		c.changes = append(c.changes, ch)
		for i := 0; i < len(c.ops); i++ {
			if ch.op == c.ops[i] {
				c.count++
			}
		}
	}
	if c.want > 0 && c.count >= c.want && c.cancel != nil {
		c.cancel()
	}
	return nil
}

func testLogger() *slog.Logger {
	if os.Getenv("TRIBUTARY_TEST_LOGS") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func testServer(t *testing.T, m *testkit.MariaDB) *server {
	t.Helper()
	s, err := openServer(context.Background(), conn{host: m.Host, port: m.Port, user: m.User, password: m.Password, timeout: 10 * time.Second}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close() })
	return s
}

func captureFilters(t *testing.T, tables string) *filters {
	t.Helper()
	inc, err := compilePatterns("table.include.list", tables)
	if err != nil {
		t.Fatal(err)
	}
	return &filters{tableInclude: inc}
}

var defaultTypes = typeOptions{decimalMode: "precise", bigintMode: "long", binaryMode: "bytes"}

// snapshotRows snapshots and returns the rows read, by first column.
func snapshotRows(t *testing.T, s *server, f *filters, types typeOptions) (map[string][]any, position) {
	t.Helper()
	col := &collector{}
	tables := newTableSet(ddl.NewSchemas(s.charset), f, types, "test")
	sn := &snapshotter{server: s, tables: tables, history: &memoryHistory{}, emit: col.emit, log: testLogger(),
		withData: true, lockMode: "minimal", fetchSize: 3, threads: 2}
	pos, err := sn.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]any{}
	for _, c := range col.changes {
		if c.op == opRead {
			out[fmt.Sprint(c.after[0])] = c.after
		}
	}
	return out, pos
}

// streamChanges reads the binlog from its start until want row changes
// arrived.
func streamChanges(t *testing.T, s *server, f *filters, types typeOptions, from position, want int) []change {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	col := &collector{want: want, ops: "cudt", cancel: cancel}
	r := &binlogReader{server: s, serverID: 1001, tables: newTableSet(ddl.NewSchemas(s.charset), f, types, "test"),
		history: &memoryHistory{}, emit: col.emit, log: testLogger()}
	err := r.run(ctx, from)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("binlog reader: %v (after %d changes)", err, col.count)
	}
	var rows []change
	for _, c := range col.changes {
		if c.op != opHeartbeat && c.op != opSchemaChange {
			rows = append(rows, c)
		}
	}
	return rows
}

func firstBinlog(t *testing.T, s *server) position {
	files, err := s.binlogFiles(context.Background())
	if err != nil || len(files) == 0 {
		t.Fatalf("binlog files: %v %v", files, err)
	}
	return position{File: files[0], Pos: 4}
}

const everyTypeTable = `CREATE TABLE cdc.types (
	id INT NOT NULL PRIMARY KEY,
	ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED, mi MEDIUMINT, mu MEDIUMINT UNSIGNED,
	i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
	d1 DECIMAL(30,10), d2 DECIMAL(5,2), d3 DECIMAL(65,30), d4 DECIMAL(10,0),
	f FLOAT, db DOUBLE,
	b1 BIT(1), b12 BIT(12), b64 BIT(64),
	da DATE, t0 TIME, t6 TIME(6), dt0 DATETIME, dt3 DATETIME(3), dt6 DATETIME(6), ts0 TIMESTAMP NULL, ts6 TIMESTAMP(6) NULL, y YEAR,
	c5 CHAR(5) CHARACTER SET latin1, vc VARCHAR(100), tx TEXT CHARACTER SET utf8mb3, tt TINYTEXT, mt MEDIUMTEXT, lt LONGTEXT,
	u2 VARCHAR(10) CHARACTER SET ucs2, u16 VARCHAR(10) CHARACTER SET utf16, u32 VARCHAR(10) CHARACTER SET utf32, cy VARCHAR(10) CHARACTER SET cp1251, gb VARCHAR(10) CHARACTER SET gbk,
	bn BINARY(4), vb VARBINARY(10), bl BLOB, tb TINYBLOB, mb MEDIUMBLOB, lb LONGBLOB,
	en ENUM('a','b c','d'), st SET('x','y','z'),
	js JSON, ge GEOMETRY, pt POINT, ls LINESTRING
) DEFAULT CHARSET=utf8mb4`

var everyTypeRows = []string{
	`INSERT INTO cdc.types VALUES (1,
		-128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
		-12345678901234567890.1234567890, 0.01, 12345678901234567890123456789012345.123456789012345678901234567890, 9999999999,
		1.2345678, 1.7976931348623157e308,
		b'1', b'101010101010', b'1111111111111111111111111111111111111111111111111111111111111111',
		'1000-01-01', '-838:59:59', '838:59:59.999999', '9999-12-31 23:59:59', '2024-02-29 12:34:56.789', '1970-01-01 00:00:00.000001',
		'1970-01-01 00:00:01', '2038-01-19 03:14:07.999999', 1901,
		'é€x', 'emoji 😀 ok', 'ümlaut', 'tiny', 'medium', 'long',
		'ĀÆ', 'ĀÆ😀', 'ĀÆ😀', 'Привет', '中文',
		x'0102', x'00ff00', x'deadbeef', x'', x'00', x'ffff',
		'b c', 'x,z',
		'{"a": [1, 2.5, "x"], "b": null}', ST_GeomFromText('LINESTRING(0 0,1 1)', 4326), POINT(1.5, -2.25), ST_GeomFromText('LINESTRING(3 4,5 6)'))`,
	`INSERT INTO cdc.types (id) VALUES (2)`,
	`INSERT INTO cdc.types (id, ti, tu, bi, bu, d1, d2, f, db, b1, b12, da, t0, t6, dt0, dt3, dt6, ts0, ts6, y, c5, vc, en, st, js, bn)
		VALUES (3, 127, 0, 9223372036854775807, 9223372036854775808, 0, -999.99, -0.5, 0, b'0', b'0', '0000-00-00', '00:00:00', '-00:00:00.5',
		'0000-00-00 00:00:00', '2024-02-30 00:00:00', '9999-12-31 23:59:59.999999', '0000-00-00 00:00:00', '2000-01-01 00:00:00', 0,
		'', '', '', '', '[]', x'')`,
	`INSERT INTO cdc.types (id, d3, da, y, vc) VALUES (4, -0.000000000000000000000000000001, '2024-00-15', 2155, 'a''b"c\\d')`,
}

func setupEveryType(t *testing.T) (*testkit.MariaDB, *server) {
	m := testkit.StartMariaDB(t)
	m.Exec(t, "SET GLOBAL sql_mode = ''", "CREATE DATABASE cdc", everyTypeTable)
	// A fresh pool, so every connection has the global sql_mode above.
	s := testServer(t, m)
	for _, row := range everyTypeRows {
		if _, err := s.db.Exec("SET SESSION sql_mode = ''; " + row); err != nil {
			// MultiStatements is off in the connector's DSN: run separately.
			c, err2 := s.db.Conn(context.Background())
			if err2 != nil {
				t.Fatal(err2)
			}
			if _, err2 = c.ExecContext(context.Background(), "SET SESSION sql_mode = 'ALLOW_INVALID_DATES'"); err2 != nil {
				t.Fatal(err2)
			}
			if _, err2 = c.ExecContext(context.Background(), row); err2 != nil {
				t.Fatalf("%s: %v", row, err2)
			}
			c.Close()
		}
	}
	return m, s
}

// TestBinlogMatchesSnapshot decodes the same rows of every column type
// from a snapshot and from the binlog: both must agree value for value,
// and a few values are checked against what Debezium emits.
func TestBinlogMatchesSnapshot(t *testing.T) {
	_, s := setupEveryType(t)
	f := captureFilters(t, `cdc\.types`)
	snap, _ := snapshotRows(t, s, f, defaultTypes)
	if len(snap) != len(everyTypeRows) {
		t.Fatalf("snapshot read %d rows, want %d", len(snap), len(everyTypeRows))
	}
	changes := streamChanges(t, s, f, defaultTypes, firstBinlog(t, s), len(everyTypeRows))
	table := changes[0].table
	for _, c := range changes {
		if c.op != opCreate {
			t.Fatalf("op %c, want c", c.op)
		}
		id := fmt.Sprint(c.after[0])
		want := snap[id]
		for i, col := range table.columns {
			if !sameValue(c.after[i], want[i]) {
				t.Errorf("row %s column %s (%s): binlog %#v, snapshot %#v", id, col.Name, col.Type, c.after[i], want[i])
			}
		}
	}

	row := snap["1"]
	get := func(name string) any {
		_, i := table.def.Column(name)
		return row[i]
	}
	day := func(s string) int32 {
		tm, _ := time.Parse("2006-01-02", s)
		return int32(tm.Unix() / 86400)
	}
	checks := map[string]any{
		"ti": int16(-128), "tu": int16(255), "su": int32(65535), "mu": int32(16777215), "iu": int64(4294967295),
		"bu": int64(-1), "d2": "0.01", "d1": "-12345678901234567890.1234567890", "d4": "9999999999",
		"f": float32(1.2345678), "b1": true, "b12": []byte{0xaa, 0x0a}, "b64": []byte{255, 255, 255, 255, 255, 255, 255, 255},
		"da": day("1000-01-01"), "t0": int64(-(838*3600 + 59*60 + 59) * 1e6), "t6": int64((838*3600+59*60+59)*1e6 + 999999),
		"dt3": time.Date(2024, 2, 29, 12, 34, 56, 789e6, time.UTC).UnixMilli(), "dt6": int64(1),
		"ts0": "1970-01-01T00:00:01Z", "ts6": "2038-01-19T03:14:07.999999Z", "y": int32(1901),
		"c5": "é€x", "vc": "emoji 😀 ok", "u2": "ĀÆ", "u16": "ĀÆ😀", "u32": "ĀÆ😀", "cy": "Привет", "gb": "中文",
		"bn": []byte{1, 2, 0, 0}, "vb": []byte{0, 0xff, 0}, "en": "b c", "st": "x,z",
		"js": `{"a": [1, 2.5, "x"], "b": null}`,
	}
	for name, want := range checks {
		if got := get(name); !sameValue(got, want) {
			t.Errorf("column %s = %#v, want %#v", name, got, want)
		}
	}
	if g, ok := get("pt").(*data.Struct); !ok || g.Get("x") != 1.5 || g.Get("y") != -2.25 || g.Get("srid") != int32(0) {
		t.Errorf("pt = %v", get("pt"))
	}
	if g, ok := get("ge").(*data.Struct); !ok || g.Get("srid") != int32(4326) || len(g.Get("wkb").([]byte)) == 0 {
		t.Errorf("ge = %v", get("ge"))
	}
	// Zero and invalid dates in nullable columns are null.
	row3 := snap["3"]
	for _, name := range []string{"da", "dt0", "dt3", "ts0"} {
		_, i := table.def.Column(name)
		if row3[i] != nil {
			t.Errorf("row 3 %s = %#v, want null for a zero date", name, row3[i])
		}
	}
	if _, i := table.def.Column("bu"); row3[i] != int64(-9223372036854775808) {
		t.Errorf("row 3 bu = %#v", row3[i])
	}
}

func TestBigintPreciseAndDecimalString(t *testing.T) {
	_, s := setupEveryType(t)
	f := captureFilters(t, `cdc\.types`)
	types := defaultTypes
	types.bigintMode = "precise"
	types.decimalMode = "string"
	snap, _ := snapshotRows(t, s, f, types)
	if got := snap["1"][columnIndex(t, s, "bu")]; fmt.Sprint(got) != "18446744073709551615" {
		t.Errorf("bu precise = %#v", got)
	}
	if got := snap["1"][columnIndex(t, s, "d1")]; got != "-12345678901234567890.1234567890" {
		t.Errorf("d1 as string = %#v", got)
	}
}

// columnIndex finds a column of cdc.types by name.
func columnIndex(t *testing.T, s *server, name string) int {
	var def string
	if err := s.db.QueryRow("SHOW CREATE TABLE cdc.types").Scan(new(string), &def); err != nil {
		t.Fatal(err)
	}
	sc := ddl.NewSchemas("utf8mb4")
	if _, err := sc.Apply("cdc", def); err != nil {
		t.Fatal(err)
	}
	_, i := sc.Table(ddl.TableID{Database: "cdc", Table: "types"}).Column(name)
	return i
}

func sameValue(a, b any) bool {
	if d, ok := a.(data.Decimal); ok {
		if s, isString := b.(string); isString {
			return d.String() == s
		}
	}
	return data.Equal(a, b)
}
