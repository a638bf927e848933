package ddl

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func apply(t *testing.T, s *Schemas, db string, stmts ...string) {
	t.Helper()
	for _, st := range stmts {
		if _, err := s.Apply(db, st); err != nil {
			t.Fatalf("Apply(%q): %v", st, err)
		}
	}
}

func cols(tb *Table) string {
	var b []string
	for _, c := range tb.Columns {
		s := c.Name + ":" + c.Type
		if c.Unsigned {
			s += "+u"
		}
		if c.Charset != "" {
			s += "@" + c.Charset
		}
		if !c.Nullable {
			s += "!"
		}
		b = append(b, s)
	}
	return strings.Join(b, " ")
}

func TestCreateTable(t *testing.T) {
	s := NewSchemas("latin1")
	apply(t, s, "shop", "CREATE DATABASE shop CHARACTER SET utf8mb4",
		"/* leading */ CREATE TABLE IF NOT EXISTS `shop`.`items` (\n"+
			"  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT, -- the key\n"+
			"  name varchar(40) CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT 'x,y' COMMENT 'it''s',\n"+
			"  `we``ird` ENUM('a','b''c','d\\'e') NOT NULL DEFAULT 'a',\n"+
			"  price DECIMAL(12,4) DEFAULT -1.5,\n"+
			"  flags SET('x','y') /*!50000 DEFAULT NULL */,\n"+
			"  t TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),\n"+
			"  g POINT NOT NULL /*!80003 SRID 4326 */,\n"+
			"  j longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`j`)),\n"+
			"  c CHAR(3) CHARACTER SET binary, n NATIONAL VARCHAR(5), b BOOL, f FLOAT(30), v INT AS (id + 1) VIRTUAL,\n"+
			"  PRIMARY KEY (`id`),\n"+
			"  UNIQUE KEY `name` (`name`(10)),\n"+
			"  KEY `idx` (`price`) USING BTREE,\n"+
			"  CONSTRAINT `fk` FOREIGN KEY (`id`) REFERENCES `other` (`id`) ON DELETE CASCADE\n"+
			") ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci COMMENT='t'\n"+
			"/*!50100 PARTITION BY HASH (id) PARTITIONS 4 */")
	tb := s.Table(TableID{"shop", "items"})
	if tb == nil {
		t.Fatal("no table")
	}
	want := "id:BIGINT+u! name:VARCHAR@latin1 we`ird:ENUM@utf8mb3! price:DECIMAL flags:SET@utf8mb3 t:TIMESTAMP! g:POINT! " +
		"j:JSON@utf8mb4 c:BINARY@binary n:VARCHAR@utf8mb3 b:TINYINT f:DOUBLE v:INT"
	if got := cols(tb); got != want {
		t.Fatalf("columns\n got %s\nwant %s", got, want)
	}
	if !reflect.DeepEqual(tb.PrimaryKey, []string{"id"}) {
		t.Errorf("primary key %v", tb.PrimaryKey)
	}
	if c, _ := tb.Column("WE`IRD"); !reflect.DeepEqual(c.Values, []string{"a", "b'c", "d'e"}) {
		t.Errorf("enum values %q", c.Values)
	}
	if c, _ := tb.Column("price"); c.Length != 12 || c.Scale != 4 {
		t.Errorf("decimal %d,%d", c.Length, c.Scale)
	}
	if c, _ := tb.Column("t"); c.FSP != 3 {
		t.Errorf("fsp %d", c.FSP)
	}
	if c, _ := tb.Column("v"); !c.Generated {
		t.Errorf("v not generated")
	}
	if tb.Charset != "utf8mb3" {
		t.Errorf("table charset %q", tb.Charset)
	}

	// The database default applies when the table names none.
	apply(t, s, "shop", "create table plain (a text, k int key)")
	if got := cols(s.Table(TableID{"shop", "plain"})); got != "a:TEXT@utf8mb4 k:INT!" {
		t.Errorf("plain: %s", got)
	}
	apply(t, s, "other", "CREATE TABLE x (a varchar(3))")
	if got := cols(s.Table(TableID{"other", "x"})); got != "a:VARCHAR@latin1" {
		t.Errorf("server default: %s", got)
	}
	apply(t, s, "shop", "CREATE TABLE copy LIKE items")
	if got := cols(s.Table(TableID{"shop", "copy"})); got != want {
		t.Errorf("LIKE: %s", got)
	}
}

