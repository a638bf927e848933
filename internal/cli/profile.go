package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/tributary-streams/tributary/internal/fsutil"
	"github.com/tributary-streams/tributary/internal/properties"
)

// Profiles, as rpk has them: named sets of Kafka client properties
// (bootstrap.servers first among them) kept in
// $XDG_CONFIG_HOME/tributary/profiles.yaml (~/.config/tributary/... when
// XDG_CONFIG_HOME is unset), so --bootstrap-server can be left out. The
// file holds secrets such as sasl.jaas.config, so it is written 0600.
//
//	current: dev
//	profiles:
//	  dev:
//	    bootstrap.servers: 127.0.0.1:9092
//	    client.id: me

// profileFile is the YAML layout of profiles.yaml.
type profileFile struct {
	Current  string                       `yaml:"current,omitempty"`
	Profiles map[string]map[string]string `yaml:"profiles"`
}

// profile is one named set of client properties.
type profile struct {
	Name       string
	Properties map[string]string
}

var profileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// profilesPath is where profiles are kept.
func profilesPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the profiles file: %w (set XDG_CONFIG_HOME or HOME)", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "tributary", "profiles.yaml"), nil
}

// loadProfiles reads the profiles file; a missing file is no profiles.
func loadProfiles() (profileFile, string, error) {
	path, err := profilesPath()
	if err != nil {
		return profileFile{}, "", err
	}
	pf := profileFile{Profiles: map[string]map[string]string{}}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return pf, path, nil
	}
	if err != nil {
		return pf, path, fmt.Errorf("read profiles: %w", err)
	}
	if err := yaml.Unmarshal(raw, &pf); err != nil {
		return pf, path, fmt.Errorf("read profiles %s: %v (fix or delete the file)", path, err)
	}
	if pf.Profiles == nil {
		pf.Profiles = map[string]map[string]string{}
	}
	return pf, path, nil
}

func saveProfiles(path string, pf profileFile) error {
	raw, err := yaml.Marshal(pf)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save profiles: %w", err)
	}
	if err := fsutil.WriteFileAtomicPerm(path, raw, 0o600); err != nil {
		return fmt.Errorf("save profiles: %w", err)
	}
	return nil
}

// activeProfile returns the profile a command uses, or nil for none:
// --profile, else $TRIBUTARY_PROFILE, else the current one. A profile that
// was named but does not exist is a usage error.
func (c *connFlags) activeProfile() (*profile, error) {
	name, from := c.profile, "--profile"
	if name == "" {
		name, from = os.Getenv(envProfile), "$"+envProfile
	}
	pf, path, err := loadProfiles()
	if err != nil {
		if name == "" {
			// A broken profiles file must not break commands that name
			// their brokers themselves; it is reported when used.
			return nil, nil
		}
		return nil, usageErrorf("%v", err)
	}
	if name == "" {
		name, from = pf.Current, "the current profile in "+path
	}
	if name == "" {
		return nil, nil
	}
	props, ok := pf.Profiles[name]
	if !ok {
		return nil, usageErrorf("%s names profile %q, which does not exist; profiles: %s (tributary profile list)", from, name, profileNames(pf))
	}
	return &profile{Name: name, Properties: props}, nil
}

func profileNames(pf profileFile) string {
	names := sortedKeys(pf.Profiles)
	if len(names) == 0 {
		return "none yet"
	}
	return strings.Join(names, ", ")
}

func newProfileCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Save bootstrap servers and client properties under a name (like rpk profiles)",
		Long: `Profiles keep bootstrap.servers and Kafka client properties under a name in
~/.config/tributary/profiles.yaml ($XDG_CONFIG_HOME/tributary/profiles.yaml), so
that --bootstrap-server can be left out. The current profile applies to every
command; --profile NAME or $TRIBUTARY_PROFILE pick another for one command, and
--bootstrap-server or $TRIBUTARY_BOOTSTRAP still win.`,
		Example: `  tributary profile create local --bootstrap-server 127.0.0.1:9092
  tributary profile create prod --bootstrap-server kafka1:9092,kafka2:9092 --set client.id=ops
  tributary profile use local
  tributary topics list`,
	}
	makeGroupCommand(cmd)
	cmd.AddCommand(newProfileCreateCommand(), newProfileUseCommand(), newProfileListCommand(), newProfileDeleteCommand())
	return cmd
}

