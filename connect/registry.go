package connect

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// PluginType is a kind of plugin, spelled as Kafka's REST API spells it.
type PluginType string

// The plugin types.
const (
	PluginSource          PluginType = "source"
	PluginSink            PluginType = "sink"
	PluginConverter       PluginType = "converter"
	PluginHeaderConverter PluginType = "header_converter"
	PluginTransformation  PluginType = "transformation"
	PluginPredicate       PluginType = "predicate"
)

// PluginInfo describes a plugin for registration.
type PluginInfo struct {
	// Class is the plugin's full class name. Kafka's own plugins keep
	// Kafka's names (org.apache.kafka.connect.file.FileStreamSourceConnector,
	// org.apache.kafka.connect.transforms.InsertField$Value) so that
	// existing configs run unchanged.
	Class string
	// Aliases are extra short names (e.g. "mysql-cdc"). The registry also
	// accepts, as Kafka does, the simple name (the part after the last
	// '.') and, for connectors, the simple name without a "Connector"
	// suffix (FileStreamSource), and for converters without "Converter".
	Aliases []string
	// Version is reported by the REST API. Default: Version.
	Version string
	// Doc says in a sentence what the plugin does.
	Doc string
}

// Version is the version reported for plugins that do not set one.
const Version = "0.1.0"

// Plugin is a registered plugin.
type Plugin struct {
	PluginInfo
	// Type is the plugin's kind.
	Type PluginType
	// Names are every name the plugin answers to: Class first, then the
	// aliases (derived and given).
	Names []string

	new func() any
}

// New returns a fresh, unconfigured instance: a SourceConnector,
// SinkConnector, Converter, HeaderConverter, Transformation or Predicate
// according to Type.
func (p Plugin) New() any { return p.new() }

// Config returns the config definition of a fresh instance.
func (p Plugin) Config() *ConfigDef {
	if c, ok := p.new().(interface{ Config() *ConfigDef }); ok {
		if d := c.Config(); d != nil {
			return d
		}
	}
	return NewConfigDef()
}

type registry struct {
	mu      sync.RWMutex
	plugins []Plugin
}

var plugins registry

// RegisterSource registers a source connector. Call it from an init
// function. Registering a class twice panics.
func RegisterSource(info PluginInfo, newConnector func() SourceConnector) {
	plugins.add(info, PluginSource, func() any { return newConnector() })
}

// RegisterSink registers a sink connector.
func RegisterSink(info PluginInfo, newConnector func() SinkConnector) {
	plugins.add(info, PluginSink, func() any { return newConnector() })
}

// RegisterConverter registers a key/value converter.
func RegisterConverter(info PluginInfo, newConverter func() Converter) {
	plugins.add(info, PluginConverter, func() any { return newConverter() })
}

// RegisterHeaderConverter registers a header converter.
func RegisterHeaderConverter(info PluginInfo, newConverter func() HeaderConverter) {
	plugins.add(info, PluginHeaderConverter, func() any { return newConverter() })
}

// RegisterTransformation registers a single message transform.
func RegisterTransformation(info PluginInfo, newTransformation func() Transformation) {
	plugins.add(info, PluginTransformation, func() any { return newTransformation() })
}

// RegisterPredicate registers a transformation predicate.
func RegisterPredicate(info PluginInfo, newPredicate func() Predicate) {
	plugins.add(info, PluginPredicate, func() any { return newPredicate() })
}

