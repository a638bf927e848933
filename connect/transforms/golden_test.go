package transforms_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tributary-streams/tributary/connect"
)

// Golden cases under testdata/golden: a Kafka Connect JSON envelope in,
// through the JsonConverter (schemas.enable=true) and one transformation,
// and the envelope Kafka Connect would write out.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	conv, _, err := connect.NewConverter("org.apache.kafka.connect.json.JsonConverter")
	if err != nil {
		t.Fatal(err)
	}
	if err := conv.Configure(map[string]string{"schemas.enable": "true"}, false); err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var g struct {
				Transforms map[string]string
				In, Out    json.RawMessage
			}
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			config := map[string]string{"transforms": "x"}
			for k, v := range g.Transforms {
				config["transforms.x."+k] = v
			}
			chain, err := connect.NewChain(config)
			if err != nil {
				t.Fatal(err)
			}
			defer chain.Close()
			schema, value, err := conv.ToConnect("books", g.In)
			if err != nil {
				t.Fatal(err)
			}
			out, err := chain.Apply(&connect.Record{Topic: "books", ValueSchema: schema, Value: value})
			if err != nil {
				t.Fatal(err)
			}
			got, err := conv.FromConnect("books", out.ValueSchema, out.Value)
			if err != nil {
				t.Fatal(err)
			}
			var gotJSON, wantJSON any
			if err := json.Unmarshal(got, &gotJSON); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(g.Out, &wantJSON); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotJSON, wantJSON) {
				want, _ := json.Marshal(wantJSON)
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}
