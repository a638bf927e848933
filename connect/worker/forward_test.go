package worker_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect/worker"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// leaderAndFollower waits until both workers agree on the leader and
// returns it and the other one.
func leaderAndFollower(t *testing.T, a, b *worker.Worker) (leader, follower *worker.Worker) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, func() error {
		la, lb := a.LeaderURL(), b.LeaderURL()
		switch {
		case la == "" || la != lb:
			return fmt.Errorf("the workers see leaders %q and %q", la, lb)
		case la == a.URL():
			leader, follower = a, b
		case la == b.URL():
			leader, follower = b, a
		default:
			return fmt.Errorf("leader %q is neither %s nor %s", la, a.URL(), b.URL())
		}
		return nil
	})
	return leader, follower
}

// Every REST write sent to a follower is carried out by the leader and
// answered as the leader answers it: create, update, patch, pause,
// resume, restart, stop, offsets alter and reset, delete, and the Go API's
// PutConnector and DeleteConnector. A follower never writes itself: with
// forward=false (no hop left) it answers 409.
func TestFollowerForwardsWritesToLeader(t *testing.T) {
	addr := testkit.Bootstrap(t)
	a := startDistributed(t, distributedConfig(t, addr, "fwd"))
	b := startDistributed(t, distributedConfig(t, addr, "fwd"))
	_, f := leaderAndFollower(t, a, b)
	url := f.URL()
	in := filepath.Join(t.TempDir(), "in.txt")
	appendLines(t, in, "one", "two")
	src := map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": "fwd-lines", "value.converter": "StringConverter"}

	var info worker.ConnectorInfo
	if code := callRetry(t, "POST", url+"/connectors", map[string]any{"name": "src", "config": src}, &info); code != 201 || info.Name != "src" || info.Type != "source" {
		t.Fatalf("create through the follower: %d %+v", code, info)
	}
	var e restError
	if code := callRetry(t, "POST", url+"/connectors", map[string]any{"name": "src", "config": src}, &e); code != 409 || !strings.Contains(e.Message, "already exists") {
		t.Fatalf("create again: %d %+v", code, e)
	}
	waitState(t, url, "src", "RUNNING", 1)
	src["batch.size"] = "5"
	if code := callRetry(t, "PUT", url+"/connectors/src/config", src, &info); code != 200 || info.Config["batch.size"] != "5" {
		t.Fatalf("update: %d %+v", code, info)
	}
	info = worker.ConnectorInfo{}
	if code := callRetry(t, "PATCH", url+"/connectors/src/config", map[string]any{"batch.size": nil, "tasks.max": "1"}, &info); code != 200 ||
		info.Config["batch.size"] != "" || info.Config["tasks.max"] != "1" {
		t.Fatalf("patch: %d %+v", code, info)
	}
	if code := callRetry(t, "PUT", url+"/connectors/src/pause", nil, nil); code != 202 {
		t.Fatalf("pause: %d", code)
	}
	waitState(t, url, "src", "PAUSED", 1)
	if code := callRetry(t, "PUT", url+"/connectors/src/resume", nil, nil); code != 202 {
		t.Fatalf("resume: %d", code)
	}
	waitState(t, url, "src", "RUNNING", 1)
	var st worker.ConnectorStatus
	if code := callRetry(t, "POST", url+"/connectors/src/restart?includeTasks=true", nil, &st); code != 202 || st.Tasks[0].State != "RESTARTING" {
		t.Fatalf("restart: %d %+v", code, st)
	}
	if code := callRetry(t, "POST", url+"/connectors/src/tasks/0/restart", nil, nil); code != 204 {
		t.Fatalf("task restart: %d", code)
	}
	waitState(t, url, "src", "RUNNING", 1)
	testkit.Consume(t, addr, "fwd-lines", 2)
	if code := callRetry(t, "PUT", url+"/connectors/src/stop", nil, nil); code != 204 {
		t.Fatalf("stop: %d", code)
	}
	waitState(t, url, "src", "STOPPED", 0)

	// Offsets, altered and reset through the follower.
	alter := map[string]any{"offsets": []map[string]any{{"partition": map[string]any{"filename": in}, "offset": map[string]any{"position": 4}}}}
	if code := callRetry(t, "PATCH", url+"/connectors/src/offsets", alter, nil); code != 200 {
		t.Fatalf("alter offsets: %d", code)
	}
	var offs struct {
		Offsets []worker.ConnectorOffset `json:"offsets"`
	}
	call(t, "GET", url+"/connectors/src/offsets", nil, &offs)
	if len(offs.Offsets) != 1 || fmt.Sprint(offs.Offsets[0].Offset["position"]) != "4" {
		t.Fatalf("offsets after alter: %+v", offs)
	}
	if code := callRetry(t, "DELETE", url+"/connectors/src/offsets", nil, nil); code != 200 {
		t.Fatalf("reset offsets: %d", code)
	}
	call(t, "GET", url+"/connectors/src/offsets", nil, &offs)
	if len(offs.Offsets) != 0 {
		t.Fatalf("offsets after reset: %+v", offs)
	}
	if code := callRetry(t, "DELETE", url+"/connectors/src", nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code := call(t, "GET", url+"/connectors/src", nil, nil); code != 404 {
		t.Fatalf("after delete: %d", code)
	}

	// A request that has used its hops is refused by a follower.
	if code := call(t, "POST", url+"/connectors?forward=false", map[string]any{"name": "late", "config": src}, &e); code != 409 ||
		!strings.Contains(e.Message, "conflicting operation") {
		t.Fatalf("forward=false on the follower: %d %+v", code, e)
	}
	if code := call(t, "GET", url+"/connectors/late", nil, nil); code != 404 {
		t.Fatalf("the follower created the connector itself: %d", code)
	}

	// The Go API forwards too.
	ctx := context.Background()
	if err := f.PutConnector(ctx, "api", src); err != nil {
		t.Fatalf("PutConnector on the follower: %v", err)
	}
	if _, err := f.Status("api"); err != nil {
		t.Fatalf("status after PutConnector: %v", err)
	}
	if err := f.PutConnector(ctx, "bad", map[string]string{"connector.class": "NoSuchConnector"}); err == nil ||
		!strings.Contains(err.Error(), "connector.class") {
		t.Fatalf("an invalid config through the follower: %v", err)
	}
	if err := f.DeleteConnector(ctx, "api"); err != nil {
		t.Fatalf("DeleteConnector on the follower: %v", err)
	}
	if err := f.DeleteConnector(ctx, "api"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("deleting twice: %v", err)
	}
}

// The leader carries out one write at a time: the same connector created
// at once through both workers is created once, and the other request is
// answered 409.
func TestConcurrentCreatesOnTwoWorkersCreateOnce(t *testing.T) {
	addr := testkit.Bootstrap(t)
	a := startDistributed(t, distributedConfig(t, addr, "race"))
	b := startDistributed(t, distributedConfig(t, addr, "race"))
	leaderAndFollower(t, a, b)
	for i := range 10 {
		name := fmt.Sprintf("twice-%d", i)
		body := map[string]any{"name": name, "config": map[string]string{"connector.class": "datagen", "topic": "race", "iterations": "1"}}
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for j, w := range []*worker.Worker{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[j] = callRetry(t, "POST", w.URL()+"/connectors", body, nil)
			}()
		}
		wg.Wait()
		if codes[0]+codes[1] != 201+409 {
			t.Fatalf("%s created at once on both workers: answers %v, want one 201 and one 409", name, codes)
		}
	}
}

