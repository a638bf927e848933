package mirror

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/tributary-streams/tributary/internal/properties"
)

// LoadConfig reads an mm2.properties file. It fails only when the file
// cannot be read or a line is not key=value; problems with keys and values
// are kept in the Config and reported, with their line, by Validate.
//
// Keys are read as MirrorMaker 2 reads them:
//
//	clusters = A, B                      the aliases
//	A.bootstrap.servers = host:9092      per-cluster client properties,
//	A.consumer.fetch.max.bytes = ...     also A.producer.*, A.admin.*
//	topics = .*                          top-level flow settings
//	A->B.enabled = true                  a flow, and its own settings,
//	A->B.topics = orders.*               which win over the top-level ones
//
// A key Tributary does not implement but MM2 or the Kafka clients know is
// accepted and named in Config.Warnings, so existing files keep working; so
// is a key nobody knows, unless it is one or two letters away from a known
// key, which is an error suggesting that key (a typo must not silently
// fall back to a default).
func LoadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("mirror config: %w", err)
	}
	defer f.Close()
	return ParseConfig(f, path)
}

// ParseConfig is LoadConfig for text already open; name prefixes messages.
func ParseConfig(r io.Reader, name string) (Config, error) {
	props, err := properties.Parse(r)
	if err != nil {
		return Config{}, fmt.Errorf("mirror config %s: %w", name, err)
	}
	p := parser{name: name, cfg: Defaults(), flows: map[string]*flowKeys{}}
	p.read(props)
	return p.cfg, nil
}

// flowKeys are the `A->B.*` lines of one flow, applied after the top-level
// ones whatever their order in the file.
type flowKeys struct {
	source, target string
	lines          []properties.Property // key without the "A->B." prefix
}

type parser struct {
	name  string
	cfg   Config
	flows map[string]*flowKeys
	order []string
	// eosTargets are clusters with `<alias>.exactly.once.source.support`.
	eosTargets []properties.Property
}

func (p *parser) problem(line int, err error) {
	p.cfg.problems = append(p.cfg.problems, fmt.Errorf("%s:%d: %w", p.name, line, err))
}

func (p *parser) flowProblem(flow string, line int, err error) {
	p.cfg.problems = append(p.cfg.problems, &FlowError{Flow: flow, Err: fmt.Errorf("%s:%d: %w", p.name, line, err)})
}

func (p *parser) warn(line int, format string, args ...any) {
	p.cfg.Warnings = append(p.cfg.Warnings, fmt.Sprintf("%s:%d: ", p.name, line)+fmt.Sprintf(format, args...))
}

func (p *parser) read(props []properties.Property) {
	for _, prop := range props {
		if prop.Key == "clusters" {
			p.cfg.Clusters = splitList(prop.Value)
		}
	}
	for _, alias := range p.cfg.Clusters {
		p.cfg.Cluster[alias] = Cluster{Client: map[string]string{}, Consumer: map[string]string{},
			Producer: map[string]string{}, Admin: map[string]string{}}
	}
	topClient := map[string]string{}
	for _, prop := range props {
		switch k := prop.Key; {
		case k == "clusters":
		case strings.Contains(k, "->"):
			p.flowKey(prop)
		case p.isClusterKey(k):
			p.clusterKey(prop)
		default:
			if st, ok := settingByKey(k); ok {
				if err := st.set(&p.cfg.Settings, prop.Value); err != nil {
					p.problem(prop.Line, fmt.Errorf("%s=%q: %w", k, prop.Value, err))
				}
				continue
			}
			if isClientProperty(k) {
				topClient[k] = prop.Value
				continue
			}
			if isIgnoredClientKey(k) {
				p.warn(prop.Line, "%s: Kafka client property not used by tributary mirror; ignored", k)
				continue
			}
			p.unknownKey(prop)
		}
	}
	// Top-level client properties apply to every cluster unless the
	// cluster sets its own.
	for alias, cl := range p.cfg.Cluster {
		for k, v := range topClient {
			if _, own := cl.Client[k]; !own {
				cl.Client[k] = v
			}
		}
		p.cfg.Cluster[alias] = cl
	}
	for _, name := range p.order {
		p.cfg.Flows = append(p.cfg.Flows, p.buildFlow(p.flows[name]))
	}
}

func (p *parser) isClusterKey(key string) bool {
	alias, _, ok := strings.Cut(key, ".")
	return ok && slices.Contains(p.cfg.Clusters, alias)
}

func (p *parser) flowKey(prop properties.Property) {
	source, rest, _ := strings.Cut(prop.Key, "->")
	target, key, ok := strings.Cut(rest, ".")
	name := source + "->" + target
	if !ok || source == "" || target == "" || key == "" {
		p.problem(prop.Line, fmt.Errorf("%q: a flow key is SOURCE->TARGET.key, e.g. A->B.enabled", prop.Key))
		return
	}
	fk, seen := p.flows[name]
	if !seen {
		fk = &flowKeys{source: source, target: target}
		p.flows[name] = fk
		p.order = append(p.order, name)
	}
	fk.lines = append(fk.lines, properties.Property{Key: key, Value: prop.Value, Line: prop.Line})
}

