package ddl

import (
	"fmt"
	"strings"
)

// createTable is CREATE TABLE, with columns or LIKE another table.
type createTable struct {
	id          TableID
	ifNotExists bool
	columns     []*columnDef
	primaryKey  []string
	jsonChecks  []string // columns named by a table-level CHECK (json_valid(col))
	like        *TableID
	charset     string // table option [DEFAULT] CHARSET / COLLATE
}

func (p *parser) createTable() (Statement, error) {
	ct := &createTable{}
	ct.ifNotExists = p.accept("IF", "NOT", "EXISTS")
	id, err := p.tableName()
	if err != nil {
		return nil, err
	}
	ct.id = id
	if p.accept("LIKE") {
		like, err := p.tableName()
		if err != nil {
			return nil, err
		}
		ct.like = &like
		return ct, nil
	}
	if p.acceptPunct('(') {
		if p.peek().is("LIKE") {
			p.i++
			like, err := p.tableName()
			if err != nil {
				return nil, err
			}
			ct.like = &like
			return ct, p.expectPunct(')')
		}
		if p.peek().is("SELECT") {
			return nil, fmt.Errorf("CREATE TABLE %s (SELECT ...) names no columns", id.Table)
		}
		for {
			if err := p.createDefinition(ct); err != nil {
				return nil, err
			}
			if p.acceptPunct(')') {
				break
			}
			if err := p.expectPunct(','); err != nil {
				return nil, err
			}
		}
	} else {
		return nil, fmt.Errorf("CREATE TABLE %s without a column list", id.Table)
	}
	ct.charset = p.tableOptions()
	return ct, nil
}

// createDefinition reads one column or constraint of CREATE TABLE.
func (p *parser) createDefinition(ct *createTable) error {
	t := p.peek()
	if t.kind == tWord {
		// A constraint or index unless the word is followed by a type (a
		// column may be named KEY or INDEX only when quoted, or when the
		// next token is a type: MySQL reserves these words).
		switch {
		case t.is("CONSTRAINT"), t.is("PRIMARY"), t.is("UNIQUE"), t.is("FOREIGN"), t.is("CHECK"):
			return p.tableConstraint(&ct.primaryKey, &ct.jsonChecks)
		case t.is("INDEX"), t.is("KEY"), t.is("FULLTEXT"), t.is("SPATIAL"), t.is("PERIOD"):
			return p.skipItem()
		}
	}
	d, err := p.columnDef()
	if err != nil {
		return err
	}
	ct.columns = append(ct.columns, d)
	return nil
}

// tableConstraint reads [CONSTRAINT [name]] PRIMARY KEY (...) | UNIQUE ... |
// FOREIGN KEY ... | CHECK (...), setting *pk for a primary key and noting
// columns a CHECK (json_valid(col)) names.
func (p *parser) tableConstraint(pk *[]string, jsonChecks *[]string) error {
	if p.accept("CONSTRAINT") {
		if t := p.peek(); !t.is("PRIMARY") && !t.is("UNIQUE") && !t.is("FOREIGN") && !t.is("CHECK") {
			if _, err := p.ident(); err != nil {
				return err
			}
		}
	}
	switch {
	case p.accept("PRIMARY", "KEY"):
		// [index_type] (col [(len)] [ASC|DESC], ...) [index options]
		for !p.peek().isPunct('(') && !p.atEnd() {
			p.i++
		}
		cols, err := p.keyColumns()
		if err != nil {
			return err
		}
		*pk = cols
		return p.skipItem()
	case p.accept("CHECK"):
		start := p.i
		if err := p.skipParens(); err != nil {
			return err
		}
		body := p.toks[start:p.i]
		for k := 0; k+3 < len(body); k++ {
			if body[k].is("json_valid") && body[k+1].isPunct('(') && (body[k+2].kind == tQuoted || body[k+2].kind == tWord) && body[k+3].isPunct(')') {
				*jsonChecks = append(*jsonChecks, body[k+2].text)
			}
		}
		return p.skipItem()
	}
	return p.skipItem()
}

