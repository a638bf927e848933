package faults

import (
	"os"
	"testing"

	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestMain(m *testing.M) {
	testkit.RunChildIfRequested()
	os.Exit(m.Run())
}
