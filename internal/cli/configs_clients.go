package cli

// configs for --entity-type users and clients: client quotas
// (producer_byte_rate, consumer_byte_rate, request_percentage,
// controller_mutation_rate) through Describe/AlterClientQuotas, and, for a
// user, SCRAM credentials through Describe/AlterUserScramCredentials, in
// kafka-configs.sh's forms:
//
//	tributary configs alter --entity-type users --entity-name alice --add-config 'SCRAM-SHA-256=[password=alice-secret]'
//	tributary configs alter --entity-type users --entity-name alice --add-config producer_byte_rate=1048576
//	tributary configs alter --user alice --client app --add-config consumer_byte_rate=2097152
//	tributary configs alter --entity-type clients --entity-default --add-config request_percentage=50
//	tributary configs alter --entity-type users --entity-name alice --delete-config SCRAM-SHA-512,producer_byte_rate
//	tributary configs describe --entity-type users --entity-name alice
//
// Passwords are salted by the client (kadm), so only salted passwords
// travel to the broker, as with kafka-configs.sh; no password is printed.

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
)

const (
	entityUsers   = "users"
	entityClients = "clients"
)

// Client quota keys and SCRAM mechanisms, as kafka-configs.sh names them.
var (
	quotaKeys      = []string{"consumer_byte_rate", "controller_mutation_rate", "producer_byte_rate", "request_percentage"}
	scramMechNames = []string{"SCRAM-SHA-256", "SCRAM-SHA-512"}
)

// clientEntityFlags are kafka-configs.sh's shorthands for users and
// clients: --user U, --client C, --user-defaults, --client-defaults.
type clientEntityFlags struct {
	user, client                 string
	userDefaults, clientDefaults bool
}

func addClientEntityFlags(fs *pflag.FlagSet) *clientEntityFlags {
	f := &clientEntityFlags{}
	fs.StringVar(&f.user, "user", "", "the user: short for --entity-type users --entity-name USER (with --client: that user's client)")
	fs.StringVar(&f.client, "client", "", "the client id: short for --entity-type clients --entity-name CLIENT")
	fs.BoolVar(&f.userDefaults, "user-defaults", false, "short for --entity-type users --entity-default")
	fs.BoolVar(&f.clientDefaults, "client-defaults", false, "short for --entity-type clients --entity-default")
	return f
}

// quotaPart is a user or client part of a quota entity: a name, or the
// default (name nil).
type quotaPart struct {
	name *string
}

func (p quotaPart) String() string {
	if p.name == nil {
		return "<default>"
	}
	return *p.name
}

// clientEntity is what a users/clients configs command acts on; a nil
// part is absent. With neither set, every entity of the kind is described.
type clientEntity struct {
	kind         string // users or clients: what was asked for
	user, client *quotaPart
}

// label names the entity as kafka-configs.sh does.
func (e clientEntity) label() string {
	var parts []string
	if e.user != nil {
		parts = append(parts, fmt.Sprintf("user-principal '%s'", e.user))
	}
	if e.client != nil {
		parts = append(parts, fmt.Sprintf("client-id '%s'", e.client))
	}
	return strings.Join(parts, ", ")
}

func (e clientEntity) components() kadm.ClientQuotaEntity {
	var out kadm.ClientQuotaEntity
	if e.user != nil {
		out = append(out, kadm.ClientQuotaEntityComponent{Type: "user", Name: e.user.name})
	}
	if e.client != nil {
		out = append(out, kadm.ClientQuotaEntityComponent{Type: "client-id", Name: e.client.name})
	}
	return out
}

