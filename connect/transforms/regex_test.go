package transforms_test

import (
	"testing"

	"github.com/tributary-streams/tributary/connect"
)

// Expected topics are what Java's Matcher.matches + replaceFirst give.
func TestRegexRouter(t *testing.T) {
	cases := []struct{ regex, replacement, topic, want string }{
		{"soe-(.*)", "$1", "soe-Order", "Order"},                          // Kafka's documented prefix drop
		{"soe-(.*)", "$1", "other", "other"},                              // no match: unchanged
		{"soe-(.*)", "$1", "xsoe-Order", "xsoe-Order"},                    // matches() needs the whole name
		{`([^.]+)\.([^.]+)\.([^.]+)`, "$3", "server.db.orders", "orders"}, // Debezium topic to table
		{`(?<db>[^.]+)\.(?<table>.+)`, "${table}_from_${db}", "shop.orders", "orders_from_shop"},
		{"(a)", "$12", "a", "a2"},                   // $12 with one group: group 1, then "2"
		{"(a)", `\$1-$0`, "a", "$1-a"},              // escaped dollar, whole match
		{"(.*?)", "x$1", "abc", "xabc"},             // replaceFirst takes the first (empty) match
		{"(a)?b", "[$1]", "b", "[]"},                // a group that took no part adds nothing
		{"(?i)ORDERS", "o", "Orders", "o"},          // inline flags
		{`\p{Alpha}+-\p{Digit}`, "x", "abc-1", "x"}, // Java POSIX classes
		{"(?iu)é", "e", "É", "e"},                   // (?u) is dropped, Go folds Unicode anyway
		{`\Qa.b\E`, "q", "a.b", "q"},
		{".*", "prefix-$0", "t", "prefix-t"},
	}
	for _, c := range cases {
		tr := configure(t, "org.apache.kafka.connect.transforms.RegexRouter", "regex", c.regex, "replacement", c.replacement)
		for range 2 { // the second time from the per-topic memo
			r := &connect.Record{Topic: c.topic, Value: "v"}
			if got := apply(t, tr, r).Topic; got != c.want {
				t.Errorf("regex %q replacement %q: %q became %q, want %q", c.regex, c.replacement, c.topic, got, c.want)
			}
		}
	}
}

func TestRegexRouterConfigErrors(t *testing.T) {
	for regex, want := range map[string]string{
		"(?=x).*":           "lookahead (?=...) is not supported by Go's RE2 engine",
		"(?<!x)y":           "lookbehind (?<!...) is not supported",
		`(a)\1`:             `backreferences (\1) are not supported`,
		"[a-z&&[^b]]":       "class intersection (&&)",
		"[a[bc]]":           "nested character classes",
		"a*+":               "possessive quantifiers (*+)",
		"(?>a)":             "atomic groups",
		"(?x) a":            "comments flag (?x)",
		"(?U)a+":            "(?U) means Unicode classes in Java but lazy quantifiers in Go",
		`\v`:                `\v means any vertical whitespace in Java`,
		`\p{javaLowerCase}`: "not supported; Go knows Unicode categories",
		"(":                 "cannot be compiled by Go's RE2 engine",
		"a{1001}":           "cannot be compiled by Go's RE2 engine",
		`\h`:                "cannot be compiled by Go's RE2 engine",
	} {
		errs := configError(t, "RegexRouter", "regex", regex, "replacement", "x")
		wantConfigError(t, errs, "regex", want)
	}
	for replacement, want := range map[string]string{
		"$2":      "no group 2: the pattern has 1",
		"$x":      "illegal group reference",
		"a$":      "illegal group reference",
		`a\`:      "character to be escaped is missing",
		"${nope}": `no group named "nope"`,
		"${1a}":   "is not a group name",
		"${open":  "missing its '}'",
	} {
		errs := configError(t, "RegexRouter", "regex", "(a)", "replacement", replacement)
		wantConfigError(t, errs, "replacement", want)
	}
	errs := configError(t, "RegexRouter")
	wantConfigError(t, errs, "regex", "missing required")
	wantConfigError(t, errs, "replacement", "missing required")
}
