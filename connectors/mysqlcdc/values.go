package mysqlcdc

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/connect/data"
	"github.com/tributary-streams/tributary/connectors/mysqlcdc/internal/ddl"
)

// kind is how a column's values are represented in change events: the
// Debezium MySQL connector's mapping under its default settings
// (time.precision.mode=adaptive_time_microseconds).
type kind uint8

const (
	kindInt16          kind = iota + 1 // TINYINT, SMALLINT
	kindInt32                          // SMALLINT UNSIGNED, MEDIUMINT, INT
	kindInt64                          // INT UNSIGNED, BIGINT, BIGINT UNSIGNED (long)
	kindDecimal                        // DECIMAL, BIGINT UNSIGNED (precise): Connect Decimal
	kindDecimalDouble                  // DECIMAL with decimal.handling.mode=double
	kindDecimalString                  // DECIMAL with decimal.handling.mode=string
	kindFloat32                        // FLOAT
	kindFloat64                        // DOUBLE
	kindBool                           // BIT(1)
	kindBits                           // BIT(n>1): io.debezium.data.Bits, little-endian bytes
	kindString                         // CHAR, VARCHAR, TEXT
	kindBytes                          // BINARY, VARBINARY, BLOB (binary.handling.mode)
	kindDate                           // DATE: io.debezium.time.Date, days since the epoch
	kindMicroTime                      // TIME: io.debezium.time.MicroTime, microseconds
	kindTimestamp                      // DATETIME(0-3): io.debezium.time.Timestamp, ms since the epoch
	kindMicroTimestamp                 // DATETIME(4-6): io.debezium.time.MicroTimestamp
	kindZonedTimestamp                 // TIMESTAMP: io.debezium.time.ZonedTimestamp, ISO-8601 in UTC
	kindYear                           // YEAR: io.debezium.time.Year
	kindEnum                           // ENUM: io.debezium.data.Enum
	kindSet                            // SET: io.debezium.data.EnumSet
	kindJSON                           // JSON: io.debezium.data.Json
	kindGeometry                       // GEOMETRY and its subtypes: io.debezium.data.geometry.Geometry
	kindPoint                          // POINT: io.debezium.data.geometry.Point
)

// typeOptions are the connector settings that change how values look.
type typeOptions struct {
	decimalMode string // decimal.handling.mode: precise, double, string
	bigintMode  string // bigint.unsigned.handling.mode: long, precise
	binaryMode  string // binary.handling.mode: bytes, base64, base64-url-safe, hex
	flavorMySQL bool   // the server is MySQL, not MariaDB
}

// column is a table column with what it takes to decode its values.
type column struct {
	ddl.Column
	kind kind
	// optional: the value may be null (the column is nullable).
	optional bool
	// decode turns binlog text bytes into UTF-8 (text columns).
	decode charsetDecoder
	// binary is how bytes are rendered (binary.handling.mode).
	binary string
	// bits is BIT's width.
	bits int
	// scale is DECIMAL's scale.
	scale int32
	// schema is the column's field schema in row structs.
	schema *data.Schema
	// compactJSON: the server is MySQL, whose JSON text has spaces after
	// ':' and ',' while the binlog's binary JSON renders compact.
	compactJSON bool
}

// errUnsupportedType names a column type the connector cannot capture.
var errUnsupportedType = errors.New("mysqlcdc: unsupported column type")

