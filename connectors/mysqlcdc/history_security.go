package mysqlcdc

// Security of the schema history client: Debezium's
// schema.history.internal.producer.<key> and
// schema.history.internal.consumer.<key> for the standard client security
// keys (security.protocol, sasl.*, ssl.*), read by the builder every
// client in Tributary shares. The connector reads and writes the history
// with one client, so the two sets are merged; they must not disagree.

import (
	"slices"
	"sort"
	"strings"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/internal/kafkaclient"
)

var historyClientPrefixes = []string{"schema.history.internal.producer.", "schema.history.internal.consumer."}

// historySecurity collects the history client's security keys from a
// connector config, by their unprefixed names.
func historySecurity(m map[string]string) (map[string]string, error) {
	out := map[string]string{}
	from := map[string]string{}
	var errs []error
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, prefix := range historyClientPrefixes {
			bare, ok := strings.CutPrefix(k, prefix)
			if !ok || !slices.Contains(kafkaclient.Keys(), bare) {
				continue
			}
			if prev, dup := out[bare]; dup && prev != m[k] {
				errs = append(errs, connect.FieldError{Key: k, Message: "differs from " + from[bare] + ": the schema history uses one client for both"})
				continue
			}
			out[bare], from[bare] = m[k], k
		}
	}
	var s kafkaclient.Security
	for _, bare := range sortedBare(out) {
		if err := s.Set(bare, out[bare]); err != nil {
			errs = append(errs, connect.FieldError{Key: from[bare], Message: err.Error()})
		}
	}
	if len(errs) == 0 {
		if err := s.Validate(); err != nil {
			errs = append(errs, connect.FieldError{Key: historyClientPrefixes[0] + "security.protocol", Message: err.Error()})
		}
	}
	return out, connect.ConfigErrors(errs...)
}

func sortedBare(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
