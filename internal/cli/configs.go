package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/properties"
)

// configs: the kafka-configs.sh analogue for topics and brokers, with its
// flags (--entity-type/--entity-name/--entity-default and the --topic,
// --broker, --broker-defaults shorthands) and output. Alter uses
// IncrementalAlterConfigs, so keys not named are left alone.

const (
	entityTopics  = "topics"
	entityBrokers = "brokers"
)

var entityTypes = []string{entityTopics, entityBrokers, entityUsers, entityClients}

// entityFlags select what a configs command acts on.
type entityFlags struct {
	entityType     string
	entityName     string
	entityDefault  bool
	topic          string             // --topic X: --entity-type topics --entity-name X
	broker         string             // --broker N: --entity-type brokers --entity-name N
	brokerDefaults bool               // --broker-defaults: --entity-type brokers --entity-default
	clients        *clientEntityFlags // --user, --client, ... (configs_clients.go)
}

func addEntityFlags(cmd *cobra.Command) *entityFlags {
	e := &entityFlags{}
	fs := cmd.Flags()
	enumVar(fs, &e.entityType, "entity-type", "", entityTypes, "kind of entity: topics, brokers, users or clients")
	fs.StringVar(&e.entityName, "entity-name", "", "topic name, broker id, user or client id")
	fs.BoolVar(&e.entityDefault, "entity-default", false, "for brokers, users and clients: the default rather than one entity")
	fs.StringVar(&e.topic, "topic", "", "the topic: short for --entity-type topics --entity-name TOPIC")
	fs.StringVar(&e.broker, "broker", "", "the broker id: short for --entity-type brokers --entity-name ID")
	fs.BoolVar(&e.brokerDefaults, "broker-defaults", false, "short for --entity-type brokers --entity-default")
	e.clients = addClientEntityFlags(fs)
	return e
}

// resolve folds the shorthands into entityType/entityName/entityDefault
// and checks the combination; nameRequired is false for describe, which
// describes every entity of the type when none is named. The refusals are
// kafka-configs.sh's.
func (e *entityFlags) resolve(cmd *cobra.Command, nameRequired bool) error {
	fs := cmd.Flags()
	long := fs.Changed("entity-type") || fs.Changed("entity-name") || fs.Changed("entity-default")
	var short []string
	for _, f := range []string{"topic", "broker", "broker-defaults"} {
		if fs.Changed(f) {
			short = append(short, "--"+f)
		}
	}
	if long && len(short) > 0 {
		return usageErrorf("--entity-type, --entity-name and --entity-default cannot be used with %s", strings.Join(short, " or "))
	}
	if len(short) > 1 {
		return usageErrorf("give one of --topic, --broker or --broker-defaults, got %s", strings.Join(short, " and "))
	}
	switch {
	case fs.Changed("topic"):
		e.entityType, e.entityName = entityTopics, e.topic
	case fs.Changed("broker"):
		e.entityType, e.entityName = entityBrokers, e.broker
	case e.brokerDefaults:
		e.entityType, e.entityDefault = entityBrokers, true
	}
	if e.entityType == "" {
		return usageErrorf("--entity-type is required: accepted %s (or use --topic T, --broker ID, --broker-defaults)", strings.Join(entityTypes, ", "))
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
	if e.entityName == "" && (fs.Changed("entity-name") || fs.Changed("topic") || fs.Changed("broker")) {
		return usageErrorf("the entity name must not be empty")
	}
	if e.entityName == "" {
		if nameRequired {
			if e.entityType == entityBrokers {
				return usageErrorf("--entity-name or --entity-default is required with --alter of brokers: name the broker or the cluster-wide default")
			}
			return usageErrorf("--entity-name is required: name the topic")
		}
		return nil
	}
	if e.entityType == entityBrokers {
		if _, err := brokerID(e.entityName); err != nil {
			return err
		}
	}
	return nil
}

func brokerID(name string) (int32, error) {
	id, err := strconv.ParseInt(name, 10, 32)
	if err != nil || id < 0 {
		return 0, usageErrorf("--entity-name for brokers must be a broker id (a non-negative integer), got %q", name)
	}
	return int32(id), nil
}

// label names an entity in messages as kafka-configs.sh does: `topic
// orders`, `broker 1`, `default config for brokers in the cluster`.
func entityLabel(entityType, name string) string {
	switch {
	case entityType == entityTopics:
		return "topic " + name
	case name == "":
		return "the cluster-wide broker default"
	default:
		return "broker " + name
	}
}

// dynamicSource is what kafka-configs.sh --describe lists without --all:
// the values set on the entity itself.
func dynamicSource(entityType, name string) kmsg.ConfigSource {
	switch {
	case entityType == entityTopics:
		return kmsg.ConfigSourceDynamicTopicConfig
	case name == "":
		return kmsg.ConfigSourceDynamicDefaultBrokerConfig
	default:
		return kmsg.ConfigSourceDynamicBrokerConfig
	}
}

func newConfigsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "configs",
		Short: "Describe and alter topic and broker configs (like kafka-configs.sh)",
		Long: `Describe and alter topic and broker configs, with kafka-configs.sh's flags.
Kafka's action-flag form works too: tributary configs --alter --topic t --add-config k=v.`,
		Example: `  tributary configs describe --bootstrap-server 127.0.0.1:9092 --topic orders
  tributary configs --bootstrap-server 127.0.0.1:9092 --alter --entity-type brokers --entity-name 0 --add-config log.retention.ms=3600000
  tributary configs --bootstrap-server 127.0.0.1:9092 --describe --entity-type brokers --entity-default`,
	}
	makeGroupCommand(cmd)
	cmd.AddCommand(newConfigsDescribeCommand(), newConfigsAlterCommand())
	return cmd
}

