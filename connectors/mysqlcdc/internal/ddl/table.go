// Package ddl tracks the columns of MySQL and MariaDB tables over time: a
// parser for the table DDL that reaches the binary log (CREATE, ALTER,
// DROP, RENAME and TRUNCATE TABLE; CREATE/ALTER/DROP DATABASE) and for
// SHOW CREATE TABLE output, and a Schemas value that applies it.
//
// Only what decoding rows needs is kept: column names, types, signedness,
// character sets, ENUM/SET members, nullability and the primary key.
// Expressions (defaults, CHECK, generated columns), indexes other than the
// primary key, and table options other than the character set are parsed
// and discarded.
package ddl

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// TableID names a table. Database and table names are compared exactly
// (lower_case_table_names=0, the Linux default).
type TableID struct {
	Database string `json:"database"`
	Table    string `json:"table"`
}

func (id TableID) String() string { return id.Database + "." + id.Table }

// Table is a table's definition at one point in the binary log.
type Table struct {
	ID      TableID  `json:"id"`
	Columns []Column `json:"columns"`
	// PrimaryKey names the primary key columns in key order; empty when the
	// table has none.
	PrimaryKey []string `json:"primaryKey,omitempty"`
	// Charset is the table's default character set, used by columns added
	// later without one.
	Charset string `json:"charset,omitempty"`
}

// Column is one column.
type Column struct {
	Name string `json:"name"`
	// Type is the canonical upper-case type name: TINYINT, SMALLINT,
	// MEDIUMINT, INT, BIGINT, DECIMAL, FLOAT, DOUBLE, BIT, DATE, TIME,
	// DATETIME, TIMESTAMP, YEAR, CHAR, VARCHAR, TINYTEXT, TEXT, MEDIUMTEXT,
	// LONGTEXT, BINARY, VARBINARY, TINYBLOB, BLOB, MEDIUMBLOB, LONGBLOB,
	// ENUM, SET, JSON, GEOMETRY, POINT, LINESTRING, POLYGON, MULTIPOINT,
	// MULTILINESTRING, MULTIPOLYGON, GEOMETRYCOLLECTION, UUID, INET4, INET6.
	// Aliases are resolved (INTEGER is INT, BOOL is TINYINT(1), NUMERIC is
	// DECIMAL, REAL is DOUBLE, CHAR ... CHARACTER SET binary is BINARY).
	Type string `json:"type"`
	// Length is the declared length: characters for CHAR/VARCHAR, bytes for
	// BINARY/VARBINARY, bits for BIT, digits (precision) for DECIMAL, the
	// display width for integers; 0 when not declared.
	Length int `json:"length,omitempty"`
	// Scale is DECIMAL's digits after the point.
	Scale int `json:"scale,omitempty"`
	// FSP is the fractional-seconds precision of TIME, DATETIME, TIMESTAMP.
	FSP      int  `json:"fsp,omitempty"`
	Unsigned bool `json:"unsigned,omitempty"`
	// Charset is the character set of a text column ("binary" for binary
	// strings); empty for other types.
	Charset  string `json:"charset,omitempty"`
	Nullable bool   `json:"nullable"`
	// Values are the members of an ENUM or SET, in order.
	Values        []string `json:"values,omitempty"`
	AutoIncrement bool     `json:"autoIncrement,omitempty"`
	// Generated marks a generated (computed) column.
	Generated bool `json:"generated,omitempty"`
}

// IsText reports whether the column holds characters in Charset.
func (c *Column) IsText() bool {
	switch c.Type {
	case "CHAR", "VARCHAR", "TINYTEXT", "TEXT", "MEDIUMTEXT", "LONGTEXT", "ENUM", "SET":
		return true
	}
	return false
}

// Column returns the column called name (case-insensitive, as MySQL
// compares column names) and its position.
func (t *Table) Column(name string) (*Column, int) {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return &t.Columns[i], i
		}
	}
	return nil, -1
}

// Clone returns a deep copy.
func (t *Table) Clone() *Table {
	c := *t
	c.Columns = slices.Clone(t.Columns)
	for i := range c.Columns {
		c.Columns[i].Values = slices.Clone(c.Columns[i].Values)
	}
	c.PrimaryKey = slices.Clone(t.PrimaryKey)
	return &c
}

