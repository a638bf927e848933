package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Kafka's tools pick their action with a flag (kafka-topics.sh --create,
// kafka-consumer-groups.sh --describe, kafka-configs.sh --alter); ours are
// subcommands. So that a command line copied from Kafka's documentation
// works once `kafka-topics.sh` becomes `tributary topics`, an action flag
// right after the tool is turned into the subcommand before cobra parses
// the line:
//
//	tributary topics --bootstrap-server b --create --topic t
//	  => tributary topics create --bootstrap-server b --topic t

// kafkaActions lists each tool's action flags, in the order Kafka's usage
// message names them; each is also the tool's subcommand.
var kafkaActions = map[string][]string{
	"topics":  {"list", "describe", "create", "alter", "delete"},
	"groups":  {"list", "describe", "delete", "reset-offsets", "delete-offsets"},
	"configs": {"describe", "alter"},
	"acls":    {"add", "remove", "list"},
}

// actionRewrite is what rewriteKafkaActions did to a command line.
type actionRewrite struct {
	tool, action string // empty when the line was left alone
}

// rewriteKafkaActions turns `TOOL ... --ACTION ...` into `TOOL ACTION ...`.
// A line that already names a subcommand, or asks for help, is left alone.
// Zero or several actions are a usage error worded as Kafka's tools word it.
func rewriteKafkaActions(args []string) ([]string, actionRewrite, error) {
	if len(args) < 2 {
		return args, actionRewrite{}, nil
	}
	tool := args[0]
	actions, ok := kafkaActions[tool]
	if !ok || !strings.HasPrefix(args[1], "-") {
		return args, actionRewrite{}, nil
	}
	var found []string
	rest := make([]string, 0, len(args))
	for _, a := range args[1:] {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--help" {
			return args, actionRewrite{}, nil
		}
	}
	for i, a := range args[1:] {
		if a == "--" {
			rest = append(rest, args[1+i:]...)
			break
		}
		if name, isFlag := strings.CutPrefix(a, "--"); isFlag && contains(actions, name) {
			found = append(found, a)
			continue
		}
		rest = append(rest, a)
	}
	if len(found) != 1 {
		names := make([]string, len(actions))
		for i, a := range actions {
			names[i] = "--" + a
		}
		msg := fmt.Sprintf("Command must include exactly one action: %s", joinOr(names))
		if len(found) > 1 {
			msg += fmt.Sprintf(", got %s", strings.Join(found, " and "))
		}
		return nil, actionRewrite{}, usageErrorf("%s (or name it as a subcommand: tributary %s %s ...)", msg, tool, actions[0])
	}
	action := strings.TrimPrefix(found[0], "--")
	return append([]string{tool, action}, rest...), actionRewrite{tool: tool, action: action}, nil
}

// optionalValueFlags are flags whose value is optional in Kafka's tools
// (kafka-consumer-groups.sh --list --state [stable,empty]). pflag only
// takes an optional value written --state=v, so `--state v` is joined
// into that form first.
var optionalValueFlags = map[string][]string{
	"groups list":     {"--state", "--type"},
	"groups describe": {"--state"},
}

func joinOptionalValues(args []string) []string {
	if len(args) < 2 {
		return args
	}
	flags := optionalValueFlags[args[0]+" "+args[1]]
	if flags == nil {
		return args
	}
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if contains(flags, a) && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			out = append(out, a+"="+args[i+1])
			i++
			continue
		}
		out = append(out, a)
	}
	return out
}

// explainForAction rewords cobra's "unknown flag: --x" for a rewritten line:
// the flag exists, just not with this action, which is what Kafka's tools
// say ("Option [partitions] can't be used with option [list]").
func (r actionRewrite) explainForAction(root *cobra.Command, err error) error {
	if r.action == "" || err == nil {
		return err
	}
	msg := err.Error()
	flag, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok {
		return err
	}
	flag, _, _ = strings.Cut(flag, " ")
	tool, _, findErr := root.Find([]string{r.tool})
	if findErr != nil {
		return err
	}
	var usedBy []string
	for _, sub := range tool.Commands() {
		if sub.Flags().Lookup(flag) != nil {
			usedBy = append(usedBy, "--"+sub.Name())
		}
	}
	if len(usedBy) == 0 {
		return err
	}
	return &usageError{errors.New(fmt.Sprintf("--%s cannot be used with --%s; it goes with %s", flag, r.action, joinOr(usedBy)))}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// joinOr renders a, b or c.
func joinOr(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
