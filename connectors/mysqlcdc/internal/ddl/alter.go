package ddl

import (
	"fmt"
	"slices"
	"strings"
)

// alterTable is ALTER TABLE with its list of specifications.
type alterTable struct {
	id    TableID
	specs []alterSpec
}

// alterSpec is one ALTER TABLE specification that matters for decoding.
type alterSpec struct {
	op      string // ADD, DROP, MODIFY, CHANGE, RENAME_COLUMN, RENAME, ADD_PK, DROP_PK, CONVERT, CHARSET, JSON_CHECK
	name    string // the column dropped, changed, modified or renamed
	newName string // RENAME_COLUMN's new name
	def     *columnDef
	ifExist bool     // DROP ... IF EXISTS, ADD ... IF NOT EXISTS
	cols    []string // ADD PRIMARY KEY columns, JSON_CHECK columns
	to      TableID  // RENAME's new name
	charset string   // CONVERT / CHARSET
}

func (p *parser) alterTable() (Statement, error) {
	at := &alterTable{}
	p.accept("IF", "EXISTS")
	id, err := p.tableName()
	if err != nil {
		return nil, err
	}
	at.id = id
	for !p.atEnd() {
		if err := p.alterSpec(at); err != nil {
			return nil, err
		}
		if !p.acceptPunct(',') {
			break
		}
	}
	return at, nil
}

