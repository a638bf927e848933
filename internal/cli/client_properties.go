package cli

import (
	"slices"
	"sort"

	"github.com/tributary-streams/tributary/internal/kafkaclient"
)

// The Kafka client properties the CLI accepts in --command-config,
// --consumer.config / --producer.config, --consumer-property /
// --producer-property and profiles: the security ones (security.protocol,
// sasl.*, ssl.*) and the standard keys of Kafka's Java client that have a
// meaning here, with Kafka's names, defaults and value forms. Both are
// read by internal/kafkaclient, the builder every client in Tributary
// shares. A key that is not listed is refused naming it: silently
// ignoring, say, a misspelt security.protocol would connect in plaintext
// to a cluster the user meant to reach over TLS.
//
// A key that belongs to another kind of client (acks in an admin command's
// file) is accepted and has no effect, as Kafka's tools only warn about it:
// one client.properties file or profile usually serves every tool.

// notForCLI are the shared client properties no command has a use for: no
// client of the CLI is transactional.
var notForCLI = []string{"transaction.timeout.ms"}

// isClientProperty reports whether the CLI accepts key.
func isClientProperty(key string) bool {
	if slices.Contains(kafkaclient.Keys(), key) {
		return true
	}
	_, ok := kafkaclient.Lookup(key)
	return ok && !slices.Contains(notForCLI, key)
}

// supportedClientProperties lists every accepted key, sorted.
func supportedClientProperties() []string {
	var keys []string
	for _, k := range append(kafkaclient.Keys(), kafkaclient.PropertyKeys()...) {
		if isClientProperty(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
