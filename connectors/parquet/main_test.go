package parquet

import (
	"os"
	"testing"

	"github.com/tributary-streams/tributary/connectors/internal/standalone"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestMain(m *testing.M) {
	standalone.Register()
	testkit.RunChildIfRequested()
	os.Exit(m.Run())
}
