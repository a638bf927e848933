package cli_test

import (
	"fmt"
	"os"
	"testing"
)

// TestMain keeps the tests away from the developer's own set-up: profiles
// live in a temporary XDG_CONFIG_HOME, and the environment variables that
// pick brokers or a profile are cleared, so a test sees only what it sets.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tributary-cli-test-config")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CONFIG_HOME", dir)
	os.Unsetenv("TRIBUTARY_BOOTSTRAP")
	os.Unsetenv("TRIBUTARY_PROFILE")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
