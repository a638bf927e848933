package cli

// acls: the kafka-acls.sh analogue (CreateAcls, DeleteAcls, DescribeAcls),
// with its flags: --allow-principal / --deny-principal, --allow-host /
// --deny-host, --operation (repeatable), --topic, --group,
// --transactional-id, --cluster, --resource-pattern-type, the --producer
// and --consumer conveniences, and --principal to filter --list. Kafka's
// action flags work too: tributary acls --add ... / --remove / --list.
// Unlike kafka-acls.sh, --remove does not ask for confirmation (--force is
// accepted and changes nothing): the command never reads the terminal.

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type aclFlags struct {
	allowPrincipals, denyPrincipals []string
	allowHosts, denyHosts           []string
	operations                      []string
	topics, groups, txnIDs          []string
	cluster                         bool
	patternType                     string
	principals                      []string // --list filter
	producer, consumer, idempotent  bool
	force                           bool
}

func addACLFlags(cmd *cobra.Command, action string) *aclFlags {
	f := &aclFlags{}
	fs := cmd.Flags()
	if action != "list" {
		fs.StringArrayVar(&f.allowPrincipals, "allow-principal", nil, "principal to allow, e.g. User:alice (repeatable)")
		fs.StringArrayVar(&f.denyPrincipals, "deny-principal", nil, "principal to deny, e.g. User:mallory (repeatable)")
		fs.StringArrayVar(&f.allowHosts, "allow-host", nil, "IP address the allowed principals may connect from (repeatable; default *)")
		fs.StringArrayVar(&f.denyHosts, "deny-host", nil, "IP address the denied principals are denied from (repeatable; default *)")
		fs.StringArrayVar(&f.operations, "operation", nil, "Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite or All (repeatable; default All)")
		fs.BoolVar(&f.producer, "producer", false, "the ACLs a producer needs: Write, Describe and Create on the topics (and Write/Describe on --transactional-id)")
		fs.BoolVar(&f.consumer, "consumer", false, "the ACLs a consumer needs: Read and Describe on the topics, Read on the groups")
		fs.BoolVar(&f.idempotent, "idempotent", false, "with --producer: IdempotentWrite on the cluster")
	} else {
		fs.StringArrayVar(&f.principals, "principal", nil, "list only the ACLs of this principal (repeatable)")
	}
	if action == "remove" {
		fs.BoolVar(&f.force, "force", false, "accepted for kafka-acls.sh compatibility: removal never asks for confirmation")
	}
	fs.StringArrayVar(&f.topics, "topic", nil, "topic name (or prefix, with --resource-pattern-type prefixed; * for every topic); repeatable")
	fs.StringArrayVar(&f.groups, "group", nil, "consumer group id (or prefix); repeatable")
	fs.StringArrayVar(&f.txnIDs, "transactional-id", nil, "transactional id (or prefix); repeatable")
	fs.BoolVar(&f.cluster, "cluster", false, "the cluster resource")
	def := "literal"
	accepted := []string{"literal", "prefixed"}
	if action != "add" {
		def = "any"
		accepted = []string{"literal", "prefixed", "match", "any"}
	}
	enumVar(fs, &f.patternType, "resource-pattern-type", def, accepted, "how resource names match: "+strings.Join(accepted, ", "))
	return f
}

// aclResource is one resource named by the flags.
type aclResource struct {
	typ  kmsg.ACLResourceType
	name string
}

func (f *aclFlags) resources() []aclResource {
	var out []aclResource
	for _, t := range f.topics {
		out = append(out, aclResource{kmsg.ACLResourceTypeTopic, t})
	}
	for _, g := range f.groups {
		out = append(out, aclResource{kmsg.ACLResourceTypeGroup, g})
	}
	for _, id := range f.txnIDs {
		out = append(out, aclResource{kmsg.ACLResourceTypeTransactionalId, id})
	}
	if f.cluster {
		out = append(out, aclResource{kmsg.ACLResourceTypeCluster, "kafka-cluster"})
	}
	return out
}