func (p *parser) alterSpec(at *alterTable) error {
	switch {
	case p.accept("ADD"):
		t := p.peek()
		switch {
		case t.is("CONSTRAINT"), t.is("PRIMARY"), t.is("UNIQUE"), t.is("FOREIGN"), t.is("CHECK"):
			var pk, jsonCols []string
			if err := p.tableConstraint(&pk, &jsonCols); err != nil {
				return err
			}
			if pk != nil {
				at.specs = append(at.specs, alterSpec{op: "ADD_PK", cols: pk})
			}
			if len(jsonCols) > 0 {
				at.specs = append(at.specs, alterSpec{op: "JSON_CHECK", cols: jsonCols})
			}
			return nil
		case t.is("INDEX"), t.is("KEY"), t.is("FULLTEXT"), t.is("SPATIAL"), t.is("PARTITION"), t.is("PERIOD"), t.is("SYSTEM"):
			return p.skipItem()
		}
		p.accept("COLUMN")
		ifNotExists := p.accept("IF", "NOT", "EXISTS")
		if p.acceptPunct('(') {
			for {
				d, err := p.columnDef()
				if err != nil {
					return err
				}
				at.specs = append(at.specs, alterSpec{op: "ADD", def: d, ifExist: ifNotExists})
				if p.acceptPunct(')') {
					return nil
				}
				if err := p.expectPunct(','); err != nil {
					return err
				}
			}
		}
		d, err := p.columnDef()
		if err != nil {
			return err
		}
		at.specs = append(at.specs, alterSpec{op: "ADD", def: d, ifExist: ifNotExists})
		return nil
	case p.accept("DROP"):
		switch {
		case p.accept("PRIMARY", "KEY"):
			at.specs = append(at.specs, alterSpec{op: "DROP_PK"})
			return nil
		case p.peek().is("INDEX"), p.peek().is("KEY"), p.peek().is("FOREIGN"), p.peek().is("CONSTRAINT"),
			p.peek().is("CHECK"), p.peek().is("PARTITION"), p.peek().is("PERIOD"), p.peek().is("SYSTEM"):
			return p.skipItem()
		}
		p.accept("COLUMN")
		ifExists := p.accept("IF", "EXISTS")
		name, err := p.ident()
		if err != nil {
			return err
		}
		at.specs = append(at.specs, alterSpec{op: "DROP", name: name, ifExist: ifExists})
		p.accept("RESTRICT")
		p.accept("CASCADE")
		return nil
	case p.accept("MODIFY"):
		p.accept("COLUMN")
		ifExists := p.accept("IF", "EXISTS")
		d, err := p.columnDef()
		if err != nil {
			return err
		}
		at.specs = append(at.specs, alterSpec{op: "MODIFY", name: d.col.Name, def: d, ifExist: ifExists})
		return nil
	case p.accept("CHANGE"):
		p.accept("COLUMN")
		ifExists := p.accept("IF", "EXISTS")
		old, err := p.ident()
		if err != nil {
			return err
		}
		d, err := p.columnDef()
		if err != nil {
			return err
		}
		at.specs = append(at.specs, alterSpec{op: "CHANGE", name: old, def: d, ifExist: ifExists})
		return nil
	case p.accept("RENAME"):
		switch {
		case p.accept("COLUMN"):
			ifExists := p.accept("IF", "EXISTS")
			old, err := p.ident()
			if err != nil {
				return err
			}
			if err := p.expect("TO"); err != nil {
				return err
			}
			name, err := p.ident()
			if err != nil {
				return err
			}
			at.specs = append(at.specs, alterSpec{op: "RENAME_COLUMN", name: old, newName: name, ifExist: ifExists})
			return nil
		case p.peek().is("INDEX"), p.peek().is("KEY"):
			return p.skipItem()
		}
		if !p.accept("TO") {
			p.accept("AS")
		}
		to, err := p.tableName()
		if err != nil {
			return err
		}
		at.specs = append(at.specs, alterSpec{op: "RENAME", to: to})
		return nil
	case p.accept("CONVERT", "TO"):
		if !p.accept("CHARACTER", "SET") && !p.accept("CHARSET") {
			return fmt.Errorf("want CHARACTER SET after CONVERT TO, got %s", p.peek())
		}
		name, err := p.ident()
		if err != nil {
			return err
		}
		cs := normalizeCharset(name)
		if p.accept("COLLATE") {
			if _, err := p.ident(); err != nil {
				return err
			}
		}
		if cs == "default" {
			cs = ""
		}
		at.specs = append(at.specs, alterSpec{op: "CONVERT", charset: cs})
		return nil
	case p.peek().is("DEFAULT") && (p.peekAt(1).is("CHARACTER") || p.peekAt(1).is("CHARSET") || p.peekAt(1).is("COLLATE")),
		p.peek().is("CHARACTER") || p.peek().is("CHARSET") || p.peek().is("COLLATE"):
		p.accept("DEFAULT")
		collate := p.peek().is("COLLATE")
		if !p.accept("CHARACTER", "SET") && !p.accept("CHARSET") {
			p.accept("COLLATE")
		}
		p.acceptPunct('=')
		name, err := p.ident()
		if err != nil {
			return err
		}
		cs := normalizeCharset(name)
		if collate {
			cs = charsetOf(name)
		}
		at.specs = append(at.specs, alterSpec{op: "CHARSET", charset: cs})
		// A COLLATE may follow: the charset already says what matters.
		if p.accept("COLLATE") {
			p.acceptPunct('=')
			p.ident()
		}
		return nil
	}
	// ALTER COLUMN ... SET DEFAULT, ENGINE=..., ALGORITHM=..., LOCK=...,
	// FORCE, ORDER BY, partition maintenance, table options: nothing that
	// changes how rows decode.
	return p.skipItem()
}

