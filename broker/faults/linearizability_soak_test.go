//go:build soak

package faults

import "time"

// linearizabilityRun and linearizabilityRounds under make soak: about
// four minutes of kill -9 and restart.
const (
	linearizabilityRun    = 8 * time.Second
	linearizabilityRounds = 30
)
