//go:build !soak

package faults

import "time"

// linearizabilityRun is how long TestLinearizableUnderKill9 runs in make
// test; make soak (the soak build tag) runs it for minutes.
const linearizabilityRun = 6 * time.Second
