// The end-to-end tests live in package cli_test because testkit imports cli
// (to run the broker as a child process).
package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/cli"
)

const (
	exitError = 1
	exitUsage = 2
)

// result is what one in-process command run produced.
type result struct {
	code           int
	stdout, stderr string
}

// run executes a tributary command line in-process with stdin as input.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return runContext(ctx, stdin, args...)
}

func runContext(ctx context.Context, stdin string, args ...string) result {
	var out, errb bytes.Buffer
	code := cli.Execute(ctx, args, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// mustRun runs a command that must succeed and returns its stdout.
func mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := run(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("tributary %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// mustFail runs a command that must exit with code and mention want on stderr.
func mustFail(t *testing.T, code int, want string, stdin string, args ...string) result {
	t.Helper()
	r := run(t, stdin, args...)
	if r.code != code || !strings.Contains(r.stderr, want) {
		t.Fatalf("tributary %s: want exit %d and stderr containing %q, got exit %d\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), code, want, r.code, r.stdout, r.stderr)
	}
	return r
}

// uniqueName makes names that do not collide when TRIBUTARY_TEST_BOOTSTRAP
// points several tests at one cluster.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%08x", prefix, rand.Uint32())
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
}

func containsLine(out, line string) bool {
	for _, l := range strings.Split(out, "\n") {
		if l == line {
			return true
		}
	}
	return false
}
