package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the broker command lands (owned by the broker work):
// it keeps the command tree compiling. It is replaced wholesale.

func newBrokerCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "broker",
		Short: "Run a broker",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("tributary broker: not built yet")
		},
	}
}

func newServerCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "server",
		Short: "Run the all-in-one dev server",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("tributary server: not built yet")
		},
	}
}
