package main

// TestReadmeExamples runs every `$ command` of the README's console blocks,
// as a user would (bash, with the freshly built tributary on PATH), against
// `tributary server` (what `make run` starts) running as a child process on
// ports of its own standing in for 127.0.0.1:9092 and 127.0.0.1:8083, with
// /tmp/ paths in a temp dir, and compares each command's output with the
// lines the README shows after it.

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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
	srv := startServer(t, filepath.Join(bin, "tributary"))
	tmp := t.TempDir()
	config := t.TempDir()
	examples := readmeExamples(t)
	if len(examples) < 5 {
		t.Fatalf("found only %d README examples", len(examples))
	}
	for _, ex := range examples {
		cmd := strings.NewReplacer("127.0.0.1:9092", srv.broker, "127.0.0.1:8083", srv.rest, "/tmp/", tmp+"/").Replace(ex.cmd)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		c := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", cmd)
		// The reader's own profiles and environment do not apply.
		c.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"XDG_CONFIG_HOME="+config, "TRIBUTARY_BOOTSTRAP=", "TRIBUTARY_PROFILE=")
		c.Dir = tmp
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

type server struct{ broker, rest string }

// startServer runs `tributary server` on free ports in a temp dir until
// the test ends, and waits until its connect worker is healthy.
func startServer(t *testing.T, bin string) server {
	s := server{broker: testkit.FreePort(t), rest: testkit.FreePort(t)}
	dir := t.TempDir()
	cmd := exec.Command(bin, "server", "--listen", s.broker, "--rest-listen", s.rest, "--data-dir", filepath.Join(dir, "data"),
		"--set", "group.initial.rebalance.delay.ms=0")
	cmd.Dir = dir
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	testkit.Eventually(t, 60*time.Second, func() error {
		select {
		case <-done:
			t.Fatalf("tributary server exited: %s", logs.String())
		default:
		}
		resp, err := http.Get("http://" + s.rest + "/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("health: %d", resp.StatusCode)
		}
		return nil
	})
	return s
}
