package ddl

import "fmt"

// dropTable is DROP TABLE a, b.
type dropTable struct{ ids []TableID }

func (d dropTable) apply(s *Schemas, defaultDB string) ([]Change, error) {
	var out []Change
	for _, raw := range d.ids {
		id, err := resolve(raw, defaultDB)
		if err != nil {
			return nil, err
		}
		if _, ok := s.tables[id]; ok {
			delete(s.tables, id)
			out = append(out, Change{Type: Drop, ID: id})
		}
	}
	return out, nil
}

// renameTable is RENAME TABLE a TO b, c TO d, applied in order (so a TO
// tmp, b TO a, tmp TO b swaps two tables).
type renameTable struct{ pairs [][2]TableID }

func (r renameTable) apply(s *Schemas, defaultDB string) ([]Change, error) {
	var out []Change
	for _, pair := range r.pairs {
		from, err := resolve(pair[0], defaultDB)
		if err != nil {
			return nil, err
		}
		to, err := resolve(pair[1], defaultDB)
		if err != nil {
			return nil, err
		}
		t := s.tables[from]
		if t == nil {
			continue
		}
		if _, taken := s.tables[to]; taken {
			return nil, fmt.Errorf("RENAME TABLE %s TO %s: %s already exists", from, to, to)
		}
		delete(s.tables, from)
		t = t.Clone()
		t.ID = to
		s.tables[to] = t
		out = append(out, Change{Type: Drop, ID: from}, Change{Type: Create, ID: to, Table: t.Clone()})
	}
	return out, nil
}

// truncateTable is TRUNCATE TABLE t: the rows go, the definition stays.
type truncateTable struct{ id TableID }

func (tr truncateTable) apply(s *Schemas, defaultDB string) ([]Change, error) {
	id, err := resolve(tr.id, defaultDB)
	if err != nil {
		return nil, err
	}
	t := s.tables[id]
	if t == nil {
		return nil, nil
	}
	return []Change{{Type: Truncate, ID: id, Table: t.Clone()}}, nil
}

// createDatabase is CREATE DATABASE name [options].
type createDatabase struct{ name, charset string }

func (c createDatabase) apply(s *Schemas, _ string) ([]Change, error) {
	cs := c.charset
	if cs == "" {
		cs = s.ServerCharset
	}
	s.charsets[c.name] = cs
	return []Change{{Type: Database, ID: TableID{Database: c.name}, Charset: cs}}, nil
}

// alterDatabase is ALTER DATABASE [name] options.
type alterDatabase struct{ name, charset string }

func (a alterDatabase) apply(s *Schemas, defaultDB string) ([]Change, error) {
	name := a.name
	if name == "" {
		name = defaultDB
	}
	if a.charset == "" || name == "" {
		return nil, nil
	}
	s.charsets[name] = a.charset
	return []Change{{Type: Database, ID: TableID{Database: name}, Charset: a.charset}}, nil
}

// dropDatabase is DROP DATABASE name: its tables go too.
type dropDatabase struct{ name string }

func (d dropDatabase) apply(s *Schemas, _ string) ([]Change, error) {
	var out []Change
	for _, t := range s.Tables() {
		if t.ID.Database == d.name {
			delete(s.tables, t.ID)
			out = append(out, Change{Type: Drop, ID: t.ID})
		}
	}
	delete(s.charsets, d.name)
	return append(out, Change{Type: DropDatabase, ID: TableID{Database: d.name}}), nil
}
