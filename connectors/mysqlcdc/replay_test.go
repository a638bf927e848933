package mysqlcdc

// An oracle independent of the connector's own decoding: it replays a
// table topic written with the JsonConverter (schemas on) into the final
// row per key, and renders both those rows and the table's SELECT in the
// same text, so they can be compared row for row.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// jsonField is a field of a JsonConverter schema.
type jsonField struct {
	Field      string            `json:"field"`
	Type       string            `json:"type"`
	Name       string            `json:"name"`
	Optional   bool              `json:"optional"`
	Parameters map[string]string `json:"parameters"`
	Fields     []jsonField       `json:"fields"`
}

type jsonEnvelope struct {
	Schema struct {
		Fields []jsonField `json:"fields"`
	} `json:"schema"`
	Payload map[string]json.RawMessage `json:"payload"`
}

// replayTopic reads topic from the start to its end and applies every
// change, partition by partition, to a map key -> column -> text.
func replayTopic(t *testing.T, addr, topic string) (map[string]map[string]string, int, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, 0, err
	}
	defer cl.Close()
	ends, err := testkit.Admin(t, addr).ListEndOffsets(context.Background(), topic)
	if err != nil {
		return nil, 0, err
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { want[o.Partition] = o.Offset })
	seen := map[int32]int64{}
	state := map[string]map[string]string{}
	keysOf := map[int32]map[string]bool{}
	n := 0
	done := func() bool {
		for p, end := range want {
			if seen[p] < end {
				return false
			}
		}
		return true
	}
	// The deadline is for each poll, not for the whole read: decoding
	// every envelope (about 15 KB of JSON each, under -race on a loaded
	// machine) may take longer than any fixed bound on the whole, while
	// the broker answers each poll at once as long as records are left.
	const pollTimeout = 20 * time.Second
	for !done() {
		ctx, cancel := context.WithTimeout(context.Background(), pollTimeout)
		fs := cl.PollFetches(ctx)
		timedOut := ctx.Err() != nil
		cancel()
		if timedOut {
			return nil, 0, fmt.Errorf("reading %s: no record for %v: read up to %v of end offsets %v", topic, pollTimeout, seen, want)
		}
		var ferr error
		fs.EachRecord(func(r *kgo.Record) {
			seen[r.Partition] = r.Offset + 1
			if r.Offset >= want[r.Partition] || ferr != nil {
				return
			}
			n++
			if keysOf[r.Partition] == nil {
				keysOf[r.Partition] = map[string]bool{}
			}
			key, err := keyText(r.Key)
			if err != nil {
				ferr = err
				return
			}
			if r.Value == nil {
				delete(state, key)
				return
			}
			var env jsonEnvelope
			if err := json.Unmarshal(r.Value, &env); err != nil {
				ferr = fmt.Errorf("offset %d: %v", r.Offset, err)
				return
			}
			var op string
			json.Unmarshal(env.Payload["op"], &op)
			switch op {
			case "t":
				for k := range keysOf[r.Partition] {
					delete(state, k)
				}
				return
			case "d":
				delete(state, key)
				return
			}
			var row *jsonField
			for i := range env.Schema.Fields {
				if env.Schema.Fields[i].Field == "after" {
					row = &env.Schema.Fields[i]
				}
			}
			var after map[string]json.RawMessage
			if err := json.Unmarshal(env.Payload["after"], &after); err != nil || row == nil {
				ferr = fmt.Errorf("offset %d: op %s without an after row", r.Offset, op)
				return
			}
			vals := map[string]string{}
			for _, f := range row.Fields {
				s, err := topicText(f, after[f.Field])
				if err != nil {
					ferr = fmt.Errorf("offset %d field %s: %v", r.Offset, f.Field, err)
					return
				}
				vals[f.Field] = s
			}
			state[key] = vals
			keysOf[r.Partition][key] = true
		})
		if ferr != nil {
			return nil, 0, ferr
		}
	}
	return state, n, nil
}

