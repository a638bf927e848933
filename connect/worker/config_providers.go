package worker

// Config providers (KIP-297, KIP-887): connector configs may take values
// from the environment or from files, so secrets stay out of the configs
// stored in the config topic and shown by the REST API:
//
//	config.providers=env,file
//	config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
//	config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
//
//	"database.password": "${env:MYSQL_PASSWORD}"
//	"database.password": "${file:/etc/connect/secrets.properties:mysql.password}"
//
// A reference is ${alias:[path:]key}: EnvVarConfigProvider takes no path
// and reads the variable key; FileConfigProvider reads key from the
// properties file at path. References are resolved when a connector is
// validated and started and when a task starts; what is stored and shown
// keeps the reference. Task configs a connector derives from resolved
// values are stored with the values turned back into their references,
// and resolved again when the task starts, so a resolved secret is in no
// REST response, config record or log line.

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/tributary-streams/tributary/internal/properties"
)

// Provider classes, by Kafka's class names.
const (
	envProviderClass  = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
	fileProviderClass = "org.apache.kafka.common.config.provider.FileConfigProvider"
)

// reference is Kafka's ${provider:[path:]key}.
var reference = regexp.MustCompile(`\$\{([^}:]*?):(?:([^}]*?):)?([^}]*?)\}`)

type configProvider func(path, key string) (string, error)

func envProvider(path, key string) (string, error) {
	if path != "" {
		return "", fmt.Errorf("EnvVarConfigProvider takes no path: write ${env:%s}", key)
	}
	v, ok := os.LookupEnv(key)
	if !ok {
		return "", fmt.Errorf("environment variable %s is not set", key)
	}
	return v, nil
}

func fileProvider(path, key string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("FileConfigProvider needs a file: write ${file:/path/to/file.properties:%s}", key)
	}
	props, err := properties.ParseFile(path)
	if err != nil {
		return "", err
	}
	for i := len(props) - 1; i >= 0; i-- {
		if props[i].Key == key {
			return props[i].Value, nil
		}
	}
	return "", fmt.Errorf("%s has no key %q", path, key)
}

// setProviderKey stores config.providers and config.providers.* keys.
func (c *Config) setProviderKey(key, value string) bool {
	if key != "config.providers" && !strings.HasPrefix(key, "config.providers.") {
		return false
	}
	if c.ConfigProviders == nil {
		c.ConfigProviders = map[string]string{}
	}
	c.ConfigProviders[key] = strings.TrimSpace(value)
	return true
}

// providers builds the configured providers, by alias.
func (c *Config) providers() (map[string]configProvider, error) {
	out := map[string]configProvider{}
	var errs []error
	aliases := splitList(c.ConfigProviders["config.providers"])
	for _, alias := range aliases {
		class := c.ConfigProviders["config.providers."+alias+".class"]
		switch class {
		case envProviderClass:
			out[alias] = envProvider
		case fileProviderClass:
			out[alias] = fileProvider
		case "":
			errs = append(errs, fmt.Errorf("config.providers lists %s but config.providers.%s.class is not set; accepted %s or %s", alias, alias, envProviderClass, fileProviderClass))
		default:
			errs = append(errs, fmt.Errorf("config.providers.%s.class=%q: accepted %s or %s", alias, class, envProviderClass, fileProviderClass))
		}
	}
	for k := range c.ConfigProviders {
		if rest, ok := strings.CutPrefix(k, "config.providers."); ok {
			alias, sub, _ := strings.Cut(rest, ".")
			if _, listed := out[alias]; !listed && !strings.Contains(c.ConfigProviders["config.providers"], alias) {
				errs = append(errs, fmt.Errorf("%s: provider %s is not in config.providers", k, alias))
			} else if sub != "class" && !strings.HasPrefix(sub, "param.") {
				errs = append(errs, fmt.Errorf("%s: accepted config.providers.%s.class or .param.*", k, alias))
			}
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return out, errors.Join(errs...)
}

// secret is a value a reference resolved to, with the reference.
type secret struct{ value, reference string }

// resolveConfig replaces every reference in config. keyErrs holds, per
// key, why a reference could not be resolved; secrets are what was
// substituted, for mask.
func (c *Config) resolveConfig(config map[string]string) (resolved map[string]string, secrets []secret, keyErrs map[string]string) {
	providers, err := c.providers()
	resolved = make(map[string]string, len(config))
	for k, v := range config {
		resolved[k] = v
		if !strings.Contains(v, "${") {
			continue
		}
		resolved[k] = reference.ReplaceAllStringFunc(v, func(ref string) string {
			m := reference.FindStringSubmatch(ref)
			alias, path, key := m[1], m[2], m[3]
			p, ok := providers[alias]
			if !ok {
				if keyErrs == nil {
					keyErrs = map[string]string{}
				}
				msg := fmt.Sprintf("%s: no config provider %q: list it in the worker's config.providers", ref, alias)
				if err != nil {
					msg += " (" + err.Error() + ")"
				}
				keyErrs[k] = msg
				return ref
			}
			val, perr := p(path, key)
			if perr != nil {
				if keyErrs == nil {
					keyErrs = map[string]string{}
				}
				keyErrs[k] = fmt.Sprintf("%s: %v", ref, perr)
				return ref
			}
			if val != "" {
				secrets = append(secrets, secret{value: val, reference: ref})
			}
			return val
		})
	}
	// Longest first, so a secret containing another is masked whole.
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i].value) > len(secrets[j].value) })
	return resolved, secrets, keyErrs
}

// mask turns resolved values in config back into their references.
func mask(config map[string]string, secrets []secret) map[string]string {
	if len(secrets) == 0 {
		return config
	}
	out := make(map[string]string, len(config))
	for k, v := range config {
		for _, s := range secrets {
			v = strings.ReplaceAll(v, s.value, s.reference)
		}
		out[k] = v
	}
	return out
}
