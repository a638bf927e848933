// Package prescan checks a request body against its schema before kmsg
// decodes it, so that no request costs more CPU or memory than its bytes
// justify.
//
// kmsg trusts the counts it reads: a tagged-field count of 2^32 makes its
// decoder loop 2^32 times after the input has run out (about two minutes of
// CPU for a 22-byte ApiVersions request), and an array count is bounded only
// by the bytes left, while each element allocates a whole struct. Check
// walks the body with the same reader kmsg uses (kbin), field by field as
// kmsg's own decoder would for that key and version (schema_gen.go is
// generated from kmsg's decoders by ./gen), and stops at the first count
// that the bytes left cannot hold: a tagged-field count above half the bytes
// left (each tag takes at least a key and a size byte), an array count above
// the bytes left, a string or bytes length past the end. The walk reads each
// byte at most once and allocates nothing, and a body that passes decodes in
// kmsg without ever running out of input, so decoding is linear in the
// body's size.
package prescan

//go:generate go run ./gen

import (
	"errors"
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kbin"
)

// ErrMalformed is wrapped by every Check failure.
var ErrMalformed = errors.New("malformed request body")

const open = math.MaxInt16

type kind uint8

const (
	kFixed kind = iota + 1 // size bytes
	kUvarint
	kVarint
	kVarlong
	kString
	kNullableString
	kBytes
	kNullableBytes
	kArray
	kStruct
	kNullableStruct // an int8 presence byte (-1: null), then the struct
)

// enc is how a length or count is encoded.
type enc uint8

const (
	encFlexible enc = iota // compact (uvarint of n+1) in flexible versions, classic before
	encClassic             // int16 for strings, int32 for bytes and arrays
	encCompact             // always compact
)

// field is one field of a structure: present in versions [min, max].
type field struct {
	min, max int16
	kind     kind
	size     int    // kFixed
	enc      enc    // strings, bytes, arrays
	nullFrom int16  // kNullableString: null is accepted from this version on
	elem     *field // kArray
	st       *structure
	name     string
}

// structure is a struct's fields and, when hasTags, the tag section that
// ends it in flexible versions, with the tagged fields kmsg decodes.
type structure struct {
	fields  []field
	hasTags bool
	tags    []tagged
}

type tagged struct {
	key uint32
	f   field
}

// Known reports whether Check has a schema for the API key.
func Known(key int16) bool { return requests[key] != nil }

// Check walks body as a request of key and version (flexible says whether
// that version uses the compact encodings and tag sections) and returns an
// error wrapping ErrMalformed, naming the field, if a count or length
// claims more than the bytes left or the body ends early. Trailing bytes
// are accepted, as kmsg accepts them.
func Check(key, version int16, flexible bool, body []byte) error {
	st := requests[key]
	if st == nil {
		return fmt.Errorf("%w: no schema for API key %d", ErrMalformed, key)
	}
	w := walker{version: version, flexible: flexible}
	r := kbin.Reader{Src: body}
	if err := w.structure(&r, st); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

type walker struct {
	version  int16
	flexible bool
}

func (w *walker) structure(r *kbin.Reader, st *structure) error {
	for i := range st.fields {
		f := &st.fields[i]
		if w.version < f.min || w.version > f.max {
			continue
		}
		if err := w.field(r, f); err != nil {
			return err
		}
	}
	if st.hasTags && w.flexible {
		return w.tags(r, st)
	}
	return nil
}

// tags walks a tag section: a count, then per tag its key, size and bytes.
// The tagged fields kmsg knows are walked inside their bytes, as kmsg
// decodes them from a reader of just those bytes.
func (w *walker) tags(r *kbin.Reader, st *structure) error {
	n := r.Uvarint()
	if !r.Ok() {
		return errors.New("tagged field count past the end")
	}
	if uint64(n) > uint64(len(r.Src))/2 {
		return fmt.Errorf("tagged field count %d: %d bytes left hold at most %d tags", n, len(r.Src), len(r.Src)/2)
	}
	for ; n > 0; n-- {
		key := r.Uvarint()
		size := r.Uvarint()
		if !r.Ok() || uint64(size) > uint64(len(r.Src)) {
			return fmt.Errorf("tagged field %d: size %d past the end (%d bytes left)", key, size, len(r.Src))
		}
		inner := kbin.Reader{Src: r.Span(int(size))}
		for i := range st.tags {
			if st.tags[i].key == key {
				if err := w.field(&inner, &st.tags[i].f); err != nil {
					return fmt.Errorf("tagged field %d: %w", key, err)
				}
			}
		}
	}
	return nil
}

func (w *walker) compact(e enc) bool {
	return e == encCompact || (e == encFlexible && w.flexible)
}

func (w *walker) field(r *kbin.Reader, f *field) error {
	switch f.kind {
	case kFixed:
		r.Span(f.size)
	case kUvarint:
		r.Uvarint()
	case kVarint:
		r.Varint()
	case kVarlong:
		r.Varlong()
	case kString, kNullableString, kBytes, kNullableBytes:
		var n int
		switch {
		case w.compact(f.enc):
			n = int(r.Uvarint()) - 1
		case f.kind == kString || f.kind == kNullableString:
			n = int(r.Int16())
		default:
			n = int(r.Int32())
		}
		if !r.Ok() {
			break
		}
		nullable := (f.kind == kNullableString && w.version >= f.nullFrom) || f.kind == kNullableBytes
		if n < 0 && nullable {
			return nil
		}
		if n < 0 || n > len(r.Src) {
			return fmt.Errorf("%s: length %d, %d bytes left", f.name, n, len(r.Src))
		}
		r.Span(n)
	case kArray:
		var n int32
		if w.compact(f.enc) {
			n = int32(r.Uvarint()) - 1
		} else {
			n = r.Int32()
		}
		if !r.Ok() {
			break
		}
		if int64(n) > int64(len(r.Src)) {
			return fmt.Errorf("%s: %d elements claimed, %d bytes left", f.name, n, len(r.Src))
		}
		for i := int32(0); i < n; i++ {
			if err := w.field(r, f.elem); err != nil {
				return fmt.Errorf("%s[%d]: %w", f.name, i, err)
			}
		}
	case kStruct:
		return w.structure(r, f.st)
	case kNullableStruct:
		if r.Int8() == -1 || !r.Ok() {
			break
		}
		return w.structure(r, f.st)
	default:
		return fmt.Errorf("%s: unknown field kind %d", f.name, f.kind)
	}
	if !r.Ok() {
		return fmt.Errorf("%s: body ends inside the field", f.name)
	}
	return nil
}