// Forwarding between https workers with basic authentication: the
// follower reaches the leader through the REST truststore and passes the
// client's credentials on.
func TestForwardingOverHTTPSWithBasicAuth(t *testing.T) {
	certs := testkit.NewCerts(t)
	creds := filepath.Join(t.TempDir(), "credentials.properties")
	if err := os.WriteFile(creds, []byte("admin: admin-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := testkit.Bootstrap(t)
	secure := func() worker.Config {
		cfg := distributedConfig(t, addr, "fwd-tls")
		for k, v := range map[string]string{
			"listeners":                               "https://127.0.0.1:0",
			"listeners.https.ssl.keystore.location":   certs.ServerKeystore,
			"listeners.https.ssl.truststore.location": certs.CAFile,
			"rest.extension.classes":                  worker.BasicAuthExtension,
			"rest.basic.auth.credentials.file":        creds,
		} {
			if err := cfg.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		return cfg
	}
	a := startDistributed(t, secure())
	b := startDistributed(t, secure())
	_, f := leaderAndFollower(t, a, b)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: certs.ClientTLS("", "")}, Timeout: 30 * time.Second}
	post := func(user, pass string) (int, string) {
		body := `{"name": "gen", "config": {"connector.class": "datagen", "topic": "fwd-tls", "iterations": "1"}}`
		req, _ := http.NewRequest("POST", f.URL()+"/connectors", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := post("", ""); code != 401 {
		t.Fatalf("without credentials: %d", code)
	}
	var code int
	var body string
	testkit.Eventually(t, 30*time.Second, func() error {
		if code, body = post("admin", "admin-pw"); code == 409 {
			return fmt.Errorf("409: %s", body)
		}
		return nil
	})
	if code != 201 || !strings.Contains(body, `"name":"gen"`) {
		t.Fatalf("create through the https follower: %d %s", code, body)
	}
}