func TestAlterTable(t *testing.T) {
	s := NewSchemas("utf8mb4")
	apply(t, s, "d", "CREATE TABLE t (a INT NOT NULL, b VARCHAR(3), c DATE, PRIMARY KEY (a))")
	steps := []struct{ sql, want, pk string }{
		{"ALTER TABLE t ADD COLUMN d INT UNSIGNED AFTER a, ADD e BLOB FIRST", "e:BLOB@binary a:INT! d:INT+u b:VARCHAR@utf8mb4 c:DATE", "a"},
		{"ALTER TABLE t DROP COLUMN e, DROP d, ALGORITHM=INPLACE, LOCK=NONE", "a:INT! b:VARCHAR@utf8mb4 c:DATE", "a"},
		{"ALTER TABLE `d`.`t` MODIFY b TEXT CHARACTER SET latin1 NOT NULL FIRST", "b:TEXT@latin1! a:INT! c:DATE", "a"},
		{"ALTER TABLE t CHANGE COLUMN a id BIGINT NOT NULL", "b:TEXT@latin1! id:BIGINT! c:DATE", "id"},
		{"ALTER TABLE t RENAME COLUMN c TO day, ALTER COLUMN b SET DEFAULT 'x'", "b:TEXT@latin1! id:BIGINT! day:DATE", "id"},
		{"ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (id, day)", "b:TEXT@latin1! id:BIGINT! day:DATE!", "id,day"},
		{"ALTER TABLE t CONVERT TO CHARACTER SET utf8mb3 COLLATE utf8mb3_bin", "b:TEXT@utf8mb3! id:BIGINT! day:DATE!", "id,day"},
		{"ALTER TABLE t ADD (x ENUM('p','q'), y JSON), DEFAULT CHARSET=latin1", "b:TEXT@utf8mb3! id:BIGINT! day:DATE! x:ENUM@utf8mb3 y:JSON@utf8mb4", "id,day"},
		{"ALTER TABLE t ADD z CHAR(2), DROP COLUMN IF EXISTS nope, ADD COLUMN IF NOT EXISTS z INT", "b:TEXT@utf8mb3! id:BIGINT! day:DATE! x:ENUM@utf8mb3 y:JSON@utf8mb4 z:CHAR@latin1", "id,day"},
		{"ALTER TABLE t DROP COLUMN day", "b:TEXT@utf8mb3! id:BIGINT! x:ENUM@utf8mb3 y:JSON@utf8mb4 z:CHAR@latin1", "id"},
		{"alter table t engine=InnoDB, add index (z), drop index z, rename key a to b, force", "b:TEXT@utf8mb3! id:BIGINT! x:ENUM@utf8mb3 y:JSON@utf8mb4 z:CHAR@latin1", "id"},
	}
	for _, st := range steps {
		apply(t, s, "d", st.sql)
		tb := s.Table(TableID{"d", "t"})
		if got := cols(tb); got != st.want {
			t.Fatalf("after %q\n got %s\nwant %s", st.sql, got, st.want)
		}
		if got := strings.Join(tb.PrimaryKey, ","); got != st.pk {
			t.Fatalf("after %q: primary key %q, want %q", st.sql, got, st.pk)
		}
	}
	changes, err := s.Apply("d", "ALTER TABLE t RENAME TO d2.t2")
	if err != nil || len(changes) != 2 || changes[0].Type != Drop || changes[1].ID != (TableID{"d2", "t2"}) {
		t.Fatalf("rename: %v %+v", err, changes)
	}
	if s.Table(TableID{"d", "t"}) != nil || s.Table(TableID{"d2", "t2"}) == nil {
		t.Fatal("rename did not move the table")
	}
	// Unknown tables are ignored; a bad column is an error.
	apply(t, s, "d", "ALTER TABLE unknown ADD x INT")
	if _, err := s.Apply("d2", "ALTER TABLE t2 DROP COLUMN nope"); err == nil {
		t.Error("dropping a missing column: no error")
	}
}

