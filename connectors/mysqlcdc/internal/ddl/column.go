package ddl

import (
	"fmt"
	"strings"
)

// columnDef is a column definition as written: its charset is resolved
// against the table's default when it is applied.
type columnDef struct {
	col        Column
	charset    string // CHARACTER SET given on the column
	collation  string // COLLATE given on the column
	national   bool   // NCHAR / NATIONAL VARCHAR: utf8mb3
	primaryKey bool   // PRIMARY KEY given on the column
	notNull    bool
	position   string // "", "FIRST" or "AFTER"
	after      string // the column named by AFTER
}

// resolve returns the column with its character set settled: its own, the
// one its collation implies, or the table default; binary strings get
// "binary", and text declared with the binary charset becomes the binary
// type (CHAR(3) CHARACTER SET binary is BINARY(3)).
func (d *columnDef) resolve(tableCharset string) Column {
	c := d.col
	c.Values = append([]string(nil), d.col.Values...)
	if d.notNull || d.primaryKey {
		c.Nullable = false
	}
	switch c.Type {
	case "BINARY", "VARBINARY", "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB":
		c.Charset = "binary"
		return c
	}
	if !c.IsText() && c.Type != "JSON" {
		c.Charset = ""
		return c
	}
	switch {
	case d.charset != "":
		c.Charset = normalizeCharset(d.charset)
	case d.collation != "":
		c.Charset = charsetOf(d.collation)
	case d.national:
		c.Charset = "utf8mb3"
	case c.Type == "JSON":
		c.Charset = "utf8mb4"
	default:
		c.Charset = tableCharset
	}
	if c.Charset == "binary" {
		switch c.Type {
		case "CHAR":
			c.Type = "BINARY"
		case "VARCHAR":
			c.Type = "VARBINARY"
		case "TINYTEXT":
			c.Type = "TINYBLOB"
		case "TEXT":
			c.Type = "BLOB"
		case "MEDIUMTEXT":
			c.Type = "MEDIUMBLOB"
		case "LONGTEXT":
			c.Type = "LONGBLOB"
		}
	}
	return c
}

// columnDef reads `name type attributes...` up to a ',' or ')'.
func (p *parser) columnDef() (*columnDef, error) {
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	d := &columnDef{col: Column{Name: name, Nullable: true}}
	if err := p.dataType(d); err != nil {
		return nil, fmt.Errorf("column %s: %w", name, err)
	}
	if err := p.columnAttributes(d); err != nil {
		return nil, fmt.Errorf("column %s: %w", name, err)
	}
	return d, nil
}