// Change is what one statement did to one table or database.
type Change struct {
	// Type is CREATE, ALTER, DROP or TRUNCATE for a table (Debezium's
	// tableChanges types, plus TRUNCATE, which keeps the columns), or
	// DATABASE / DROP DATABASE for a database's default charset.
	Type string  `json:"type"`
	ID   TableID `json:"id"`
	// Table is the definition after the change (nil for DROP).
	Table *Table `json:"table,omitempty"`
	// Charset is a database's default character set (DATABASE).
	Charset string `json:"charset,omitempty"`
}

// Change types.
const (
	Create       = "CREATE"
	Alter        = "ALTER"
	Drop         = "DROP"
	Truncate     = "TRUNCATE"
	Database     = "DATABASE"
	DropDatabase = "DROP DATABASE"
)

// Replay applies a recorded change (from a schema history) without parsing
// the statement again.
func (s *Schemas) Replay(c Change) {
	switch c.Type {
	case Create, Alter, Truncate:
		if c.Table != nil {
			s.tables[c.ID] = c.Table.Clone()
		}
	case Drop:
		delete(s.tables, c.ID)
	case Database:
		s.charsets[c.ID.Database] = c.Charset
	case DropDatabase:
		delete(s.charsets, c.ID.Database)
	}
}

// DatabaseCharsets returns every database's recorded default charset.
func (s *Schemas) DatabaseCharsets() map[string]string { return maps.Clone(s.charsets) }

// Schemas is the set of known tables and database default charsets. The
// zero value is not ready: use NewSchemas.
type Schemas struct {
	tables map[TableID]*Table
	// charsets holds each database's default character set.
	charsets map[string]string
	// ServerCharset is the server's default character set, for databases
	// created without one.
	ServerCharset string
}

// NewSchemas returns an empty set whose databases default to
// serverCharset.
func NewSchemas(serverCharset string) *Schemas {
	if serverCharset == "" {
		serverCharset = "utf8mb4"
	}
	return &Schemas{tables: map[TableID]*Table{}, charsets: map[string]string{}, ServerCharset: serverCharset}
}

// Table returns the current definition of id, or nil. The caller must not
// modify it.
func (s *Schemas) Table(id TableID) *Table { return s.tables[id] }

// Tables returns every table, sorted by database and name.
func (s *Schemas) Tables() []*Table {
	out := make([]*Table, 0, len(s.tables))
	for _, t := range s.tables {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Table) int {
		if c := strings.Compare(a.ID.Database, b.ID.Database); c != 0 {
			return c
		}
		return strings.Compare(a.ID.Table, b.ID.Table)
	})
	return out
}

// Put sets a table's definition (replaying a history record).
func (s *Schemas) Put(t *Table) { s.tables[t.ID] = t }

// Remove forgets a table.
func (s *Schemas) Remove(id TableID) { delete(s.tables, id) }

// SetDatabaseCharset records a database's default character set.
func (s *Schemas) SetDatabaseCharset(db, charset string) { s.charsets[db] = charset }

// DatabaseCharset returns a database's default character set.
func (s *Schemas) DatabaseCharset(db string) string {
	if cs, ok := s.charsets[db]; ok {
		return cs
	}
	return s.ServerCharset
}

// Apply parses one statement run with defaultDB as the current database
// and applies it. A statement that changes no table definition (DML,
// GRANT, CREATE VIEW, BEGIN, ...) returns no changes and no error; a table
// statement that cannot be parsed returns an error naming the problem.
// ALTER/DROP/RENAME/TRUNCATE of a table not known is ignored (it is outside
// what was captured), as are CREATE TABLE IF NOT EXISTS of a known table.
func (s *Schemas) Apply(defaultDB, sql string) ([]Change, error) {
	st, err := Parse(sql)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, nil
	}
	return st.apply(s, defaultDB)
}

// resolve fills in a table's database, when a statement named it without
// one.
func resolve(id TableID, defaultDB string) (TableID, error) {
	if id.Database == "" {
		if defaultDB == "" {
			return id, fmt.Errorf("table %s named without a database and no database is selected", id.Table)
		}
		id.Database = defaultDB
	}
	return id, nil
}

// charsetOf returns the character set a collation belongs to: the part
// before the first underscore (utf8mb4_general_ci is utf8mb4), "binary"
// for binary.
func charsetOf(collation string) string {
	c := strings.ToLower(collation)
	if i := strings.IndexByte(c, '_'); i > 0 {
		c = c[:i]
	}
	return normalizeCharset(c)
}

// normalizeCharset maps aliases to the name MySQL reports: utf8 is
// utf8mb3.
func normalizeCharset(cs string) string {
	cs = strings.ToLower(cs)
	switch cs {
	case "utf8":
		return "utf8mb3"
	}
	return cs
}
