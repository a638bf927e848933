package faults

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/tributary-streams/tributary/internal/cli"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestMain(m *testing.M) {
	testkit.RegisterChild(limitedBroker, runLimitedBroker)
	testkit.RunChildIfRequested()
	os.Exit(m.Run())
}

// limitedBroker runs `tributary broker ARGS...` under a descriptor limit:
// args are the limit (0: unchanged) and the command line.
const limitedBroker = "faults-broker"

func runLimitedBroker(ctx context.Context, args []string) int {
	limit, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults-broker: want the descriptor limit first:", err)
		return 2
	}
	if limit > 0 {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
			fmt.Fprintln(os.Stderr, "faults-broker: setrlimit:", err)
			return 2
		}
	}
	return cli.Execute(ctx, args[1:], os.Stdin, os.Stdout, os.Stderr)
}
