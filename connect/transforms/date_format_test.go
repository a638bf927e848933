package transforms

import (
	"strings"
	"testing"
	"time"
)

// Expected texts are what java.text.SimpleDateFormat (in UTC) writes.
func TestJavaDateFormat(t *testing.T) {
	a := time.UnixMilli(1700000000123).UTC() // 2023-11-14T22:13:20.123Z, a Tuesday
	b := time.Date(2009, 2, 3, 4, 5, 6, 7e6, time.UTC)
	cases := []struct{ pattern, a, b string }{
		{"yyyy-MM-dd", "2023-11-14", "2009-02-03"},
		{"yyyyMMdd", "20231114", "20090203"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "2023-11-14T22:13:20.123Z", "2009-02-03T04:05:06.007Z"},
		{"yyyy-MM-dd HH:mm:ss,SSS", "2023-11-14 22:13:20,123", "2009-02-03 04:05:06,007"},
		{"dd/MM/yy hh:mm a", "14/11/23 10:13 PM", "03/02/09 04:05 AM"},
		{"M/d/y h:m:s", "11/14/2023 10:13:20", "2/3/2009 4:5:6"},
		{"EEE, d MMM yyyy HH:mm:ss Z", "Tue, 14 Nov 2023 22:13:20 +0000", "Tue, 3 Feb 2009 04:05:06 +0000"},
		{"EEEE MMMM", "Tuesday November", "Tuesday February"},
		{"yyyy-DDD", "2023-318", "2009-034"},
		{"HH:mm:ssXXX z", "22:13:20Z UTC", "04:05:06Z UTC"},
		{"HH:mm:ssX HH:mm:ssXX", "22:13:20Z 22:13:20Z", "04:05:06Z 04:05:06Z"},
		{"''yyyy''", "'2023'", "'2009'"},
		{"'at' HH 'o''clock'", "at 22 o'clock", "at 04 o'clock"},
		{"yyyy/MM/dd-", "2023/11/14-", "2009/02/03-"},
		{"", "", ""},
	}
	for _, c := range cases {
		f, err := parseJavaDateFormat(c.pattern)
		if err != nil {
			t.Errorf("%q: %v", c.pattern, err)
			continue
		}
		if got := f.format(a); got != c.a {
			t.Errorf("%q formats %v as %q, want %q", c.pattern, a, got, c.a)
		}
		if got := f.format(b); got != c.b {
			t.Errorf("%q formats %v as %q, want %q", c.pattern, b, got, c.b)
		}
		if c.pattern == "" || strings.Contains(c.pattern, "E") && !strings.Contains(c.pattern, "d") {
			continue // a weekday without a date does not read back
		}
		// What it writes it reads back (to the precision it writes).
		back, err := f.parse(c.a)
		if err != nil {
			t.Errorf("%q cannot parse its own %q: %v", c.pattern, c.a, err)
		} else if f.format(back) != c.a {
			t.Errorf("%q: %q parses as %v", c.pattern, c.a, back)
		}
	}
}

func TestJavaDateFormatRejects(t *testing.T) {
	for pattern, want := range map[string]string{
		"yyyy-ww":         "ww is not supported",
		"YYYY":            "YYYY is not supported",
		"H:mm":            "use HH",
		"ss.S":            "only SSS",
		"ssSSS":           "must follow a '.' or ','",
		"yyyyy":           "yyyyy is not supported",
		"yyyy-MM-dd'T":    "unterminated quote",
		"yyyy q":          "illegal pattern character 'q'",
		"yyyy'1'":         "cannot be expressed as a Go time layout",
		"'Mon' yyyy":      "cannot be expressed as a Go time layout",
		"'PM' HH":         "cannot be expressed as a Go time layout",
		"Ms":              "cannot be expressed as a Go time layout", // "1" then "5" reads as "15"
		"yyyy_d":          "cannot be expressed as a Go time layout", // "_2" is Go's padded day
		"GGG yyyy":        "GGG is not supported",
		"kk:mm":           "kk is not supported",
		"yyyy-MM-dd zzzz": "zzzz is not supported",
	} {
		_, err := parseJavaDateFormat(pattern)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error mentioning %q", pattern, err, want)
		}
	}
}
