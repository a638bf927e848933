package worker

// The connector config keys the runtime itself reads, with Kafka Connect's
// names, defaults and groups (ConnectorConfig, SinkConnectorConfig,
// SourceConnectorConfig), and the parsed form the runtime uses.

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/connect"
)

// Connector config keys the runtime reads.
const (
	keyName             = "name"
	keyConnectorClass   = "connector.class"
	keyTasksMax         = "tasks.max"
	keyKeyConverter     = "key.converter"
	keyValueConverter   = "value.converter"
	keyHeaderConverter  = "header.converter"
	keyTopics           = "topics"
	keyTopicsRegex      = "topics.regex"
	keyRetryTimeout     = "errors.retry.timeout"
	keyRetryDelayMax    = "errors.retry.delay.max.ms"
	keyTolerance        = "errors.tolerance"
	keyLogEnable        = "errors.log.enable"
	keyLogMessages      = "errors.log.include.messages"
	keyDLQTopic         = "errors.deadletterqueue.topic.name"
	keyDLQReplication   = "errors.deadletterqueue.topic.replication.factor"
	keyDLQHeaders       = "errors.deadletterqueue.context.headers.enable"
	keyExactlyOnce      = "exactly.once.support"
	keyTxnBoundary      = "transaction.boundary"
	keyTxnInterval      = "transaction.boundary.interval.ms"
	keyConfigReload     = "config.action.reload"
	keyTasksMaxEnforce  = "tasks.max.enforce"
	groupCommon         = "Common"
	groupTransforms     = "Transforms"
	groupPredicates     = "Predicates"
	groupErrors         = "Error Handling"
	groupExactlyOnce    = "Exactly Once Support"
	toleranceNone       = "none"
	toleranceAll        = "all"
	txnBoundaryPoll     = "poll"
	txnBoundaryInterval = "interval"
)

var nameRule = regexp.MustCompile(`^[^/\\?#%\x00-\x1f]+$`)

