//go:build !soak

package faults

import "time"

// linearizabilityRun and linearizabilityRounds shape
// TestLinearizableUnderKill9 in make test; make soak (the soak build tag)
// runs many rounds.
const (
	linearizabilityRun    = 6 * time.Second
	linearizabilityRounds = 1
)