// names derives the names a plugin answers to.
func names(info PluginInfo, t PluginType) []string {
	out := []string{info.Class}
	add := func(n string) {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	simple := info.Class[strings.LastIndexByte(info.Class, '.')+1:]
	add(simple)
	switch t {
	case PluginSource, PluginSink:
		add(strings.TrimSuffix(simple, "Connector"))
	case PluginConverter, PluginHeaderConverter:
		add(strings.TrimSuffix(simple, "Converter"))
	}
	for _, a := range info.Aliases {
		add(a)
	}
	return out
}

func (r *registry) add(info PluginInfo, t PluginType, newFn func() any) {
	if info.Class == "" {
		panic("connect: plugin registered without a class name")
	}
	if info.Version == "" {
		info.Version = Version
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.plugins {
		if p.Class == info.Class && p.Type == t {
			panic(fmt.Sprintf("connect: %s plugin %s registered twice", t, info.Class))
		}
	}
	r.plugins = append(r.plugins, Plugin{PluginInfo: info, Type: t, Names: names(info, t), new: newFn})
}

// Plugins returns the registered plugins of the given types (all when none
// is given), sorted by class name.
func Plugins(types ...PluginType) []Plugin {
	plugins.mu.RLock()
	defer plugins.mu.RUnlock()
	var out []Plugin
	for _, p := range plugins.plugins {
		if len(types) == 0 || slices.Contains(types, p.Type) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Plugin) int {
		if c := strings.Compare(a.Class, b.Class); c != 0 {
			return c
		}
		return strings.Compare(string(a.Type), string(b.Type))
	})
	return out
}

// FindPlugin returns the plugin of one of the given types that answers to
// name: its class name, else a unique alias, else a unique
// case-insensitive match. The error wraps ErrUnknownPlugin and lists what
// is installed, or names the candidates of an ambiguous alias.
func FindPlugin(name string, types ...PluginType) (Plugin, error) {
	candidates := Plugins(types...)
	name = strings.TrimSpace(name)
	for _, p := range candidates {
		if p.Class == name {
			return p, nil
		}
	}
	for _, fold := range []bool{false, true} {
		var found []Plugin
		for _, p := range candidates {
			for _, n := range p.Names {
				if n == name || fold && strings.EqualFold(n, name) {
					found = append(found, p)
					break
				}
			}
		}
		if len(found) == 1 {
			return found[0], nil
		}
		if len(found) > 1 {
			classes := make([]string, len(found))
			for i, p := range found {
				classes[i] = p.Class
			}
			return Plugin{}, fmt.Errorf("%w: %q is ambiguous, use one of the class names %s",
				ErrUnknownPlugin, name, strings.Join(classes, ", "))
		}
	}
	kind := "plugin"
	if len(types) > 0 {
		kind = kindName(types[0])
	}
	installed := make([]string, len(candidates))
	for i, p := range candidates {
		if short := shortest(p.Names); short != p.Class {
			installed[i] = short + " (" + p.Class + ")"
		} else {
			installed[i] = p.Class
		}
	}
	if len(installed) == 0 {
		installed = []string{"none"}
	}
	return Plugin{}, fmt.Errorf("%w: no %s is called %q; installed: %s", ErrUnknownPlugin, kind, name, strings.Join(installed, ", "))
}

func kindName(t PluginType) string {
	switch t {
	case PluginSource, PluginSink:
		return "connector"
	case PluginHeaderConverter:
		return "header converter"
	}
	return string(t)
}

func shortest(names []string) string {
	s := names[0]
	for _, n := range names[1:] {
		if len(n) < len(s) {
			s = n
		}
	}
	return s
}

// NewConnector returns a fresh source or sink connector by class name or
// alias.
func NewConnector(name string) (Connector, Plugin, error) {
	p, err := FindPlugin(name, PluginSource, PluginSink)
	if err != nil {
		return nil, Plugin{}, err
	}
	return p.new().(Connector), p, nil
}

// NewConverter returns a fresh, unconfigured converter.
func NewConverter(name string) (Converter, Plugin, error) {
	p, err := FindPlugin(name, PluginConverter)
	if err != nil {
		return nil, Plugin{}, err
	}
	return p.new().(Converter), p, nil
}

// NewHeaderConverter returns a fresh, unconfigured header converter.
func NewHeaderConverter(name string) (HeaderConverter, Plugin, error) {
	p, err := FindPlugin(name, PluginHeaderConverter)
	if err != nil {
		return nil, Plugin{}, err
	}
	return p.new().(HeaderConverter), p, nil
}

// NewTransformation returns a fresh, unconfigured transformation.
func NewTransformation(name string) (Transformation, Plugin, error) {
	p, err := FindPlugin(name, PluginTransformation)
	if err != nil {
		return nil, Plugin{}, err
	}
	return p.new().(Transformation), p, nil
}

// NewPredicate returns a fresh, unconfigured predicate.
func NewPredicate(name string) (Predicate, Plugin, error) {
	p, err := FindPlugin(name, PluginPredicate)
	if err != nil {
		return nil, Plugin{}, err
	}
	return p.new().(Predicate), p, nil
}
