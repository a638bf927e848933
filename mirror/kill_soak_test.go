//go:build soak

package mirror_test

import "testing"

// Longer versions of the kill tests, for `go test -tags soak`: more
// records and many more SIGKILLs.

func TestSoakKillMirrorAtLeastOnce(t *testing.T) {
	testKillMirror(t, killRun{records: 200_000, kills: 25})
}

func TestSoakKillMirrorExactlyOnce(t *testing.T) {
	testKillMirror(t, killRun{records: 200_000, kills: 25, exact: true, settings: "A->B.exactly.once.support = required\n"})
}

func TestSoakKillMirrorPreserveOffsets(t *testing.T) {
	testKillMirror(t, killRun{records: 200_000, kills: 25, exact: true, preserve: true, settings: "A->B.replication.mode = preserve-offsets\n"})
}