func TestRenameDropTruncate(t *testing.T) {
	s := NewSchemas("utf8mb4")
	apply(t, s, "d", "CREATE TABLE a (x INT)", "CREATE TABLE b (y INT)")
	apply(t, s, "d", "RENAME TABLE a TO tmp, b TO a, tmp TO b")
	if got := cols(s.Table(TableID{"d", "a"})); got != "y:INT" {
		t.Fatalf("swap: a is %s", got)
	}
	ch, err := s.Apply("d", "TRUNCATE TABLE `a`")
	if err != nil || len(ch) != 1 || ch[0].Type != Truncate {
		t.Fatalf("truncate: %v %+v", err, ch)
	}
	ch, err = s.Apply("d", "DROP TABLE IF EXISTS a, `d`.b, nope /* generated by server */")
	if err != nil || len(ch) != 2 || len(s.Tables()) != 0 {
		t.Fatalf("drop: %v %+v %v", err, ch, s.Tables())
	}
	apply(t, s, "d", "CREATE TABLE c (z INT)")
	apply(t, s, "", "DROP DATABASE d")
	if len(s.Tables()) != 0 {
		t.Fatal("drop database left tables")
	}
}

func TestNotTableDDL(t *testing.T) {
	for _, sql := range []string{
		"BEGIN", "COMMIT", "INSERT INTO t VALUES (1)", "GRANT ALL ON *.* TO 'x'@'%'",
		"CREATE VIEW v AS SELECT 1", "CREATE INDEX i ON t (a)", "DROP INDEX i ON t", "CREATE USER u",
		"CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET @x = 1",
		"FLUSH PRIVILEGES", "SAVEPOINT s", "XA START 'x'", "DROP VIEW v", "ALTER USER u IDENTIFIED BY 'p'",
		"RENAME USER a TO b", "", "  ", "# comment only", "SET @x = 'unterminated",
	} {
		st, err := Parse(sql)
		if err != nil || st != nil {
			t.Errorf("Parse(%q) = %v, %v; want nothing", sql, st, err)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, sql := range []string{
		"CREATE TABLE t (a INT",
		"CREATE TABLE t (a WIBBLE)",
		"CREATE TABLE t (a DECIMAL(70,2))",
		"CREATE TABLE t (a BIT(65))",
		"CREATE TABLE t (a ENUM(1,2))",
		"CREATE TABLE t (a INT) /* open",
		"ALTER TABLE t ADD COLUMN",
		"CREATE TABLE t (`a INT)",
		"CREATE TABLE t SELECT 1",
		"RENAME TABLE a",
	} {
		if _, err := Parse(sql); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) error %v, want ErrSyntax", sql, err)
		}
	}
}

func TestTableJSONRoundTrip(t *testing.T) {
	s := NewSchemas("utf8mb4")
	apply(t, s, "d", "CREATE TABLE t (a INT UNSIGNED NOT NULL PRIMARY KEY, e ENUM('x','y'), d DECIMAL(5,2))")
	b, err := json.Marshal(s.Table(TableID{"d", "t"}))
	if err != nil {
		t.Fatal(err)
	}
	var back Table
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, s.Table(TableID{"d", "t"})) {
		t.Fatalf("round trip %s", b)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"CREATE TABLE `a`.`b` (id INT UNSIGNED NOT NULL, v VARCHAR(3) CHARACTER SET latin1, PRIMARY KEY (id)) DEFAULT CHARSET=utf8mb4",
		"ALTER TABLE t ADD COLUMN x ENUM('a','b') AFTER id, DROP y, MODIFY z TEXT, CHANGE a b INT, RENAME TO u",
		"RENAME TABLE a TO b, c TO d", "TRUNCATE t", "DROP TABLE IF EXISTS a, b",
		"CREATE TABLE t (a INT /*!50000 DEFAULT 1 */, b SET('x') -- c\n)",
		"CREATE DATABASE d DEFAULT CHARACTER SET latin1", "CREATE TABLE t (j JSON CHECK (json_valid(j)))",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		st, err := Parse(sql)
		if err != nil || st == nil {
			return
		}
		s := NewSchemas("utf8mb4")
		s.Apply("d", "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(3), b INT)")
		s.Apply("d", sql)
		for _, tb := range s.Tables() {
			for _, k := range tb.PrimaryKey {
				if c, _ := tb.Column(k); c == nil {
					t.Fatalf("%q: primary key column %s is not a column of %s", sql, k, tb.ID)
				}
			}
		}
	})
}
