// Package jaas reads the JAAS login-module entry that Kafka takes in
// sasl.jaas.config, on clients and on brokers
// (listener.name.<listener>.<mechanism>.sasl.jaas.config):
//
//	org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="alice-secret";
//
// The form follows Kafka's JaasConfig: a login module class, a control
// flag (required, requisite, sufficient or optional), then key=value
// options, the value bare or in double quotes (with \" and \\ escapes), and
// a closing semicolon. Kafka accepts exactly one entry in sasl.jaas.config;
// so does Parse.
//
// Option values are usually secrets: no error from this package quotes a
// value, only positions and keys.
package jaas

import (
	"errors"
	"fmt"
	"strings"
)

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("jaas: bad sasl.jaas.config")

// Entry is one login-module entry.
type Entry struct {
	// Module is the login module class, e.g.
	// org.apache.kafka.common.security.scram.ScramLoginModule.
	Module string
	// Flag is the control flag: required, requisite, sufficient or optional.
	Flag string
	// Options are the key=value pairs, in no order. Keys are unique.
	Options map[string]string
}

// Login modules Kafka ships, by their class names.
const (
	PlainLoginModule = "org.apache.kafka.common.security.plain.PlainLoginModule"
	ScramLoginModule = "org.apache.kafka.common.security.scram.ScramLoginModule"
)

// ShortModule is the class name without its package: PlainLoginModule.
func (e Entry) ShortModule() string {
	return e.Module[strings.LastIndexByte(e.Module, '.')+1:]
}

// Parse reads one entry. Errors name the position (1-based character) and
// what was expected, never an option's value.
func Parse(s string) (Entry, error) {
	p := &parser{src: s}
	e := Entry{Options: map[string]string{}}
	p.skipSpace()
	e.Module = p.word()
	if e.Module == "" {
		return e, p.errorf("expected a login module class name (e.g. %s)", PlainLoginModule)
	}
	p.skipSpace()
	e.Flag = strings.ToLower(p.word())
	switch e.Flag {
	case "required", "requisite", "sufficient", "optional":
	case "":
		return e, p.errorf("expected a control flag (required, requisite, sufficient or optional) after the login module")
	default:
		return e, p.errorf("control flag must be required, requisite, sufficient or optional")
	}
	for {
		p.skipSpace()
		if p.done() {
			return e, p.errorf("missing ';' at the end of the entry")
		}
		if p.peek() == ';' {
			p.pos++
			break
		}
		key := p.word()
		if key == "" {
			return e, p.errorf("expected an option name or ';'")
		}
		p.skipSpace()
		if p.done() || p.peek() != '=' {
			return e, p.errorf("expected '=' after option %q", key)
		}
		p.pos++
		p.skipSpace()
		val, err := p.value(key)
		if err != nil {
			return e, err
		}
		if _, dup := e.Options[key]; dup {
			return e, p.errorf("option %q is given twice", key)
		}
		e.Options[key] = val
	}
	p.skipSpace()
	if !p.done() {
		return e, p.errorf("text after the entry's ';': sasl.jaas.config holds exactly one login module")
	}
	return e, nil
}

type parser struct {
	src string
	pos int
}

func (p *parser) done() bool { return p.pos >= len(p.src) }
func (p *parser) peek() byte { return p.src[p.pos] }

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: at character %d: %s", ErrSyntax, p.pos+1, fmt.Sprintf(format, args...))
}

func (p *parser) skipSpace() {
	for !p.done() && strings.IndexByte(" \t\r\n", p.peek()) >= 0 {
		p.pos++
	}
}

// word reads a bare token: a class name, flag, key or unquoted value.
func (p *parser) word() string {
	start := p.pos
	for !p.done() {
		c := p.peek()
		if c == '=' || c == ';' || c == '"' || strings.IndexByte(" \t\r\n", c) >= 0 {
			break
		}
		p.pos++
	}
	return p.src[start:p.pos]
}

// value reads an option value, quoted or bare.
func (p *parser) value(key string) (string, error) {
	if p.done() {
		return "", p.errorf("option %q has no value", key)
	}
	if p.peek() != '"' {
		v := p.word()
		if v == "" {
			return "", p.errorf("option %q has no value", key)
		}
		return v, nil
	}
	p.pos++
	var b strings.Builder
	for !p.done() {
		c := p.peek()
		p.pos++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.done() {
				return "", p.errorf("option %q: unterminated escape", key)
			}
			b.WriteByte(p.peek())
			p.pos++
		default:
			b.WriteByte(c)
		}
	}
	return "", p.errorf("option %q: unterminated quoted value", key)
}
