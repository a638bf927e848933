//go:build soak

package faults

import "time"

// linearizabilityRun under make soak.
const linearizabilityRun = 3 * time.Minute
