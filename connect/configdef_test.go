package connect_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect"
)

func testDef() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "file", Required: true, Documentation: "The file to read. Relative paths are from the worker's directory."}).
		Define(connect.ConfigKey{Name: "batch.size", Type: connect.TypeInt, Default: "2000", Validator: connect.AtLeast(1)}).
		Define(connect.ConfigKey{Name: "poll.ms", Type: connect.TypeLong, Default: "500"}).
		Define(connect.ConfigKey{Name: "ratio", Type: connect.TypeDouble, Default: "0.5", Validator: connect.Between(0, 1)}).
		Define(connect.ConfigKey{Name: "enabled", Type: connect.TypeBoolean, Default: "true"}).
		Define(connect.ConfigKey{Name: "mode", Default: "append", Validator: connect.OneOf("append", "overwrite")}).
		Define(connect.ConfigKey{Name: "topics", Type: connect.TypeList, Default: ""}).
		Define(connect.ConfigKey{Name: "secret", Type: connect.TypePassword, Default: ""})
}

func TestConfigDefParse(t *testing.T) {
	c, err := testDef().Parse(map[string]string{"file": " /tmp/x ", "batch.size": "10", "enabled": "FALSE",
		"mode": "Overwrite", "topics": "a, b,,c", "secret": " s ", "unknown.key": "kept"})
	if err != nil {
		t.Fatal(err)
	}
	if c.String("file") != "/tmp/x" || c.Int("batch.size") != 10 || c.Millis("poll.ms") != 500*time.Millisecond ||
		c.Double("ratio") != 0.5 || c.Bool("enabled") || c.String("mode") != "Overwrite" ||
		strings.Join(c.List("topics"), "|") != "a|b|c" || c.String("secret") != " s " {
		t.Fatalf("parsed wrongly: %+v", c)
	}
	if !c.Given("file") || c.Given("poll.ms") {
		t.Error("Given is wrong")
	}
}

func TestConfigDefReportsEveryProblem(t *testing.T) {
	err := testDef().Validate(map[string]string{"batch.size": "0", "ratio": "2", "enabled": "yes",
		"mode": "delete", "poll.ms": "soon", "secret": "hunter2"})
	var ce *connect.ConfigError
	if !errors.As(err, &ce) || !errors.Is(err, connect.ErrInvalidConfig) {
		t.Fatalf("got %v, want a *ConfigError", err)
	}
	want := map[string]string{
		"file":       "missing required configuration with no default value (The file to read)",
		"batch.size": `invalid value "0": want a value of at least 1`,
		"ratio":      `invalid value "2": want a value between 0 and 1`,
		"enabled":    `invalid value "yes": want true or false`,
		"mode":       `invalid value "delete": want one of [append, overwrite]`,
		"poll.ms":    `invalid value "soon": want a 64-bit integer`,
	}
	got := ce.ByKey()
	for k, msg := range want {
		if len(got[k]) != 1 || got[k][0] != msg {
			t.Errorf("%s: got %q, want %q", k, got[k], msg)
		}
	}
	if len(ce.Errors) != len(want) {
		t.Errorf("got %d errors, want %d: %v", len(ce.Errors), len(want), err)
	}
}

func TestConfigDefHidesPasswords(t *testing.T) {
	def := connect.NewConfigDef().Define(connect.ConfigKey{Name: "password", Type: connect.TypePassword, Required: true, Validator: connect.OneOf("x")})
	err := def.Validate(map[string]string{"password": "hunter2"})
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "[hidden]") {
		t.Fatalf("got %v", err)
	}
}

func TestConfigDefMergeAndGroups(t *testing.T) {
	a := connect.NewConfigDef().Define(connect.ConfigKey{Name: "x", Group: "Common"})
	b := connect.NewConfigDef().Define(connect.ConfigKey{Name: "x", Group: "Other"}).Define(connect.ConfigKey{Name: "y", Group: "Other"})
	m := a.Merge(b)
	if len(m.Keys()) != 2 || strings.Join(m.Groups(), ",") != "Common,Other" {
		t.Fatalf("merge: %+v %v", m.Keys(), m.Groups())
	}
	if k, _ := m.Key("x"); k.Group != "Common" {
		t.Errorf("merge let the second definition win")
	}
}