// dataType reads a type and the attributes that belong to it (length,
// UNSIGNED, ZEROFILL, CHARACTER SET, ...).
func (p *parser) dataType(d *columnDef) error {
	t := p.next()
	if t.kind != tWord {
		return fmt.Errorf("want a type, got %s", t)
	}
	c := &d.col
	word := strings.ToUpper(t.text)
	switch word {
	case "TINYINT", "INT1", "SMALLINT", "INT2", "MEDIUMINT", "INT3", "MIDDLEINT", "INT", "INTEGER", "INT4", "BIGINT", "INT8":
		c.Type = map[string]string{"INT1": "TINYINT", "INT2": "SMALLINT", "INT3": "MEDIUMINT", "MIDDLEINT": "MEDIUMINT",
			"INTEGER": "INT", "INT4": "INT", "INT8": "BIGINT"}[word]
		if c.Type == "" {
			c.Type = word
		}
		if err := p.optLength(&c.Length, nil); err != nil {
			return err
		}
	case "BOOL", "BOOLEAN":
		c.Type, c.Length = "TINYINT", 1
	case "SERIAL":
		c.Type, c.Unsigned, c.AutoIncrement = "BIGINT", true, true
		d.notNull = true
	case "DECIMAL", "DEC", "NUMERIC", "FIXED":
		c.Type, c.Length = "DECIMAL", 10
		if err := p.optLength(&c.Length, &c.Scale); err != nil {
			return err
		}
		if c.Length < 1 || c.Length > 65 || c.Scale > 38 || c.Scale > c.Length {
			return fmt.Errorf("DECIMAL(%d,%d): want precision 1..65 and scale 0..38, at most the precision", c.Length, c.Scale)
		}
	case "FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "REAL":
		c.Type = "DOUBLE"
		if word == "FLOAT" || word == "FLOAT4" {
			c.Type = "FLOAT"
		}
		if word == "DOUBLE" {
			p.accept("PRECISION")
		}
		scale := -1
		if err := p.optLength(&c.Length, &scale); err != nil {
			return err
		}
		// FLOAT(p): the precision picks single or double.
		if word == "FLOAT" && scale < 0 && c.Length > 24 {
			c.Type = "DOUBLE"
		}
		if word == "FLOAT" && scale < 0 {
			c.Length = 0
		}
		if scale > 0 {
			c.Scale = scale
		}
	case "BIT":
		c.Type, c.Length = "BIT", 1
		if err := p.optLength(&c.Length, nil); err != nil {
			return err
		}
		if c.Length < 1 || c.Length > 64 {
			return fmt.Errorf("BIT(%d): want 1..64 bits", c.Length)
		}
	case "DATE":
		c.Type = "DATE"
	case "TIME", "DATETIME", "TIMESTAMP":
		c.Type = word
		if err := p.optLength(&c.FSP, nil); err != nil {
			return err
		}
		if c.FSP > 6 {
			return fmt.Errorf("%s(%d): want a fractional-seconds precision 0..6", word, c.FSP)
		}
	case "YEAR":
		c.Type = "YEAR"
		if err := p.optLength(&c.Length, nil); err != nil {
			return err
		}
	case "CHAR", "CHARACTER", "NCHAR", "NATIONAL", "VARCHAR", "VARCHARACTER", "NVARCHAR":
		if word == "NATIONAL" {
			d.national = true
			t := p.next()
			switch {
			case t.is("CHAR"), t.is("CHARACTER"):
				word = "CHAR"
			case t.is("VARCHAR"), t.is("VARCHARACTER"):
				word = "VARCHAR"
			default:
				return fmt.Errorf("want CHAR or VARCHAR after NATIONAL, got %s", t)
			}
		}
		if word == "NCHAR" || word == "NVARCHAR" {
			d.national = true
		}
		c.Type = "CHAR"
		if word == "VARCHAR" || word == "VARCHARACTER" || word == "NVARCHAR" || p.accept("VARYING") {
			c.Type = "VARCHAR"
		}
		if c.Type == "CHAR" {
			c.Length = 1
		}
		if err := p.optLength(&c.Length, nil); err != nil {
			return err
		}
		if c.Type == "CHAR" && p.accept("BYTE") {
			c.Type = "BINARY"
		}
	case "BINARY", "VARBINARY":
		c.Type = word
		if word == "BINARY" {
			c.Length = 1
		}
		if err := p.optLength(&c.Length, nil); err != nil {
			return err
		}
	case "TINYTEXT", "TEXT", "MEDIUMTEXT", "LONGTEXT", "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB":
		c.Type = word
		if err := p.optLength(&c.Length, nil); err != nil {
			return err
		}
	case "LONG":
		c.Type = "MEDIUMTEXT"
		if p.accept("VARBINARY") {
			c.Type = "MEDIUMBLOB"
		} else {
			p.accept("VARCHAR")
		}
	case "ENUM", "SET":
		c.Type = word
		vals, err := p.stringList()
		if err != nil {
			return err
		}
		c.Values = vals
	case "JSON":
		c.Type = "JSON"
	case "GEOMETRY", "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION", "GEOMCOLLECTION":
		c.Type = word
		if word == "GEOMCOLLECTION" {
			c.Type = "GEOMETRYCOLLECTION"
		}
	case "UUID", "INET4", "INET6":
		c.Type = word
	default:
		return fmt.Errorf("unknown type %s", t.text)
	}
	return nil
}

// optLength reads an optional (n) or, with scale, (n[,m]).
func (p *parser) optLength(length, scale *int) error {
	if !p.acceptPunct('(') {
		return nil
	}
	n, err := p.number()
	if err != nil {
		return err
	}
	*length = n
	if p.acceptPunct(',') {
		if scale == nil {
			return fmt.Errorf("want ')', got ','")
		}
		m, err := p.number()
		if err != nil {
			return err
		}
		*scale = m
	}
	return p.expectPunct(')')
}

// stringList reads ('a', 'b', ...).
func (p *parser) stringList() ([]string, error) {
	if err := p.expectPunct('('); err != nil {
		return nil, err
	}
	var out []string
	for {
		t := p.next()
		if t.kind != tString {
			return nil, fmt.Errorf("want a quoted member, got %s", t)
		}
		out = append(out, t.text)
		if p.acceptPunct(')') {
			return out, nil
		}
		if err := p.expectPunct(','); err != nil {
			return nil, err
		}
	}
}

