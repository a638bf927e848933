package broker

// Dynamic broker configs: the broker-level defaults for topic configs
// (log.retention.ms, log.segment.bytes, ...) can be changed at runtime with
// AlterConfigs / IncrementalAlterConfigs on the broker resource, as in
// Kafka. Changes are kept in <data-dir>/broker-configs.json and re-applied
// on start, over the static configuration. Other broker keys are read-only
// at runtime and answer INVALID_REQUEST naming the key.

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

func (b *Broker) dynamicConfigFile() string {
	return filepath.Join(b.cfg.DataDir, "broker-configs.json")
}

// loadDynamicConfigs applies the stored dynamic broker configs.
func (b *Broker) loadDynamicConfigs() error {
	b.staticDefaults = map[string]string{}
	for k, v := range b.cfg.TopicDefaults {
		b.staticDefaults[k] = v
	}
	b.dynamicConfigs = map[string]string{}
	raw, err := metafile.Read(b.dynamicConfigFile())
	if errors.Is(err, os.ErrNotExist) {
		b.topicDefaults.Store(&b.staticDefaults)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read dynamic broker configs: %w", err)
	}
	if err := json.Unmarshal(raw, &b.dynamicConfigs); err != nil {
		return fmt.Errorf("parse %s: %w", b.dynamicConfigFile(), err)
	}
	b.topicDefaults.Store(b.mergeDefaults(b.dynamicConfigs))
	return nil
}

func (b *Broker) mergeDefaults(dynamic map[string]string) *map[string]string {
	m := map[string]string{}
	for k, v := range b.staticDefaults {
		m[k] = v
	}
	for k, v := range dynamic {
		if name, ok := dynamicBrokerKeys[k]; ok {
			m[name] = v
		}
	}
	return &m
}

// dynamic returns the dynamic broker configs. alterBrokerConfigs replaces
// the map whole under topics.mu and never changes it afterwards, so callers
// read it without the lock once they have it.
func (b *Broker) dynamic() map[string]string {
	b.topics.mu.RLock()
	defer b.topics.mu.RUnlock()
	return b.dynamicConfigs
}

// defaults returns the current broker-level topic defaults (read-only).
func (b *Broker) defaults() map[string]string { return *b.topicDefaults.Load() }

// alterBrokerConfigs replaces (incremental=false) or updates the dynamic
// broker configs. ops maps a broker key to its new value; a nil value
// deletes the key.
func (b *Broker) alterBrokerConfigs(resourceName string, ops map[string]*string, replace, validateOnly bool) error {
	if resourceName != "" && resourceName != strconv.Itoa(int(b.cfg.NodeID)) {
		return kerrWith(kerr.InvalidRequest, fmt.Sprintf("broker %q does not exist; accepted: \"\" (cluster default) or %d", resourceName, b.cfg.NodeID))
	}
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
	next := map[string]string{}
	if !replace {
		for k, v := range b.dynamicConfigs {
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
	if err := metafile.Write(b.dynamicConfigFile(), raw, true); err != nil {
		return err
	}
	b.dynamicConfigs = next
	b.topicDefaults.Store(b.mergeDefaults(next))
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
