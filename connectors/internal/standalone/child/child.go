// Package child registers the `tributary` command line as a child process
// of a test binary, for standalone.Start. It is apart from package
// standalone because the command line imports every connector: a
// connector's own (internal) tests can start the child, and only its
// TestMain, in the external test package, registers it.
package child

import (
	"context"
	"os"

	"github.com/tributary-streams/tributary/connectors/internal/standalone"
	"github.com/tributary-streams/tributary/internal/cli"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// Register makes `tributary` runnable as a child process; call it from
// TestMain before testkit.RunChildIfRequested.
func Register() {
	testkit.RegisterChild(standalone.Child, func(ctx context.Context, args []string) int {
		return cli.Execute(ctx, args, os.Stdin, os.Stdout, os.Stderr)
	})
}
