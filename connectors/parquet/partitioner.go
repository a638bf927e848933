package parquet

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// partitioner names the directory (the "encoded partition") a record goes
// to: partition=<kafka partition> (default), <field>=<value>/... (field),
// or a time bucket rendered with path.format (time, daily, hourly).
type partitioner struct {
	cfg    Config
	format []formatPart
}

func newPartitioner(cfg Config) (*partitioner, error) {
	p := &partitioner{cfg: cfg}
	if cfg.Partitioner == "time" || cfg.Partitioner == "daily" || cfg.Partitioner == "hourly" {
		f, err := compilePathFormat(cfg.PathFormat)
		if err != nil {
			return nil, err
		}
		p.format = f
	}
	return p, nil
}

// encode returns the record's encoded partition.
func (p *partitioner) encode(r *connect.SinkRecord, ts int64) (string, error) {
	switch p.cfg.Partitioner {
	case "field":
		st, ok := r.Value.(*data.Struct)
		if !ok {
			return "", connect.DataErrorf("parquet: the field partitioner needs struct values, got %T", r.Value)
		}
		parts := make([]string, len(p.cfg.PartitionFields))
		for i, name := range p.cfg.PartitionFields {
			v, ok := st.Lookup(name)
			if !ok {
				return "", connect.DataErrorf("parquet: partition.field.name %s is not a field of %s", name, st.Schema())
			}
			s, err := fieldText(name, v)
			if err != nil {
				return "", err
			}
			parts[i] = name + "=" + s
		}
		return strings.Join(parts, p.cfg.DirectoryDelim), nil
	case "time", "daily", "hourly":
		d := p.cfg.PartitionDuration.Milliseconds()
		// Buckets align to the time zone's midnight, as Confluent's do.
		_, off := time.UnixMilli(ts).In(p.cfg.Timezone).Zone()
		local := ts + int64(off)*1000
		bucket := local - mod(local, d) - int64(off)*1000
		return renderPathFormat(p.format, time.UnixMilli(bucket).In(p.cfg.Timezone), p.cfg.DirectoryDelim), nil
	}
	return "partition=" + strconv.Itoa(int(r.Original.Partition)), nil
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// fieldText renders a partition field value.
func fieldText(name string, v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case string:
		if strings.ContainsAny(x, "/\\") || x == "." || x == ".." {
			return "", connect.DataErrorf("parquet: partition field %s value %q would make a path; it must not contain / or \\", name, x)
		}
		return x, nil
	case int8, int16, int32, int64, bool:
		return fmt.Sprint(x), nil
	}
	return "", connect.DataErrorf("parquet: partition field %s has a %T value; the field partitioner takes strings, integers and booleans", name, v)
}

// timestamp is the record time the time partitioner and rotate.interval.ms
// use, in milliseconds.
func (p *partitioner) timestamp(r *connect.SinkRecord, now time.Time) (int64, error) {
	switch p.cfg.TimestampExtractor {
	case "Wallclock":
		return now.UnixMilli(), nil
	case "RecordField":
		st, ok := r.Value.(*data.Struct)
		if !ok {
			return 0, connect.DataErrorf("parquet: timestamp.extractor=RecordField needs struct values, got %T", r.Value)
		}
		f, ok := st.Schema().Field(p.cfg.TimestampField)
		if !ok {
			return 0, connect.DataErrorf("parquet: timestamp.field %s is not a field of %s", p.cfg.TimestampField, st.Schema())
		}
		return fieldTime(f.Schema, st.At(f.Index), p.cfg.TimestampField)
	}
	if r.Timestamp.IsZero() {
		return 0, connect.DataErrorf("parquet: record %s-%d@%d has no timestamp for timestamp.extractor=Record", r.Topic, r.Partition, r.Offset)
	}
	return r.Timestamp.UnixMilli(), nil
}

func fieldTime(s *data.Schema, v any, name string) (int64, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UnixMilli(), nil
	case int64:
		if s.Name == "io.debezium.time.MicroTimestamp" {
			return x / 1000, nil
		}
		return x, nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return 0, connect.DataErrorf("parquet: timestamp field %s: %q is not an RFC 3339 time", name, x)
		}
		return t.UnixMilli(), nil
	case nil:
		return 0, connect.DataErrorf("parquet: timestamp field %s is null", name)
	}
	return 0, connect.DataErrorf("parquet: timestamp field %s has a %T value; want int64 milliseconds, a Timestamp or an RFC 3339 string", name, v)
}

// formatPart is a literal or a date field of a Joda pattern.
type formatPart struct {
	literal string
	field   byte // Y, y, M, d, H, m, s, S; 0 for a literal
	width   int
}

// compilePathFormat reads the Joda subset path.format needs: quoted
// literals ('year'=), YYYY/yyyy, YY/yy, MM/M, dd/d, HH/H, mm/m, ss/s, SSS,
// and other punctuation as is.
func compilePathFormat(f string) ([]formatPart, error) {
	if f == "" {
		return nil, errors.New("empty: give a pattern such as 'year'=YYYY/'month'=MM/'day'=dd")
	}
	var parts []formatPart
	for i := 0; i < len(f); {
		c := f[i]
		switch {
		case c == '\'':
			j := i + 1
			var lit strings.Builder
			for {
				if j >= len(f) {
					return nil, fmt.Errorf("unterminated quote at %d", i)
				}
				if f[j] == '\'' {
					if j+1 < len(f) && f[j+1] == '\'' {
						lit.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				lit.WriteByte(f[j])
				j++
			}
			if j == i+1 {
				lit.WriteByte('\'') // '' is a quote
			}
			parts = append(parts, formatPart{literal: lit.String()})
			i = j + 1
		case strings.IndexByte("YyMdHmsS", c) >= 0:
			j := i
			for j < len(f) && f[j] == c {
				j++
			}
			parts = append(parts, formatPart{field: c, width: j - i})
			i = j
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			return nil, fmt.Errorf("pattern letter %q is not supported (use Y, M, d, H, m, s, S and quoted text)", c)
		default:
			parts = append(parts, formatPart{literal: string(c)})
			i++
		}
	}
	return parts, nil
}

func renderPathFormat(parts []formatPart, t time.Time, delim string) string {
	var b strings.Builder
	pad := func(n, w int) {
		s := strconv.Itoa(n)
		for len(s) < w {
			s = "0" + s
		}
		b.WriteString(s)
	}
	for _, p := range parts {
		switch p.field {
		case 0:
			if p.literal == "/" && delim != "/" {
				b.WriteString(delim)
			} else {
				b.WriteString(p.literal)
			}
		case 'Y', 'y':
			y := t.Year()
			if p.width == 2 {
				y %= 100
			}
			pad(y, p.width)
		case 'M':
			pad(int(t.Month()), p.width)
		case 'd':
			pad(t.Day(), p.width)
		case 'H':
			pad(t.Hour(), p.width)
		case 'm':
			pad(t.Minute(), p.width)
		case 's':
			pad(t.Second(), p.width)
		case 'S':
			pad(t.Nanosecond()/1e6, p.width)
		}
	}
	return b.String()
}
