package transforms

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/connect/converter"
	"github.com/tributary-streams/tributary/connect/data"
)

// castValue casts v, described by s (nil: schemaless, the type follows
// from the Go type), to type to. See Cast for the rules.
func castValue(s *data.Schema, v any, to data.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	from, err := castInputType(s, v)
	if err != nil {
		return nil, err
	}
	if d, ok := v.(data.Decimal); ok && d.Unscaled == nil {
		return nil, fmt.Errorf("cannot cast a decimal without an unscaled value")
	}
	if to == data.TypeString {
		return castToString(s, v)
	}
	// Logical types cast to numbers as their physical values.
	if t, ok := v.(time.Time); ok {
		if s == nil || s.Name == data.TimestampName || s.Name == "" {
			v = t.UnixMilli()
		} else if v, err = data.FromLogical(s, t); err != nil {
			return nil, err
		}
	}
	switch x := v.(type) {
	case bool:
		n := int64(0)
		if x {
			n = 1
		}
		return fromInteger(n, to), nil
	case int:
		return fromInteger(int64(x), to), nil
	case int8:
		return fromInteger(int64(x), to), nil
	case int16:
		return fromInteger(int64(x), to), nil
	case int32:
		return fromInteger(int64(x), to), nil
	case int64:
		return fromInteger(x, to), nil
	case float32:
		return fromFloat(float64(x), to), nil
	case float64:
		return fromFloat(x, to), nil
	case data.Decimal:
		return fromDecimal(x, to), nil
	case string:
		return fromString(x, to)
	case []byte:
		return nil, fmt.Errorf("cannot cast %s to %s: bytes can only be cast to string", from, to)
	}
	return nil, fmt.Errorf("cannot cast a %s value (Go type %T) to %s", from, v, to)
}

// castInputType checks that v can be cast and names its type.
func castInputType(s *data.Schema, v any) (string, error) {
	if s != nil {
		if s.Name == data.DecimalName {
			return "decimal", nil
		}
		for _, t := range castInputs {
			if s.Type == t {
				return string(t), nil
			}
		}
		return "", fmt.Errorf("cannot cast from %s; supported types are %s", s.Type, typeNames(castInputs))
	}
	switch v.(type) {
	case bool:
		return "boolean", nil
	case int8, int16, int32, int64, int, float32, float64, string:
		return fmt.Sprintf("%T", v), nil
	case []byte:
		return "bytes", nil
	case data.Decimal:
		return "decimal", nil
	case time.Time:
		return "timestamp", nil
	}
	return "", fmt.Errorf("cannot cast a value of Go type %T; supported types are %s", v, typeNames(castInputs))
}

func fromInteger(n int64, to data.Type) any {
	switch to {
	case data.TypeInt8:
		return int8(n)
	case data.TypeInt16:
		return int16(n)
	case data.TypeInt32:
		return int32(n)
	case data.TypeInt64:
		return n
	case data.TypeFloat32:
		return float32(n)
	case data.TypeFloat64:
		return float64(n)
	}
	return n != 0 // boolean
}

// fromFloat narrows as Java does: to int8/int16 through int32 (saturating
// at int32's range, then wrapping), to int32/int64 saturating; NaN gives 0.
func fromFloat(f float64, to data.Type) any {
	switch to {
	case data.TypeInt8:
		return int8(javaInt(f))
	case data.TypeInt16:
		return int16(javaInt(f))
	case data.TypeInt32:
		return javaInt(f)
	case data.TypeInt64:
		return javaLong(f)
	case data.TypeFloat32:
		return float32(f)
	case data.TypeFloat64:
		return f
	}
	return javaLong(f) != 0 // boolean: Number.longValue() != 0
}

// javaInt is Java's (int) of a double.
func javaInt(f float64) int32 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int32(f)
}

// javaLong is Java's (long) of a double.
func javaLong(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// fromDecimal converts as BigDecimal's byteValue, intValue, ...: integers
// from the low bits of the integer part, floats to the nearest.
func fromDecimal(d data.Decimal, to data.Type) any {
	switch to {
	case data.TypeFloat32:
		f, _ := d.Rat().Float32()
		return f
	case data.TypeFloat64:
		return d.Float64()
	}
	return fromInteger(lowBits(integerPart(d)), to)
}

// integerPart truncates d toward zero.
func integerPart(d data.Decimal) *big.Int {
	u := new(big.Int).Set(d.Unscaled)
	if d.Scale == 0 {
		return u
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(d.Scale))), nil)
	if d.Scale < 0 {
		return u.Mul(u, p)
	}
	return u.Quo(u, p)
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// lowBits is BigInteger.longValue: the low 64 bits, two's complement.
func lowBits(n *big.Int) int64 {
	m := new(big.Int).And(n, new(big.Int).SetUint64(math.MaxUint64))
	return int64(m.Uint64())
}