// clientEntity resolves the flags when they name users or clients; ok is
// false when the command is about topics or brokers.
func (e *entityFlags) clientEntity(cmd *cobra.Command, nameRequired bool) (ce clientEntity, ok bool, err error) {
	fs := cmd.Flags()
	f := e.clients
	short := fs.Changed("user") || fs.Changed("client") || f.userDefaults || f.clientDefaults
	if !short && e.entityType != entityUsers && e.entityType != entityClients {
		return ce, false, nil
	}
	if short && (fs.Changed("entity-type") || fs.Changed("entity-name") || fs.Changed("entity-default") || fs.Changed("topic") || fs.Changed("broker") || e.brokerDefaults) {
		return ce, true, usageErrorf("--user, --client, --user-defaults and --client-defaults cannot be used with --entity-type, --entity-name, --entity-default, --topic, --broker or --broker-defaults")
	}
	part := func(name string, named, def bool, flag string) (*quotaPart, error) {
		switch {
		case named && def:
			return nil, usageErrorf("give either --%s or --%s-defaults, not both", flag, flag)
		case named:
			if strings.TrimSpace(name) == "" {
				return nil, usageErrorf("--%s must not be empty", flag)
			}
			return &quotaPart{name: &name}, nil
		case def:
			return &quotaPart{}, nil
		}
		return nil, nil
	}
	if short {
		if ce.user, err = part(f.user, fs.Changed("user"), f.userDefaults, "user"); err != nil {
			return ce, true, err
		}
		if ce.client, err = part(f.client, fs.Changed("client"), f.clientDefaults, "client"); err != nil {
			return ce, true, err
		}
		ce.kind = entityClients
		if ce.user != nil {
			ce.kind = entityUsers
		}
		return ce, true, nil
	}
	ce.kind = e.entityType
	if e.entityDefault && e.entityName != "" {
		return ce, true, usageErrorf("give either --entity-name or --entity-default, not both")
	}
	if fs.Changed("entity-name") && strings.TrimSpace(e.entityName) == "" {
		return ce, true, usageErrorf("the entity name must not be empty")
	}
	var p *quotaPart
	switch {
	case e.entityDefault:
		p = &quotaPart{}
	case e.entityName != "":
		name := e.entityName
		p = &quotaPart{name: &name}
	case nameRequired:
		return ce, true, usageErrorf("--entity-name or --entity-default is required with --alter of %s", e.entityType)
	}
	if e.entityType == entityUsers {
		ce.user = p
	} else {
		ce.client = p
	}
	return ce, true, nil
}

// clientConfigs is one entity's quotas and SCRAM credentials, as
// describe shows them.
type clientConfigs struct {
	User     *string            `json:"user,omitempty"`
	Client   *string            `json:"client_id,omitempty"`
	Default  []string           `json:"defaults,omitempty"` // "user", "client-id": the parts that are defaults
	Quotas   map[string]float64 `json:"quotas,omitempty"`
	SCRAM    map[string]int32   `json:"scram_iterations,omitempty"`
	entity   clientEntity
	hasQuota bool
}

func describeClientConfigs(cmd *cobra.Command, conn *connFlags, output string, ce clientEntity) error {
	adm, ctx, release, err := conn.openAdmin(cmd.Context())
	if err != nil {
		return err
	}
	defer release()
	var comps []kadm.DescribeClientQuotaComponent
	strict := false
	add := func(typ string, p *quotaPart) {
		switch {
		case p == nil:
		case p.name == nil:
			comps = append(comps, kadm.DescribeClientQuotaComponent{Type: typ, MatchType: 1})
		default:
			comps = append(comps, kadm.DescribeClientQuotaComponent{Type: typ, MatchName: p.name, MatchType: 0})
		}
	}
	add("user", ce.user)
	add("client-id", ce.client)
	switch {
	case len(comps) == 0: // every entity of the kind
		typ := "user"
		if ce.kind == entityClients {
			typ = "client-id"
		}
		comps = []kadm.DescribeClientQuotaComponent{{Type: typ, MatchType: 2}}
	default:
		strict = true
	}
	quotas, err := adm.DescribeClientQuotas(ctx, strict, comps)
	if err != nil {
		return conn.fail("describe client quotas", err)
	}
	byLabel := map[string]*clientConfigs{}
	var order []string
	get := func(e clientEntity) *clientConfigs {
		l := e.label()
		c := byLabel[l]
		if c == nil {
			c = &clientConfigs{entity: e}
			if e.user != nil {
				c.User = e.user.name
				if e.user.name == nil {
					c.Default = append(c.Default, "user")
				}
			}
			if e.client != nil {
				c.Client = e.client.name
				if e.client.name == nil {
					c.Default = append(c.Default, "client-id")
				}
			}
			byLabel[l] = c
			order = append(order, l)
		}
		return c
	}
	for _, q := range quotas {
		e := clientEntity{}
		for _, comp := range q.Entity {
			p := &quotaPart{name: comp.Name}
			if comp.Type == "user" {
				e.user = p
			} else {
				e.client = p
			}
		}
		if ce.kind == entityUsers && e.user == nil {
			continue // a clients-only quota, asked for users
		}
		c := get(e)
		c.hasQuota = true
		c.Quotas = map[string]float64{}
		for _, v := range q.Values {
			c.Quotas[v.Key] = v.Value
		}
	}
	if ce.kind == entityUsers && ce.client == nil && (ce.user == nil || ce.user.name != nil) {
		var names []string
		if ce.user != nil {
			names = []string{*ce.user.name}
		}
		scrams, err := adm.DescribeUserSCRAMs(ctx, names...)
		if err != nil && !isResourceNotFound(err) {
			return conn.fail("describe SCRAM credentials", err)
		}
		for _, s := range scrams {
			if s.Err != nil {
				if isResourceNotFound(s.Err) {
					continue
				}
				return fmt.Errorf("describe SCRAM credentials of %s: %w", s.User, kafkaError(s.Err, s.ErrMessage))
			}
			name := s.User
			c := get(clientEntity{user: &quotaPart{name: &name}})
			c.SCRAM = map[string]int32{}
			for _, ci := range s.CredInfos {
				c.SCRAM[ci.Mechanism.String()] = ci.Iterations
			}
		}
	}
	sort.Strings(order)
	results := make([]*clientConfigs, 0, len(order))
	for _, l := range order {
		results = append(results, byLabel[l])
	}
	switch output {
	case outputJSON:
		return writeJSON(cmd.OutOrStdout(), results)
	case outputTable:
		var rows [][]string
		for _, c := range results {
			for _, k := range sortedFloatKeys(c.Quotas) {
				rows = append(rows, []string{c.entity.label(), k, strconv.FormatFloat(c.Quotas[k], 'f', -1, 64)})
			}
			for _, m := range sortedIntKeys(c.SCRAM) {
				rows = append(rows, []string{c.entity.label(), m, fmt.Sprintf("iterations=%d", c.SCRAM[m])})
			}
		}
		return writeTable(cmd.OutOrStdout(), []string{"ENTITY", "CONFIG", "VALUE"}, rows)
	}
	writeKafkaClientConfigs(cmd.OutOrStdout(), results)
	return nil
}