// newColumn works out how a column's values are represented.
func newColumn(c ddl.Column, o typeOptions) (*column, error) {
	col := &column{Column: c, optional: c.Nullable, binary: o.binaryMode, compactJSON: o.flavorMySQL}
	switch c.Type {
	case "TINYINT":
		col.kind = kindInt16
	case "SMALLINT":
		col.kind = kindInt16
		if c.Unsigned {
			col.kind = kindInt32
		}
	case "MEDIUMINT":
		col.kind = kindInt32
	case "INT":
		col.kind = kindInt32
		if c.Unsigned {
			col.kind = kindInt64
		}
	case "BIGINT":
		col.kind = kindInt64
		if c.Unsigned && o.bigintMode == "precise" {
			col.kind, col.scale = kindDecimal, 0
		}
	case "DECIMAL":
		col.scale = int32(c.Scale)
		switch o.decimalMode {
		case "double":
			col.kind = kindDecimalDouble
		case "string":
			col.kind = kindDecimalString
		default:
			col.kind = kindDecimal
		}
	case "FLOAT":
		col.kind = kindFloat32
	case "DOUBLE":
		col.kind = kindFloat64
	case "BIT":
		col.bits = c.Length
		col.kind = kindBits
		if c.Length <= 1 {
			col.kind = kindBool
		}
	case "DATE":
		col.kind = kindDate
	case "TIME":
		col.kind = kindMicroTime
	case "DATETIME":
		col.kind = kindTimestamp
		if c.FSP > 3 {
			col.kind = kindMicroTimestamp
		}
	case "TIMESTAMP":
		col.kind = kindZonedTimestamp
	case "YEAR":
		col.kind = kindYear
	case "CHAR", "VARCHAR", "TINYTEXT", "TEXT", "MEDIUMTEXT", "LONGTEXT", "ENUM", "SET", "JSON":
		col.kind = map[string]kind{"ENUM": kindEnum, "SET": kindSet, "JSON": kindJSON}[c.Type]
		if col.kind == 0 {
			col.kind = kindString
		}
		cs := c.Charset
		if cs == "" || c.Type == "JSON" {
			cs = "utf8mb4"
		}
		dec, err := decoderFor(cs)
		if err != nil {
			return nil, fmt.Errorf("%w: column %s: %v", errUnsupportedType, c.Name, err)
		}
		col.decode = dec
	case "BINARY", "VARBINARY", "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB":
		col.kind = kindBytes
	case "GEOMETRY", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION":
		col.kind = kindGeometry
	case "POINT":
		col.kind = kindPoint
	default:
		return nil, fmt.Errorf("%w: column %s has type %s; leave it out with column.exclude.list", errUnsupportedType, c.Name, c.Type)
	}
	col.schema = fieldSchema(col)
	return col, nil
}

// zero is what a zero or invalid date becomes in a NOT NULL column:
// Debezium's epoch value (a nullable column gets null).
func (c *column) zero() any {
	if c.optional {
		return nil
	}
	switch c.kind {
	case kindDate:
		return int32(0)
	case kindZonedTimestamp:
		return formatZoned(time.Unix(0, 0).UTC(), c.FSP)
	}
	return int64(0)
}

// fromBinlog converts a value decoded by go-mysql's replication package
// (ParseTime off, UseDecimal off, TIMESTAMP in UTC).
func (c *column) fromBinlog(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.kind {
	case kindInt16, kindInt32, kindInt64, kindDecimal:
		if c.Type == "DECIMAL" {
			break
		}
		n, ok := binlogInt(v, c.Type, c.Unsigned)
		if !ok {
			return nil, c.unexpected(v)
		}
		return c.integer(n)
	case kindEnum:
		idx, ok := v.(int64)
		if !ok {
			return nil, c.unexpected(v)
		}
		if idx == 0 {
			return "", nil // the empty "error" member
		}
		if idx < 0 || int(idx) > len(c.Values) {
			return nil, fmt.Errorf("column %s: ENUM index %d outside its %d members", c.Name, idx, len(c.Values))
		}
		return c.Values[idx-1], nil
	case kindSet:
		mask, ok := v.(int64)
		if !ok {
			return nil, c.unexpected(v)
		}
		var parts []string
		for i, m := range c.Values {
			if i < 64 && mask&(1<<uint(i)) != 0 {
				parts = append(parts, m)
			}
		}
		return strings.Join(parts, ","), nil
	case kindBool, kindBits:
		n, ok := v.(int64)
		if !ok {
			return nil, c.unexpected(v)
		}
		if c.kind == kindBool {
			return n != 0, nil
		}
		out := make([]byte, (c.bits+7)/8)
		for i := range out {
			out[i] = byte(uint64(n) >> (8 * uint(i)))
		}
		return out, nil
	case kindYear:
		switch y := v.(type) {
		case int:
			return int32(y), nil
		case int64:
			return int32(y), nil
		}
		return nil, c.unexpected(v)
	case kindFloat32:
		if f, ok := v.(float32); ok {
			return f, nil
		}
		return nil, c.unexpected(v)
	case kindFloat64:
		if f, ok := v.(float64); ok {
			return f, nil
		}
		return nil, c.unexpected(v)
	case kindJSON:
		switch j := v.(type) {
		case string:
			// MySQL's binary JSON, rendered by go-mysql.
			return j, nil
		case []byte:
			if len(j) == 0 {
				// MySQL logs an empty document for '' inserted into a JSON
				// column outside strict mode: JSON null.
				return "null", nil
			}
			// MariaDB's JSON is text.
			return c.decode(j)
		}
		return nil, fmt.Errorf("column %s: JSON value of type %T (a partial JSON update? set binlog_row_value_options='')", c.Name, v)
	case kindString:
		b, ok := asBytes(v)
		if !ok {
			return nil, c.unexpected(v)
		}
		return c.decode(b)
	case kindBytes:
		b, ok := asBytes(v)
		if !ok {
			return nil, c.unexpected(v)
		}
		return c.renderBytes(c.padBinary(b)), nil
	case kindGeometry, kindPoint:
		b, ok := asBytes(v)
		if !ok {
			return nil, c.unexpected(v)
		}
		return c.spatial(b)
	}
	// Temporal and decimal values come as text in both sources.
	s, ok := v.(string)
	if !ok {
		if b, isBytes := v.([]byte); isBytes {
			s, ok = string(b), true
		}
	}
	if !ok {
		return nil, c.unexpected(v)
	}
	return c.fromText(s)
}

