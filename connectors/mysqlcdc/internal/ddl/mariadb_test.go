package ddl

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// TestAgainstMariaDB checks the parser against the server: each table is
// created, altered, and read back with SHOW CREATE TABLE; the definition
// tracked from the statements as typed, and the one parsed from SHOW
// CREATE TABLE, must both match information_schema.COLUMNS.
func TestAgainstMariaDB(t *testing.T) {
	m := testkit.StartMariaDB(t)
	m.Exec(t, "CREATE DATABASE d CHARACTER SET utf8mb4")
	ddl := []string{
		`CREATE TABLE everything (
			id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
			ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT(4) ZEROFILL, mi MEDIUMINT, bi BIGINT UNSIGNED, bo BOOLEAN,
			de DECIMAL(30,10), nu NUMERIC(5), fl FLOAT, f2 FLOAT(7,3), do DOUBLE PRECISION, re REAL,
			bt BIT(12), b1 BIT,
			da DATE, tm TIME(3), dt DATETIME(6), ts TIMESTAMP(2) NULL, ye YEAR,
			ch CHAR(5) CHARACTER SET latin1, vc VARCHAR(300), nc NCHAR(2), tt TINYTEXT, tx TEXT, mt MEDIUMTEXT, lt LONGTEXT CHARACTER SET utf8mb3,
			bn BINARY(4), vb VARBINARY(10), tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB, cb CHAR(2) CHARACTER SET binary,
			en ENUM('a','b c','d''e') COLLATE utf8mb4_bin, st SET('x','y','z') DEFAULT 'x,y',
			js JSON, ge GEOMETRY, po POINT, ls LINESTRING, pg POLYGON, mp MULTIPOINT, ml MULTILINESTRING, mpg MULTIPOLYGON, gc GEOMETRYCOLLECTION,
			ge2 INT AS (id * 2) VIRTUAL, ge3 VARCHAR(10) AS (upper(vc)) PERSISTENT,
			UNIQUE KEY u (vc(10)), KEY k (ti, si)
		) DEFAULT CHARSET=utf8mb4`,
		"CREATE TABLE `we ird` (`a``b` INT NOT NULL, `c` VARCHAR(3), PRIMARY KEY (`c`(2), `a``b`)) CHARSET latin1",
		"ALTER TABLE everything ADD COLUMN added VARCHAR(3) AFTER id, DROP COLUMN mi, MODIFY ti SMALLINT NOT NULL, CHANGE tx text2 MEDIUMTEXT CHARACTER SET latin1",
		"ALTER TABLE `we ird` DROP PRIMARY KEY, ADD CONSTRAINT pk PRIMARY KEY (`a``b`), CONVERT TO CHARACTER SET utf8mb4",
		"CREATE TABLE nokey (a INT, b TEXT)",
		"RENAME TABLE nokey TO nokey2",
	}
	typed := NewSchemas("utf8mb4")
	typed.SetDatabaseCharset("d", "utf8mb4")
	for _, s := range ddl {
		m.Exec(t, "USE d; "+s)
		if _, err := typed.Apply("d", s); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
	}
	shown := NewSchemas("utf8mb4")
	for _, table := range []string{"everything", "we ird", "nokey2"} {
		rows := m.Query(t, "SHOW CREATE TABLE `d`.`"+strings.ReplaceAll(table, "`", "``")+"`")
		if _, err := shown.Apply("d", rows[0][1]); err != nil {
			t.Fatalf("SHOW CREATE TABLE %s: %v\n%s", table, err, rows[0][1])
		}
		want := fromInformationSchema(t, m, "d", table)
		for name, s := range map[string]*Schemas{"typed": typed, "shown": shown} {
			tb := s.Table(TableID{"d", table})
			if tb == nil {
				t.Fatalf("%s: no table %s", name, table)
			}
			if got := describe(tb); got != want {
				t.Errorf("%s DDL of %s:\n got %s\nwant %s", name, table, got, want)
			}
		}
	}
}

// describe renders what information_schema can confirm about a table.
func describe(tb *Table) string {
	var b strings.Builder
	for _, c := range tb.Columns {
		typ := strings.ToLower(c.Type)
		if c.Type == "JSON" {
			typ = "longtext" // MariaDB's JSON
		}
		cs := c.Charset
		if cs == "binary" {
			cs = ""
		}
		fmt.Fprintf(&b, "%s %s u=%v cs=%s null=%v", c.Name, typ, c.Unsigned, cs, c.Nullable)
		switch c.Type {
		case "DECIMAL":
			fmt.Fprintf(&b, " (%d,%d)", c.Length, c.Scale)
		case "TIME", "DATETIME", "TIMESTAMP":
			fmt.Fprintf(&b, " fsp=%d", c.FSP)
		case "ENUM", "SET":
			fmt.Fprintf(&b, " %q", c.Values)
		}
		b.WriteString("; ")
	}
	fmt.Fprintf(&b, "pk=%v", tb.PrimaryKey)
	return b.String()
}

func fromInformationSchema(t *testing.T, m *testkit.MariaDB, db, table string) string {
	rows := m.Query(t, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IFNULL(CHARACTER_SET_NAME, ''), IS_NULLABLE,
		IFNULL(NUMERIC_PRECISION, ''), IFNULL(NUMERIC_SCALE, ''), IFNULL(DATETIME_PRECISION, '')
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, db, table)
	var b strings.Builder
	for _, r := range rows {
		typ := r[1]
		fmt.Fprintf(&b, "%s %s u=%v cs=%s null=%v", r[0], typ, strings.Contains(r[2], "unsigned"), r[3], r[4] == "YES")
		switch typ {
		case "decimal":
			fmt.Fprintf(&b, " (%s,%s)", r[5], r[6])
		case "time", "datetime", "timestamp":
			fmt.Fprintf(&b, " fsp=%s", r[7])
		case "enum", "set":
			fmt.Fprintf(&b, " %q", members(t, r[2]))
		}
		b.WriteString("; ")
	}
	pk := m.Query(t, `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`, db, table)
	var keys []string
	for _, r := range pk {
		keys = append(keys, r[0])
	}
	fmt.Fprintf(&b, "pk=%v", keys)
	if len(keys) == 0 {
		return strings.TrimSuffix(b.String(), "[]") + "[]"
	}
	return b.String()
}

// members parses the member list of an information_schema COLUMN_TYPE
// such as enum('a','b c') with the package's own lexer.
func members(t *testing.T, columnType string) []string {
	toks, err := lex(columnType)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tk := range toks {
		if tk.kind == tString {
			out = append(out, tk.text)
		}
	}
	return out
}