// writeKafkaClientConfigs prints kafka-configs.sh's describe lines:
//
//	Quota configs for user-principal 'alice' are producer_byte_rate=1024.0
//	SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=4096
func writeKafkaClientConfigs(w io.Writer, results []*clientConfigs) {
	for _, c := range results {
		if c.hasQuota {
			var kv []string
			for _, k := range sortedFloatKeys(c.Quotas) {
				kv = append(kv, fmt.Sprintf("%s=%s", k, strconv.FormatFloat(c.Quotas[k], 'f', 1, 64)))
			}
			fmt.Fprintf(w, "Quota configs for %s are %s\n", c.entity.label(), strings.Join(kv, ", "))
		}
		if len(c.SCRAM) > 0 {
			var kv []string
			for _, m := range sortedIntKeys(c.SCRAM) {
				kv = append(kv, fmt.Sprintf("%s=iterations=%d", m, c.SCRAM[m]))
			}
			fmt.Fprintf(w, "SCRAM credential configs for %s are %s\n", c.entity.label(), strings.Join(kv, ", "))
		}
	}
}

func sortedFloatKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedIntKeys(m map[string]int32) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// scramChange is one SCRAM credential to set (password) or delete.
type scramChange struct {
	mechanism  string
	password   string
	iterations int32
	delete     bool
}

// parseSCRAMValue reads kafka-configs.sh's SCRAM value, the inside of
// [iterations=8192,password=alice-secret] (iterations optional, 4096).
func parseSCRAMValue(mech, v string) (scramChange, error) {
	c := scramChange{mechanism: mech, iterations: 4096}
	for _, kv := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		switch {
		case !ok:
			return c, usageErrorf("--add-config %s=[...]: %q is not key=value; want %s=[password=SECRET] or %s=[iterations=8192,password=SECRET]", mech, k, mech, mech)
		case k == "password":
			c.password = val
		case k == "iterations":
			n, err := strconv.Atoi(val)
			if err != nil || n < 4096 || n > 16384 {
				return c, usageErrorf("--add-config %s=[...]: iterations must be 4096..16384, got %q", mech, val)
			}
			c.iterations = int32(n)
		default:
			return c, usageErrorf("--add-config %s=[...]: key %q: accepted password and iterations", mech, k)
		}
	}
	if c.password == "" {
		return c, usageErrorf("--add-config %s=[...] needs password=SECRET", mech)
	}
	return c, nil
}