// commonConfig is the definition shared by every connector, plus the sink
// or source keys for kind.
func commonConfig(kind connect.PluginType) *connect.ConfigDef {
	order := 0
	next := func() int { order++; return order }
	d := connect.NewConfigDef().
		Define(connect.ConfigKey{Name: keyName, Required: true, Importance: connect.ImportanceHigh, Group: groupCommon, OrderInGroup: next(),
			Width: connect.WidthMedium, DisplayName: "Connector name", Documentation: "Globally unique name to use for this connector.",
			Validator: connect.ValidatorFunc("non-empty string without /, \\, ?, #, % or control characters", func(v any) error {
				if s := v.(string); !nameRule.MatchString(s) {
					return fmt.Errorf("a connector name must be non-empty and contain no /, \\, ?, #, %% or control characters")
				}
				return nil
			})}).
		Define(connect.ConfigKey{Name: keyConnectorClass, Required: true, Importance: connect.ImportanceHigh, Group: groupCommon, OrderInGroup: next(),
			Width: connect.WidthLong, DisplayName: "Connector class", Documentation: "Name or alias of the connector class, e.g. org.apache.kafka.connect.file.FileStreamSinkConnector or FileStreamSink."}).
		Define(connect.ConfigKey{Name: keyTasksMax, Type: connect.TypeInt, Default: "1", Importance: connect.ImportanceHigh, Group: groupCommon, OrderInGroup: next(),
			Width: connect.WidthShort, DisplayName: "Tasks max", Validator: connect.AtLeast(1), Documentation: "Maximum number of tasks to use for this connector."}).
		Define(connect.ConfigKey{Name: keyTasksMaxEnforce, Type: connect.TypeBoolean, Default: "true", Importance: connect.ImportanceLow, Group: groupCommon, OrderInGroup: next(),
			Width: connect.WidthShort, DisplayName: "Enforce tasks max", Documentation: "Fail the connector when it asks for more than tasks.max tasks."}).
		Define(connect.ConfigKey{Name: keyKeyConverter, Type: connect.TypeClass, Importance: connect.ImportanceLow, Group: groupCommon, OrderInGroup: next(),
			Width: connect.WidthShort, DisplayName: "Key converter class", Documentation: "Converter for record keys; default: the worker's key.converter."}).
		Define(connect.ConfigKey{Name: keyValueConverter, Type: connect.TypeClass, Importance: connect.ImportanceLow, Group: groupCommon, OrderInGroup: next(),
			Width: connect.WidthShort, DisplayName: "Value converter class", Documentation: "Converter for record values; default: the worker's value.converter."}).
		Define(connect.ConfigKey{Name: keyHeaderConverter, Type: connect.TypeClass, Importance: connect.ImportanceLow, Group: groupCommon, OrderInGroup: next(),
			Width: connect.WidthShort, DisplayName: "Header converter class", Documentation: "Converter for header values; default: the worker's header.converter."}).
		Define(connect.ConfigKey{Name: keyConfigReload, Default: "restart", Importance: connect.ImportanceLow, Group: groupCommon, OrderInGroup: next(),
			Width: connect.WidthMedium, DisplayName: "Reload action", Validator: connect.OneOf("none", "restart"),
			Documentation: "Accepted for compatibility; connectors are restarted when their config changes."}).
		Define(connect.ConfigKey{Name: connect.TransformsKey, Type: connect.TypeList, Importance: connect.ImportanceLow, Group: groupTransforms, OrderInGroup: 1,
			Width: connect.WidthLong, DisplayName: "Transforms", Documentation: "Aliases for the transformations to apply to records, in order."}).
		Define(connect.ConfigKey{Name: connect.PredicatesKey, Type: connect.TypeList, Importance: connect.ImportanceLow, Group: groupPredicates, OrderInGroup: 1,
			Width: connect.WidthLong, DisplayName: "Predicates", Documentation: "Aliases for the predicates used by transformations."})
	order = 0
	d.Define(connect.ConfigKey{Name: keyRetryTimeout, Type: connect.TypeLong, Default: "0", Importance: connect.ImportanceMedium, Group: groupErrors, OrderInGroup: next(),
		Width: connect.WidthMedium, DisplayName: "Retry Timeout for Errors", Validator: connect.AtLeast(-1),
		Documentation: "The maximum duration in milliseconds that a failed operation (conversion, transformation, produce) is reattempted. 0: no retries; -1: retry forever."}).
		Define(connect.ConfigKey{Name: keyRetryDelayMax, Type: connect.TypeLong, Default: "60000", Importance: connect.ImportanceMedium, Group: groupErrors, OrderInGroup: next(),
			Width: connect.WidthMedium, DisplayName: "Maximum Delay Between Retries for Errors", Validator: connect.AtLeast(1),
			Documentation: "The maximum duration in milliseconds between consecutive retry attempts (back-off doubles from 300 ms up to it)."}).
		Define(connect.ConfigKey{Name: keyTolerance, Default: toleranceNone, Importance: connect.ImportanceMedium, Group: groupErrors, OrderInGroup: next(),
			Width: connect.WidthShort, DisplayName: "Error Tolerance", Validator: connect.OneOf(toleranceNone, toleranceAll),
			Documentation: "none: a record that fails conversion or transformation fails the task; all: such records are skipped (and logged and dead-lettered as configured)."}).
		Define(connect.ConfigKey{Name: keyLogEnable, Type: connect.TypeBoolean, Default: "false", Importance: connect.ImportanceMedium, Group: groupErrors, OrderInGroup: next(),
			Width: connect.WidthShort, DisplayName: "Log Errors", Documentation: "Log each failed operation and its record's coordinates."}).
		Define(connect.ConfigKey{Name: keyLogMessages, Type: connect.TypeBoolean, Default: "false", Importance: connect.ImportanceMedium, Group: groupErrors, OrderInGroup: next(),
			Width: connect.WidthShort, DisplayName: "Log Error Details", Documentation: "Include the record's key, value and headers in error logs."})
	switch kind {
	case connect.PluginSink:
		d.Define(connect.ConfigKey{Name: keyTopics, Type: connect.TypeList, Importance: connect.ImportanceHigh, Group: groupCommon, OrderInGroup: 4,
			Width: connect.WidthLong, DisplayName: "Topics", Documentation: "List of topics to consume, separated by commas."}).
			Define(connect.ConfigKey{Name: keyTopicsRegex, Importance: connect.ImportanceHigh, Group: groupCommon, OrderInGroup: 4,
				Width: connect.WidthLong, DisplayName: "Topics regex", Documentation: "Regular expression giving topics to consume; use topics or topics.regex, not both.",
				Validator: connect.ValidatorFunc("a valid regular expression", func(v any) error {
					_, err := regexp.Compile(v.(string))
					return err
				})}).
			Define(connect.ConfigKey{Name: keyDLQTopic, Importance: connect.ImportanceMedium, Group: groupErrors, OrderInGroup: next(),
				Width: connect.WidthMedium, DisplayName: "Dead Letter Queue Topic Name",
				Documentation: "The topic that receives records that fail conversion, transformation or the sink's own checks; empty: none."}).
			Define(connect.ConfigKey{Name: keyDLQReplication, Type: connect.TypeShort, Default: "-1", Importance: connect.ImportanceMedium, Group: groupErrors, OrderInGroup: next(),
				Width: connect.WidthMedium, DisplayName: "Dead Letter Queue Topic Replication Factor",
				Documentation: "Replication factor of the dead-letter topic when it is created; -1: the broker's default (Kafka defaults to 3)."}).
			Define(connect.ConfigKey{Name: keyDLQHeaders, Type: connect.TypeBoolean, Default: "false", Importance: connect.ImportanceMedium, Group: groupErrors, OrderInGroup: next(),
				Width: connect.WidthMedium, DisplayName: "Enable Error Context Headers",
				Documentation: "Add __connect.errors.* headers naming the original topic, partition, offset, connector, task, stage and error to dead-lettered records."})
	case connect.PluginSource:
		d.Define(connect.ConfigKey{Name: keyExactlyOnce, Default: "requested", Importance: connect.ImportanceMedium, Group: groupExactlyOnce, OrderInGroup: 1,
			Width: connect.WidthShort, DisplayName: "Exactly once support", Validator: connect.OneOf("requested", "required"),
			Documentation: "required: refuse to run unless the worker has exactly.once.source.support=enabled; requested: exactly once when the worker has it."}).
			Define(connect.ConfigKey{Name: keyTxnBoundary, Default: txnBoundaryPoll, Importance: connect.ImportanceMedium, Group: groupExactlyOnce, OrderInGroup: 2,
				Width: connect.WidthShort, DisplayName: "Transaction Boundary", Validator: connect.OneOf(txnBoundaryPoll, txnBoundaryInterval),
				Documentation: "poll: one transaction per batch returned by poll; interval: one per transaction.boundary.interval.ms (connector-defined boundaries are not supported)."}).
			Define(connect.ConfigKey{Name: keyTxnInterval, Type: connect.TypeLong, Default: "", Importance: connect.ImportanceLow, Group: groupExactlyOnce, OrderInGroup: 3,
				Width: connect.WidthShort, DisplayName: "Transaction boundary interval", Validator: connect.AtLeast(0),
				Documentation: "With transaction.boundary=interval, how often transactions commit; default: offset.flush.interval.ms."})
	}
	return d
}

