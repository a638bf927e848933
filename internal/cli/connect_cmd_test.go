package cli_test

// `tributary connect standalone|distributed` and `tributary server`: bad
// invocations exit 2 naming the problem; good ones run connectors from
// files (.properties, .json, .yaml) or over REST until cancelled.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/cli"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// background runs a long-running command until the test cancels it and
// returns its stdout buffer and a stop function returning the exit code.
func background(t *testing.T, args ...string) (*testkit.SyncBuffer, *testkit.SyncBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testkit.SyncBuffer
	done := make(chan int, 1)
	go func() { done <- cli.Execute(ctx, args, strings.NewReader(""), &stdout, &stderr) }()
	stopped := false
	var code int
	stop := func() int {
		if !stopped {
			stopped = true
			cancel()
			select {
			case code = <-done:
			case <-time.After(60 * time.Second):
				t.Fatalf("tributary %s did not stop", strings.Join(args, " "))
			}
		}
		return code
	}
	t.Cleanup(func() { stop() })
	return &stdout, &stderr, stop
}

func writeFile(path, content string) {
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		panic(err)
	}
}

func waitFileLines(t *testing.T, path string, want ...string) {
	t.Helper()
	testkit.Eventually(t, 60*time.Second, func() error {
		b, _ := os.ReadFile(path)
		if got := strings.TrimSpace(string(b)); got != strings.Join(want, "\n") {
			return fmt.Errorf("%s holds %q, want %q", path, got, want)
		}
		return nil
	})
}

func TestConnectStandaloneRunsConnectorFiles(t *testing.T) {
	addr := testkit.Bootstrap(t)
	dir := t.TempDir()
	in, mid, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "mid.txt"), filepath.Join(dir, "out.txt")
	writeFile(in, "alpha\nbeta\n")
	topic := uniqueName("standalone")
	src := filepath.Join(dir, "source.properties")
	writeFile(src, "name=file-source\nconnector.class=FileStreamSource\nfile="+in+"\ntopic="+topic+"\nvalue.converter=org.apache.kafka.connect.storage.StringConverter\n")
	sinkJSON := filepath.Join(dir, "sink.json")
	writeFile(sinkJSON, `{"name": "file-sink", "config": {"connector.class": "FileStreamSink", "file": "`+mid+`", "topics": "`+topic+`", "value.converter": "StringConverter"}}`)
	sinkYAML := filepath.Join(dir, "sink.yaml")
	writeFile(sinkYAML, "name: yaml-sink\nconfig:\n  connector.class: org.apache.kafka.connect.file.FileStreamSinkConnector\n  file: "+out+"\n  topics: "+topic+"\n  value.converter: StringConverter\n  tasks.max: 1\n")
	// The worker file comes first, as connect-standalone takes it.
	workerProps := filepath.Join(dir, "worker.properties")
	writeFile(workerProps, "bootstrap.servers="+addr+"\noffset.flush.interval.ms=200\nkey.converter=StringConverter\n")
	stdout, stderr, stop := background(t, "connect", "standalone", workerProps, "--offsets", filepath.Join(dir, "offsets"),
		"--rest-listen", "127.0.0.1:0", src, sinkJSON, sinkYAML)
	waitFileLines(t, mid, "alpha", "beta")
	waitFileLines(t, out, "alpha", "beta")
	if !strings.Contains(stdout.String(), "3 connector(s)") {
		t.Errorf("stdout: %s", stdout.String())
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
}

func TestConnectBadInvocations(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.properties")
	writeFile(bad, "name=x\nconnector.class=FileStreamSource\n")
	unknown := filepath.Join(dir, "c.toml")
	writeFile(unknown, "x")
	brokenJSON := filepath.Join(dir, "c.json")
	writeFile(brokenJSON, `{"name": `)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"connect", "standalone", bad}, []string{"--bootstrap-server is required"}},
		{[]string{"connect", "standalone", "--bootstrap-server", "127.0.0.1:9", "--rest-listen", "", bad}, []string{"topic", "missing required configuration"}},
		{[]string{"connect", "standalone", "--bootstrap-server", "127.0.0.1:9", unknown}, []string{"unknown format", ".properties, .json, .yaml"}},
		{[]string{"connect", "standalone", "--bootstrap-server", "127.0.0.1:9", brokenJSON}, []string{"not a JSON object"}},
		{[]string{"connect", "standalone", "--bootstrap-server", "127.0.0.1:9", "--set", "offset.flush.interval.ms=soon", bad}, []string{"offset.flush.interval.ms", "want milliseconds"}},
		{[]string{"connect", "standalone", "--bootstrap-server", "127.0.0.1:9", "--set", "no.such.key=1", bad}, []string{`unknown worker config "no.such.key"`}},
		{[]string{"connect", "distributed", "--bootstrap-server", "nohost"}, []string{`bootstrap.servers "nohost": want host:port`}},
		{[]string{"connect", "distributed", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"connect", "nope"}, []string{`unknown command "nope"`}},
		{[]string{"server", "--log-level", "loud"}, []string{`--log-level "loud"`}},
		{[]string{"server", "--set", "num.partitions=0"}, []string{"num.partitions"}},
	} {
		r := run(t, "", c.args...)
		if r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", c.args, r.code, exitUsage, r.stderr)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, r.stderr)
			}
		}
	}
}

var restURL = regexp.MustCompile(`REST API on (http://\S+)`)

// `tributary server`: a broker and a connect worker; a file pipeline
// created over REST copies lines.
func TestServerCommand(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, stop := background(t, "server", "--listen", "127.0.0.1:0", "--rest-listen", "127.0.0.1:0",
		"--data-dir", filepath.Join(dir, "data"), "--set", "group.initial.rebalance.delay.ms=0")
	var url string
	testkit.Eventually(t, 60*time.Second, func() error {
		m := restURL.FindStringSubmatch(stdout.String())
		if m == nil {
			return fmt.Errorf("no REST URL yet: %s", stderr.String())
		}
		url = m[1]
		return nil
	})
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	writeFile(in, "hello\nworld\n")
	post := func(body string) {
		resp, err := http.Post(url+"/connectors", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("POST /connectors: %d", resp.StatusCode)
		}
	}
	post(`{"name": "in", "config": {"connector.class": "FileStreamSource", "file": "` + in + `", "topic": "lines", "value.converter": "StringConverter"}}`)
	post(`{"name": "out", "config": {"connector.class": "FileStreamSink", "file": "` + out + `", "topics": "lines", "value.converter": "StringConverter"}}`)
	waitFileLines(t, out, "hello", "world")
	if code := stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
}
