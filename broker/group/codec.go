package group

import (
	"encoding/binary"
	"errors"
)

// The state file uses a small hand-rolled binary encoding: varints and
// length-prefixed strings. kmsg has no codec for our own records, and the
// format is private to this package.

var errShortRecord = errors.New("group state: truncated or malformed record")

type enc []byte

func (e enc) u8(v uint8) enc     { return append(e, v) }
func (e enc) bool(v bool) enc    { return e.u8(boolByte(v)) }
func (e enc) varint(v int64) enc { return binary.AppendVarint(e, v) }
func (e enc) uvarint(v uint64) enc {
	return binary.AppendUvarint(e, v)
}
func (e enc) bytes(b []byte) enc {
	e = e.uvarint(uint64(len(b)))
	return append(e, b...)
}
func (e enc) str(s string) enc {
	e = e.uvarint(uint64(len(s)))
	return append(e, s...)
}

// nstr encodes a nullable string.
func (e enc) nstr(s *string) enc {
	if s == nil {
		return e.u8(0)
	}
	return e.u8(1).str(*s)
}

func (e enc) id(id [16]byte) enc { return append(e, id[:]...) }

func boolByte(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

// dec decodes what enc encodes. It never panics: the first failure sets err
// and every later read returns a zero value.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail() {
	if d.err == nil {
		d.err = errShortRecord
	}
	d.b = nil
}

func (d *dec) u8() uint8 {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) bool() bool { return d.u8() != 0 }

func (d *dec) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) i32() int32 {
	v := d.varint()
	if int64(int32(v)) != v {
		d.fail()
		return 0
	}
	return int32(v)
}

func (d *dec) i16() int16 {
	v := d.varint()
	if int64(int16(v)) != v {
		d.fail()
		return 0
	}
	return int16(v)
}

// count reads an element count and rejects counts that could not possibly
// fit in the remaining bytes (each element takes at least minSize bytes), so
// garbage cannot make us allocate huge slices.
func (d *dec) count(minSize int) int {
	n := d.uvarint()
	if minSize < 1 {
		minSize = 1
	}
	if n > uint64(len(d.b)/minSize) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *dec) rawBytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// bytes returns a copy, so decoded state never aliases a read buffer.
func (d *dec) bytes() []byte {
	b := d.rawBytes()
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func (d *dec) str() string { return string(d.rawBytes()) }

func (d *dec) nstr() *string {
	if d.u8() == 0 {
		return nil
	}
	s := d.str()
	if d.err != nil {
		return nil
	}
	return &s
}

func (d *dec) id() (id [16]byte) {
	if len(d.b) < 16 {
		d.fail()
		return id
	}
	copy(id[:], d.b)
	d.b = d.b[16:]
	return id
}