func (p *parser) buildFlow(fk *flowKeys) Flow {
	f := Flow{Source: fk.source, Target: fk.target, FlowSettings: p.cfg.Settings}
	// Slices are shared with the top-level settings until overridden;
	// setters replace them, never append.
	for _, e := range p.eosTargets {
		alias, _, _ := strings.Cut(e.Key, ".")
		if alias == fk.target {
			st, _ := settingByKey("exactly.once.source.support")
			if err := st.set(&f.FlowSettings, e.Value); err != nil {
				p.flowProblem(f.Name(), e.Line, fmt.Errorf("%s=%q: %w", e.Key, e.Value, err))
			}
		}
	}
	for _, line := range fk.lines {
		st, ok := settingByKey(line.Key)
		if !ok {
			full := properties.Property{Key: f.Name() + "." + line.Key, Value: line.Value, Line: line.Line}
			if s := suggest(line.Key, flowKeyNames()); s != "" {
				p.flowProblem(f.Name(), line.Line, fmt.Errorf("unknown key %q: did you mean %s.%s?", full.Key, f.Name(), s))
			} else if p.knownElsewhere(line.Key) {
				p.warn(line.Line, "%s: %s is not a per-flow setting; ignored", full.Key, line.Key)
			} else {
				p.warn(line.Line, "%s: unknown key; ignored", full.Key)
			}
			continue
		}
		if err := st.set(&f.FlowSettings, line.Value); err != nil {
			p.flowProblem(f.Name(), line.Line, fmt.Errorf("%s.%s=%q: %w", f.Name(), line.Key, line.Value, err))
		}
	}
	return f
}

// clusterKey reads `<alias>.<key>`.
func (p *parser) clusterKey(prop properties.Property) {
	alias, key, _ := strings.Cut(prop.Key, ".")
	cl := p.cfg.Cluster[alias]
	switch {
	case key == "bootstrap.servers":
		cl.BootstrapServers = splitList(prop.Value)
	case key == "exactly.once.source.support":
		p.eosTargets = append(p.eosTargets, prop)
	case strings.HasPrefix(key, "consumer."), strings.HasPrefix(key, "producer."), strings.HasPrefix(key, "admin."):
		kind, k, _ := strings.Cut(key, ".")
		if p.clientKey(properties.Property{Key: k, Value: prop.Value, Line: prop.Line}, alias+"."+kind+".") {
			map[string]map[string]string{"consumer": cl.Consumer, "producer": cl.Producer, "admin": cl.Admin}[kind][k] = prop.Value
		}
	case slices.Contains(ignoredMM2Keys, key):
		p.warn(prop.Line, "%s: MirrorMaker 2 key not used by tributary mirror; ignored", prop.Key)
	default:
		if p.clientKey(properties.Property{Key: key, Value: prop.Value, Line: prop.Line}, alias+".") {
			cl.Client[key] = prop.Value
		}
	}
	p.cfg.Cluster[alias] = cl
}

// clientKey classifies a Kafka client property (prefix is how it was
// written, for messages). It reports whether the property is honoured.
func (p *parser) clientKey(prop properties.Property, prefix string) bool {
	if isClientProperty(prop.Key) {
		return true
	}
	if isIgnoredClientKey(prop.Key) {
		p.warn(prop.Line, "%s%s: Kafka client property not used by tributary mirror; ignored", prefix, prop.Key)
		return false
	}
	if s := suggest(prop.Key, clientKeyNames()); s != "" {
		p.problem(prop.Line, fmt.Errorf("unknown client property %q: did you mean %s%s?", prefix+prop.Key, prefix, s))
		return false
	}
	p.warn(prop.Line, "%s%s: unknown client property; ignored", prefix, prop.Key)
	return false
}

// unknownKey handles a top-level key that is neither a flow setting nor a
// client property.
func (p *parser) unknownKey(prop properties.Property) {
	k := prop.Key
	if slices.Contains(ignoredMM2Keys, k) {
		p.warn(prop.Line, "%s: MirrorMaker 2 key not used by tributary mirror; ignored", k)
		return
	}
	if alias, rest, ok := strings.Cut(k, "."); ok && rest == "bootstrap.servers" {
		p.warn(prop.Line, "%s: cluster %q is not listed in clusters (%s); ignored", k, alias, strings.Join(p.cfg.Clusters, ", "))
		return
	}
	if s := suggest(k, append(append(flowKeyNames(), clientKeyNames()...), "clusters")); s != "" {
		p.problem(prop.Line, fmt.Errorf("unknown key %q: did you mean %s?", k, s))
		return
	}
	p.warn(prop.Line, "%s: unknown key; ignored", k)
}

func (p *parser) knownElsewhere(key string) bool {
	return isClientProperty(key) || isIgnoredClientKey(key) || slices.Contains(ignoredMM2Keys, key)
}

func flowKeyNames() []string {
	var out []string
	for _, s := range flowSettings {
		out = append(out, s.key)
		if s.alias != "" {
			out = append(out, s.alias)
		}
	}
	return append(out, ignoredMM2Keys...)
}

func clientKeyNames() []string {
	return append(clientPropertyKeys(), ignoredClientKeys...)
}

// suggest returns the known key that key is probably a typo of: one edit
// away, or two for keys of 8 letters or more. "" if none.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if k == key {
			return ""
		}
		d := editDistance(key, k)
		limit := 1
		if len(key) >= 8 {
			limit = 2
		}
		if d <= limit && d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