// configEntry is one config as `configs describe` shows it.
type configEntry struct {
	Name      string          `json:"name"`
	Value     *string         `json:"value"`
	Source    string          `json:"source"`
	Sensitive bool            `json:"sensitive"`
	Synonyms  []configSynonym `json:"synonyms"`
}

type configSynonym struct {
	Name   string  `json:"name"`
	Value  *string `json:"value"`
	Source string  `json:"source"`
}

type entityConfigs struct {
	EntityType string        `json:"entity_type"`
	EntityName string        `json:"entity_name"` // "" for the cluster-wide broker default
	Configs    []configEntry `json:"configs"`
}

func newConfigsDescribeCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "describe (--entity-type topics|brokers [--entity-name X | --entity-default] | --topic T | --broker N | --broker-defaults) [--all]",
		Short: "Show configs set on a topic or broker (with --all: every config)",
		Example: `  tributary configs describe --bootstrap-server 127.0.0.1:9092 --entity-type topics --entity-name orders
  tributary configs describe --bootstrap-server 127.0.0.1:9092 --broker 0 --all
  tributary configs describe --bootstrap-server 127.0.0.1:9092 --entity-type brokers`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	entity := addEntityFlags(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "show every config, including defaults and static broker settings")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if ce, ok, err := entity.clientEntity(cmd, false); ok || err != nil {
			if err != nil {
				return err
			}
			return describeClientConfigs(cmd, conn, *output, ce)
		}
		if err := entity.resolve(cmd, false); err != nil {
			return err
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		names, err := entityNames(ctx, conn, adm, entity)
		if err != nil {
			return err
		}
		results := make([]entityConfigs, 0, len(names))
		for _, name := range names {
			var rcs kadm.ResourceConfigs
			if entity.entityType == entityTopics {
				rcs, err = adm.DescribeTopicConfigs(ctx, name)
			} else if name == "" {
				rcs, err = adm.DescribeBrokerConfigs(ctx)
			} else {
				id, _ := brokerID(name)
				rcs, err = adm.DescribeBrokerConfigs(ctx, id)
			}
			if err != nil {
				return conn.fail("describe configs of "+entityLabel(entity.entityType, name), err)
			}
			if len(rcs) != 1 {
				return fmt.Errorf("describe configs of %s: the broker answered for %d resources, want 1", entityLabel(entity.entityType, name), len(rcs))
			}
			rc := rcs[0]
			if rc.Err != nil {
				if entity.entityType == entityTopics && rc.Err == kerr.UnknownTopicOrPartition {
					return fmt.Errorf("topic %q does not exist (UNKNOWN_TOPIC_OR_PARTITION)", name)
				}
				return fmt.Errorf("describe configs of %s: %w", entityLabel(entity.entityType, name), kafkaError(rc.Err, rc.ErrMessage))
			}
			ec := entityConfigs{EntityType: entity.entityType, EntityName: name, Configs: []configEntry{}}
			want := dynamicSource(entity.entityType, name)
			for _, c := range rc.Configs {
				if !all && c.Source != want {
					continue
				}
				ec.Configs = append(ec.Configs, describedConfig(c))
			}
			sort.Slice(ec.Configs, func(i, j int) bool { return ec.Configs[i].Name < ec.Configs[j].Name })
			results = append(results, ec)
		}
		switch *output {
		case outputJSON:
			return writeJSON(cmd.OutOrStdout(), results)
		case outputTable:
			return writeConfigTables(cmd.OutOrStdout(), all, results)
		}
		writeKafkaConfigs(cmd.OutOrStdout(), all, results)
		return nil
	}
	return cmd
}

