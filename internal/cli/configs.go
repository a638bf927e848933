package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// configs: the kafka-configs.sh analogue for topics and brokers. Alter uses
// IncrementalAlterConfigs, so keys not named are left alone.

const (
	entityTopics  = "topics"
	entityBrokers = "brokers"
)

var entityTypes = []string{entityTopics, entityBrokers}

// entityFlags select what a configs command acts on.
type entityFlags struct {
	entityType    string
	entityName    string
	entityDefault bool
}

func addEntityFlags(cmd *cobra.Command) *entityFlags {
	e := &entityFlags{}
	fs := cmd.Flags()
	enumVar(fs, &e.entityType, "entity-type", "", entityTypes, "kind of entity: topics or brokers (required)")
	fs.StringVar(&e.entityName, "entity-name", "", "topic name or broker id")
	fs.BoolVar(&e.entityDefault, "entity-default", false, "for brokers: the cluster-wide default rather than one broker")
	return e
}

// validate checks the combination; nameRequired is false for describe,
// which describes every entity of the type when no name is given.
func (e *entityFlags) validate(nameRequired bool) error {
	if e.entityType == "" {
		return usageErrorf("--entity-type is required: accepted %s", strings.Join(entityTypes, ", "))
	}
	if e.entityDefault {
		if e.entityType != entityBrokers {
			return usageErrorf("--entity-default applies only to --entity-type brokers")
		}
		if e.entityName != "" {
			return usageErrorf("give either --entity-name or --entity-default, not both")
		}
		return nil
	}
	if e.entityName == "" {
		if nameRequired {
			return usageErrorf("--entity-name is required: name the %s", e.singular())
		}
		return nil
	}
	if e.entityType == entityBrokers {
		if _, err := e.brokerID(); err != nil {
			return err
		}
	}
	return nil
}

func (e *entityFlags) singular() string {
	if e.entityType == entityBrokers {
		return "broker"
	}
	return "topic"
}

func (e *entityFlags) brokerID() (int32, error) {
	id, err := strconv.ParseInt(e.entityName, 10, 32)
	if err != nil || id < 0 {
		return 0, usageErrorf("--entity-name for brokers must be a broker id (a non-negative integer), got %q", e.entityName)
	}
	return int32(id), nil
}

// label names the entity in messages: `topic "orders"`, `broker 1`,
// `default broker config`.
func (e *entityFlags) label(name string) string {
	switch {
	case e.entityType == entityTopics:
		return fmt.Sprintf("topic %s", name)
	case name == "":
		return "the cluster-wide broker default"
	default:
		return fmt.Sprintf("broker %s", name)
	}
}

func newConfigsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "configs",
		Short: "Describe and alter topic and broker configs (like kafka-configs.sh)",
	}
	makeGroupCommand(cmd)
	cmd.AddCommand(newConfigsDescribeCommand(), newConfigsAlterCommand())
	return cmd
}

// configEntry is one config as `configs describe` shows it.
type configEntry struct {
	Name      string  `json:"name"`
	Value     *string `json:"value"`
	Source    string  `json:"source"`
	Sensitive bool    `json:"sensitive"`
}

type entityConfigs struct {
	EntityType string        `json:"entity_type"`
	EntityName string        `json:"entity_name"`
	Configs    []configEntry `json:"configs"`
}

// isDynamic reports whether a config was set on the entity itself (or as a
// dynamic cluster default) rather than coming from defaults or the broker's
// static properties: what kafka-configs.sh lists without --all.
func isDynamic(s kmsg.ConfigSource) bool {
	switch s {
	case kmsg.ConfigSourceDynamicTopicConfig,
		kmsg.ConfigSourceDynamicBrokerConfig,
		kmsg.ConfigSourceDynamicDefaultBrokerConfig,
		kmsg.ConfigSourceDynamicBrokerLoggerConfig:
		return true
	}
	return false
}

func newConfigsDescribeCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "describe --entity-type topics|brokers [--entity-name X] [--all]",
		Short: "Show configs set on a topic or broker (with --all: every config)",
		Args:  noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	entity := addEntityFlags(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "show every config, including defaults and static broker settings")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := entity.validate(false); err != nil {
			return err
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		var rcs kadm.ResourceConfigs
		switch entity.entityType {
		case entityTopics:
			names := []string{entity.entityName}
			if entity.entityName == "" {
				topics, err := adm.ListTopicsWithInternal(ctx)
				if err != nil {
					return conn.explain(fmt.Errorf("list topics: %w", err))
				}
				names = topics.Names()
			}
			if len(names) > 0 {
				rcs, err = adm.DescribeTopicConfigs(ctx, names...)
			}
		case entityBrokers:
			var ids []int32
			switch {
			case entity.entityDefault:
				// DescribeBrokerConfigs with no ids asks for the default.
			case entity.entityName != "":
				id, _ := entity.brokerID()
				ids = []int32{id}
			default:
				brokers, err := adm.ListBrokers(ctx)
				if err != nil {
					return conn.explain(fmt.Errorf("list brokers: %w", err))
				}
				ids = brokers.NodeIDs()
			}
			rcs, err = adm.DescribeBrokerConfigs(ctx, ids...)
		}
		if err != nil {
			return conn.explain(fmt.Errorf("describe configs: %w", err))
		}
		sort.Slice(rcs, func(i, j int) bool { return lessEntityName(rcs[i].Name, rcs[j].Name) })

		results := make([]entityConfigs, 0, len(rcs))
		for _, rc := range rcs {
			if rc.Err != nil {
				return fmt.Errorf("describe configs of %s: %w", entity.label(rc.Name), kafkaError(rc.Err, rc.ErrMessage))
			}
			ec := entityConfigs{EntityType: entity.entityType, EntityName: rc.Name, Configs: []configEntry{}}
			for _, c := range rc.Configs {
				if !all && !isDynamic(c.Source) {
					continue
				}
				ec.Configs = append(ec.Configs, configEntry{
					Name:      c.Key,
					Value:     c.Value,
					Source:    c.Source.String(),
					Sensitive: c.Sensitive,
				})
			}
			sort.Slice(ec.Configs, func(i, j int) bool { return ec.Configs[i].Name < ec.Configs[j].Name })
			results = append(results, ec)
		}
		if *output == outputJSON {
			return writeJSON(cmd.OutOrStdout(), results)
		}
		return writeEntityConfigs(cmd.OutOrStdout(), entity, all, results)
	}
	return cmd
}

