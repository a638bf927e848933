package worker_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect/worker"
	"github.com/tributary-streams/tributary/internal/testkit"
)

type restError struct {
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

// The REST API's life cycle: create, read, update, pause, resume, stop,
// restart, delete, against a standalone worker.
func TestRESTLifecycle(t *testing.T) {
	addr := testkit.Bootstrap(t)
	w := startStandalone(t, testConfig(t, addr))
	url := w.URL()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	appendLines(t, in, "a", "b")

	var root map[string]any
	if code := call(t, "GET", url+"/", nil, &root); code != 200 || root["version"] == nil || root["kafka_cluster_id"] == "" {
		t.Fatalf("GET /: %d %v", code, root)
	}
	var info worker.ConnectorInfo
	code := call(t, "POST", url+"/connectors", map[string]any{"name": "src", "config": map[string]any{
		"connector.class": "FileStreamSource", "file": in, "topic": "rest-lines", "tasks.max": 1,
		"value.converter": "StringConverter"}}, &info)
	if code != 201 || info.Name != "src" || info.Type != "source" || info.Config["tasks.max"] != "1" {
		t.Fatalf("create: %d %+v", code, info)
	}
	var e restError
	if code := call(t, "POST", url+"/connectors", map[string]any{"name": "src", "config": map[string]any{
		"connector.class": "FileStreamSource", "file": in, "topic": "x"}}, &e); code != 409 || !strings.Contains(e.Message, "already exists") {
		t.Fatalf("duplicate create: %d %+v", code, e)
	}
	// PUT creates (201) then updates (200).
	sinkCfg := map[string]string{"connector.class": "FileStreamSink", "file": out, "topics": "rest-lines", "value.converter": "StringConverter"}
	if code := call(t, "PUT", url+"/connectors/dst/config", sinkCfg, &info); code != 201 || info.Type != "sink" {
		t.Fatalf("PUT new: %d %+v", code, info)
	}
	waitState(t, url, "src", "RUNNING", 1)
	waitState(t, url, "dst", "RUNNING", 1)
	waitFile := func(want ...string) {
		t.Helper()
		testkit.Eventually(t, 30*time.Second, func() error {
			if got := readLines(out); strings.Join(got, ",") != strings.Join(want, ",") {
				return fmt.Errorf("sink file %q, want %q", got, want)
			}
			return nil
		})
	}
	waitFile("a", "b")

	var names []string
	if call(t, "GET", url+"/connectors", nil, &names); strings.Join(names, ",") != "dst,src" {
		t.Fatalf("list: %v", names)
	}
	var expanded map[string]map[string]any
	if call(t, "GET", url+"/connectors?expand=status&expand=info", nil, &expanded); expanded["src"]["status"] == nil || expanded["dst"]["info"] == nil {
		t.Fatalf("expand: %v", expanded)
	}
	var tasks []map[string]any
	if call(t, "GET", url+"/connectors/src/tasks", nil, &tasks); len(tasks) != 1 {
		t.Fatalf("tasks: %v", tasks)
	}
	var ts worker.StateInfo
	if code := call(t, "GET", url+"/connectors/src/tasks/0/status", nil, &ts); code != 200 || ts.State != "RUNNING" || ts.WorkerID == "" {
		t.Fatalf("task status: %d %+v", code, ts)
	}
	var topics map[string]map[string][]string
	if call(t, "GET", url+"/connectors/src/topics", nil, &topics); strings.Join(topics["src"]["topics"], ",") != "rest-lines" {
		t.Fatalf("topics: %v", topics)
	}

	// Pause: no new lines flow; resume: they do.
	if code := call(t, "PUT", url+"/connectors/src/pause", nil, nil); code != 202 {
		t.Fatalf("pause: %d", code)
	}
	waitState(t, url, "src", "PAUSED", 1)
	appendLines(t, in, "c")
	time.Sleep(500 * time.Millisecond) // a paused connector must not deliver: give it the chance
	if got := readLines(out); len(got) != 2 {
		t.Fatalf("a paused source delivered: %q", got)
	}
	if code := call(t, "PUT", url+"/connectors/src/resume", nil, nil); code != 202 {
		t.Fatalf("resume: %d", code)
	}
	waitState(t, url, "src", "RUNNING", 1)
	waitFile("a", "b", "c")

	// Update the sink to add a transformation-free config change: it restarts
	// and keeps its offsets (no duplicates).
	sinkCfg["tasks.max"] = "2"
	if code := call(t, "PUT", url+"/connectors/dst/config", sinkCfg, &info); code != 200 || info.Config["tasks.max"] != "2" {
		t.Fatalf("update: %d %+v", code, info)
	}
	appendLines(t, in, "d")
	waitFile("a", "b", "c", "d")

	// Restarts.
	if code := call(t, "POST", url+"/connectors/src/restart", nil, nil); code != 204 {
		t.Fatalf("restart: %d", code)
	}
	var st worker.ConnectorStatus
	if code := call(t, "POST", url+"/connectors/src/restart?includeTasks=true", nil, &st); code != 202 || st.Connector.State != "RESTARTING" || st.Tasks[0].State != "RESTARTING" {
		t.Fatalf("restart with tasks: %d %+v", code, st)
	}
	if code := call(t, "POST", url+"/connectors/src/tasks/0/restart", nil, nil); code != 204 {
		t.Fatalf("task restart: %d", code)
	}
	waitState(t, url, "src", "RUNNING", 1)
	appendLines(t, in, "e")
	waitFile("a", "b", "c", "d", "e")

	// Stop, offsets, resume.
	if code := call(t, "PUT", url+"/connectors/src/stop", nil, nil); code != 204 {
		t.Fatalf("stop: %d", code)
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		call(t, "GET", url+"/connectors/src/status", nil, &st)
		if st.Connector.State != "STOPPED" || len(st.Tasks) != 0 {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	var offs struct {
		Offsets []worker.ConnectorOffset `json:"offsets"`
	}
	if call(t, "GET", url+"/connectors/src/offsets", nil, &offs); len(offs.Offsets) != 1 || offs.Offsets[0].Offset["position"] != float64(10) {
		t.Fatalf("source offsets: %+v", offs)
	}
	if code := call(t, "PATCH", url+"/connectors/dst/offsets", map[string]any{"offsets": []any{}}, &e); code != 400 || !strings.Contains(e.Message, "STOPPED") {
		t.Fatalf("altering a running connector's offsets: %d %+v", code, e)
	}
	// Rewind the source to re-read "e" (position 8).
	if code := call(t, "PATCH", url+"/connectors/src/offsets", map[string]any{"offsets": []any{map[string]any{
		"partition": map[string]any{"filename": in}, "offset": map[string]any{"position": 8}}}}, nil); code != 200 {
		t.Fatalf("alter offsets: %d", code)
	}
	if code := call(t, "PUT", url+"/connectors/src/resume", nil, nil); code != 202 {
		t.Fatalf("resume after stop: %d", code)
	}
	waitFile("a", "b", "c", "d", "e", "e")
	var sinkOffs struct {
		Offsets []worker.ConnectorOffset `json:"offsets"`
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		call(t, "GET", url+"/connectors/dst/offsets", nil, &sinkOffs)
		if len(sinkOffs.Offsets) != 1 || sinkOffs.Offsets[0].Offset["kafka_offset"] != float64(6) {
			return fmt.Errorf("sink offsets: %+v", sinkOffs)
		}
		return nil
	})

	// Delete.
	if code := call(t, "DELETE", url+"/connectors/src", nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code := call(t, "GET", url+"/connectors/src", nil, &e); code != 404 || e.Message != "Connector src not found" || e.Code != 404 {
		t.Fatalf("after delete: %d %+v", code, e)
	}
	appendLines(t, in, "f")
	time.Sleep(300 * time.Millisecond)
	if got := readLines(out); len(got) != 6 {
		t.Fatalf("a deleted source still delivers: %q", got)
	}
}

// Bad input gets a clear answer and the worker stays up.
func TestRESTBadInput(t *testing.T) {
	addr := testkit.Bootstrap(t)
	w := startStandalone(t, testConfig(t, addr))
	url := w.URL()
	for _, c := range []struct {
		method, path string
		body         any
		code         int
		want         []string
	}{
		{"GET", "/nope", nil, 404, []string{"HTTP 404 Not Found"}},
		{"DELETE", "/connectors", nil, 405, []string{"HTTP 405 Method Not Allowed"}},
		{"GET", "/connectors/ghost/status", nil, 404, []string{"Connector ghost not found"}},
		{"POST", "/connectors", `{"name": "x", "config": {`, 400, []string{"malformed JSON"}},
		{"POST", "/connectors", ``, 400, []string{"request body is empty"}},
		{"POST", "/connectors", `{"config": {}}`, 400, []string{"name must be given"}},
		{"POST", "/connectors", `{"name": "x", "config": {"connector.class": ["a"]}}`, 400, []string{`config "connector.class": want a string value`}},
		{"POST", "/connectors", `{"name": "x", "config": {"connector.class": "NoSuchConnector"}}`, 400,
			[]string{"connector.class", `no connector is called "NoSuchConnector"`, "FileStreamSource"}},
		{"POST", "/connectors", `{"name": "x", "config": {"connector.class": "FileStreamSource"}}`, 400,
			[]string{"contains the following 1 error(s)", "Invalid value for configuration topic: missing required configuration"}},
		{"POST", "/connectors", `{"name": "x", "config": {"connector.class": "FileStreamSink", "file": "/tmp/x", "tasks.max": "zero"}}`, 400,
			[]string{"tasks.max", "want a 32-bit integer", "must configure one of topics or topics.regex"}},
		{"PUT", "/connectors/y/config", `{"name": "z", "connector.class": "FileStreamSink"}`, 400, []string{"doesn't match connector name in the URL"}},
		{"GET", "/connectors/ghost/tasks/x/status", nil, 404, []string{"Task x not found"}},
		{"PUT", "/connector-plugins/Nope/config/validate", `{}`, 404, []string{"Nope"}},
		{"POST", "/connectors/ghost/restart?includeTasks=maybe", nil, 400, []string{"includeTasks=maybe"}},
	} {
		var e restError
		code := call(t, c.method, url+c.path, c.body, &e)
		if code != c.code || e.Code != c.code {
			t.Errorf("%s %s: got %d %+v, want %d", c.method, c.path, code, e, c.code)
			continue
		}
		for _, want := range c.want {
			if !strings.Contains(e.Message, want) {
				t.Errorf("%s %s: message %q does not say %q", c.method, c.path, e.Message, want)
			}
		}
	}
	var root map[string]any
	if code := call(t, "GET", url+"/", nil, &root); code != 200 {
		t.Fatalf("the worker is down after bad input: %d", code)
	}
}

// /connector-plugins and /config/validate answer with Kafka's shapes and
// per-field errors.
func TestRESTPluginsAndValidate(t *testing.T) {
	addr := testkit.Bootstrap(t)
	w := startStandalone(t, testConfig(t, addr))
	url := w.URL()
	var plugins []map[string]string
	call(t, "GET", url+"/connector-plugins", nil, &plugins)
	classes := map[string]string{}
	for _, p := range plugins {
		classes[p["class"]] = p["type"]
	}
	if classes["org.apache.kafka.connect.file.FileStreamSourceConnector"] != "source" || classes["org.apache.kafka.connect.file.FileStreamSinkConnector"] != "sink" ||
		classes["org.apache.kafka.connect.json.JsonConverter"] != "" {
		t.Fatalf("plugins: %v", plugins)
	}
	call(t, "GET", url+"/connector-plugins?connectorsOnly=false", nil, &plugins)
	found := false
	for _, p := range plugins {
		found = found || p["class"] == "org.apache.kafka.connect.json.JsonConverter" && p["type"] == "converter"
	}
	if !found {
		t.Fatalf("connectorsOnly=false does not list converters: %v", plugins)
	}
	var keys []map[string]any
	if code := call(t, "GET", url+"/connector-plugins/FileStreamSource/config", nil, &keys); code != 200 || len(keys) != 3 || keys[0]["name"] != "file" {
		t.Fatalf("plugin config: %d %v", code, keys)
	}
	var infos struct {
		Name       string   `json:"name"`
		ErrorCount int      `json:"error_count"`
		Groups     []string `json:"groups"`
		Configs    []struct {
			Definition map[string]any `json:"definition"`
			Value      struct {
				Name   string   `json:"name"`
				Value  *string  `json:"value"`
				Errors []string `json:"errors"`
			} `json:"value"`
		} `json:"configs"`
	}
	code := call(t, "PUT", url+"/connector-plugins/FileStreamSinkConnector/config/validate", map[string]string{
		"name": "v", "file": "/tmp/x", "errors.tolerance": "some", "transforms": "t", "transforms.t.type": "Nope"}, &infos)
	if code != 200 || infos.Name != "org.apache.kafka.connect.file.FileStreamSinkConnector" {
		t.Fatalf("validate: %d %+v", code, infos)
	}
	errs := map[string][]string{}
	for _, c := range infos.Configs {
		if len(c.Value.Errors) > 0 {
			errs[c.Value.Name] = c.Value.Errors
		}
	}
	for _, k := range []string{"errors.tolerance", "topics", "transforms.t.type"} {
		if len(errs[k]) == 0 {
			t.Errorf("validate: no error for %s: %v", k, errs)
		}
	}
	if infos.ErrorCount != len(errs) || !strings.Contains(strings.Join(infos.Groups, ","), "Error Handling") {
		t.Errorf("validate: error_count %d for %d keys, groups %v", infos.ErrorCount, len(errs), infos.Groups)
	}
}