func describedConfig(c kadm.Config) configEntry {
	e := configEntry{Name: c.Key, Value: c.Value, Source: c.Source.String(), Sensitive: c.Sensitive, Synonyms: []configSynonym{}}
	if c.Sensitive {
		e.Value = nil // never shown, as brokers do
	}
	for _, s := range c.Synonyms {
		v := s.Value
		if c.Sensitive {
			v = nil
		}
		e.Synonyms = append(e.Synonyms, configSynonym{Name: s.Key, Value: v, Source: s.Source.String()})
	}
	return e
}

// entityNames lists what describe shows: the named entity, or every topic,
// or every broker and then the cluster-wide default (as kafka-configs.sh).
// A named topic or broker must exist.
func entityNames(ctx context.Context, conn *connFlags, adm *adminClient, e *entityFlags) ([]string, error) {
	if e.entityDefault {
		return []string{""}, nil
	}
	if e.entityType == entityTopics {
		if e.entityName != "" {
			return []string{e.entityName}, nil
		}
		topics, err := adm.ListTopicsWithInternal(ctx)
		if err != nil {
			return nil, conn.fail("list topics", err)
		}
		return topics.Names(), nil
	}
	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		return nil, conn.fail("list brokers", err)
	}
	ids := brokers.NodeIDs()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var names []string
	for _, id := range ids {
		names = append(names, strconv.Itoa(int(id)))
	}
	if e.entityName != "" {
		if !contains(names, e.entityName) {
			return nil, fmt.Errorf("broker %s is not in the cluster; its brokers are %s", e.entityName, strings.Join(names, ", "))
		}
		return []string{e.entityName}, nil
	}
	return append(names, ""), nil
}

