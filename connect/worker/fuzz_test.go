package worker

import "testing"

// FuzzStoreRecords feeds arbitrary records of the internal topics (which
// anyone with access to them can write) to the stores: nothing may panic,
// and what they hold stays readable.
func FuzzStoreRecords(f *testing.F) {
	for _, seed := range [][2]string{
		{"connector-a", `{"properties":{"connector.class":"x","name":"a"}}`},
		{"task-a-0", `{"properties":{"k":"v"}}`},
		{"commit-a", `{"tasks":1}`},
		{"commit-a", `{"tasks":-5}`},
		{"target-state-a", `{"state":"PAUSED","state.v2":"STOPPED"}`},
		{"restart-connector-a", `{"include-tasks":true,"only-failed":false}`},
		{"restart-task-a-3", `{}`},
		{"status-connector-a", `{"state":"RUNNING","trace":null,"worker_id":"w:1","generation":3}`},
		{"status-task-a-0", `{"state":"FAILED","trace":"boom","worker_id":"w:1","generation":3}`},
		{"status-topic-t:connector-a", `{"topic":{"name":"t","connector":"a","task":0,"discoverTimestamp":1}}`},
		{`["a",{"filename":"/x"}]`, `{"position":12}`},
		{`["a",null]`, `{"seq":1.5}`},
		{"task--1", `{"properties":{}}`},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]), false)
		f.Add([]byte(seed[0]), []byte(nil), true)
	}
	f.Fuzz(func(t *testing.T, key, value []byte, tombstone bool) {
		if tombstone {
			value = nil
		}
		c := newConfigStore()
		c.goLive()
		c.apply(key, value)
		snap := c.snapshot()
		for name := range snap.connectors {
			snap.taskIDs(name)
			snap.target(name)
		}
		s := newStatusStore()
		s.apply(key, value)
		for name := range s.connectors {
			s.tasksOf(name)
			s.topicsOf(name)
		}
		o := newOffsetStore()
		o.apply(key, value)
		for _, e := range o.entries {
			o.all(e.connector)
			if _, err := encodeOffsetKey(e.connector, e.partition); err != nil {
				t.Fatalf("a stored partition cannot be encoded again: %v", err)
			}
		}
	})
}

// FuzzConnectorDoc feeds arbitrary JSON and YAML connector files to the
// reader: an error or a flat config, never a panic.
func FuzzConnectorDoc(f *testing.F) {
	for _, seed := range []string{
		`{"name": "a", "config": {"connector.class": "FileStreamSource", "tasks.max": 1, "x": true}}`,
		`{"connector.class": "x", "name": "a"}`,
		"name: a\nconfig:\n  connector.class: x\n  tasks.max: 2\n",
		"connector.class: x\nnested: {a: 1}\n",
		`{"name": 1, "config": []}`,
	} {
		f.Add([]byte(seed), true)
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, asJSON bool) {
		ext := ".yaml"
		if asJSON {
			ext = ".json"
		}
		cfg, err := parseConnectorDoc("fuzz"+ext, ext, b)
		if err == nil && cfg == nil {
			t.Fatal("no error and no config")
		}
	})
}
