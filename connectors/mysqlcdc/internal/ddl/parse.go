package ddl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrSyntax marks a table statement the parser could not read.
var ErrSyntax = errors.New("ddl: syntax")

// Statement is a parsed statement that may change table definitions.
type Statement interface {
	apply(s *Schemas, defaultDB string) ([]Change, error)
}

// maxStatement bounds the statements parsed; longer ones are refused
// rather than slowing the binlog reader (a real CREATE TABLE is far
// smaller).
const maxStatement = 4 << 20

// Parse reads one statement. It returns a nil Statement (and no error) for
// statements that do not define tables: DML, transaction control, GRANT,
// views, routines, triggers, indexes, and so on.
func Parse(sql string) (Statement, error) {
	if len(sql) > maxStatement {
		return nil, fmt.Errorf("%w: statement of %d bytes is longer than %d", ErrSyntax, len(sql), maxStatement)
	}
	toks, err := lex(sql)
	if err != nil {
		if !looksLikeTableDDL(sql) {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	p := &parser{toks: toks}
	st, err := p.statement()
	if err != nil {
		return nil, fmt.Errorf("%w: %v in %q", ErrSyntax, err, clip(sql))
	}
	return st, nil
}

// looksLikeTableDDL is a cheap guess for text the lexer refused.
func looksLikeTableDDL(sql string) bool {
	u := strings.ToUpper(strings.TrimSpace(sql))
	for _, p := range []string{"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{kind: tEOF}
}

func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return token{kind: tEOF}
}

func (p *parser) next() token {
	t := p.peek()
	if p.i < len(p.toks) {
		p.i++
	}
	return t
}

func (p *parser) atEnd() bool {
	t := p.peek()
	return t.kind == tEOF || t.isPunct(';')
}

// accept consumes the keywords kws in sequence if they all come next.
func (p *parser) accept(kws ...string) bool {
	for k, kw := range kws {
		if !p.peekAt(k).is(kw) {
			return false
		}
	}
	p.i += len(kws)
	return true
}

func (p *parser) acceptPunct(c byte) bool {
	if p.peek().isPunct(c) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(kws ...string) error {
	if !p.accept(kws...) {
		return fmt.Errorf("want %s, got %s", strings.Join(kws, " "), p.peek())
	}
	return nil
}

func (p *parser) expectPunct(c byte) error {
	if !p.acceptPunct(c) {
		return fmt.Errorf("want %q, got %s", string(c), p.peek())
	}
	return nil
}

// ident reads an identifier: a bare word, a `quoted` one, or a "string"
// (an identifier under ANSI_QUOTES).
func (p *parser) ident() (string, error) {
	t := p.peek()
	switch t.kind {
	case tWord, tQuoted, tString:
		p.i++
		return t.text, nil
	}
	return "", fmt.Errorf("want a name, got %s", t)
}

// tableName reads [db.]table.
func (p *parser) tableName() (TableID, error) {
	first, err := p.ident()
	if err != nil {
		return TableID{}, err
	}
	if p.acceptPunct('.') {
		second, err := p.ident()
		if err != nil {
			return TableID{}, err
		}
		return TableID{Database: first, Table: second}, nil
	}
	return TableID{Table: first}, nil
}

// skipParens consumes a balanced (...) group, which must come next.
func (p *parser) skipParens() error {
	if err := p.expectPunct('('); err != nil {
		return err
	}
	depth := 1
	for depth > 0 {
		t := p.next()
		switch {
		case t.kind == tEOF:
			return errors.New("unbalanced parentheses")
		case t.isPunct('('):
			depth++
		case t.isPunct(')'):
			depth--
		}
	}
	return nil
}

// skipItem consumes tokens up to (not including) a ',' or ')' at depth 0,
// or the end of the statement.
func (p *parser) skipItem() error {
	for !p.atEnd() {
		t := p.peek()
		if t.isPunct(',') || t.isPunct(')') {
			return nil
		}
		if t.isPunct('(') {
			if err := p.skipParens(); err != nil {
				return err
			}
			continue
		}
		p.i++
	}
	return nil
}

// number reads a non-negative integer.
func (p *parser) number() (int, error) {
	t := p.next()
	if t.kind != tNumber {
		return 0, fmt.Errorf("want a number, got %s", t)
	}
	n, err := strconv.Atoi(t.text)
	if err != nil || n < 0 || n > 1<<24 {
		return 0, fmt.Errorf("want a small non-negative integer, got %s", t)
	}
	return n, nil
}

func (p *parser) statement() (Statement, error) {
	switch {
	case p.accept("CREATE"):
		return p.create()
	case p.accept("ALTER"):
		return p.alter()
	case p.accept("DROP"):
		return p.drop()
	case p.accept("RENAME"):
		if p.accept("TABLE") || p.accept("TABLES") {
			return p.renameTable()
		}
		return nil, nil
	case p.accept("TRUNCATE"):
		p.accept("TABLE")
		id, err := p.tableName()
		if err != nil {
			return nil, err
		}
		return truncateTable{id}, nil
	}
	return nil, nil
}

func (p *parser) create() (Statement, error) {
	p.accept("OR", "REPLACE")
	switch {
	case p.accept("DATABASE"), p.accept("SCHEMA"):
		p.accept("IF", "NOT", "EXISTS")
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		return createDatabase{name: name, charset: p.databaseOptions()}, nil
	}
	p.accept("TEMPORARY")
	if !p.accept("TABLE") {
		return nil, nil
	}
	return p.createTable()
}

// databaseOptions reads [DEFAULT] CHARACTER SET / CHARSET / COLLATE
// options and returns the charset they set ("" for none).
func (p *parser) databaseOptions() string {
	charset := ""
	for !p.atEnd() {
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
		default:
			p.i++
		}
	}
	return charset
}

func (p *parser) alter() (Statement, error) {
	p.accept("ONLINE")
	p.accept("IGNORE")
	switch {
	case p.accept("DATABASE"), p.accept("SCHEMA"):
		// ALTER DATABASE [name] options: the name is optional.
		name := ""
		if t := p.peek(); t.kind == tQuoted || t.kind == tWord && !isDatabaseOption(t) {
			name, _ = p.ident()
		}
		return alterDatabase{name: name, charset: p.databaseOptions()}, nil
	case p.accept("TABLE"):
		return p.alterTable()
	}
	return nil, nil
}

func isDatabaseOption(t token) bool {
	for _, kw := range []string{"DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "READ", "ENCRYPTION", "COMMENT", "UPGRADE"} {
		if t.is(kw) {
			return true
		}
	}
	return false
}

func (p *parser) drop() (Statement, error) {
	switch {
	case p.accept("DATABASE"), p.accept("SCHEMA"):
		p.accept("IF", "EXISTS")
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		return dropDatabase{name}, nil
	}
	p.accept("TEMPORARY")
	if !p.accept("TABLE") && !p.accept("TABLES") {
		return nil, nil
	}
	p.accept("IF", "EXISTS")
	var ids []TableID
	for {
		id, err := p.tableName()
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
		if !p.acceptPunct(',') {
			break
		}
	}
	return dropTable{ids}, nil
}

func (p *parser) renameTable() (Statement, error) {
	var r renameTable
	for {
		p.accept("IF", "EXISTS")
		from, err := p.tableName()
		if err != nil {
			return nil, err
		}
		p.accept("WAIT")
		if p.peek().kind == tNumber {
			p.i++
		}
		p.accept("NOWAIT")
		if err := p.expect("TO"); err != nil {
			return nil, err
		}
		to, err := p.tableName()
		if err != nil {
			return nil, err
		}
		r.pairs = append(r.pairs, [2]TableID{from, to})
		if !p.acceptPunct(',') {
			break
		}
	}
	return r, nil
}