// connectorConfig is a validated connector config as the runtime uses it.
type connectorConfig struct {
	Name     string
	Plugin   connect.Plugin
	TasksMax int
	// EnforceTasksMax is tasks.max.enforce.
	EnforceTasksMax bool
	// KeyConverter, ValueConverter, HeaderConverter: class names, with
	// their configs (prefix stripped), the connector's or the worker's.
	KeyConverter, ValueConverter, HeaderConverter                   string
	KeyConverterConfig, ValueConverterConfig, HeaderConverterConfig map[string]string

	Errors errorConfig

	// Sink: Topics or TopicsRegex (exactly one is set).
	Topics      []string
	TopicsRegex string

	// Source, exactly-once: ExactlyOnceRequired, TransactionBoundary,
	// TransactionInterval (0: offset.flush.interval.ms).
	ExactlyOnceRequired bool
	TransactionBoundary string
	TransactionInterval time.Duration

	// Raw is the config as given, config provider references resolved;
	// secrets are what they resolved to (see mask).
	Raw     map[string]string
	secrets []secret
}

// errorConfig is the errors.* keys.
type errorConfig struct {
	TolerateAll        bool
	RetryTimeout       time.Duration // -1: forever
	RetryDelayMax      time.Duration
	LogEnable          bool
	LogIncludeMessages bool
	DLQTopic           string
	DLQReplication     int16
	DLQContextHeaders  bool
}