func newProfileCreateCommand() *cobra.Command {
	var (
		bootstrap, fromFile string
		sets                []string
		use                 bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME [--bootstrap-server HOST:PORT] [--from-file client.properties] [--set key=value ...]",
		Short: "Create or replace a profile",
		Example: `  tributary profile create local --bootstrap-server 127.0.0.1:9092
  tributary profile create staging --from-file client.properties --set client.id=me`,
	}
	fs := cmd.Flags()
	fs.StringVar(&bootstrap, "bootstrap-server", "", "brokers, host:port[,host:port...] (stored as bootstrap.servers)")
	fs.StringVar(&fromFile, "from-file", "", "Kafka client properties file to take the properties from")
	fs.StringArrayVar(&sets, "set", nil, "client property key=value; repeat for more")
	fs.BoolVar(&use, "use", false, "also make it the current profile")
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usageErrorf("give the profile's name: tributary profile create NAME ...")
		}
		return nil
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name := args[0]
		if !profileName.MatchString(name) {
			return usageErrorf("profile name %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", name)
		}
		props := map[string]string{}
		if fromFile != "" {
			parsed, err := properties.ParseFile(fromFile)
			if err != nil {
				return usageErrorf("--from-file: %v", err)
			}
			for k, v := range properties.Map(parsed) {
				props[k] = v
			}
		}
		for _, kv := range sets {
			k, v, ok := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				return usageErrorf("--set must be key=value, got %q", kv)
			}
			props[k] = v
		}
		if bootstrap != "" {
			props["bootstrap.servers"] = bootstrap
		}
		if len(props) == 0 {
			return usageErrorf("a profile needs at least --bootstrap-server, --from-file or --set key=value")
		}
		// Check every property now, so a bad one is reported here and not
		// by every later command.
		check := clientSettings{given: map[string]propertySource{}}
		for _, k := range sortedKeys(props) {
			if err := check.applyProperty(k, props[k], "profile "+name, false); err != nil {
				return usageErrorf("%v", err)
			}
		}
		pf, path, err := loadProfiles()
		if err != nil {
			return err
		}
		_, existed := pf.Profiles[name]
		pf.Profiles[name] = props
		if use || pf.Current == "" {
			pf.Current = name
		}
		if err := saveProfiles(path, pf); err != nil {
			return err
		}
		verb := "Created"
		if existed {
			verb = "Replaced"
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s profile %s in %s.\n", verb, name, path)
		if pf.Current == name {
			fmt.Fprintf(cmd.OutOrStdout(), "Profile %s is the current profile.\n", name)
		}
		return nil
	}
	return cmd
}

func newProfileUseCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "use NAME",
		Short:   "Make a profile the current one",
		Example: `  tributary profile use local`,
	}
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usageErrorf("give the profile's name: tributary profile use NAME")
		}
		return nil
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		pf, path, err := loadProfiles()
		if err != nil {
			return err
		}
		if _, ok := pf.Profiles[args[0]]; !ok {
			return usageErrorf("profile %q does not exist; profiles: %s", args[0], profileNames(pf))
		}
		pf.Current = args[0]
		if err := saveProfiles(path, pf); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Profile %s is the current profile.\n", args[0])
		return nil
	}
	return cmd
}

func newProfileListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List profiles; the current one is marked with *",
		Example: `  tributary profile list --output json`,
		Args:    noArgs,
	}
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		pf, _, err := loadProfiles()
		if err != nil {
			return err
		}
		type listed struct {
			Name       string            `json:"name"`
			Current    bool              `json:"current"`
			Properties map[string]string `json:"properties"`
		}
		list := []listed{}
		rows := [][]string{}
		for _, name := range sortedKeys(pf.Profiles) {
			props := map[string]string{}
			for k, v := range pf.Profiles[name] {
				if isSecret(k) {
					v = "(hidden)"
				}
				props[k] = v
			}
			list = append(list, listed{name, name == pf.Current, props})
			mark := ""
			if name == pf.Current {
				mark = "*"
			}
			rows = append(rows, []string{mark, name, props["bootstrap.servers"]})
		}
		if *output == outputJSON {
			return writeJSON(cmd.OutOrStdout(), list)
		}
		return writeTable(cmd.OutOrStdout(), []string{"CURRENT", "NAME", "BOOTSTRAP-SERVERS"}, rows)
	}
	return cmd
}

func newProfileDeleteCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a profile",
		Example: `  tributary profile delete staging`,
	}
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usageErrorf("give the profile's name: tributary profile delete NAME")
		}
		return nil
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		pf, path, err := loadProfiles()
		if err != nil {
			return err
		}
		if _, ok := pf.Profiles[args[0]]; !ok {
			return fmt.Errorf("profile %q does not exist; profiles: %s", args[0], profileNames(pf))
		}
		delete(pf.Profiles, args[0])
		if pf.Current == args[0] {
			pf.Current = ""
		}
		if err := saveProfiles(path, pf); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Deleted profile %s.\n", args[0])
		return nil
	}
	return cmd
}
