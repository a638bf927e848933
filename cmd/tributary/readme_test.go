package main

// TestReadmeExamples runs every `$ command` of the README's console blocks,
// as a user would (bash, with the freshly built tributary on PATH), against
// a test broker standing in for 127.0.0.1:9092, and compares each command's
// output with the lines the README shows after it.

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/testkit"
)

type example struct {
	cmd  string
	want []string
}

func readmeExamples(t *testing.T) []example {
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []example
	inConsole := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```console"):
			inConsole = true
		case strings.HasPrefix(line, "```"):
			inConsole = false
		case inConsole && strings.HasPrefix(line, "$ "):
			out = append(out, example{cmd: strings.TrimPrefix(line, "$ ")})
		case inConsole && len(out) > 0:
			out[len(out)-1].want = append(out[len(out)-1].want, line)
		}
	}
	return out
}

func TestReadmeExamples(t *testing.T) {
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatalf("the README uses kcat; `make test` installs it: %v", err)
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "tributary"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	b := testkit.StartBroker(t)
	config := t.TempDir()
	examples := readmeExamples(t)
	if len(examples) < 5 {
		t.Fatalf("found only %d README examples", len(examples))
	}
	for _, ex := range examples {
		cmd := strings.ReplaceAll(ex.cmd, "127.0.0.1:9092", b.Addr)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		c := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", cmd)
		// The reader's own profiles and environment do not apply.
		c.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"XDG_CONFIG_HOME="+config, "TRIBUTARY_BOOTSTRAP=", "TRIBUTARY_PROFILE=")
		var stderr strings.Builder
		c.Stderr = &stderr
		out, err := c.Output()
		cancel()
		if err != nil {
			t.Fatalf("README command failed: %s\n%v\n%s", ex.cmd, err, stderr.String())
		}
		got := strings.TrimRight(string(out), "\n")
		want := strings.Join(ex.want, "\n")
		if got != want {
			t.Fatalf("README command: %s\ngot:\n%s\nREADME shows:\n%s", ex.cmd, got, want)
		}
	}
}
