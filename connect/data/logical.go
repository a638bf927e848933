package data

// Logical types: named schemas over a primitive, with the names, physical
// types and encodings of Kafka Connect's Decimal, Date, Time and Timestamp.

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Logical type names, exactly as Kafka Connect spells them.
const (
	DecimalName   = "org.apache.kafka.connect.data.Decimal"
	DateName      = "org.apache.kafka.connect.data.Date"
	TimeName      = "org.apache.kafka.connect.data.Time"
	TimestampName = "org.apache.kafka.connect.data.Timestamp"

	// DecimalScaleParam is the Decimal schema parameter holding the scale.
	DecimalScaleParam = "scale"

	// MaxDecimalScale bounds the scale of a Decimal schema in both
	// directions, so that a schema read from the wire cannot make a value
	// enormous (PostgreSQL's numeric allows at most 16383).
	MaxDecimalScale = 1 << 16
)

// The logical schemas (required). Use Optional(DateSchema) and so on for
// nullable ones; never modify them.
var (
	DateSchema      = &Schema{Type: TypeInt32, Name: DateName, Version: 1}
	TimeSchema      = &Schema{Type: TypeInt32, Name: TimeName, Version: 1}
	TimestampSchema = &Schema{Type: TypeInt64, Name: TimestampName, Version: 1}
)

// DecimalSchema returns a required Decimal schema with the given scale: bytes
// holding the unscaled value as big-endian two's complement.
func DecimalSchema(scale int32) *Schema {
	return &Schema{Type: TypeBytes, Name: DecimalName, Version: 1,
		Parameters: map[string]string{DecimalScaleParam: strconv.Itoa(int(scale))}}
}

// Decimal is an exact decimal number: Unscaled × 10^-Scale. It is the value
// of a Decimal schema, whose scale it must carry.
type Decimal struct {
	Unscaled *big.Int
	Scale    int32
}

// NewDecimal returns unscaled × 10^-scale.
func NewDecimal(unscaled int64, scale int32) Decimal {
	return Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
}

// ParseDecimal reads a decimal such as "-12.340" (scale 3) or "1e-2" (scale
// 2). The scale is the number of digits after the point.
func ParseDecimal(s string) (Decimal, error) {
	t := strings.TrimSpace(s)
	exp := 0
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		e, err := strconv.Atoi(t[i+1:])
		if err != nil {
			return Decimal{}, fmt.Errorf("decimal %q: bad exponent", s)
		}
		if e > 1<<16 || e < -(1<<16) {
			return Decimal{}, fmt.Errorf("decimal %q: exponent out of range", s)
		}
		exp, t = e, t[:i]
	}
	scale := 0
	if i := strings.IndexByte(t, '.'); i >= 0 {
		scale = len(t) - i - 1
		t = t[:i] + t[i+1:]
	}
	u, ok := new(big.Int).SetString(t, 10)
	if !ok {
		return Decimal{}, fmt.Errorf("decimal %q: want digits with an optional sign, point and exponent", s)
	}
	scale -= exp
	if scale < 0 {
		u.Mul(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-scale)), nil))
		scale = 0
	}
	if scale > MaxDecimalScale || scale < -MaxDecimalScale {
		return Decimal{}, fmt.Errorf("decimal %q: scale %d too large", s, scale)
	}
	return Decimal{Unscaled: u, Scale: int32(scale)}, nil
}

// String renders the decimal in plain notation with exactly Scale digits
// after the point, as Java's BigDecimal.toPlainString does.
func (d Decimal) String() string {
	if d.Unscaled == nil {
		return "<nil>"
	}
	digits := new(big.Int).Abs(d.Unscaled).String()
	sign := ""
	if d.Unscaled.Sign() < 0 {
		sign = "-"
	}
	if d.Scale < -MaxDecimalScale {
		return sign + digits + "E+" + strconv.Itoa(int(-d.Scale))
	}
	if d.Scale <= 0 {
		return sign + digits + strings.Repeat("0", int(-d.Scale))
	}
	sc := int(d.Scale)
	if len(digits) <= sc {
		digits = strings.Repeat("0", sc-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-sc] + "." + digits[len(digits)-sc:]
}

// Rat returns the decimal as an exact rational.
func (d Decimal) Rat() *big.Rat {
	r := new(big.Rat).SetInt(d.Unscaled)
	if d.Scale == 0 {
		return r
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(d.Scale))), nil)
	if d.Scale > 0 {
		return r.Quo(r, new(big.Rat).SetInt(p))
	}
	return r.Mul(r, new(big.Rat).SetInt(p))
}

// Float64 returns the nearest float64.
func (d Decimal) Float64() float64 {
	f, _ := d.Rat().Float64()
	return f
}

// Equal reports whether d and o are the same number at the same scale.
func (d Decimal) Equal(o Decimal) bool {
	if d.Unscaled == nil || o.Unscaled == nil {
		return d.Unscaled == o.Unscaled && d.Scale == o.Scale
	}
	return d.Scale == o.Scale && d.Unscaled.Cmp(o.Unscaled) == 0
}

