package transforms

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// slow fails a fuzz input that takes longer than a few seconds.
func slow(in ...any) *time.Timer {
	return time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("slow input %q", in)) })
}

// FuzzCastSpec: any spec parses or is rejected without panicking, and an
// accepted spec, written back, parses to the same casts.
func FuzzCastSpec(f *testing.F) {
	for _, s := range []string{"a:int32,b:string", "int64", "a:INT8, b : float64", "a:bytes", "a:b:c", ":x", "int32,a:int8", "a:int8,a:int8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		defer slow(in).Stop()
		var list []string
		for _, p := range strings.Split(in, ",") {
			if p = strings.TrimSpace(p); p != "" {
				list = append(list, p)
			}
		}
		spec, err := parseCastSpec(list)
		if err != nil {
			return
		}
		var again []string
		if spec.whole != "" {
			again = append(again, string(spec.whole))
		}
		for field, to := range spec.fields {
			if strings.ContainsAny(field, ":,") {
				t.Fatalf("field %q holds a separator", field)
			}
			again = append(again, field+":"+string(to))
		}
		back, err := parseCastSpec(again)
		if err != nil || back.whole != spec.whole || len(back.fields) != len(spec.fields) {
			t.Fatalf("%q parsed as %+v, but its rendering %q gives %+v, %v", in, spec, again, back, err)
		}
		for field, to := range spec.fields {
			if back.fields[field] != to {
				t.Fatalf("%q: field %q is %s, then %s", in, field, to, back.fields[field])
			}
		}
	})
}

// FuzzJavaDateFormat: any pattern translates or is rejected; an accepted
// one formats any time, and a time it writes with a full date and time of
// day reads back to the same text.
func FuzzJavaDateFormat(f *testing.F) {
	for _, s := range []string{"yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "EEE, d MMM yyyy HH:mm:ss Z", "''yyyy''",
		"'unterminated", "yyyy_d", "Ms", "DDD", "hh:mm a", "XXX z", "yyyyMMddHHmmss"} {
		f.Add(s, int64(1700000000123))
	}
	f.Fuzz(func(t *testing.T, pattern string, ms int64) {
		defer slow(pattern).Stop()
		df, err := parseJavaDateFormat(pattern)
		if err != nil {
			return
		}
		tm := time.UnixMilli(ms % (1 << 44)).UTC() // years within Go's four-digit range
		if tm.Year() < 1 || tm.Year() > 9999 {
			return
		}
		text := df.format(tm)
		if strings.Contains(pattern, "yyyy") && strings.Contains(pattern, "MM") && strings.Contains(pattern, "dd") &&
			strings.Contains(pattern, "HH") && strings.Contains(pattern, "mm") && strings.Contains(pattern, "ss") {
			back, err := df.parse(text)
			if err == nil && df.format(back) != text {
				t.Fatalf("%q: %q reads back as %v, which writes %q", pattern, text, back, df.format(back))
			}
		}
	})
}

// FuzzRegexRouter: any regex and replacement compile or are rejected, and
// an accepted pair routes any topic without panicking.
func FuzzRegexRouter(f *testing.F) {
	for _, s := range [][3]string{
		{"soe-(.*)", "$1", "soe-Order"}, {`(?<db>[^.]+)\.(?<t>.+)`, "${t}_${db}", "a.b"}, {"(a)", "$12", "a"},
		{"(.*?)", `x\$$0`, "abc"}, {"(?=x)", "y", "x"}, {`\Qa.b`, "$", "a.b"}, {`[\p{Alpha}&&b]`, "${", "b"},
		{"(?iu)x", `\`, "X"}, {"[]a]", "${1a}", "]"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, regex, replacement, topic string) {
		defer slow(regex, replacement, topic).Stop()
		re, err := compileJavaRegex(regex)
		if err != nil {
			return
		}
		repl, err := parseJavaReplacement(replacement, re.find)
		if err != nil {
			return
		}
		if re.matches(topic) {
			_ = repl.replaceFirst(re, topic)
		}
		_ = repl.String()
	})
}