// keyColumns reads (col [(len)] [ASC|DESC], ...) of an index.
func (p *parser) keyColumns() ([]string, error) {
	if err := p.expectPunct('('); err != nil {
		return nil, err
	}
	var cols []string
	for {
		if p.peek().isPunct('(') {
			return nil, fmt.Errorf("a primary key on an expression is not supported")
		}
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		cols = append(cols, name)
		if p.peek().isPunct('(') {
			if err := p.skipParens(); err != nil {
				return nil, err
			}
		}
		p.accept("ASC")
		p.accept("DESC")
		if p.acceptPunct(')') {
			return cols, nil
		}
		if err := p.expectPunct(','); err != nil {
			return nil, err
		}
	}
}

// tableOptions reads table options to the end of the statement (ENGINE,
// partitioning, an AS SELECT ...) and returns the default charset they set.
func (p *parser) tableOptions() string {
	charset := ""
	for !p.atEnd() {
		if p.peek().is("SELECT") || p.peek().is("AS") || p.peek().is("PARTITION") {
			// The rest is a query or partitioning: no more table options.
			return charset
		}
		p.accept("DEFAULT")
		switch {
		case p.accept("CHARACTER", "SET"), p.accept("CHARSET"):
			p.acceptPunct('=')
			if name, err := p.ident(); err == nil {
				charset = normalizeCharset(name)
			}
		case p.accept("COLLATE"):
			p.acceptPunct('=')
			if name, err := p.ident(); err == nil && charset == "" {
				charset = charsetOf(name)
			}
		case p.peek().isPunct('('):
			if p.skipParens() != nil {
				return charset
			}
		default:
			p.i++
		}
	}
	return charset
}

func (ct *createTable) apply(s *Schemas, defaultDB string) ([]Change, error) {
	id, err := resolve(ct.id, defaultDB)
	if err != nil {
		return nil, err
	}
	if _, exists := s.tables[id]; exists && ct.ifNotExists {
		return nil, nil
	}
	var t *Table
	if ct.like != nil {
		likeID, err := resolve(*ct.like, defaultDB)
		if err != nil {
			return nil, err
		}
		src := s.tables[likeID]
		if src == nil {
			return nil, fmt.Errorf("CREATE TABLE %s LIKE %s: %s is not known", id, likeID, likeID)
		}
		t = src.Clone()
		t.ID = id
	} else {
		t = &Table{ID: id, Charset: ct.charset}
		if t.Charset == "" {
			t.Charset = s.DatabaseCharset(id.Database)
		}
		for _, d := range ct.columns {
			if c, _ := t.Column(d.col.Name); c != nil {
				return nil, fmt.Errorf("CREATE TABLE %s: column %s appears twice", id, d.col.Name)
			}
			t.Columns = append(t.Columns, d.resolve(t.Charset))
			if d.primaryKey {
				t.PrimaryKey = []string{d.col.Name}
			}
		}
		if len(ct.primaryKey) > 0 {
			t.PrimaryKey = nil
			for _, name := range ct.primaryKey {
				c, _ := t.Column(name)
				if c == nil {
					return nil, fmt.Errorf("CREATE TABLE %s: primary key column %s is not a column", id, name)
				}
				c.Nullable = false
				t.PrimaryKey = append(t.PrimaryKey, c.Name)
			}
		}
		markJSON(t, ct.jsonChecks)
	}
	s.tables[id] = t
	return []Change{{Type: Create, ID: id, Table: t.Clone()}}, nil
}

// markJSON turns LONGTEXT columns named by CHECK (json_valid(col)) into
// JSON, as MariaDB's JSON alias is written.
func markJSON(t *Table, cols []string) {
	for _, name := range cols {
		if c, _ := t.Column(name); c != nil && c.Type == "LONGTEXT" {
			c.Type = "JSON"
		}
	}
}

// keyIndex returns the position of name in the primary key, or -1.
func keyIndex(t *Table, name string) int {
	for i, k := range t.PrimaryKey {
		if strings.EqualFold(k, name) {
			return i
		}
	}
	return -1
}