func abs(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// DecimalScale returns the scale parameter of a Decimal schema.
func DecimalScale(s *Schema) (int32, error) {
	v, ok := s.Parameters[DecimalScaleParam]
	if !ok {
		return 0, errors.New("decimal schema has no \"scale\" parameter")
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < -MaxDecimalScale || n > MaxDecimalScale {
		return 0, fmt.Errorf("decimal schema scale %q: want an integer between %d and %d", v, -MaxDecimalScale, MaxDecimalScale)
	}
	return int32(n), nil
}

// DecimalBytes encodes the unscaled value as big-endian two's complement in
// the fewest bytes, as Java's BigInteger.toByteArray does.
func DecimalBytes(d Decimal) []byte {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	if u.Sign() >= 0 {
		b := u.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// Two's complement of a negative number: 2^(8n) + u for the smallest n
	// that keeps the sign bit set.
	n := (u.BitLen() + 8) / 8
	m := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	b := m.Add(m, u).Bytes()
	for len(b) < n {
		b = append([]byte{0xff}, b...)
	}
	if len(b) > 1 && b[0] == 0xff && b[1]&0x80 != 0 {
		b = b[1:]
	}
	return b
}

// DecimalFromBytes decodes big-endian two's complement bytes at scale.
func DecimalFromBytes(b []byte, scale int32) Decimal {
	u := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return Decimal{Unscaled: u, Scale: scale}
}

const (
	msPerDay = 24 * 60 * 60 * 1000
)

// ToLogical turns the physical value of a logical schema (bytes for a
// Decimal, days for a Date, ...) into its logical value (Decimal,
// time.Time). Values of other schemas are returned unchanged.
func ToLogical(s *Schema, v any) (any, error) {
	if s == nil || v == nil {
		return v, nil
	}
	switch s.Name {
	case DecimalName:
		b, ok := v.([]byte)
		if !ok {
			return nil, fmt.Errorf("decimal: want bytes, got %T", v)
		}
		scale, err := DecimalScale(s)
		if err != nil {
			return nil, err
		}
		return DecimalFromBytes(b, scale), nil
	case DateName:
		d, ok := v.(int32)
		if !ok {
			return nil, fmt.Errorf("date: want int32 days since the epoch, got %T", v)
		}
		return time.UnixMilli(int64(d) * msPerDay).UTC(), nil
	case TimeName:
		ms, ok := v.(int32)
		if !ok {
			return nil, fmt.Errorf("time: want int32 milliseconds since midnight, got %T", v)
		}
		if ms < 0 || ms >= msPerDay {
			return nil, fmt.Errorf("time: %d ms is outside a day [0, %d)", ms, msPerDay)
		}
		return time.UnixMilli(int64(ms)).UTC(), nil
	case TimestampName:
		ms, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("timestamp: want int64 milliseconds since the epoch, got %T", v)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	return v, nil
}

// FromLogical turns a logical value into the physical value its schema
// stores: Decimal to bytes (its scale must match the schema's), a Date
// (midnight UTC) to int32 days, a Time (on 1970-01-01 UTC) to int32 ms, a
// Timestamp to int64 ms. Values of other schemas are returned unchanged.
func FromLogical(s *Schema, v any) (any, error) {
	if s == nil || v == nil {
		return v, nil
	}
	switch s.Name {
	case DecimalName:
		d, ok := v.(Decimal)
		if !ok {
			return nil, fmt.Errorf("decimal: want data.Decimal, got %T", v)
		}
		scale, err := DecimalScale(s)
		if err != nil {
			return nil, err
		}
		if d.Scale != scale {
			return nil, fmt.Errorf("decimal %s has scale %d, the schema says %d", d, d.Scale, scale)
		}
		return DecimalBytes(d), nil
	case DateName:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("date: want time.Time, got %T", v)
		}
		ms := t.UnixMilli()
		if ms%msPerDay != 0 || t.Nanosecond()%1e6 != 0 {
			return nil, fmt.Errorf("date %s is not midnight UTC", t.UTC().Format(time.RFC3339Nano))
		}
		return int32(ms / msPerDay), nil
	case TimeName:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("time: want time.Time, got %T", v)
		}
		ms := t.UnixMilli()
		if ms < 0 || ms >= msPerDay {
			return nil, fmt.Errorf("time %s is not on 1970-01-01 UTC", t.UTC().Format(time.RFC3339Nano))
		}
		return int32(ms), nil
	case TimestampName:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("timestamp: want time.Time, got %T", v)
		}
		return t.UnixMilli(), nil
	}
	return v, nil
}

// checkLogical reports a logical schema on the wrong physical type or with
// bad parameters.
func checkLogical(s *Schema) error {
	want := map[string]Type{DecimalName: TypeBytes, DateName: TypeInt32, TimeName: TypeInt32, TimestampName: TypeInt64}[s.Name]
	if want == "" {
		return nil
	}
	if s.Type != want {
		return fmt.Errorf("logical type %s is stored as %s, not %s", s.Name, want, s.Type)
	}
	if s.Name == DecimalName {
		_, err := DecimalScale(s)
		return err
	}
	return nil
}