// fromSnapshot converts a value read by go-sql-driver/mysql over the binary
// protocol (a prepared statement; session time_zone '+00:00' and
// character set utf8mb4): int64 for integers (a []byte decimal for BIGINT
// UNSIGNED above 2^63-1), float32/float64, and bytes for the rest.
func (c *column) fromSnapshot(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.kind {
	case kindInt16, kindInt32, kindInt64, kindDecimal, kindYear:
		if c.Type == "DECIMAL" {
			break
		}
		switch n := v.(type) {
		case int64:
			if c.kind == kindYear {
				return int32(n), nil
			}
			if c.kind == kindDecimal {
				return data.Decimal{Unscaled: big.NewInt(n)}, nil
			}
			return c.integer(n)
		case []byte:
			// An unsigned BIGINT above 2^63-1.
			u, err := strconv.ParseUint(string(n), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("column %s: %q is not an unsigned integer", c.Name, n)
			}
			if c.kind == kindDecimal {
				return data.Decimal{Unscaled: new(big.Int).SetUint64(u)}, nil
			}
			return int64(u), nil
		}
		return nil, c.unexpected(v)
	case kindFloat32:
		switch f := v.(type) {
		case float32:
			return f, nil
		case float64:
			return float32(f), nil
		}
		return nil, c.unexpected(v)
	case kindFloat64:
		if f, ok := v.(float64); ok {
			return f, nil
		}
		return nil, c.unexpected(v)
	}
	b, ok := asBytes(v)
	if !ok {
		return nil, c.unexpected(v)
	}
	switch c.kind {
	case kindBool, kindBits:
		// BIT comes as big-endian bytes.
		if c.kind == kindBool {
			return len(b) > 0 && b[len(b)-1]&1 != 0, nil
		}
		out := make([]byte, (c.bits+7)/8)
		for i := range out {
			if i < len(b) {
				out[i] = b[len(b)-1-i]
			}
		}
		return out, nil
	case kindString, kindEnum, kindSet:
		return string(b), nil
	case kindJSON:
		if c.compactJSON {
			var buf bytes.Buffer
			if err := json.Compact(&buf, b); err == nil {
				return buf.String(), nil
			}
		}
		return string(b), nil
	case kindBytes:
		return c.renderBytes(clone(b)), nil
	case kindGeometry, kindPoint:
		return c.spatial(clone(b))
	}
	return c.fromText(string(b))
}

// fromText parses the text form both sources use for DECIMAL, DATE, TIME,
// DATETIME and TIMESTAMP.
func (c *column) fromText(s string) (any, error) {
	switch c.kind {
	case kindDecimal, kindDecimalDouble, kindDecimalString:
		d, err := parseDecimal(s, c.scale)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		switch c.kind {
		case kindDecimalDouble:
			return d.Float64(), nil
		case kindDecimalString:
			return d.String(), nil
		}
		return d, nil
	case kindDate:
		y, m, d, ok := parseDate(s)
		if !ok {
			return nil, fmt.Errorf("column %s: %q is not a date", c.Name, s)
		}
		if !validDate(y, m, d) {
			return c.zero(), nil
		}
		return int32(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / 86400), nil
	case kindMicroTime:
		us, ok := parseTime(s)
		if !ok {
			return nil, fmt.Errorf("column %s: %q is not a time", c.Name, s)
		}
		return us, nil
	case kindTimestamp, kindMicroTimestamp, kindZonedTimestamp:
		t, ok, valid := parseDateTime(s)
		if !ok {
			return nil, fmt.Errorf("column %s: %q is not a date and time", c.Name, s)
		}
		if !valid {
			return c.zero(), nil
		}
		switch c.kind {
		case kindTimestamp:
			return t.UnixMilli(), nil
		case kindMicroTimestamp:
			return t.UnixMicro(), nil
		}
		return formatZoned(t, c.FSP), nil
	}
	return nil, fmt.Errorf("column %s: unexpected text value %q", c.Name, s)
}

