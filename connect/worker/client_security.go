package worker

// The security of the worker's Kafka clients: security.protocol, sasl.*
// and ssl.* worker keys, read by the builder every client in Tributary
// shares (internal/kafkaclient). The unprefixed keys configure every
// client; producer.<key> (source tasks), consumer.<key> (sink tasks) and
// admin.<key> (topic creation, REST operations) override them for those
// clients. Kafka Connect applies the unprefixed keys to the worker's own
// clients only and makes the producer.* and consumer.* ones be repeated;
// here they inherit, which is what a worker file written for Kafka (both
// sets given) and one written by hand (one set) both expect.

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/kafkaclient"
)

// clientRole is which of the worker's clients a setting is for.
type clientRole string

const (
	roleWorker   clientRole = ""          // group membership, internal topics
	roleProducer clientRole = "producer." // source tasks
	roleConsumer clientRole = "consumer." // sink tasks
	roleAdmin    clientRole = "admin."    // topic creation, REST operations
)

// setSecurity stores a security key, unprefixed or for one role; handled
// is false when key is not one.
func (c *Config) setSecurity(key, value string) (handled bool, err error) {
	role, bare, ok := splitRole(key)
	if !ok {
		return false, nil
	}
	var probe kafkaclient.Security
	if err := probe.Set(bare, value); err != nil {
		if role != roleWorker {
			return true, fmt.Errorf("%s%w", role, err)
		}
		return true, err
	}
	if c.ClientSecurity == nil {
		c.ClientSecurity = map[string]string{}
	}
	c.ClientSecurity[key] = value
	return true, nil
}

// splitRole reads a security key: its role and the key without the
// role's prefix; ok is false when key is not a security key.
func splitRole(key string) (role clientRole, bare string, ok bool) {
	role, bare = roleWorker, key
	for _, r := range []clientRole{roleProducer, roleConsumer, roleAdmin} {
		if rest, found := strings.CutPrefix(key, string(r)); found {
			role, bare = r, rest
		}
	}
	return role, bare, slices.Contains(kafkaclient.Keys(), bare)
}

// security is the settings of one role's clients: the unprefixed keys,
// then the role's own.
func (c *Config) security(role clientRole) (kafkaclient.Security, error) {
	var s kafkaclient.Security
	var errs []error
	keys := make([]string, 0, len(c.ClientSecurity))
	for k := range c.ClientSecurity {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, pass := range []clientRole{roleWorker, role} {
		for _, k := range keys {
			if r, bare, _ := splitRole(k); r == pass {
				if err := s.Set(bare, c.ClientSecurity[k]); err != nil {
					errs = append(errs, err)
				}
			}
		}
		if role == roleWorker {
			break
		}
	}
	return s, errors.Join(errs...)
}

// validateSecurity checks every role's settings.
func (c *Config) validateSecurity() error {
	var errs []error
	seen := map[string]bool{}
	for _, role := range []clientRole{roleWorker, roleProducer, roleConsumer, roleAdmin} {
		s, err := c.security(role)
		if err == nil {
			err = s.Validate()
		}
		if err != nil && !seen[err.Error()] {
			seen[err.Error()] = true
			if role != roleWorker {
				err = fmt.Errorf("%sclients: %w", role, err)
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// clientOpts are the options every client of role starts from: the
// bootstrap servers and the security settings (checked by Validate).
func (c *Config) clientOpts(role clientRole) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(c.BootstrapServers...)}
	if s, err := c.security(role); err == nil {
		sec, _ := s.Opts()
		opts = append(opts, sec...)
	}
	return opts
}