func parseOperations(ops []string) ([]kmsg.ACLOperation, error) {
	var out []kmsg.ACLOperation
	for _, o := range ops {
		for _, one := range strings.Split(o, ",") {
			op, err := kmsg.ParseACLOperation(strings.TrimSpace(one))
			if err != nil || op == kmsg.ACLOperationAny || op > kmsg.ACLOperationIdempotentWrite {
				return nil, usageErrorf("--operation %q: accepted Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite or All", one)
			}
			out = append(out, op)
		}
	}
	return out, nil
}

func checkPrincipals(flag string, ps []string) error {
	for _, p := range ps {
		typ, name, ok := strings.Cut(p, ":")
		if !ok || typ == "" || name == "" {
			return usageErrorf("--%s %q: want Type:name, e.g. User:alice", flag, p)
		}
	}
	return nil
}

// aclBinding is one ACL, as the commands print it.
type aclBinding struct {
	ResourceType string `json:"resource_type"`
	ResourceName string `json:"resource_name"`
	PatternType  string `json:"pattern_type"`
	Principal    string `json:"principal"`
	Host         string `json:"host"`
	Operation    string `json:"operation"`
	Permission   string `json:"permission"`
}

// bindings expands the add/remove flags into ACLs: every principal ×
// host × operation × resource, with --producer/--consumer's operations.
func (f *aclFlags) bindings(action string) ([]aclBinding, error) {
	if err := checkPrincipals("allow-principal", f.allowPrincipals); err != nil {
		return nil, err
	}
	if err := checkPrincipals("deny-principal", f.denyPrincipals); err != nil {
		return nil, err
	}
	ops, err := parseOperations(f.operations)
	if err != nil {
		return nil, err
	}
	type perResource struct {
		res aclResource
		ops []kmsg.ACLOperation
	}
	var targets []perResource
	switch {
	case f.producer || f.consumer:
		if len(f.operations) > 0 {
			return nil, usageErrorf("--producer and --consumer set the operations themselves: drop --operation")
		}
		if len(f.topics) == 0 {
			return nil, usageErrorf("--producer and --consumer need --topic")
		}
		for _, t := range f.topics {
			r := aclResource{kmsg.ACLResourceTypeTopic, t}
			if f.producer {
				targets = append(targets, perResource{r, []kmsg.ACLOperation{kmsg.ACLOperationWrite, kmsg.ACLOperationDescribe, kmsg.ACLOperationCreate}})
			}
			if f.consumer {
				targets = append(targets, perResource{r, []kmsg.ACLOperation{kmsg.ACLOperationRead, kmsg.ACLOperationDescribe}})
			}
		}
		if f.consumer {
			if len(f.groups) == 0 {
				return nil, usageErrorf("--consumer needs --group")
			}
			for _, g := range f.groups {
				targets = append(targets, perResource{aclResource{kmsg.ACLResourceTypeGroup, g}, []kmsg.ACLOperation{kmsg.ACLOperationRead}})
			}
		}
		if f.producer {
			for _, id := range f.txnIDs {
				targets = append(targets, perResource{aclResource{kmsg.ACLResourceTypeTransactionalId, id}, []kmsg.ACLOperation{kmsg.ACLOperationWrite, kmsg.ACLOperationDescribe}})
			}
			if f.idempotent {
				targets = append(targets, perResource{aclResource{kmsg.ACLResourceTypeCluster, "kafka-cluster"}, []kmsg.ACLOperation{kmsg.ACLOperationIdempotentWrite}})
			}
		}
	default:
		if len(ops) == 0 {
			ops = []kmsg.ACLOperation{kmsg.ACLOperationAll}
		}
		for _, r := range f.resources() {
			targets = append(targets, perResource{r, ops})
		}
	}
	if len(targets) == 0 {
		return nil, usageErrorf("name a resource: --topic, --group, --transactional-id or --cluster")
	}
	if action == "add" && len(f.allowPrincipals)+len(f.denyPrincipals) == 0 {
		return nil, usageErrorf("--add needs --allow-principal or --deny-principal")
	}
	pattern := kmsg.ACLResourcePatternTypeLiteral
	if f.patternType == "prefixed" {
		pattern = kmsg.ACLResourcePatternTypePrefixed
	}
	var out []aclBinding
	add := func(principals, hosts []string, perm kmsg.ACLPermissionType) {
		if len(hosts) == 0 {
			hosts = []string{"*"}
		}
		for _, t := range targets {
			for _, p := range principals {
				for _, h := range hosts {
					for _, op := range t.ops {
						out = append(out, aclBinding{t.res.typ.String(), t.res.name, pattern.String(), p, h, op.String(), perm.String()})
					}
				}
			}
		}
	}
	add(f.allowPrincipals, f.allowHosts, kmsg.ACLPermissionTypeAllow)
	add(f.denyPrincipals, f.denyHosts, kmsg.ACLPermissionTypeDeny)
	return out, nil
}

func newACLsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "acls",
		Short: "Add, remove and list ACLs (like kafka-acls.sh)",
		Long: `Add, remove and list ACLs with kafka-acls.sh's flags. Kafka's action-flag
form works too: tributary acls --add --allow-principal User:alice --operation Read --topic t.
The broker must run an authorizer (authorizer.class.name).`,
		Example: `  tributary acls add --bootstrap-server 127.0.0.1:9092 --allow-principal User:alice --operation Write --operation Describe --topic orders
  tributary acls add --bootstrap-server 127.0.0.1:9092 --allow-principal User:bob --consumer --topic orders --group billing
  tributary acls add --bootstrap-server 127.0.0.1:9092 --deny-principal User:mallory --operation All --topic logs- --resource-pattern-type prefixed
  tributary acls list --bootstrap-server 127.0.0.1:9092 --topic orders
  tributary acls remove --bootstrap-server 127.0.0.1:9092 --allow-principal User:alice --operation Write --topic orders`,
	}
	makeGroupCommand(cmd)
	cmd.AddCommand(newACLsAddCommand(), newACLsRemoveCommand(), newACLsListCommand())
	return cmd
}

func newACLsAddCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "add (--allow-principal P | --deny-principal P)... [--operation OP]... (--topic T | --group G | --transactional-id ID | --cluster)...",
		Short: "Add ACLs", Args: noArgs,
		Example: `  tributary acls add --bootstrap-server 127.0.0.1:9092 --allow-principal User:alice --operation Write --operation Describe --topic orders
  tributary acls add --bootstrap-server 127.0.0.1:9092 --allow-principal User:bob --consumer --topic orders --group billing
  tributary acls add --bootstrap-server 127.0.0.1:9092 --deny-principal User:mallory --operation All --topic logs- --resource-pattern-type prefixed`}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	f := addACLFlags(cmd, "add")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		bindings, err := f.bindings("add")
		if err != nil {
			return err
		}
		req := kmsg.NewPtrCreateACLsRequest()
		for _, b := range bindings {
			c := kmsg.NewCreateACLsRequestCreation()
			c.ResourceType, _ = kmsg.ParseACLResourceType(b.ResourceType)
			c.ResourcePatternType, _ = kmsg.ParseACLResourcePatternType(b.PatternType)
			c.Operation, _ = kmsg.ParseACLOperation(b.Operation)
			c.PermissionType, _ = kmsg.ParseACLPermissionType(b.Permission)
			c.ResourceName, c.Principal, c.Host = b.ResourceName, b.Principal, b.Host
			req.Creations = append(req.Creations, c)
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()
		resp, err := req.RequestWith(ctx, adm.kgo)
		if err != nil {
			return conn.fail("add ACLs", err)
		}
		for i, r := range resp.Results {
			if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
				return fmt.Errorf("add ACL %s: %w", bindings[i].describe(), kafkaError(err, derefOr(r.ErrorMessage)))
			}
		}
		if *output == outputJSON {
			return writeJSON(cmd.OutOrStdout(), bindings)
		}
		writeKafkaACLs(cmd.OutOrStdout(), "Adding ACLs for resource", bindings)
		return nil
	}
	return cmd
}

func newACLsRemoveCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "remove [--allow-principal P | --deny-principal P]... [--operation OP]... (--topic T | --group G | --transactional-id ID | --cluster)...",
		Short: "Remove ACLs (every ACL of the resources unless principals or operations narrow it)", Args: noArgs,
		Example: `  tributary acls remove --bootstrap-server 127.0.0.1:9092 --allow-principal User:alice --operation Write --topic orders
  tributary acls remove --bootstrap-server 127.0.0.1:9092 --topic orders`}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	f := addACLFlags(cmd, "remove")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkPrincipals("allow-principal", f.allowPrincipals); err != nil {
			return err
		}
		if err := checkPrincipals("deny-principal", f.denyPrincipals); err != nil {
			return err
		}
		ops, err := parseOperations(f.operations)
		if err != nil {
			return err
		}
		resources := f.resources()
		if len(resources) == 0 {
			return usageErrorf("name a resource: --topic, --group, --transactional-id or --cluster")
		}
		req := kmsg.NewPtrDeleteACLsRequest()
		var filters []kmsg.DeleteACLsRequestFilter
		addFilter := func(principal, host *string, perm kmsg.ACLPermissionType) {
			opList := ops
			if len(opList) == 0 {
				opList = []kmsg.ACLOperation{kmsg.ACLOperationAny}
			}
			for _, r := range resources {
				for _, op := range opList {
					fl := kmsg.NewDeleteACLsRequestFilter()
					name := r.name
					fl.ResourceType, fl.ResourceName = r.typ, &name
					fl.ResourcePatternType = patternFilter(f.patternType)
					fl.Principal, fl.Host, fl.Operation, fl.PermissionType = principal, host, op, perm
					filters = append(filters, fl)
				}
			}
		}
		forEach := func(principals, hosts []string, perm kmsg.ACLPermissionType) {
			for _, p := range principals {
				p := p
				if len(hosts) == 0 {
					addFilter(&p, nil, perm)
				}
				for _, h := range hosts {
					h := h
					addFilter(&p, &h, perm)
				}
			}
		}
		forEach(f.allowPrincipals, f.allowHosts, kmsg.ACLPermissionTypeAllow)
		forEach(f.denyPrincipals, f.denyHosts, kmsg.ACLPermissionTypeDeny)
		if len(f.allowPrincipals)+len(f.denyPrincipals) == 0 {
			addFilter(nil, nil, kmsg.ACLPermissionTypeAny)
		}
		req.Filters = filters
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()
		resp, err := req.RequestWith(ctx, adm.kgo)
		if err != nil {
			return conn.fail("remove ACLs", err)
		}
		var removed []aclBinding
		for _, r := range resp.Results {
			if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
				return fmt.Errorf("remove ACLs: %w", kafkaError(err, derefOr(r.ErrorMessage)))
			}
			for _, m := range r.MatchingACLs {
				removed = append(removed, aclBinding{m.ResourceType.String(), m.ResourceName, m.ResourcePatternType.String(),
					m.Principal, m.Host, m.Operation.String(), m.PermissionType.String()})
			}
		}
		if *output == outputJSON {
			if removed == nil {
				removed = []aclBinding{}
			}
			return writeJSON(cmd.OutOrStdout(), removed)
		}
		if len(removed) == 0 {
			fmt.Fprintln(cmd.OutOrStdout(), "No ACLs matched: nothing removed.")
			return nil
		}
		writeKafkaACLs(cmd.OutOrStdout(), "Removed ACLs for resource", removed)
		return nil
	}
	return cmd
}

func patternFilter(v string) kmsg.ACLResourcePatternType {
	switch v {
	case "literal":
		return kmsg.ACLResourcePatternTypeLiteral
	case "prefixed":
		return kmsg.ACLResourcePatternTypePrefixed
	case "match":
		return kmsg.ACLResourcePatternTypeMatch
	}
	return kmsg.ACLResourcePatternTypeAny
}

func newACLsListCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "list [--topic T | --group G | --transactional-id ID | --cluster]... [--principal P]... [--resource-pattern-type literal|prefixed|match|any]",
		Short: "List ACLs (all of them, or those of the named resources and principals)", Args: noArgs,
		Example: `  tributary acls list --bootstrap-server 127.0.0.1:9092
  tributary acls list --bootstrap-server 127.0.0.1:9092 --topic orders --resource-pattern-type match
  tributary acls list --bootstrap-server 127.0.0.1:9092 --principal User:alice --output table`}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	f := addACLFlags(cmd, "list")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkPrincipals("principal", f.principals); err != nil {
			return err
		}
		var reqs []*kmsg.DescribeACLsRequest
		principals := f.principals
		if len(principals) == 0 {
			principals = []string{""}
		}
		resources := f.resources()
		if len(resources) == 0 {
			resources = []aclResource{{typ: kmsg.ACLResourceTypeAny}}
		}
		for _, r := range resources {
			for _, p := range principals {
				req := kmsg.NewPtrDescribeACLsRequest()
				req.ResourceType, req.ResourcePatternType = r.typ, patternFilter(f.patternType)
				if r.typ != kmsg.ACLResourceTypeAny {
					name := r.name
					req.ResourceName = &name
				}
				if p != "" {
					p := p
					req.Principal = &p
				}
				req.Operation, req.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
				reqs = append(reqs, req)
			}
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()
		seen := map[aclBinding]bool{}
		var all []aclBinding
		for _, req := range reqs {
			resp, err := req.RequestWith(ctx, adm.kgo)
			if err != nil {
				return conn.fail("list ACLs", err)
			}
			if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
				return fmt.Errorf("list ACLs: %w", kafkaError(err, derefOr(resp.ErrorMessage)))
			}
			for _, res := range resp.Resources {
				for _, a := range res.ACLs {
					b := aclBinding{res.ResourceType.String(), res.ResourceName, res.ResourcePatternType.String(),
						a.Principal, a.Host, a.Operation.String(), a.PermissionType.String()}
					if !seen[b] {
						seen[b] = true
						all = append(all, b)
					}
				}
			}
		}
		sort.SliceStable(all, func(i, j int) bool { return all[i].resource() < all[j].resource() })
		switch *output {
		case outputJSON:
			if all == nil {
				all = []aclBinding{}
			}
			return writeJSON(cmd.OutOrStdout(), all)
		case outputTable:
			var rows [][]string
			for _, b := range all {
				rows = append(rows, []string{b.ResourceType, b.ResourceName, b.PatternType, b.Principal, b.Host, b.Operation, b.Permission})
			}
			return writeTable(cmd.OutOrStdout(), []string{"RESOURCE_TYPE", "NAME", "PATTERN", "PRINCIPAL", "HOST", "OPERATION", "PERMISSION"}, rows)
		}
		writeKafkaACLs(cmd.OutOrStdout(), "Current ACLs for resource", all)
		return nil
	}
	return cmd
}

func (b aclBinding) resource() string {
	return fmt.Sprintf("ResourcePattern(resourceType=%s, name=%s, patternType=%s)", b.ResourceType, b.ResourceName, b.PatternType)
}

func (b aclBinding) describe() string {
	return fmt.Sprintf("(principal=%s, host=%s, operation=%s, permissionType=%s)", b.Principal, b.Host, b.Operation, b.Permission)
}

// writeKafkaACLs prints ACLs grouped by resource, as kafka-acls.sh does:
//
//	Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`:
//		(principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW)
func writeKafkaACLs(w io.Writer, heading string, bindings []aclBinding) {
	last := ""
	for _, b := range bindings {
		if r := b.resource(); r != last {
			if last != "" {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "%s `%s`:\n", heading, r)
			last = r
		}
		fmt.Fprintf(w, " \t%s\n", b.describe())
	}
}

func derefOr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
