package mysqlcdc

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/tributary-streams/tributary/connect/data"
	"github.com/tributary-streams/tributary/connectors/mysqlcdc/internal/ddl"
)

// systemDatabases are never captured, as in Debezium.
var systemDatabases = map[string]bool{"mysql": true, "sys": true, "performance_schema": true, "information_schema": true}

// filters decides what is captured: Debezium's database.include.list /
// database.exclude.list, table.include.list / table.exclude.list and
// column.exclude.list, each a comma-separated list of regular expressions
// matched against the whole name ("db", "db.table", "db.table.column"),
// and message.key.columns.
type filters struct {
	dbInclude, dbExclude       []*regexp.Regexp
	tableInclude, tableExclude []*regexp.Regexp
	columnExclude              []*regexp.Regexp
	// keyColumns maps "db.table" patterns to the columns that make the key.
	keyColumns []keyColumns
}

type keyColumns struct {
	table   *regexp.Regexp
	columns []string
}

// compilePatterns compiles a comma-separated list of anchored regexps.
func compilePatterns(key, list string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, p := range splitList(list) {
		re, err := regexp.Compile("^(?:" + p + ")$")
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a regular expression: %v", key, p, err)
		}
		out = append(out, re)
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseKeyColumns reads message.key.columns: "db.t1:c1,c2;db.t2:c3", the
// table part a regular expression.
func parseKeyColumns(s string) ([]keyColumns, error) {
	var out []keyColumns
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		i := strings.LastIndexByte(part, ':')
		if i <= 0 || i == len(part)-1 {
			return nil, fmt.Errorf("message.key.columns: %q: want <db>.<table>:<column>[,<column>...]", part)
		}
		re, err := regexp.Compile("^(?:" + part[:i] + ")$")
		if err != nil {
			return nil, fmt.Errorf("message.key.columns: %q is not a regular expression: %v", part[:i], err)
		}
		cols := splitList(part[i+1:])
		if len(cols) == 0 {
			return nil, fmt.Errorf("message.key.columns: %q names no column", part)
		}
		out = append(out, keyColumns{table: re, columns: cols})
	}
	return out, nil
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// captured reports whether a table's changes are captured.
func (f *filters) captured(id ddl.TableID) bool {
	if systemDatabases[id.Database] {
		return false
	}
	if len(f.dbInclude) > 0 && !matchAny(f.dbInclude, id.Database) || matchAny(f.dbExclude, id.Database) {
		return false
	}
	name := id.Database + "." + id.Table
	if len(f.tableInclude) > 0 && !matchAny(f.tableInclude, name) || matchAny(f.tableExclude, name) {
		return false
	}
	return true
}

// databaseCaptured reports whether any table of db may be captured.
func (f *filters) databaseCaptured(db string) bool {
	if systemDatabases[db] {
		return false
	}
	return (len(f.dbInclude) == 0 || matchAny(f.dbInclude, db)) && !matchAny(f.dbExclude, db)
}

func (f *filters) columnIncluded(id ddl.TableID, col string) bool {
	return !matchAny(f.columnExclude, id.Database+"."+id.Table+"."+col)
}

// keyFor returns the message.key.columns of a table, or nil.
func (f *filters) keyFor(id ddl.TableID) []string {
	name := id.Database + "." + id.Table
	for _, k := range f.keyColumns {
		if k.table.MatchString(name) {
			return k.columns
		}
	}
	return nil
}

// ErrNoPrimaryKey is the error for a captured table without a key.
var ErrNoPrimaryKey = errors.New("mysqlcdc: table has no primary key")

// capturedTable is one captured table's definition and decoders.
type capturedTable struct {
	id  ddl.TableID
	def *ddl.Table
	// columns has one entry per table column, in order; nil for a column
	// left out by column.exclude.list.
	columns []*column
	// key indexes the key columns in columns.
	key []int
	// topic is <topic.prefix>.<db>.<table>.
	topic string
	// schemas are the record schemas, built on first use.
	schemasOnce sync.Once
	schemas     *tableSchemas
}

// recordSchemas returns the table's record schemas.
func (t *capturedTable) recordSchemas(source *data.Schema) *tableSchemas {
	t.schemasOnce.Do(func() { t.schemas = newTableSchemas(t, source) })
	return t.schemas
}

// tableSet holds the schemas of every table and the decoders of captured
// ones, rebuilt when their definition changes. It is used by one
// goroutine at a time (the snapshot, then the binlog reader).
type tableSet struct {
	schemas *ddl.Schemas
	filters *filters
	types   typeOptions
	prefix  string
	cache   map[ddl.TableID]*capturedTable
}

func newTableSet(schemas *ddl.Schemas, f *filters, types typeOptions, prefix string) *tableSet {
	return &tableSet{schemas: schemas, filters: f, types: types, prefix: prefix, cache: map[ddl.TableID]*capturedTable{}}
}

// get returns the captured table id, nil when it is not captured, or an
// error when it is captured but cannot be (no definition, no key, an
// unsupported column type).
func (s *tableSet) get(id ddl.TableID) (*capturedTable, error) {
	if t, ok := s.cache[id]; ok {
		return t, nil
	}
	if !s.filters.captured(id) {
		s.cache[id] = nil
		return nil, nil
	}
	def := s.schemas.Table(id)
	if def == nil {
		return nil, fmt.Errorf("mysqlcdc: no definition of captured table %s in the schema history: it was created before the position the connector started from; snapshot it (snapshot.mode=initial or when_needed)", id)
	}
	t, err := s.build(def)
	if err != nil {
		return nil, err
	}
	s.cache[id] = t
	return t, nil
}

// invalidate drops what was built for id after its definition changed.
func (s *tableSet) invalidate(id ddl.TableID) { delete(s.cache, id) }

func (s *tableSet) build(def *ddl.Table) (*capturedTable, error) {
	t := &capturedTable{id: def.ID, def: def, topic: s.prefix + "." + def.ID.Database + "." + def.ID.Table}
	for _, c := range def.Columns {
		if !s.filters.columnIncluded(def.ID, c.Name) {
			t.columns = append(t.columns, nil)
			continue
		}
		col, err := newColumn(c, s.types)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", def.ID, err)
		}
		t.columns = append(t.columns, col)
	}
	keyNames := s.filters.keyFor(def.ID)
	source := "message.key.columns"
	if keyNames == nil {
		keyNames, source = def.PrimaryKey, "primary key"
	}
	if len(keyNames) == 0 {
		return nil, fmt.Errorf("%w: %s; add a primary key (ALTER TABLE %s ADD PRIMARY KEY (...)), name key columns with message.key.columns=%s:<column>[,...], or leave the table out with table.exclude.list",
			ErrNoPrimaryKey, def.ID, quoteID(def.ID), def.ID)
	}
	for _, k := range keyNames {
		_, i := def.Column(k)
		if i < 0 {
			return nil, fmt.Errorf("table %s: %s column %s is not a column of the table", def.ID, source, k)
		}
		if t.columns[i] == nil {
			return nil, fmt.Errorf("table %s: key column %s is left out by column.exclude.list", def.ID, k)
		}
		t.key = append(t.key, i)
	}
	return t, nil
}

// quoteID renders `db`.`table`.
func quoteID(id ddl.TableID) string { return quoteName(id.Database) + "." + quoteName(id.Table) }

func quoteName(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
