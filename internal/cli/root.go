// Package cli is the tributary command line: the broker and dev server
// commands plus admin and console tools modelled on Kafka's own
// (kafka-topics.sh, kafka-configs.sh, kafka-console-producer.sh,
// kafka-console-consumer.sh, kafka-consumer-groups.sh). The admin and console
// tools speak only the Kafka protocol, through franz-go, so they work against
// any Kafka-compatible cluster.
//
// Nothing here touches os.Stdin, os.Stdout or os.Exit: tests run commands
// in-process with buffers through Execute.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2 // the command was invoked wrongly
)

// Main runs the tributary command line and returns the process exit code.
// SIGINT and SIGTERM cancel the command's context, which long-running
// commands (consume, produce, broker) treat as a request to finish cleanly.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Execute(ctx, args, stdin, stdout, stderr)
}

// Execute runs one command line with the given context and streams and
// returns the exit code: 0 on success, 1 when the command failed, 2 when it
// was invoked wrongly. Errors are written to stderr as "error: <message>".
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := NewRootCommand(stdin, stdout, stderr)
	args, rewrite, err := rewriteKafkaActions(args)
	if err != nil {
		fmt.Fprintf(stderr, "error: %s\n", err)
		return exitUsage
	}
	root.SetArgs(joinOptionalValues(args))
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	err = rewrite.explainForAction(root, err)
	fmt.Fprintf(stderr, "error: %s\n", err)
	if isUsageError(err) {
		if cmd == nil {
			cmd = root
		}
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitUsage
	}
	return exitError
}

// NewRootCommand builds the tributary command tree writing to the given
// streams. Errors are returned from Execute rather than printed by cobra.
func NewRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "tributary",
		Short: "Kafka-compatible streaming platform",
		Long: `tributary runs a Kafka-compatible broker and ships admin and console tools
that work against any Kafka cluster (flag names follow Kafka's own tools).`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(flagErrorFunc)
	makeGroupCommand(root)

	root.AddCommand(
		newBrokerCommand(),
		newServerCommand(),
		newTopicsCommand(),
		newConfigsCommand(),
		newProduceCommand(),
		newConsumeCommand(),
		newGroupsCommand(),
		newMirrorCommand(),
		newConnectCommand(),
		newProfileCommand(),
		newUsersCommand(),
		newACLsCommand(),
	)
	refuseRepeatedFlags(root)
	return root
}

// makeGroupCommand makes a command that only holds subcommands print its
// help when run bare and reject unknown subcommands as a usage error (cobra
// would otherwise print help and exit 0 for a typo).
func makeGroupCommand(cmd *cobra.Command) {
	cmd.Args = cobra.ArbitraryArgs
	cmd.SuggestionsMinimumDistance = 2
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(": did you mean %q?", s[0])
		}
		return usageErrorf("%s", msg)
	}
}
