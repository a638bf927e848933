package cli

// users: SCRAM users of a cluster (AlterUserScramCredentials and
// DescribeUserScramCredentials), the same credentials `configs alter
// --entity-type users --add-config 'SCRAM-SHA-256=[password=...]'` sets.
// The password is read from --password-file or standard input (so it
// stays out of shell history and process lists) and salted by the client;
// it is never printed.

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func newUsersCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Create, delete and list SCRAM users",
		Long: `Create, delete and list the SCRAM users a broker authenticates
(SCRAM-SHA-256 and SCRAM-SHA-512; PLAIN checks passwords against them too
on a Tributary broker without a PLAIN user list).`,
		Example: `  echo alice-secret | tributary users create --user alice --bootstrap-server 127.0.0.1:9092
  tributary users create --user bob --password-file bob.pw --mechanism SCRAM-SHA-512 --bootstrap-server 127.0.0.1:9092
  tributary users list --bootstrap-server 127.0.0.1:9092
  tributary users delete --user alice --bootstrap-server 127.0.0.1:9092`,
	}
	makeGroupCommand(cmd)
	cmd.AddCommand(newUsersCreateCommand(), newUsersDeleteCommand(), newUsersListCommand())
	return cmd
}

func addMechanismFlag(cmd *cobra.Command, p *[]string, usage string) {
	cmd.Flags().StringArrayVar(p, "mechanism", nil, usage)
}

func checkMechanisms(ms []string) ([]string, error) {
	if len(ms) == 0 {
		return scramMechNames, nil
	}
	var out []string
	for _, m := range ms {
		for _, one := range strings.Split(m, ",") {
			one = strings.ToUpper(strings.TrimSpace(one))
			if !slices.Contains(scramMechNames, one) {
				return nil, usageErrorf("--mechanism %q: accepted SCRAM-SHA-256 or SCRAM-SHA-512", one)
			}
			if !slices.Contains(out, one) {
				out = append(out, one)
			}
		}
	}
	return out, nil
}

func newUsersCreateCommand() *cobra.Command {
	var (
		mechanisms   []string
		iterations   int
		passwordFile string
	)
	cmd := &cobra.Command{
		Use:   "create --user USER [--mechanism SCRAM-SHA-256|SCRAM-SHA-512]... [--iterations N] [--password-file FILE]",
		Short: "Create a SCRAM user, or set a user's password (from --password-file or standard input)",
		Example: `  echo alice-secret | tributary users create --user alice --bootstrap-server 127.0.0.1:9092
  tributary users create --user bob --password-file bob.pw --mechanism SCRAM-SHA-512 --iterations 8192 --command-config admin.properties`,
		Args: noArgs,
	}
	var user string
	cmd.Flags().StringVar(&user, "user", "", "the user name (required)")
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	addMechanismFlag(cmd, &mechanisms, "mechanism to store a credential for; may be repeated (default: SCRAM-SHA-256 and SCRAM-SHA-512)")
	cmd.Flags().IntVar(&iterations, "iterations", 4096, "SCRAM iterations, 4096..16384")
	cmd.Flags().StringVar(&passwordFile, "password-file", "", "file whose first line is the password (default: read it from standard input)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if strings.TrimSpace(user) == "" {
			return usageErrorf("--user is required: name the user")
		}
		mechs, err := checkMechanisms(mechanisms)
		if err != nil {
			return err
		}
		if iterations < 4096 || iterations > 16384 {
			return usageErrorf("--iterations %d: accepted 4096..16384", iterations)
		}
		password, err := readPassword(cmd, passwordFile)
		if err != nil {
			return err
		}
		var changes []scramChange
		for _, m := range mechs {
			changes = append(changes, scramChange{mechanism: m, password: password, iterations: int32(iterations)})
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()
		if err := applySCRAM(ctx, adm, user, changes); err != nil {
			return conn.fail("create user "+user, err)
		}
		return writeResult(cmd.OutOrStdout(), *output, map[string]any{"user": user, "mechanisms": mechs, "iterations": iterations},
			fmt.Sprintf("Created or updated user %s (%s).\n", user, strings.Join(mechs, ", ")))
	}
	return cmd
}