func orNull(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

// writeKafkaConfigs prints kafka-configs.sh --describe's shape:
//
//	Dynamic configs for topic orders are:
//	  retention.ms=600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=600000, DEFAULT_CONFIG:log.retention.ms=604800000}
func writeKafkaConfigs(w io.Writer, all bool, results []entityConfigs) {
	for _, ec := range results {
		switch {
		case ec.EntityType == entityBrokers && ec.EntityName == "":
			fmt.Fprintf(w, "Default configs for brokers in the cluster are:\n")
		case all:
			fmt.Fprintf(w, "All configs for %s are:\n", entityLabel(ec.EntityType, ec.EntityName))
		default:
			fmt.Fprintf(w, "Dynamic configs for %s are:\n", entityLabel(ec.EntityType, ec.EntityName))
		}
		for _, c := range ec.Configs {
			syn := make([]string, len(c.Synonyms))
			for i, s := range c.Synonyms {
				syn[i] = fmt.Sprintf("%s:%s=%s", s.Source, s.Name, orNull(s.Value))
			}
			fmt.Fprintf(w, "  %s=%s sensitive=%t synonyms={%s}\n", c.Name, orNull(c.Value), c.Sensitive, strings.Join(syn, ", "))
		}
	}
}

// writeConfigTables prints one aligned table per entity.
func writeConfigTables(w io.Writer, all bool, results []entityConfigs) error {
	which := "Dynamic configs"
	if all {
		which = "All configs"
	}
	for i, ec := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s for %s:\n", which, entityLabel(ec.EntityType, ec.EntityName))
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
	var (
		addConfigs, deleteConfigs []string
		addConfigFile             string
	)
	cmd := &cobra.Command{
		Use:   "alter (--entity-type topics|brokers (--entity-name X | --entity-default) | --topic T | --broker N | --broker-defaults) [--add-config k=v[,k2=v2] | --add-config-file F] [--delete-config k[,k2]]",
		Short: "Set or remove configs on a topic or broker (IncrementalAlterConfigs)",
		Long: `Set or remove configs on a topic or broker. Keys not named are left as they are.

--add-config takes comma-separated key=value pairs; write list values in
square brackets: --add-config 'cleanup.policy=[compact,delete],retention.ms=60000'.
--delete-config of a key that is not set on the entity is refused, as by
kafka-configs.sh ("Invalid config(s)").`,
		Example: `  tributary configs alter --bootstrap-server 127.0.0.1:9092 --topic orders --add-config retention.ms=600000,max.message.bytes=2048
  tributary configs alter --bootstrap-server 127.0.0.1:9092 --entity-type brokers --entity-name 0 --add-config log.retention.ms=3600000
  tributary configs alter --bootstrap-server 127.0.0.1:9092 --broker-defaults --delete-config log.retention.ms`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	entity := addEntityFlags(cmd)
	fs := cmd.Flags()
	fs.StringArrayVar(&addConfigs, "add-config", nil, "configs to set: k=v[,k2=v2]; may be repeated")
	fs.StringVar(&addConfigFile, "add-config-file", "", "properties file of configs to set")
	fs.StringArrayVar(&deleteConfigs, "delete-config", nil, "configs to remove (back to their default): k[,k2]; may be repeated")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ce, clientEntity, err := entity.clientEntity(cmd, true)
		if err != nil {
			return err
		}
		if !clientEntity {
			if err := entity.resolve(cmd, true); err != nil {
				return err
			}
		}
		if len(addConfigs) > 0 && addConfigFile != "" {
			return usageErrorf("give either --add-config or --add-config-file, not both")
		}
		set, setOrder, err := parseKeyValues("add-config", addConfigs, true)
		if err != nil {
			return err
		}
		if addConfigFile != "" {
			props, err := properties.ParseFile(addConfigFile)
			if err != nil {
				return usageErrorf("--add-config-file: %v", err)
			}
			for _, p := range props {
				if _, dup := set[p.Key]; !dup {
					setOrder = append(setOrder, p.Key)
				}
				set[p.Key] = p.Value
			}
		}
		del, err := parseDeleteConfigs(deleteConfigs)
		if err != nil {
			return err
		}
		if len(set) == 0 && len(del) == 0 {
			return usageErrorf("nothing to alter: give --add-config k=v, --add-config-file FILE and/or --delete-config k")
		}
		for _, k := range del {
			if _, ok := set[k]; ok {
				return usageErrorf("config %q is in both --add-config and --delete-config", k)
			}
		}
		if clientEntity {
			return alterClientConfigs(cmd, conn, *output, ce, set, setOrder, del)
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

		name := entity.entityName
		label := entityLabel(entity.entityType, name)
		if entity.entityType == entityBrokers && name != "" {
			if _, err := entityNames(ctx, conn, adm, entity); err != nil {
				return err
			}
		}
		if len(del) > 0 {
			if err := checkDeletable(ctx, conn, adm, entity.entityType, name, del); err != nil {
				return err
			}
		}
		var resps kadm.AlterConfigsResponses
		switch {
		case entity.entityType == entityTopics:
			resps, err = adm.AlterTopicConfigs(ctx, alters, name)
		case name == "":
			resps, err = adm.AlterBrokerConfigs(ctx, alters)
		default:
			id, _ := brokerID(name)
			resps, err = adm.AlterBrokerConfigs(ctx, alters, id)
		}
		if err != nil {
			return conn.fail("alter configs of "+label, err)
		}
		for _, r := range resps {
			if r.Err == kerr.UnknownTopicOrPartition {
				return fmt.Errorf("alter configs of topic %q: the topic does not exist (UNKNOWN_TOPIC_OR_PARTITION)", name)
			}
			if r.Err != nil {
				return fmt.Errorf("alter configs of %s: %w", label, kafkaError(r.Err, r.ErrMessage))
			}
		}
		text := fmt.Sprintf("Completed updating config for %s.\n", label)
		if entity.entityType == entityBrokers && name == "" {
			text = "Completed updating default config for brokers in the cluster.\n"
		}
		return writeResult(cmd.OutOrStdout(), *output, map[string]any{
			"entity_type": entity.entityType,
			"entity_name": name,
			"set":         set,
			"deleted":     append([]string{}, del...),
		}, text)
	}
	return cmd
}

// checkDeletable refuses --delete-config of keys not set on the entity, as
// kafka-configs.sh does: a typo would otherwise succeed silently.
func checkDeletable(ctx context.Context, conn *connFlags, adm *adminClient, entityType, name string, keys []string) error {
	var (
		rcs kadm.ResourceConfigs
		err error
	)
	switch {
	case entityType == entityTopics:
		rcs, err = adm.DescribeTopicConfigs(ctx, name)
	case name == "":
		rcs, err = adm.DescribeBrokerConfigs(ctx)
	default:
		id, _ := brokerID(name)
		rcs, err = adm.DescribeBrokerConfigs(ctx, id)
	}
	if err != nil {
		return conn.fail("describe configs of "+entityLabel(entityType, name), err)
	}
	set := map[string]bool{}
	want := dynamicSource(entityType, name)
	for _, rc := range rcs {
		if rc.Err == kerr.UnknownTopicOrPartition {
			return fmt.Errorf("alter configs of topic %q: the topic does not exist (UNKNOWN_TOPIC_OR_PARTITION)", name)
		}
		if rc.Err != nil {
			return fmt.Errorf("describe configs of %s: %w", entityLabel(entityType, name), kafkaError(rc.Err, rc.ErrMessage))
		}
		for _, c := range rc.Configs {
			if c.Source == want {
				set[c.Key] = true
			}
		}
	}
	var invalid []string
	for _, k := range keys {
		if !set[k] {
			invalid = append(invalid, k)
		}
	}
	if len(invalid) > 0 {
		return fmt.Errorf("Invalid config(s): %s (not set on %s, so there is nothing to delete)", strings.Join(invalid, ","), entityLabel(entityType, name))
	}
	return nil
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
