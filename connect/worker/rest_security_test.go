package worker_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
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

// The REST API over https with basic authentication: the right user gets
// answers, a wrong password or none gets 401, plain http gets nothing.
func TestRESTOverHTTPSWithBasicAuth(t *testing.T) {
	certs := testkit.NewCerts(t)
	creds := filepath.Join(t.TempDir(), "credentials.properties")
	os.WriteFile(creds, []byte("admin: admin-pw\nops: ops-pw\n"), 0o600)
	cfg := testConfig(t, testkit.Bootstrap(t))
	for k, v := range map[string]string{
		"listeners":                             "https://127.0.0.1:0",
		"listeners.https.ssl.keystore.location": certs.ServerKeystore,
		"rest.extension.classes":                worker.BasicAuthExtension,
		"rest.basic.auth.credentials.file":      creds,
	} {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	w := startStandalone(t, cfg)
	if !strings.HasPrefix(w.URL(), "https://") {
		t.Fatalf("URL %s", w.URL())
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: certs.ClientTLS("", "")}, Timeout: 10 * time.Second}
	get := func(user, pass string) int {
		req, _ := http.NewRequest("GET", w.URL()+"/connectors", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	if code := get("admin", "admin-pw"); code != 200 {
		t.Errorf("admin: %d", code)
	}
	for _, c := range [][2]string{{"admin", "wrong"}, {"nobody", "admin-pw"}, {"", ""}} {
		if code := get(c[0], c[1]); code != 401 {
			t.Errorf("%v: %d, want 401", c, code)
		}
	}
	plain := strings.Replace(w.URL(), "https://", "http://", 1)
	if resp, err := http.Get(plain + "/connectors"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain http was answered")
		}
	}

	bad := worker.Defaults()
	bad.BootstrapServers = []string{"127.0.0.1:9092"}
	bad.Set("listeners", "https://127.0.0.1:0")
	bad.Set("rest.extension.classes", worker.BasicAuthExtension)
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "needs listeners.https.ssl.keystore.location") ||
		!strings.Contains(err.Error(), "needs rest.basic.auth.credentials.file") {
		t.Errorf("https and basic auth without their files: %v", err)
	}
}

// logBuffer collects a worker's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Connector configs take secrets from ${env:...} and ${file:...}; the
// pipeline runs on the resolved values, and no REST answer, stored task
// config or log line shows them.
func TestConfigProvidersKeepSecretsOut(t *testing.T) {
	const secretPW = "s3cr3t-from-env"
	t.Setenv("TRIBUTARY_TEST_SECRET_PW", secretPW)
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets.properties")
	in := filepath.Join(dir, "in.txt")
	os.WriteFile(secrets, []byte("input.file="+in+"\n"), 0o600)
	os.WriteFile(in, []byte("line-1\nline-2\n"), 0o600)

	addr := testkit.Bootstrap(t)
	cfg := testConfig(t, addr)
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for k, v := range map[string]string{
		"config.providers":            "env,file",
		"config.providers.env.class":  "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
		"config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
	} {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	w := startStandalone(t, cfg)
	connector := map[string]string{
		"connector.class": "FileStreamSource", "topic": "provided", "value.converter": "StringConverter",
		"file":              "${file:" + secrets + ":input.file}",
		"database.password": "${env:TRIBUTARY_TEST_SECRET_PW}",
	}
	if code := callRetry(t, "PUT", w.URL()+"/connectors/provided/config", connector, nil); code != 201 {
		t.Fatalf("create: %d", code)
	}
	recs := testkit.Consume(t, addr, "provided", 2)
	if string(recs[0].Value) != "line-1" {
		t.Fatalf("records %q: the file reference was not resolved", recs[0].Value)
	}
	var answers []string
	for _, path := range []string{"/connectors/provided", "/connectors/provided/config", "/connectors/provided/tasks", "/connectors/provided/status"} {
		var out any
		call(t, "GET", w.URL()+path, nil, &out)
		raw, _ := json.Marshal(out)
		answers = append(answers, string(raw))
	}
	var validated any
	call(t, "PUT", w.URL()+"/connector-plugins/FileStreamSource/config/validate", connector, &validated)
	raw, _ := json.Marshal(validated)
	answers = append(answers, string(raw))
	for _, a := range answers {
		if strings.Contains(a, secretPW) || strings.Contains(a, in) {
			t.Errorf("a REST answer shows a resolved secret: %s", a)
		}
	}
	// The task config the connector derived from the resolved file name
	// is stored with the reference again.
	if !strings.Contains(answers[1], "${env:TRIBUTARY_TEST_SECRET_PW}") || !strings.Contains(answers[2], "${file:"+secrets+":input.file}") {
		t.Errorf("config and task configs should keep the references:\n%s\n%s", answers[1], answers[2])
	}
	if l := logs.String(); strings.Contains(l, secretPW) {
		t.Errorf("the worker log shows a resolved secret")
	}

	// An unresolvable reference is a validation error naming the key.
	bad := map[string]string{"connector.class": "FileStreamSource", "topic": "x", "file": "${env:TRIBUTARY_TEST_UNSET_VAR}"}
	var v struct {
		ErrorCount int `json:"error_count"`
		Configs    []struct {
			Value struct {
				Name   string   `json:"name"`
				Errors []string `json:"errors"`
			} `json:"value"`
		} `json:"configs"`
	}
	call(t, "PUT", w.URL()+"/connector-plugins/FileStreamSource/config/validate", bad, &v)
	found := false
	for _, c := range v.Configs {
		if c.Value.Name == "file" && len(c.Value.Errors) > 0 && strings.Contains(c.Value.Errors[0], "TRIBUTARY_TEST_UNSET_VAR is not set") {
			found = true
		}
	}
	if v.ErrorCount == 0 || !found {
		t.Errorf("an unset variable: %+v", v)
	}
	if err := func() error {
		c := worker.Defaults()
		c.BootstrapServers = []string{"127.0.0.1:9092"}
		c.Set("config.providers", "vault")
		c.Set("config.providers.vault.class", "io.confluent.VaultProvider")
		return c.Validate()
	}(); err == nil || !strings.Contains(err.Error(), `config.providers.vault.class="io.confluent.VaultProvider": accepted`) {
		t.Errorf("an unknown provider class: %v", err)
	}
}