// keyText renders a JsonConverter key's payload.
func keyText(b []byte) (string, error) {
	var k struct {
		Payload map[string]json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(b, &k); err != nil {
		return "", fmt.Errorf("key %q: %v", b, err)
	}
	var parts []string
	for name, v := range k.Payload {
		parts = append(parts, name+"="+string(v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ","), nil
}

const null = "NULL"

// topicText renders one field's JSON value as the table query renders it.
func topicText(f jsonField, raw json.RawMessage) (string, error) {
	if raw == nil || string(raw) == "null" {
		return null, nil
	}
	str := func() (string, error) {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	bytes := func() ([]byte, error) {
		s, err := str()
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.DecodeString(s)
	}
	num := func() (json.Number, error) {
		var n json.Number
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.UseNumber()
		err := d.Decode(&n)
		return n, err
	}
	switch f.Name {
	case "org.apache.kafka.connect.data.Decimal":
		b, err := bytes()
		if err != nil {
			return "", err
		}
		u := new(big.Int).SetBytes(b)
		if len(b) > 0 && b[0]&0x80 != 0 {
			u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
		scale, _ := strconv.Atoi(f.Parameters["scale"])
		return decimalText(u, scale), nil
	case "io.debezium.data.Bits":
		b, err := bytes()
		if err != nil {
			return "", err
		}
		v := new(big.Int)
		for i := len(b) - 1; i >= 0; i-- {
			v.Lsh(v, 8).Or(v, big.NewInt(int64(b[i])))
		}
		return strings.ToUpper(v.Text(16)), nil
	case "io.debezium.time.Date":
		n, err := num()
		if err != nil {
			return "", err
		}
		d, _ := n.Int64()
		return time.Unix(d*86400, 0).UTC().Format("2006-01-02"), nil
	case "io.debezium.time.MicroTime":
		n, err := num()
		if err != nil {
			return "", err
		}
		us, _ := n.Int64()
		return "us:" + strconv.FormatInt(us, 10), nil
	case "io.debezium.time.Timestamp":
		n, err := num()
		if err != nil {
			return "", err
		}
		ms, _ := n.Int64()
		return "us:" + strconv.FormatInt(ms*1000, 10), nil
	case "io.debezium.time.MicroTimestamp":
		n, err := num()
		if err != nil {
			return "", err
		}
		us, _ := n.Int64()
		return "us:" + strconv.FormatInt(us, 10), nil
	case "io.debezium.time.ZonedTimestamp":
		s, err := str()
		if err != nil {
			return "", err
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return "", err
		}
		return "us:" + strconv.FormatInt(tm.UnixMicro(), 10), nil
	case "io.debezium.data.geometry.Geometry", "io.debezium.data.geometry.Point":
		var g struct {
			WKB  string `json:"wkb"`
			SRID *int   `json:"srid"`
		}
		if err := json.Unmarshal(raw, &g); err != nil {
			return "", err
		}
		b, err := base64.StdEncoding.DecodeString(g.WKB)
		if err != nil {
			return "", err
		}
		srid := 0
		if g.SRID != nil {
			srid = *g.SRID
		}
		return fmt.Sprintf("%d:%X", srid, b), nil
	}
	switch f.Type {
	case "bytes":
		b, err := bytes()
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%X", b), nil
	case "boolean":
		if string(raw) == "true" {
			return "1", nil
		}
		return "0", nil
	case "float", "double":
		n, err := num()
		if err != nil {
			return "", err
		}
		bits := 64
		if f.Type == "float" {
			bits = 32 // Connect's float32
		}
		v, err := strconv.ParseFloat(n.String(), bits)
		return "f:" + strconv.FormatFloat(v, 'g', -1, 64), err
	case "int8", "int16", "int32", "int64":
		n, err := num()
		return n.String(), err
	case "string":
		return str()
	}
	return "", fmt.Errorf("unexpected field type %s (%s)", f.Type, f.Name)
}

func decimalText(u *big.Int, scale int) string {
	s := new(big.Int).Abs(u).String()
	for len(s) <= scale {
		s = "0" + s
	}
	if scale > 0 {
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if u.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// tableColumn is a column of the table as information_schema describes it.
type tableColumn struct {
	name, dataType, columnType string
	fsp                        int
}

// tableRows selects every row, rendering each column as topicText renders
// Debezium's value of it.
func tableRows(t *testing.T, m *testkit.MariaDB, db, table, key string) map[string]map[string]string {
	var cols []tableColumn
	for _, r := range m.Query(t, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IFNULL(DATETIME_PRECISION, 0)
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, db, table) {
		fsp, _ := strconv.Atoi(r[3])
		cols = append(cols, tableColumn{r[0], r[1], r[2], fsp})
	}
	var exprs []string
	for _, c := range cols {
		q := "`" + c.name + "`"
		switch c.dataType {
		case "timestamp":
			// Seconds since the epoch, whatever the session time zone.
			exprs = append(exprs, fmt.Sprintf("IF(%s IS NULL OR UNIX_TIMESTAMP(%s) = 0, NULL, ROUND(UNIX_TIMESTAMP(%s) * 1000000))", q, q, q))
		case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit":
			exprs = append(exprs, "HEX("+q+")")
		case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
			exprs = append(exprs, fmt.Sprintf("CONCAT(ST_SRID(%s), ':', HEX(ST_AsBinary(%s)))", q, q))
		case "float":
			exprs = append(exprs, "CAST("+q+" AS DOUBLE)")
		default:
			exprs = append(exprs, q)
		}
	}
	out := map[string]map[string]string{}
	for _, r := range m.Query(t, "SELECT "+strings.Join(exprs, ", ")+" FROM `"+db+"`.`"+table+"`") {
		vals := map[string]string{}
		for i, c := range cols {
			vals[c.name] = tableText(c, r[i])
		}
		out[key+"="+vals[key]] = vals
	}
	return out
}

// tableText turns the server's text of a value into topicText's form.
func tableText(c tableColumn, s string) string {
	if s == null {
		return s
	}
	switch c.dataType {
	case "date":
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return null // zero and invalid dates are null in a nullable column
		}
		return s
	case "datetime":
		tm, err := time.Parse("2006-01-02 15:04:05.999999", s)
		if err != nil {
			return null
		}
		return "us:" + strconv.FormatInt(tm.UnixMicro(), 10)
	case "timestamp":
		return "us:" + s
	case "time":
		// [-]H:MM:SS[.ffffff], hours up to 838.
		neg := strings.HasPrefix(s, "-")
		parts := strings.SplitN(strings.TrimPrefix(s, "-"), ":", 3)
		if len(parts) != 3 {
			return "bad time " + s
		}
		h, _ := strconv.ParseInt(parts[0], 10, 64)
		mi, _ := strconv.ParseInt(parts[1], 10, 64)
		sec, _ := strconv.ParseFloat(parts[2], 64)
		us := (h*3600+mi*60)*1_000_000 + int64(math.Round(sec*1_000_000))
		if neg {
			us = -us
		}
		return "us:" + strconv.FormatInt(us, 10)
	case "float", "double":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return "bad float " + s
		}
		if c.dataType == "float" {
			f = float64(float32(f))
		}
		return "f:" + strconv.FormatFloat(f, 'g', -1, 64)
	case "bigint":
		if strings.Contains(c.columnType, "unsigned") {
			// bigint.unsigned.handling.mode=long: the value's 64 bits.
			u, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return "bad bigint " + s
			}
			return strconv.FormatInt(int64(u), 10)
		}
		return s
	case "bit":
		if c.columnType == "bit(1)" {
			if s == "0" {
				return "0"
			}
			return "1"
		}
		s = strings.TrimLeft(s, "0")
		if s == "" {
			s = "0"
		}
		return s
	}
	return s
}

// sameRows compares replayed and selected rows and describes the first
// differences.
func sameRows(got, want map[string]map[string]string) error {
	var diffs []string
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			diffs = append(diffs, "missing row "+k)
			continue
		}
		for col, wv := range w {
			if gv, ok := g[col]; !ok || gv != wv && !closeFloats(gv, wv) {
				diffs = append(diffs, fmt.Sprintf("row %s column %s: topic %q, table %q", k, col, gv, wv))
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "extra row "+k)
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	sort.Strings(diffs)
	if len(diffs) > 8 {
		diffs = append(diffs[:8], fmt.Sprintf("... %d differences", len(diffs)))
	}
	return fmt.Errorf("%d rows in the topic, %d in the table:\n%s", len(got), len(want), strings.Join(diffs, "\n"))
}

// closeFloats accepts the last-digit difference of a DOUBLE printed by
// the server with 17 significant digits.
func closeFloats(a, b string) bool {
	if !strings.HasPrefix(a, "f:") || !strings.HasPrefix(b, "f:") {
		return false
	}
	x, err1 := strconv.ParseFloat(a[2:], 64)
	y, err2 := strconv.ParseFloat(b[2:], 64)
	return err1 == nil && err2 == nil && (x == y || math.Abs(x-y) <= 1e-15*math.Max(math.Abs(x), math.Abs(y)))
}