// readPassword reads the first line of path, or of standard input.
func readPassword(cmd *cobra.Command, path string) (string, error) {
	in := cmd.InOrStdin()
	from := "standard input"
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return "", usageErrorf("--password-file: %v", err)
		}
		defer f.Close()
		in, from = f, path
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil && path == "" {
			return "", usageErrorf("no password on standard input: pipe it in (echo SECRET | tributary users create ...) or give --password-file")
		}
		return "", usageErrorf("the password read from %s is empty", from)
	}
	return line, nil
}

func newUsersDeleteCommand() *cobra.Command {
	var mechanisms []string
	cmd := &cobra.Command{
		Use:   "delete --user USER [--mechanism SCRAM-SHA-256|SCRAM-SHA-512]...",
		Short: "Delete a user's SCRAM credentials (all of them unless --mechanism names some)",
		Example: `  tributary users delete --user alice --bootstrap-server 127.0.0.1:9092
  tributary users delete --user bob --mechanism SCRAM-SHA-256 --command-config admin.properties`,
		Args: noArgs,
	}
	var user string
	cmd.Flags().StringVar(&user, "user", "", "the user name (required)")
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	addMechanismFlag(cmd, &mechanisms, "mechanism whose credential to delete; may be repeated (default: every one the user has)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if strings.TrimSpace(user) == "" {
			return usageErrorf("--user is required: name the user")
		}
		var mechs []string
		if len(mechanisms) > 0 {
			var err error
			if mechs, err = checkMechanisms(mechanisms); err != nil {
				return err
			}
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()
		if mechs == nil {
			described, err := adm.DescribeUserSCRAMs(ctx, user)
			if err == nil {
				if d, ok := described[user]; ok && d.Err == nil {
					for _, ci := range d.CredInfos {
						mechs = append(mechs, ci.Mechanism.String())
					}
				}
			} else if !isResourceNotFound(err) {
				return conn.fail("describe user "+user, err)
			}
			if len(mechs) == 0 {
				return fmt.Errorf("delete user %s: the user has no SCRAM credentials", user)
			}
			sort.Strings(mechs)
		}
		var changes []scramChange
		for _, m := range mechs {
			changes = append(changes, scramChange{mechanism: m, delete: true})
		}
		if err := applySCRAM(ctx, adm, user, changes); err != nil {
			return conn.fail("delete user "+user, err)
		}
		return writeResult(cmd.OutOrStdout(), *output, map[string]any{"user": user, "deleted": mechs},
			fmt.Sprintf("Deleted %s of user %s.\n", strings.Join(mechs, ", "), user))
	}
	return cmd
}

func newUsersListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the SCRAM users and their mechanisms",
		Example: `  tributary users list --bootstrap-server 127.0.0.1:9092
  tributary users list --command-config admin.properties --output table`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()
		described, err := adm.DescribeUserSCRAMs(ctx)
		if err != nil {
			return conn.fail("list users", err)
		}
		type credential struct {
			Mechanism  string `json:"mechanism"`
			Iterations int32  `json:"iterations"`
		}
		type userEntry struct {
			User        string       `json:"user"`
			Credentials []credential `json:"credentials"`
		}
		var users []userEntry
		for _, d := range described {
			if d.Err != nil {
				return fmt.Errorf("list users: %s: %w", d.User, kafkaError(d.Err, d.ErrMessage))
			}
			u := userEntry{User: d.User}
			for _, ci := range d.CredInfos {
				u.Credentials = append(u.Credentials, credential{ci.Mechanism.String(), ci.Iterations})
			}
			sort.Slice(u.Credentials, func(i, j int) bool { return u.Credentials[i].Mechanism < u.Credentials[j].Mechanism })
			users = append(users, u)
		}
		sort.Slice(users, func(i, j int) bool { return users[i].User < users[j].User })
		switch *output {
		case outputJSON:
			if users == nil {
				users = []userEntry{}
			}
			return writeJSON(cmd.OutOrStdout(), users)
		case outputTable:
			var rows [][]string
			for _, u := range users {
				for _, c := range u.Credentials {
					rows = append(rows, []string{u.User, c.Mechanism, strconv.Itoa(int(c.Iterations))})
				}
			}
			return writeTable(cmd.OutOrStdout(), []string{"USER", "MECHANISM", "ITERATIONS"}, rows)
		}
		for _, u := range users {
			var parts []string
			for _, c := range u.Credentials {
				parts = append(parts, fmt.Sprintf("%s (iterations=%d)", c.Mechanism, c.Iterations))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", u.User, strings.Join(parts, ", "))
		}
		return nil
	}
	return cmd
}
