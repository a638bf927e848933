package transforms

import "testing"

func TestTranslateJavaRegex(t *testing.T) {
	for java, goRE := range map[string]string{
		`abc`:                `abc`,
		`\p{Alpha}\P{Digit}`: `[[:alpha:]][^[:digit:]]`,
		`[\p{Lower}_]`:       `[[:lower:]_]`,
		`(?iu)x`:             `(?i)x`,
		`(?u)x`:              `x`,
		`(?u:x)`:             `(?:x)`,
		`(?<name>a)`:         `(?<name>a)`,
		`\Qa.b\E+`:           `a\.b+`,
		`\Q(open`:            `\(open`,
		`[]a]`:               `[]a]`,
		`[^]a]`:              `[^]a]`,
		`a+?`:                `a+?`,
		`[\[]`:               `[\[]`,
	} {
		got, err := translateJavaRegex(java)
		if err != nil || got != goRE {
			t.Errorf("%q: got %q, %v; want %q", java, got, err, goRE)
		}
	}
}