// validation is the outcome of validating a connector config: the parsed
// config when it is valid, and per key the definition, value and errors
// (what /config/validate reports).
type validation struct {
	Class  string
	Config *connectorConfig
	Keys   []validatedKey
	Groups []string
}

type validatedKey struct {
	Key    connect.ConfigKey
	Value  string
	Given  bool
	Errors []string
}

// ErrorCount returns the number of keys with errors.
func (v *validation) ErrorCount() int {
	n := 0
	for _, k := range v.Keys {
		if len(k.Errors) > 0 {
			n++
		}
	}
	return n
}

// Err returns nil or a *connect.ConfigError listing every problem.
func (v *validation) Err() error {
	var errs []error
	for _, k := range v.Keys {
		for _, msg := range k.Errors {
			errs = append(errs, connect.FieldError{Key: k.Key.Name, Message: msg})
		}
	}
	return connect.ConfigErrors(errs...)
}

// validateConnector checks a connector config: the runtime's keys, the
// connector's own (its Config and Validate), the converters, and every
// transformation and predicate of the chain. Config provider references
// are resolved first (config_providers.go); the result reports each key's
// value as given, never what a reference resolved to.
func (w *Config) validateConnector(given map[string]string) *validation {
	v := &validation{}
	errs := map[string][]string{}
	addErr := func(key, msg string) {
		if !slices.Contains(errs[key], msg) {
			errs[key] = append(errs[key], msg)
		}
	}
	raw, secrets, refErrs := w.resolveConfig(given)
	for k, msg := range refErrs {
		addErr(k, msg)
	}

	class := strings.TrimSpace(raw[keyConnectorClass])
	v.Class = class
	kind := connect.PluginType("")
	var plugin connect.Plugin
	var pluginDef *connect.ConfigDef
	var conn connect.Connector
	if class != "" {
		p, err := connect.FindPlugin(class, connect.PluginSource, connect.PluginSink)
		if err != nil {
			addErr(keyConnectorClass, err.Error())
		} else {
			plugin, kind, v.Class = p, p.Type, p.Class
			conn = p.New().(connect.Connector)
			pluginDef = conn.Config()
		}
	}
	def := commonConfig(kind)
	if pluginDef != nil {
		def = def.Merge(pluginDef)
	}
	parsed, err := def.Parse(raw)
	addFieldErrors(err, addErr)
	if conn != nil {
		addFieldErrors(conn.Validate(raw), addErr)
	}

	cc := &connectorConfig{Name: strings.TrimSpace(raw[keyName]), Plugin: plugin, Raw: raw}
	if parsed != nil {
		cc.TasksMax = parsed.Int(keyTasksMax)
		cc.EnforceTasksMax = parsed.Bool(keyTasksMaxEnforce)
		cc.Errors = errorConfig{
			TolerateAll:        strings.EqualFold(parsed.String(keyTolerance), toleranceAll),
			RetryTimeout:       parsed.Millis(keyRetryTimeout),
			RetryDelayMax:      parsed.Millis(keyRetryDelayMax),
			LogEnable:          parsed.Bool(keyLogEnable),
			LogIncludeMessages: parsed.Bool(keyLogMessages),
		}
		if parsed.Long(keyRetryTimeout) == -1 {
			cc.Errors.RetryTimeout = -1
		}
		switch kind {
		case connect.PluginSink:
			cc.Topics = parsed.List(keyTopics)
			cc.TopicsRegex = parsed.String(keyTopicsRegex)
			cc.Errors.DLQTopic = parsed.String(keyDLQTopic)
			cc.Errors.DLQReplication = int16(parsed.Int(keyDLQReplication))
			cc.Errors.DLQContextHeaders = parsed.Bool(keyDLQHeaders)
			switch {
			case len(cc.Topics) == 0 && cc.TopicsRegex == "":
				addErr(keyTopics, "must configure one of topics or topics.regex")
			case len(cc.Topics) > 0 && cc.TopicsRegex != "":
				addErr(keyTopics, "topics and topics.regex are mutually exclusive: set only one")
			}
			if cc.Errors.DLQTopic != "" && slices.Contains(cc.Topics, cc.Errors.DLQTopic) {
				addErr(keyDLQTopic, fmt.Sprintf("the dead letter queue topic %q may not be one of the topics the connector consumes", cc.Errors.DLQTopic))
			}
			if cc.Errors.DLQReplication == 0 || cc.Errors.DLQReplication < -1 {
				addErr(keyDLQReplication, "want a positive replication factor or -1 (the broker's default)")
			}
		case connect.PluginSource:
			cc.ExactlyOnceRequired = strings.EqualFold(parsed.String(keyExactlyOnce), "required")
			cc.TransactionBoundary = strings.ToLower(parsed.String(keyTxnBoundary))
			cc.TransactionInterval = parsed.Millis(keyTxnInterval)
			if cc.ExactlyOnceRequired && w.ExactlyOnceSourceSupport != "enabled" {
				addErr(keyExactlyOnce, "exactly.once.support=required needs a distributed worker with exactly.once.source.support=enabled")
			}
		}
	}

	// Client overrides, for the clients this connector uses.
	if kind != "" {
		for _, role := range clientRolesOf(kind == connect.PluginSink, strings.TrimSpace(raw[keyDLQTopic]) != "") {
			_, keyErrs := w.clientSettings(role, raw)
			for _, k := range sortedKeys(keyErrs) {
				for _, msg := range keyErrs[k] {
					addErr(k, msg)
				}
			}
		}
	}

	// Converters: the connector's, else the worker's.
	for _, c := range []struct {
		key       string
		class     *string
		config    *map[string]string
		def       string
		isHeader  bool
		workerKey string
	}{
		{keyKeyConverter, &cc.KeyConverter, &cc.KeyConverterConfig, w.KeyConverter, false, "key.converter"},
		{keyValueConverter, &cc.ValueConverter, &cc.ValueConverterConfig, w.ValueConverter, false, "value.converter"},
		{keyHeaderConverter, &cc.HeaderConverter, &cc.HeaderConverterConfig, w.HeaderConverter, true, "header.converter"},
	} {
		name := strings.TrimSpace(raw[c.key])
		source := raw
		if name == "" {
			name, source = c.def, w.ConverterConfig
		}
		*c.config = subConfig(source, c.key+".")
		if name == "" {
			continue
		}
		var err error
		if c.isHeader {
			var h connect.HeaderConverter
			var p connect.Plugin
			if h, p, err = connect.NewHeaderConverter(name); err == nil {
				*c.class = p.Class
				err = h.Configure(*c.config)
			}
		} else {
			var conv connect.Converter
			var p connect.Plugin
			if conv, p, err = connect.NewConverter(name); err == nil {
				*c.class = p.Class
				err = conv.Configure(*c.config, c.key == keyKeyConverter)
			}
		}
		if err != nil {
			key := c.key
			if raw[c.key] == "" {
				key = c.key + " (the worker's " + c.workerKey + ")"
			}
			addFieldErrors(prefixConfigError(c.key+".", err), func(k, msg string) {
				if k == "" || k == c.key+"." {
					k = key
				}
				addErr(k, msg)
			})
		}
	}

	// The transformation chain, with each plugin's keys reported under
	// their prefixed names.
	chainKeys := chainConfig(raw)
	if chain, err := connect.NewChain(raw); err != nil {
		addFieldErrors(err, addErr)
	} else {
		chain.Close()
	}

	// Every defined key, then chain keys, then keys with errors that no
	// definition covers.
	seen := map[string]bool{}
	add := func(k connect.ConfigKey) {
		if seen[k.Name] {
			return
		}
		seen[k.Name] = true
		val, isGiven := given[k.Name]
		if !isGiven && !k.Required {
			val = k.Default
		}
		if k.Type == connect.TypePassword && val != "" {
			val = "[hidden]"
		}
		v.Keys = append(v.Keys, validatedKey{Key: k, Value: val, Given: isGiven, Errors: errs[k.Name]})
	}
	for _, k := range def.Keys() {
		add(k)
	}
	for _, k := range chainKeys.Keys() {
		add(k)
	}
	var rest []string
	for k := range errs {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		typ := connect.TypeString
		if isSecretOverride(k) {
			typ = connect.TypePassword
		}
		add(connect.ConfigKey{Name: k, Type: typ, Importance: connect.ImportanceMedium, Width: connect.WidthNone, DisplayName: k})
	}
	v.Groups = def.Merge(chainKeys).Groups()
	if v.ErrorCount() == 0 {
		cc.secrets = secrets
		v.Config = cc
	}
	return v
}