func fromString(s string, to data.Type) (any, error) {
	outOfRange := func() (any, error) {
		return nil, fmt.Errorf("value %q is not a valid %s", s, to)
	}
	switch to {
	case data.TypeInt8, data.TypeInt16, data.TypeInt32, data.TypeInt64:
		bits := map[data.Type]int{data.TypeInt8: 8, data.TypeInt16: 16, data.TypeInt32: 32, data.TypeInt64: 64}[to]
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return outOfRange()
		}
		return fromInteger(n, to), nil
	case data.TypeFloat32, data.TypeFloat64:
		bits := 64
		if to == data.TypeFloat32 {
			bits = 32
		}
		f, ok := parseJavaFloat(s, bits)
		if !ok {
			return outOfRange()
		}
		if bits == 32 {
			return float32(f), nil
		}
		return f, nil
	}
	return strings.EqualFold(s, "true"), nil // Boolean.parseBoolean
}

// parseJavaFloat reads a number as Java's Double.parseDouble does:
// surrounding whitespace and a trailing f/F/d/D are allowed, "NaN" and
// "Infinity" are the only words, and out-of-range values become infinite.
func parseJavaFloat(s string, bits int) (float64, bool) {
	t := strings.TrimSpace(s)
	body := strings.TrimLeft(t, "+-")
	switch body {
	case "NaN", "Infinity":
	default:
		if strings.ContainsAny(strings.ToLower(body), "in_") {
			return 0, false
		}
		if n := len(t); n > 1 && strings.ContainsRune("fFdD", rune(t[n-1])) && !strings.HasPrefix(strings.ToLower(body), "0x") {
			t = t[:n-1]
		}
	}
	if body == "Infinity" {
		t = strings.Replace(t, "Infinity", "Inf", 1)
	}
	f, err := strconv.ParseFloat(t, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// castToString renders v as Kafka's Cast does (String.valueOf): numbers as
// Java prints them, bytes as base64, decimals as BigDecimal.toString,
// times in ISO-8601 UTC chosen by value (Values.dateFormatFor).
func castToString(s *data.Schema, v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		if s != nil && s.Name == data.DecimalName {
			scale, err := data.DecimalScale(s)
			if err != nil {
				return nil, err
			}
			return javaDecimalString(data.DecimalFromBytes(x, scale)), nil
		}
		return base64.StdEncoding.EncodeToString(x), nil
	case data.Decimal:
		return javaDecimalString(x), nil
	case time.Time:
		return isoString(x), nil
	}
	b, err := converter.StringConverter{}.FromConnect("", nil, v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// isoString is Kafka's Values.dateFormatFor: a time of day when t is within
// the first day of the epoch, a date at midnight, else a timestamp. (Kafka
// also takes times before 1970 for times of day; here they are timestamps.)
func isoString(t time.Time) string {
	t = t.UTC()
	ms := t.UnixMilli()
	switch {
	case ms >= 0 && ms < 24*60*60*1000:
		return t.Format("15:04:05.000Z")
	case ms%(24*60*60*1000) == 0:
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

// javaDecimalString is BigDecimal.toString: plain notation unless the
// scale is negative or the number is below 1e-6, then scientific
// ("1.23E-7", "1.2E+3").
func javaDecimalString(d data.Decimal) string {
	if d.Unscaled == nil {
		return "0"
	}
	digits := new(big.Int).Abs(d.Unscaled).String()
	sign := ""
	if d.Unscaled.Sign() < 0 {
		sign = "-"
	}
	adjusted := -int64(d.Scale) + int64(len(digits)-1)
	if d.Scale >= 0 && adjusted >= -6 {
		return d.String()
	}
	var b strings.Builder
	b.WriteString(sign)
	b.WriteString(digits[:1])
	if len(digits) > 1 {
		b.WriteByte('.')
		b.WriteString(digits[1:])
	}
	b.WriteByte('E')
	if adjusted > 0 {
		b.WriteByte('+')
	}
	b.WriteString(strconv.FormatInt(adjusted, 10))
	return b.String()
}
