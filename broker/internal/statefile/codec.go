package statefile

import (
	"encoding/binary"
	"errors"
)

// Enc and Dec are the small binary encoding of record keys and values:
// varints and length-prefixed strings. kmsg has no codec for our own
// records.

var errShortRecord = errors.New("state file: truncated or malformed record")

// Enc appends encoded values.
type Enc []byte

func (e Enc) U8(v uint8) Enc     { return append(e, v) }
func (e Enc) Bool(v bool) Enc    { return e.U8(boolByte(v)) }
func (e Enc) Varint(v int64) Enc { return binary.AppendVarint(e, v) }
func (e Enc) Uvarint(v uint64) Enc {
	return binary.AppendUvarint(e, v)
}
func (e Enc) Bytes(b []byte) Enc {
	e = e.Uvarint(uint64(len(b)))
	return append(e, b...)
}
func (e Enc) Str(s string) Enc {
	e = e.Uvarint(uint64(len(s)))
	return append(e, s...)
}

// Nstr encodes a nullable string.
func (e Enc) Nstr(s *string) Enc {
	if s == nil {
		return e.U8(0)
	}
	return e.U8(1).Str(*s)
}

func (e Enc) ID(id [16]byte) Enc { return append(e, id[:]...) }

func boolByte(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

// Dec decodes what Enc encodes. It never panics: the first failure sets Err
// and every later read returns a zero value.
type Dec struct {
	B   []byte
	Err error
}

// Fail marks the input malformed (for a decoded value that is out of
// range): Err is set unless already set and every later read returns a zero
// value.
func (d *Dec) Fail() {
	if d.Err == nil {
		d.Err = errShortRecord
	}
	d.B = nil
}

// Finish ends decoding a value that must use all of its input: it fails on
// bytes left over and returns Err.
func (d *Dec) Finish() error {
	if d.Err == nil && len(d.B) != 0 {
		d.Fail()
	}
	return d.Err
}

func (d *Dec) U8() uint8 {
	if len(d.B) < 1 {
		d.Fail()
		return 0
	}
	v := d.B[0]
	d.B = d.B[1:]
	return v
}

func (d *Dec) Bool() bool { return d.U8() != 0 }

func (d *Dec) Varint() int64 {
	v, n := binary.Varint(d.B)
	if n <= 0 {
		d.Fail()
		return 0
	}
	d.B = d.B[n:]
	return v
}

func (d *Dec) Uvarint() uint64 {
	v, n := binary.Uvarint(d.B)
	if n <= 0 {
		d.Fail()
		return 0
	}
	d.B = d.B[n:]
	return v
}

func (d *Dec) I32() int32 {
	v := d.Varint()
	if int64(int32(v)) != v {
		d.Fail()
		return 0
	}
	return int32(v)
}

func (d *Dec) I16() int16 {
	v := d.Varint()
	if int64(int16(v)) != v {
		d.Fail()
		return 0
	}
	return int16(v)
}

// Count reads an element count and rejects counts that could not possibly
// fit in the remaining bytes (each element takes at least minSize bytes), so
// garbage cannot make us allocate huge slices.
func (d *Dec) Count(minSize int) int {
	n := d.Uvarint()
	if minSize < 1 {
		minSize = 1
	}
	if n > uint64(len(d.B)/minSize) {
		d.Fail()
		return 0
	}
	return int(n)
}

func (d *Dec) RawBytes() []byte {
	n := d.Uvarint()
	if n > uint64(len(d.B)) {
		d.Fail()
		return nil
	}
	v := d.B[:n:n]
	d.B = d.B[n:]
	return v
}

// Bytes returns a copy, so decoded state never aliases a read buffer.
func (d *Dec) Bytes() []byte {
	b := d.RawBytes()
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func (d *Dec) Str() string { return string(d.RawBytes()) }

func (d *Dec) Nstr() *string {
	if d.U8() == 0 {
		return nil
	}
	s := d.Str()
	if d.Err != nil {
		return nil
	}
	return &s
}

func (d *Dec) ID() (id [16]byte) {
	if len(d.B) < 16 {
		d.Fail()
		return id
	}
	copy(id[:], d.B)
	d.B = d.B[16:]
	return id
}