// chainConfig defines the keys of the configured transformations and
// predicates, as Kafka's validate output lists them: transforms.<alias>.type
// and the plugin's keys under transforms.<alias>., grouped per alias.
func chainConfig(raw map[string]string) *connect.ConfigDef {
	d := connect.NewConfigDef()
	for _, kind := range []struct{ list, group string }{{connect.TransformsKey, groupTransforms}, {connect.PredicatesKey, groupPredicates}} {
		for i, alias := range splitList(raw[kind.list]) {
			prefix := kind.list + "." + alias + "."
			group := kind.group + ": " + alias
			if _, dup := d.Key(prefix + "type"); dup {
				continue
			}
			d.Define(connect.ConfigKey{Name: prefix + "type", Type: connect.TypeClass, Required: true, Importance: connect.ImportanceHigh,
				Group: group, OrderInGroup: i*100 + 1, Width: connect.WidthLong, DisplayName: "Type",
				Documentation: "Class name or alias of the " + strings.TrimSuffix(kind.list, "s") + "."})
			if kind.list == connect.TransformsKey {
				d.Define(connect.ConfigKey{Name: prefix + "predicate", Importance: connect.ImportanceMedium, Group: group, OrderInGroup: i*100 + 2,
					Width: connect.WidthLong, DisplayName: "Predicate", Documentation: "Alias of a predicate guarding the transformation."})
				d.Define(connect.ConfigKey{Name: prefix + "negate", Type: connect.TypeBoolean, Default: "false", Importance: connect.ImportanceMedium,
					Group: group, OrderInGroup: i*100 + 3, Width: connect.WidthShort, DisplayName: "Negate",
					Documentation: "Apply the transformation when the predicate does not match."})
			}
			types := []connect.PluginType{connect.PluginTransformation}
			if kind.list == connect.PredicatesKey {
				types = []connect.PluginType{connect.PluginPredicate}
			}
			p, err := connect.FindPlugin(raw[prefix+"type"], types...)
			if err != nil {
				continue
			}
			for j, k := range p.Config().Keys() {
				k.Name = prefix + k.Name
				k.Group = group
				k.OrderInGroup = i*100 + 10 + j
				if _, dup := d.Key(k.Name); !dup {
					d.Define(k)
				}
			}
		}
	}
	return d
}

func addFieldErrors(err error, add func(key, msg string)) {
	if err == nil {
		return
	}
	ce, ok := asConfigError(err)
	if !ok {
		add("", err.Error())
		return
	}
	for _, f := range ce.Errors {
		add(f.Key, f.Message)
	}
}

func asConfigError(err error) (*connect.ConfigError, bool) {
	var ce *connect.ConfigError
	if errors.As(err, &ce) {
		return ce, true
	}
	return nil, false
}

// prefixConfigError puts prefix in front of the keys of a plugin's config
// error (a converter's schemas.enable becomes value.converter.schemas.enable).
func prefixConfigError(prefix string, err error) error {
	ce, ok := asConfigError(err)
	if !ok {
		return err
	}
	out := &connect.ConfigError{}
	for _, f := range ce.Errors {
		f.Key = prefix + f.Key
		out.Errors = append(out.Errors, f)
	}
	return out
}

// subConfig returns the keys under prefix, stripped of it.
func subConfig(config map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range config {
		if rest, ok := strings.CutPrefix(k, prefix); ok && rest != "" {
			out[rest] = v
		}
	}
	return out
}