func (at *alterTable) apply(s *Schemas, defaultDB string) ([]Change, error) {
	id, err := resolve(at.id, defaultDB)
	if err != nil {
		return nil, err
	}
	cur := s.tables[id]
	if cur == nil {
		return nil, nil
	}
	t := cur.Clone()
	fail := func(format string, args ...any) ([]Change, error) {
		return nil, fmt.Errorf("ALTER TABLE %s: %s", id, fmt.Sprintf(format, args...))
	}
	for _, sp := range at.specs {
		switch sp.op {
		case "ADD":
			if c, _ := t.Column(sp.def.col.Name); c != nil {
				if sp.ifExist {
					continue
				}
				return fail("column %s already exists", sp.def.col.Name)
			}
			col := sp.def.resolve(t.Charset)
			at, err := insertAt(t, sp.def, len(t.Columns))
			if err != nil {
				return fail("%v", err)
			}
			t.Columns = slices.Insert(t.Columns, at, col)
			if sp.def.primaryKey {
				t.PrimaryKey = []string{col.Name}
			}
		case "DROP":
			_, i := t.Column(sp.name)
			if i < 0 {
				if sp.ifExist {
					continue
				}
				return fail("column %s does not exist", sp.name)
			}
			t.Columns = slices.Delete(t.Columns, i, i+1)
			if k := keyIndex(t, sp.name); k >= 0 {
				t.PrimaryKey = slices.Delete(t.PrimaryKey, k, k+1)
			}
		case "MODIFY", "CHANGE":
			_, i := t.Column(sp.name)
			if i < 0 {
				if sp.ifExist {
					continue
				}
				return fail("column %s does not exist", sp.name)
			}
			col := sp.def.resolve(t.Charset)
			if c, j := t.Column(col.Name); c != nil && j != i {
				return fail("column %s already exists", col.Name)
			}
			if k := keyIndex(t, sp.name); k >= 0 {
				t.PrimaryKey[k] = col.Name
				col.Nullable = false
			}
			t.Columns = slices.Delete(t.Columns, i, i+1)
			pos, err := insertAt(t, sp.def, i)
			if err != nil {
				return fail("%v", err)
			}
			t.Columns = slices.Insert(t.Columns, pos, col)
			if sp.def.primaryKey {
				t.PrimaryKey = []string{col.Name}
			}
		case "RENAME_COLUMN":
			c, _ := t.Column(sp.name)
			if c == nil {
				if sp.ifExist {
					continue
				}
				return fail("column %s does not exist", sp.name)
			}
			if other, _ := t.Column(sp.newName); other != nil && other != c {
				return fail("column %s already exists", sp.newName)
			}
			if k := keyIndex(t, sp.name); k >= 0 {
				t.PrimaryKey[k] = sp.newName
			}
			c.Name = sp.newName
		case "ADD_PK":
			var pk []string
			for _, name := range sp.cols {
				c, _ := t.Column(name)
				if c == nil {
					return fail("primary key column %s does not exist", name)
				}
				c.Nullable = false
				pk = append(pk, c.Name)
			}
			t.PrimaryKey = pk
		case "DROP_PK":
			t.PrimaryKey = nil
		case "JSON_CHECK":
			markJSON(t, sp.cols)
		case "CONVERT":
			cs := sp.charset
			if cs == "" {
				cs = s.DatabaseCharset(id.Database)
			}
			t.Charset = cs
			for i := range t.Columns {
				c := &t.Columns[i]
				if c.IsText() && c.Charset != "binary" {
					c.Charset = cs
				}
			}
		case "CHARSET":
			t.Charset = sp.charset
		case "RENAME":
			to, err := resolve(sp.to, id.Database)
			if err != nil {
				return nil, err
			}
			t.ID = to
		}
	}
	if t.ID != id {
		delete(s.tables, id)
		s.tables[t.ID] = t
		return []Change{{Type: Drop, ID: id}, {Type: Create, ID: t.ID, Table: t.Clone()}}, nil
	}
	s.tables[id] = t
	return []Change{{Type: Alter, ID: id, Table: t.Clone()}}, nil
}

// insertAt returns where a column goes: FIRST, AFTER x, or def (its old
// place, or the end).
func insertAt(t *Table, d *columnDef, def int) (int, error) {
	switch d.position {
	case "FIRST":
		return 0, nil
	case "AFTER":
		for i, c := range t.Columns {
			if strings.EqualFold(c.Name, d.after) {
				return i + 1, nil
			}
		}
		return 0, fmt.Errorf("AFTER %s: no such column", d.after)
	}
	return def, nil
}
