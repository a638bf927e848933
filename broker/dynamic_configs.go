package broker

// Dynamic broker configs: the broker-level defaults for topic configs
// (log.retention.ms, log.segment.bytes, ...) can be changed at runtime with
// AlterConfigs / IncrementalAlterConfigs on the broker resource, as in
// Kafka, at two levels:
//
//   - the cluster-wide default (resource name ""), reported as
//     DYNAMIC_DEFAULT_BROKER_CONFIG, kept in <data-dir>/broker-configs.json;
//   - this broker's own values (resource name = node.id), reported as
//     DYNAMIC_BROKER_CONFIG, kept in <data-dir>/broker-node-configs.json.
//
// A broker's own value takes precedence over the cluster default, which
// takes precedence over the static configuration. Both files are re-applied
// on start. Other broker keys are read-only at runtime and answer
// INVALID_REQUEST naming the key.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-streams/tributary/broker/internal/metafile"
)

// dynamicBrokerKeys maps each updatable broker key to its topic config.
var dynamicBrokerKeys = func() map[string]string {
	m := map[string]string{}
	for _, d := range topicConfigDefs {
		m[d.synonym] = d.name
	}
	return m
}()

// dynamicConfigs are the two levels of dynamic broker configs, each
// mapping a broker key (log.retention.ms) to its value.
type dynamicConfigs struct {
	clusterDefault map[string]string // resource "": DYNAMIC_DEFAULT_BROKER_CONFIG
	node           map[string]string // resource node.id: DYNAMIC_BROKER_CONFIG
}

func (b *Broker) dynamicConfigFile(node bool) string {
	if node {
		return filepath.Join(b.cfg.DataDir, "broker-node-configs.json")
	}
	return filepath.Join(b.cfg.DataDir, "broker-configs.json")
}

// loadDynamicConfigs applies the stored dynamic broker configs.
func (b *Broker) loadDynamicConfigs() error {
	b.staticDefaults = map[string]string{}
	for k, v := range b.cfg.TopicDefaults {
		b.staticDefaults[k] = v
	}
	var d dynamicConfigs
	for _, node := range []bool{false, true} {
		m := map[string]string{}
		raw, err := metafile.Read(b.dynamicConfigFile(node))
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return fmt.Errorf("read dynamic broker configs: %w", err)
		default:
			if err := json.Unmarshal(raw, &m); err != nil {
				return fmt.Errorf("parse %s: %w", b.dynamicConfigFile(node), err)
			}
		}
		if node {
			d.node = m
		} else {
			d.clusterDefault = m
		}
	}
	b.dynamicConfigs = d
	b.topicDefaults.Store(b.mergeDefaults(d))
	return nil
}

// mergeDefaults layers the topic defaults: static, then the cluster-wide
// dynamic default, then this broker's own dynamic value.
func (b *Broker) mergeDefaults(d dynamicConfigs) *map[string]string {
	m := map[string]string{}
	for k, v := range b.staticDefaults {
		m[k] = v
	}
	for _, layer := range []map[string]string{d.clusterDefault, d.node} {
		for k, v := range layer {
			if name, ok := dynamicBrokerKeys[k]; ok {
				m[name] = v
			}
		}
	}
	return &m
}

// dynamic returns the dynamic broker configs. alterBrokerConfigs replaces
// the maps whole under topics.mu and never changes them afterwards, so
// callers read them without the lock once they have them.
func (b *Broker) dynamic() dynamicConfigs {
	b.topics.mu.RLock()
	defer b.topics.mu.RUnlock()
	return b.dynamicConfigs
}

// defaults returns the current broker-level topic defaults (read-only).
func (b *Broker) defaults() map[string]string { return *b.topicDefaults.Load() }

// alterBrokerConfigs replaces (replace=true) or updates the dynamic broker
// configs of one level: the cluster default (resourceName "") or this
// broker's own (resourceName = node.id). ops maps a broker key to its new
// value; a nil value deletes the key.
func (b *Broker) alterBrokerConfigs(resourceName string, ops map[string]*string, replace, validateOnly bool) error {
	if resourceName != "" && resourceName != strconv.Itoa(int(b.cfg.NodeID)) {
		return kerrWith(kerr.InvalidRequest, fmt.Sprintf("broker %q does not exist; accepted: \"\" (cluster default) or %d", resourceName, b.cfg.NodeID))
	}
	node := resourceName != ""
	for k, v := range ops {
		name, ok := dynamicBrokerKeys[k]
		if !ok {
			keys := make([]string, 0, len(dynamicBrokerKeys))
			for dk := range dynamicBrokerKeys {
				keys = append(keys, dk)
			}
			sort.Strings(keys)
			return kerrWith(kerr.InvalidRequest, fmt.Sprintf("broker config %q cannot be changed at runtime; dynamic keys: %v", k, keys))
		}
		if v != nil {
			if err := topicConfigByName[name].validate(*v); err != nil {
				return kerrWith(kerr.InvalidConfig, fmt.Sprintf("%s=%q: %v", k, *v, err))
			}
		}
	}
	if validateOnly {
		return nil
	}
	b.topics.mu.Lock()
	defer b.topics.mu.Unlock()
	current := b.dynamicConfigs.clusterDefault
	if node {
		current = b.dynamicConfigs.node
	}
	next := map[string]string{}
	if !replace {
		for k, v := range current {
			next[k] = v
		}
	}
	for k, v := range ops {
		if v == nil {
			delete(next, k)
		} else {
			next[k] = *v
		}
	}
	raw, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return err
	}
	if err := metafile.Write(b.dynamicConfigFile(node), raw, true); err != nil {
		return err
	}
	if node {
		b.dynamicConfigs.node = next
	} else {
		b.dynamicConfigs.clusterDefault = next
	}
	b.topicDefaults.Store(b.mergeDefaults(b.dynamicConfigs))
	// Every topic without its own override follows the new default.
	for _, t := range b.topics.byName {
		s := b.settingsOf(t, t.configs)
		t.settings.Store(&s)
		for _, p := range *t.partitions.Load() {
			if err := p.log.SetConfig(s.log); err != nil {
				return err
			}
		}
	}
	return nil
}