func (c *column) unexpected(v any) error {
	return fmt.Errorf("column %s (%s): unexpected value of type %T", c.Name, c.Type, v)
}

// integer checks a value against the column's representation.
func (c *column) integer(n int64) (any, error) {
	switch c.kind {
	case kindInt16:
		if n < math.MinInt16 || n > math.MaxInt16 {
			return nil, fmt.Errorf("column %s: %d does not fit int16", c.Name, n)
		}
		return int16(n), nil
	case kindInt32:
		if n < math.MinInt32 || n > math.MaxInt32 {
			return nil, fmt.Errorf("column %s: %d does not fit int32", c.Name, n)
		}
		return int32(n), nil
	case kindDecimal:
		// BIGINT UNSIGNED, precise: n holds the bits of a uint64.
		return data.Decimal{Unscaled: new(big.Int).SetUint64(uint64(n))}, nil
	}
	return n, nil
}

// binlogInt widens go-mysql's signed integer of the column's storage width
// and, for unsigned columns, reinterprets its bits. BIGINT UNSIGNED keeps
// its 64 bits in the int64 (Debezium's bigint.unsigned.handling.mode=long).
func binlogInt(v any, typ string, unsigned bool) (int64, bool) {
	switch n := v.(type) {
	case int8:
		if unsigned {
			return int64(uint8(n)), true
		}
		return int64(n), true
	case int16:
		if unsigned {
			return int64(uint16(n)), true
		}
		return int64(n), true
	case int32:
		if unsigned {
			if typ == "MEDIUMINT" {
				return int64(uint32(n) & 0xFFFFFF), true
			}
			return int64(uint32(n)), true
		}
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

// clone copies b, keeping an empty value empty rather than nil.
func clone(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	return out
}

func asBytes(v any) ([]byte, bool) {
	switch b := v.(type) {
	case []byte:
		return b, true
	case string:
		return []byte(b), true
	}
	return nil, false
}

// padBinary restores BINARY(n)'s trailing zero bytes, which the binlog
// drops and SELECT returns.
func (c *column) padBinary(b []byte) []byte {
	if c.Type != "BINARY" || len(b) >= c.Length {
		return b
	}
	out := make([]byte, c.Length)
	copy(out, b)
	return out
}

// renderBytes applies binary.handling.mode.
func (c *column) renderBytes(b []byte) any {
	switch c.binary {
	case "base64":
		return base64.StdEncoding.EncodeToString(b)
	case "base64-url-safe":
		return base64.URLEncoding.EncodeToString(b)
	case "hex":
		return hex.EncodeToString(b)
	}
	return b
}

// spatial splits MySQL's internal geometry format: a little-endian SRID in
// 4 bytes, then WKB.
func (c *column) spatial(b []byte) (any, error) {
	if len(b) < 4+5 {
		return nil, fmt.Errorf("column %s: geometry of %d bytes is too short for SRID and WKB", c.Name, len(b))
	}
	srid, wkb := int32(binary.LittleEndian.Uint32(b)), b[4:]
	g := data.NewStruct(c.schema)
	if c.kind == kindPoint {
		x, y, err := wkbPoint(wkb)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		g.PutAt(0, x)
		g.PutAt(1, y)
		g.PutAt(2, wkb)
		g.PutAt(3, srid)
		return g, nil
	}
	g.PutAt(0, wkb)
	g.PutAt(1, srid)
	return g, nil
}

// wkbPoint reads a WKB point: byte order, type 1, x, y.
func wkbPoint(w []byte) (float64, float64, error) {
	if len(w) < 21 {
		return 0, 0, fmt.Errorf("WKB point of %d bytes, want 21", len(w))
	}
	var order binary.ByteOrder = binary.LittleEndian
	if w[0] == 0 {
		order = binary.BigEndian
	}
	if typ := order.Uint32(w[1:5]); typ != 1 {
		return 0, 0, fmt.Errorf("WKB type %d in a POINT column", typ)
	}
	return math.Float64frombits(order.Uint64(w[5:13])), math.Float64frombits(order.Uint64(w[13:21])), nil
}

// formatZoned renders a TIMESTAMP as Debezium's ZonedTimestamp: ISO-8601
// in UTC with the column's fractional digits.
func formatZoned(t time.Time, fsp int) string {
	return t.UTC().Format(zonedLayouts[min(max(fsp, 0), 6)])
}

var zonedLayouts = [7]string{
	"2006-01-02T15:04:05Z", "2006-01-02T15:04:05.0Z", "2006-01-02T15:04:05.00Z", "2006-01-02T15:04:05.000Z",
	"2006-01-02T15:04:05.0000Z", "2006-01-02T15:04:05.00000Z", "2006-01-02T15:04:05.000000Z",
}

// parseDecimal reads [-]digits[.digits] exactly and returns it at scale
// (more fractional digits than the scale is an error: it would round).
func parseDecimal(s string, scale int32) (data.Decimal, error) {
	t := s
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	intPart, frac := t, ""
	if i := strings.IndexByte(t, '.'); i >= 0 {
		intPart, frac = t[:i], t[i+1:]
	}
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return data.Decimal{}, fmt.Errorf("%q is not a decimal number", s)
	}
	if len(frac) > int(scale) {
		if strings.Trim(frac[scale:], "0") != "" {
			return data.Decimal{}, fmt.Errorf("%q has more than %d digits after the point", s, scale)
		}
		frac = frac[:scale]
	}
	digits := intPart + frac + strings.Repeat("0", int(scale)-len(frac))
	if len(digits) > 80 {
		return data.Decimal{}, fmt.Errorf("%q has too many digits", s)
	}
	u := new(big.Int)
	if digits != "" {
		if len(digits) <= 18 {
			n, _ := strconv.ParseInt(digits, 10, 64)
			u.SetInt64(n)
		} else {
			u.SetString(digits, 10)
		}
	}
	if neg {
		u.Neg(u)
	}
	return data.Decimal{Unscaled: u, Scale: scale}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// num reads exactly n digits at s[i:].
func num(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseDate reads YYYY-MM-DD.
func parseDate(s string) (y, m, d int, ok bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y, ok1 := num(s, 0, 4)
	m, ok2 := num(s, 5, 2)
	d, ok3 := num(s, 8, 2)
	return y, m, d, ok1 && ok2 && ok3
}

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// fraction reads an optional .ffffff at s[i:] and returns microseconds.
func fraction(s string, i int) (int, bool) {
	if i == len(s) {
		return 0, true
	}
	if s[i] != '.' || len(s)-i-1 > 6 || len(s)-i-1 < 1 {
		return 0, false
	}
	f, ok := num(s, i+1, len(s)-i-1)
	for k := len(s) - i - 1; k < 6; k++ {
		f *= 10
	}
	return f, ok
}

// parseDateTime reads YYYY-MM-DD HH:MM:SS[.ffffff] as UTC. valid is false
// for zero and invalid dates (0000-00-00 00:00:00, 2024-02-30 ...).
func parseDateTime(s string) (t time.Time, ok, valid bool) {
	if len(s) < 19 || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false, false
	}
	y, mo, d, ok := parseDate(s[:10])
	h, ok1 := num(s, 11, 2)
	mi, ok2 := num(s, 14, 2)
	se, ok3 := num(s, 17, 2)
	us, ok4 := fraction(s, 19)
	if !ok || !ok1 || !ok2 || !ok3 || !ok4 || h > 23 || mi > 59 || se > 59 {
		return time.Time{}, false, false
	}
	if !validDate(y, mo, d) {
		return time.Time{}, true, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, se, us*1000, time.UTC), true, true
}

// parseTime reads [-]H+:MM:SS[.ffffff] (up to 838 hours) as microseconds.
func parseTime(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	colon := strings.IndexByte(s, ':')
	if colon < 1 || colon > 3 || len(s) < colon+6 || s[colon+3] != ':' {
		return 0, false
	}
	h, ok := num(s, 0, colon)
	m, ok1 := num(s, colon+1, 2)
	sec, ok2 := num(s, colon+4, 2)
	us, ok3 := fraction(s, colon+6)
	if !ok || !ok1 || !ok2 || !ok3 || m > 59 || sec > 59 || h > 838 {
		return 0, false
	}
	v := ((int64(h)*60+int64(m))*60+int64(sec))*1_000_000 + int64(us)
	if neg {
		v = -v
	}
	return v, true
}