// lessEntityName orders broker ids numerically and topics by name.
func lessEntityName(a, b string) bool {
	ai, aerr := strconv.Atoi(a)
	bi, berr := strconv.Atoi(b)
	if aerr == nil && berr == nil {
		return ai < bi
	}
	return a < b
}

func writeEntityConfigs(w io.Writer, entity *entityFlags, all bool, results []entityConfigs) error {
	which := "Dynamic configs"
	if all {
		which = "All configs"
	}
	for i, ec := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s for %s:\n", which, entity.label(ec.EntityName))
		rows := make([][]string, 0, len(ec.Configs))
		for _, c := range ec.Configs {
			value := ""
			switch {
			case c.Sensitive:
				value = "(sensitive)"
			case c.Value != nil:
				value = *c.Value
			}
			rows = append(rows, []string{c.Name, value, c.Source, strconv.FormatBool(c.Sensitive)})
		}
		if err := writeTable(w, []string{"NAME", "VALUE", "SOURCE", "SENSITIVE"}, rows); err != nil {
			return err
		}
	}
	return nil
}

func newConfigsAlterCommand() *cobra.Command {
	var addConfigs, deleteConfigs []string
	cmd := &cobra.Command{
		Use:   "alter --entity-type topics|brokers --entity-name X [--add-config k=v[,k2=v2]] [--delete-config k[,k2]]",
		Short: "Set or remove configs on a topic or broker (IncrementalAlterConfigs)",
		Long: `Set or remove configs on a topic or broker. Keys not named are left as they are.

--add-config takes comma-separated key=value pairs; write list values in
square brackets: --add-config 'cleanup.policy=[compact,delete],retention.ms=60000'.`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	entity := addEntityFlags(cmd)
	fs := cmd.Flags()
	fs.StringArrayVar(&addConfigs, "add-config", nil, "configs to set: k=v[,k2=v2]; may be repeated")
	fs.StringArrayVar(&deleteConfigs, "delete-config", nil, "configs to remove (back to their default): k[,k2]; may be repeated")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := entity.validate(true); err != nil {
			return err
		}
		set, setOrder, err := parseKeyValues("add-config", addConfigs, true)
		if err != nil {
			return err
		}
		del, err := parseDeleteConfigs(deleteConfigs)
		if err != nil {
			return err
		}
		if len(set) == 0 && len(del) == 0 {
			return usageErrorf("nothing to alter: give --add-config k=v and/or --delete-config k")
		}
		for _, k := range del {
			if _, ok := set[k]; ok {
				return usageErrorf("config %q is in both --add-config and --delete-config", k)
			}
		}
		alters := make([]kadm.AlterConfig, 0, len(set)+len(del))
		for _, k := range setOrder {
			alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(set[k])})
		}
		for _, k := range del {
			alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
		}

		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		var resps kadm.AlterConfigsResponses
		switch {
		case entity.entityType == entityTopics:
			resps, err = adm.AlterTopicConfigs(ctx, alters, entity.entityName)
		case entity.entityDefault:
			resps, err = adm.AlterBrokerConfigs(ctx, alters)
		default:
			id, _ := entity.brokerID()
			resps, err = adm.AlterBrokerConfigs(ctx, alters, id)
		}
		if err != nil {
			return conn.explain(fmt.Errorf("alter configs of %s: %w", entity.label(entity.entityName), err))
		}
		for _, r := range resps {
			if r.Err != nil {
				return fmt.Errorf("alter configs of %s: %w", entity.label(entity.entityName), kafkaError(r.Err, r.ErrMessage))
			}
		}
		return writeResult(cmd.OutOrStdout(), *output, map[string]any{
			"entity_type": entity.entityType,
			"entity_name": entity.entityName,
			"set":         set,
			"deleted":     append([]string{}, del...),
		}, fmt.Sprintf("Completed updating config for %s.\n", entity.label(entity.entityName)))
	}
	return cmd
}

func parseDeleteConfigs(args []string) ([]string, error) {
	var keys []string
	seen := map[string]bool{}
	for _, arg := range args {
		for _, k := range strings.Split(arg, ",") {
			k = strings.TrimSpace(k)
			if k == "" {
				return nil, usageErrorf("--delete-config must be a comma-separated list of config names, got %q", arg)
			}
			if strings.Contains(k, "=") {
				return nil, usageErrorf("--delete-config takes config names only, got %q (to set a value use --add-config)", k)
			}
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}
