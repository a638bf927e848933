package mysqlcdc_test

import (
	"os"
	"testing"

	"github.com/tributary-streams/tributary/connectors/internal/standalone/child"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// TestMain lets the kill tests run `tributary connect standalone` as a
// child process of this test binary.
func TestMain(m *testing.M) {
	child.Register()
	testkit.RunChildIfRequested()
	os.Exit(m.Run())
}