// applySCRAM sets and deletes one user's SCRAM credentials.
func applySCRAM(ctx context.Context, adm *adminClient, user string, changes []scramChange) error {
	var dels []kadm.DeleteSCRAM
	var ups []kadm.UpsertSCRAM
	for _, c := range changes {
		mech := kadm.ScramSha256
		if c.mechanism == "SCRAM-SHA-512" {
			mech = kadm.ScramSha512
		}
		if c.delete {
			dels = append(dels, kadm.DeleteSCRAM{User: user, Mechanism: mech})
		} else {
			ups = append(ups, kadm.UpsertSCRAM{User: user, Mechanism: mech, Iterations: c.iterations, Password: c.password})
		}
	}
	resp, err := adm.AlterUserSCRAMs(ctx, dels, ups)
	if err != nil {
		return err
	}
	for _, r := range resp {
		if r.Err != nil {
			return fmt.Errorf("user %s: %w", r.User, kafkaError(r.Err, r.ErrMessage))
		}
	}
	return nil
}

func isResourceNotFound(err error) bool {
	return err != nil && strings.Contains(err.Error(), "RESOURCE_NOT_FOUND")
}

// alterClientConfigs sets and deletes quotas and (for a named user) SCRAM
// credentials.
func alterClientConfigs(cmd *cobra.Command, conn *connFlags, output string, ce clientEntity, set map[string]string, setOrder, del []string) error {
	var ops []kadm.AlterClientQuotaOp
	var scram []scramChange
	accepted := strings.Join(append(append([]string{}, quotaKeys...), scramMechNames...), ", ")
	scramOK := ce.user != nil && ce.user.name != nil && ce.client == nil
	for _, k := range setOrder {
		v := set[k]
		switch {
		case slices.Contains(scramMechNames, k):
			if !scramOK {
				return usageErrorf("--add-config %s: SCRAM credentials belong to a named user alone (--entity-type users --entity-name USER)", k)
			}
			c, err := parseSCRAMValue(k, v)
			if err != nil {
				return err
			}
			scram = append(scram, c)
		case slices.Contains(quotaKeys, k):
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f <= 0 {
				return usageErrorf("--add-config %s=%q: want a number above 0", k, v)
			}
			ops = append(ops, kadm.AlterClientQuotaOp{Key: k, Value: f})
		default:
			return usageErrorf("--add-config %q: not a config of %s; accepted %s", k, ce.kind, accepted)
		}
	}
	for _, k := range del {
		switch {
		case slices.Contains(scramMechNames, k):
			if !scramOK {
				return usageErrorf("--delete-config %s: SCRAM credentials belong to a named user alone", k)
			}
			scram = append(scram, scramChange{mechanism: k, delete: true})
		case slices.Contains(quotaKeys, k):
			ops = append(ops, kadm.AlterClientQuotaOp{Key: k, Remove: true})
		default:
			return usageErrorf("--delete-config %q: not a config of %s; accepted %s", k, ce.kind, accepted)
		}
	}
	if ce.user == nil && ce.client == nil {
		return usageErrorf("name the entity: --entity-name or --entity-default")
	}
	adm, ctx, release, err := conn.openAdmin(cmd.Context())
	if err != nil {
		return err
	}
	defer release()
	label := ce.label()
	if len(ops) > 0 {
		resp, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{Entity: ce.components(), Ops: ops}})
		if err != nil {
			return conn.fail("alter client quotas of "+label, err)
		}
		for _, r := range resp {
			if r.Err != nil {
				return fmt.Errorf("alter client quotas of %s: %w", label, kafkaError(r.Err, r.ErrMessage))
			}
		}
	}
	if len(scram) > 0 {
		if err := applySCRAM(ctx, adm, *ce.user.name, scram); err != nil {
			return conn.fail("alter SCRAM credentials of "+label, err)
		}
	}
	shown := map[string]string{}
	for k, v := range set {
		if slices.Contains(scramMechNames, k) {
			v = "(hidden)"
		}
		shown[k] = v
	}
	return writeResult(cmd.OutOrStdout(), output, map[string]any{
		"entity":  label,
		"set":     shown,
		"deleted": append([]string{}, del...),
	}, fmt.Sprintf("Completed updating config for %s.\n", label))
}