// columnAttributes reads everything after the type up to ',' or ')'.
func (p *parser) columnAttributes(d *columnDef) error {
	c := &d.col
	for !p.atEnd() {
		t := p.peek()
		if t.isPunct(',') || t.isPunct(')') {
			return nil
		}
		switch {
		case p.accept("UNSIGNED"):
			c.Unsigned = true
		case p.accept("SIGNED"):
		case p.accept("ZEROFILL"):
			c.Unsigned = true
		case p.accept("NOT", "NULL"):
			d.notNull = true
		case p.accept("NULL"):
		case p.accept("CHARACTER", "SET"), p.accept("CHARSET"), p.accept("CHAR", "SET"):
			name, err := p.ident()
			if err != nil {
				return err
			}
			d.charset = name
		case p.accept("COLLATE"):
			name, err := p.ident()
			if err != nil {
				return err
			}
			d.collation = name
		case p.accept("ASCII"):
			d.charset = "latin1"
		case p.accept("UNICODE"):
			d.charset = "ucs2"
		case p.accept("BINARY"):
			// CHAR(n) BINARY: the charset's binary collation; still text.
		case p.accept("BYTE"):
			if c.Type == "CHAR" {
				c.Type = "BINARY"
			}
		case p.accept("AUTO_INCREMENT"):
			c.AutoIncrement = true
		case p.accept("PRIMARY", "KEY"):
			d.primaryKey = true
		case p.accept("UNIQUE"):
			p.accept("KEY")
		case p.accept("KEY"):
			// A column-level KEY is PRIMARY KEY.
			d.primaryKey = true
		case p.accept("DEFAULT"), p.accept("ON", "UPDATE"):
			if err := p.operand(); err != nil {
				return err
			}
		case p.accept("COMMENT"):
			if t := p.next(); t.kind != tString {
				return fmt.Errorf("want a quoted comment, got %s", t)
			}
		case p.accept("GENERATED", "ALWAYS"), p.peek().is("AS") && p.peekAt(1).isPunct('('):
			if err := p.expect("AS"); err != nil {
				return err
			}
			if err := p.skipParens(); err != nil {
				return err
			}
			c.Generated = true
		case p.accept("CHECK"):
			start := p.i
			if err := p.skipParens(); err != nil {
				return err
			}
			// MariaDB's JSON is LONGTEXT with CHECK (json_valid(col)).
			for _, t := range p.toks[start:p.i] {
				if t.is("json_valid") && c.Type == "LONGTEXT" {
					c.Type = "JSON"
				}
			}
		case p.accept("CONSTRAINT"):
			// CONSTRAINT [name] CHECK (...)
			if !p.peek().is("CHECK") {
				if _, err := p.ident(); err != nil {
					return err
				}
			}
		case p.accept("REFERENCES"):
			if _, err := p.tableName(); err != nil {
				return err
			}
			if p.peek().isPunct('(') {
				if err := p.skipParens(); err != nil {
					return err
				}
			}
		case p.accept("COLUMN_FORMAT"), p.accept("STORAGE"), p.accept("SRID"), p.accept("MATCH"):
			p.next()
		case p.accept("ON", "DELETE"):
			p.referenceAction()
		case p.accept("COMPRESSED"):
			if p.acceptPunct('=') {
				p.next()
			}
		case p.accept("SERIAL", "DEFAULT", "VALUE"):
			c.AutoIncrement = true
			d.notNull = true
		case p.accept("FIRST"):
			d.position = "FIRST"
		case p.accept("AFTER"):
			name, err := p.ident()
			if err != nil {
				return err
			}
			d.position, d.after = "AFTER", name
		case t.isPunct('('):
			if err := p.skipParens(); err != nil {
				return err
			}
		default:
			// VIRTUAL, STORED, PERSISTENT, INVISIBLE, VISIBLE, WITH/WITHOUT
			// SYSTEM VERSIONING, ENGINE_ATTRIBUTE=..., and others that do
			// not change how rows decode.
			p.i++
		}
	}
	return nil
}

// referenceAction reads RESTRICT | CASCADE | SET NULL | SET DEFAULT | NO ACTION.
func (p *parser) referenceAction() {
	switch {
	case p.accept("SET"), p.accept("NO"):
		p.next()
	default:
		p.next()
	}
}

// operand reads one default or ON UPDATE value: a literal (optionally
// signed), NULL, a name with an optional call, or a parenthesised
// expression.
func (p *parser) operand() error {
	for p.peek().isPunct('-') || p.peek().isPunct('+') {
		p.i++
	}
	t := p.next()
	switch t.kind {
	case tString, tNumber, tHex:
		return nil
	case tPunct:
		if t.isPunct('(') {
			p.i--
			return p.skipParens()
		}
		return fmt.Errorf("want a value, got %s", t)
	case tWord, tQuoted:
		if p.peek().isPunct('(') {
			return p.skipParens()
		}
		return nil
	}
	return fmt.Errorf("want a value, got %s", t)
}
