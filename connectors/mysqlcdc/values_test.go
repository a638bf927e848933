package mysqlcdc

import (
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connectors/mysqlcdc/internal/ddl"
)

func TestTextValues(t *testing.T) {
	for _, tc := range []struct {
		s     string
		scale int32
		want  string
		ok    bool
	}{
		{"0", 2, "0.00", true}, {"-1.5", 1, "-1.5", true}, {"12.340", 2, "12.34", true}, {"12.345", 2, "", false},
		{".5", 1, "0.5", true}, {"-", 0, "", false}, {"1e5", 0, "", false}, {"", 0, "", false},
		{"123456789012345678901234567890.5", 1, "123456789012345678901234567890.5", true},
	} {
		d, err := parseDecimal(tc.s, tc.scale)
		if (err == nil) != tc.ok || err == nil && d.String() != tc.want {
			t.Errorf("parseDecimal(%q, %d) = %v, %v; want %q ok=%v", tc.s, tc.scale, d, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		s    string
		want int64
		ok   bool
	}{
		{"00:00:00", 0, true}, {"-838:59:59", -(838*3600 + 59*60 + 59) * 1e6, true}, {"01:02:03.5", 3723500000, true},
		{"-00:00:00.000001", -1, true}, {"839:00:00", 0, false}, {"1:2:3", 0, false}, {"12:60:00", 0, false},
	} {
		got, ok := parseTime(tc.s)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("parseTime(%q) = %d, %v", tc.s, got, ok)
		}
	}
	if tm, ok, valid := parseDateTime("2024-02-29 23:59:59.123"); !ok || !valid || !tm.Equal(time.Date(2024, 2, 29, 23, 59, 59, 123e6, time.UTC)) {
		t.Errorf("parseDateTime: %v %v %v", tm, ok, valid)
	}
	for _, s := range []string{"2023-02-29 00:00:00", "0000-00-00 00:00:00", "2024-13-01 00:00:00"} {
		if _, ok, valid := parseDateTime(s); !ok || valid {
			t.Errorf("parseDateTime(%q): ok=%v valid=%v, want a recognised invalid date", s, ok, valid)
		}
	}
	if got := formatZoned(time.Date(2020, 1, 2, 3, 4, 5, 6000, time.UTC), 6); got != "2020-01-02T03:04:05.000006Z" {
		t.Errorf("formatZoned = %s", got)
	}
}

func TestCharsets(t *testing.T) {
	for cs, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"latin1":  {[]byte{'a', 0xe9, 0x80, 0x81}, "aé€\u0081"},
		"ucs2":    {[]byte{0x01, 0x00, 0x00, 0xc6}, "ĀÆ"},
		"utf16":   {[]byte{0xd8, 0x3d, 0xde, 0x00}, "😀"},
		"utf16le": {[]byte{0x3d, 0xd8, 0x00, 0xde}, "😀"},
		"utf32":   {[]byte{0, 1, 0xf6, 0x00}, "😀"},
		"cp1251":  {[]byte{0xcf, 0xf0}, "Пр"},
	} {
		dec, err := decoderFor(cs)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := dec(tc.in); err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", cs, got, err, tc.want)
		}
	}
	if _, err := decoderFor("klingon"); err == nil || !strings.Contains(err.Error(), "supported") {
		t.Errorf("unknown charset: %v", err)
	}
	if _, err := decodeUTF8([]byte{0xff}); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
}

func TestUnsupportedType(t *testing.T) {
	_, err := newColumn(ddl.Column{Name: "u", Type: "UUID"}, defaultTypes)
	if err == nil || !strings.Contains(err.Error(), "column.exclude.list") {
		t.Fatalf("UUID column: %v", err)
	}
}

// FuzzTextValues feeds arbitrary text to the parsers of DECIMAL, TIME,
// DATE and DATETIME text: no panics, and what parses renders back.
func FuzzTextValues(f *testing.F) {
	for _, s := range []string{"1.50", "-0.001", "838:59:59.999999", "-00:00:01", "2024-02-29 12:00:00.5", "0000-00-00", "9999-12-31 23:59:59.999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := parseDecimal(s, 3); err == nil {
			back, err := parseDecimal(d.String(), 3)
			if err != nil || back.Unscaled.Cmp(d.Unscaled) != 0 {
				t.Fatalf("decimal %q -> %s -> %v, %v", s, d, back, err)
			}
		}
		if us, ok := parseTime(s); ok && (us > 839*3600*1e6 || us < -839*3600*1e6) {
			t.Fatalf("time %q -> %d out of range", s, us)
		}
		if tm, ok, valid := parseDateTime(s); ok && valid && tm.Format("2006-01-02 15:04:05") != s[:19] {
			t.Fatalf("datetime %q -> %v", s, tm)
		}
		parseDate(s)
		for _, def := range []ddl.Column{
			{Name: "x", Type: "DATETIME", FSP: 6, Nullable: true},
			{Name: "x", Type: "TIMESTAMP", FSP: 3},
			{Name: "x", Type: "DECIMAL", Length: 10, Scale: 2},
			{Name: "x", Type: "POINT"},
			{Name: "x", Type: "BIT", Length: 12},
			{Name: "x", Type: "TIME", FSP: 2},
		} {
			c, err := newColumn(def, typeOptions{decimalMode: "double"})
			if err != nil {
				t.Fatal(err)
			}
			c.fromSnapshot([]byte(s))
		}
	})
}
