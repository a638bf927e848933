package mysqlcdc

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/converter"
	"github.com/tributary-streams/tributary/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestEnvelopeGolden pins the JSON (JsonConverter, schemas on) of a
// snapshot event's key and value, schemas included, to
// testdata/envelope.golden.json: what Debezium consumers read.
func TestEnvelopeGolden(t *testing.T) {
	m := testkit.StartMariaDB(t)
	broker := testkit.StartBroker(t)
	m.Exec(t, "CREATE DATABASE shop", `CREATE TABLE shop.orders (id INT PRIMARY KEY, customer VARCHAR(40) NOT NULL,
		amount DECIMAL(8,2), status ENUM('new','paid'), placed DATETIME(3), updated TIMESTAMP(6) NULL, flags BIT(3), doc JSON)`,
		`INSERT INTO shop.orders VALUES (1, 'Ada', 12.50, 'paid', '2024-03-01 10:00:00.125', '2024-03-01 10:00:01.000002', b'101', '{"a": 1}')`)
	tc := &taskContext{}
	task := NewTask()
	if err := task.Start(tc, taskConfig(m, broker.Addr)); err != nil {
		t.Fatal(err)
	}
	defer task.Stop()
	recs := pollUntil(t, task, tc, 1, onTopic("srv.shop.orders"))
	var rec connect.SourceRecord
	for _, r := range recs {
		if r.Topic == "srv.shop.orders" {
			rec = r
		}
	}
	conv := func(isKey bool) json.RawMessage {
		c := &converter.JSONConverter{}
		if err := c.Configure(map[string]string{}, isKey); err != nil {
			t.Fatal(err)
		}
		var b []byte
		var err error
		if isKey {
			b, err = c.FromConnect(rec.Topic, rec.KeySchema, rec.Key)
		} else {
			b, err = c.FromConnect(rec.Topic, rec.ValueSchema, rec.Value)
		}
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	out, err := json.MarshalIndent(map[string]json.RawMessage{"key": conv(true), "value": conv(false)}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	// What differs from run to run: times, binlog positions, the version.
	for _, re := range []string{`"ts_ms": \d+`, `"pos": \d+`, `"file": "[^"]*"`, `"version": "[^"]*"`, `"server_id": \d+`} {
		r := regexp.MustCompile(re)
		out = r.ReplaceAllFunc(out, func(b []byte) []byte { return regexp.MustCompile(`: .*`).ReplaceAll(b, []byte(`: "*"`)) })
	}
	path := filepath.Join("testdata", "envelope.golden.json")
	if *update {
		if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(out)) {
		t.Fatalf("envelope JSON differs from %s (run with -update if intended):\n%s", path, out)
	}
}
