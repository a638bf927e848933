package worker

// Connector configs, task configs and target states, in Kafka Connect's
// config topic format:
//
//	connector-<name>          {"properties":{...}}            null deletes the connector
//	task-<name>-<id>          {"properties":{...}}            applied at the next commit
//	commit-<name>             {"tasks":N}                     the connector now has tasks 0..N-1
//	target-state-<name>       {"state":"PAUSED","state.v2":"STOPPED"}
//	restart-connector-<name>  {"include-tasks":bool,"only-failed":bool}
//	restart-task-<name>-<id>  {}                              (ours: Kafka forwards task restarts over REST)
//
// Restart requests read while catching up at start-up are history and are
// not acted on.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
)

type targetState string

const (
	targetStarted targetState = "STARTED"
	targetPaused  targetState = "PAUSED"
	targetStopped targetState = "STOPPED"
)

// snapshot is the cluster's configuration at one moment. It is a copy: the
// store never changes a snapshot it handed out.
type snapshot struct {
	connectors map[string]map[string]string
	targets    map[string]targetState
	tasks      map[string][]map[string]string
}

func (s *snapshot) target(name string) targetState {
	if t, ok := s.targets[name]; ok {
		return t
	}
	return targetStarted
}

// taskConfig returns the config of a task of the snapshot.
func (s *snapshot) taskConfig(id taskID) (map[string]string, bool) {
	tasks := s.tasks[id.Connector]
	if id.Task < 0 || id.Task >= len(tasks) {
		return nil, false
	}
	return tasks[id.Task], true
}

// taskIDs returns a connector's tasks.
func (s *snapshot) taskIDs(name string) []taskID {
	out := make([]taskID, len(s.tasks[name]))
	for i := range out {
		out[i] = taskID{Connector: name, Task: i}
	}
	return out
}

// restartRequest is a REST restart: of a connector (Task -1), with or
// without its tasks, or of one task.
type restartRequest struct {
	Connector    string
	Task         int
	IncludeTasks bool
	OnlyFailed   bool
}

type configStore struct {
	log backingLog
	// changed and restart are called after a record is applied, with the
	// store's lock released; they must not block.
	changed func()
	restart func(restartRequest)

	mu      sync.Mutex
	snap    snapshot
	pending map[string]map[int]map[string]string
	live    bool
}

func newConfigStore() *configStore {
	return &configStore{
		snap: snapshot{connectors: map[string]map[string]string{}, targets: map[string]targetState{},
			tasks: map[string][]map[string]string{}},
		pending: map[string]map[int]map[string]string{},
		changed: func() {}, restart: func(restartRequest) {},
	}
}

type propertiesValue struct {
	Properties map[string]string `json:"properties"`
}

type commitValue struct {
	Tasks int `json:"tasks"`
}

type targetStateValue struct {
	State   string `json:"state"`
	StateV2 string `json:"state.v2,omitempty"`
}

type restartValue struct {
	IncludeTasks bool `json:"include-tasks"`
	OnlyFailed   bool `json:"only-failed"`
}

// goLive makes later restart requests take effect (call once the initial
// read-to-end is done).
func (s *configStore) goLive() {
	s.mu.Lock()
	s.live = true
	s.mu.Unlock()
}

func (s *configStore) apply(key, value []byte) {
	k := string(key)
	var req *restartRequest
	s.mu.Lock()
	changed := s.applyLocked(k, value, &req)
	live := s.live
	s.mu.Unlock()
	if changed {
		s.changed()
	}
	if req != nil && live {
		s.restart(*req)
	}
}

// applyLocked applies one record and reports whether the snapshot changed.
func (s *configStore) applyLocked(k string, value []byte, req **restartRequest) bool {
	// Copy on write: snapshots handed out share nothing with what changes.
	cow := func() {
		s.snap = snapshot{connectors: maps.Clone(s.snap.connectors), targets: maps.Clone(s.snap.targets), tasks: maps.Clone(s.snap.tasks)}
	}
	switch {
	case strings.HasPrefix(k, "connector-"):
		name := strings.TrimPrefix(k, "connector-")
		cow()
		if value == nil {
			delete(s.snap.connectors, name)
			delete(s.snap.tasks, name)
			delete(s.snap.targets, name)
			delete(s.pending, name)
			return true
		}
		var v propertiesValue
		if json.Unmarshal(value, &v) != nil || v.Properties == nil {
			return false
		}
		s.snap.connectors[name] = v.Properties
		return true
	case strings.HasPrefix(k, "task-"):
		id, ok := parseTaskID(strings.TrimPrefix(k, "task-"))
		var v propertiesValue
		if !ok || value == nil || json.Unmarshal(value, &v) != nil {
			return false
		}
		if s.pending[id.Connector] == nil {
			s.pending[id.Connector] = map[int]map[string]string{}
		}
		s.pending[id.Connector][id.Task] = v.Properties
		return false
	case strings.HasPrefix(k, "commit-"):
		name := strings.TrimPrefix(k, "commit-")
		var v commitValue
		if value == nil || json.Unmarshal(value, &v) != nil || v.Tasks < 0 {
			return false
		}
		tasks := make([]map[string]string, v.Tasks)
		for i := range tasks {
			cfg, ok := s.pending[name][i]
			if !ok {
				return false // an incomplete set of task configs: ignore the commit
			}
			tasks[i] = cfg
		}
		cow()
		s.snap.tasks[name] = tasks
		delete(s.pending, name)
		return true
	case strings.HasPrefix(k, "target-state-"):
		name := strings.TrimPrefix(k, "target-state-")
		cow()
		if value == nil {
			delete(s.snap.targets, name)
			return true
		}
		var v targetStateValue
		if json.Unmarshal(value, &v) != nil {
			return false
		}
		st := targetState(v.StateV2)
		if st == "" {
			st = targetState(v.State)
		}
		switch st {
		case targetStarted, targetPaused, targetStopped:
			s.snap.targets[name] = st
			return true
		}
		return false
	case strings.HasPrefix(k, "restart-connector-"):
		var v restartValue
		if value == nil || json.Unmarshal(value, &v) != nil {
			return false
		}
		*req = &restartRequest{Connector: strings.TrimPrefix(k, "restart-connector-"), Task: -1, IncludeTasks: v.IncludeTasks, OnlyFailed: v.OnlyFailed}
	case strings.HasPrefix(k, "restart-task-"):
		id, ok := parseTaskID(strings.TrimPrefix(k, "restart-task-"))
		if ok && value != nil {
			*req = &restartRequest{Connector: id.Connector, Task: id.Task}
		}
	}
	return false
}

// snapshot returns the current configuration.
func (s *configStore) snapshot() snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap
}

func jsonRecord(key string, v any) (logRecord, error) {
	if v == nil {
		return logRecord{key: []byte(key)}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return logRecord{}, err
	}
	return logRecord{key: []byte(key), value: b}, nil
}

// write sends records and waits until they are applied here.
func (s *configStore) write(ctx context.Context, recs ...logRecord) error {
	if err := s.log.send(ctx, recs...); err != nil {
		return err
	}
	return s.log.readToEnd(ctx)
}

func targetRecord(name string, st targetState) (logRecord, error) {
	v1 := st
	if st == targetStopped {
		v1 = targetPaused // what a reader that predates STOPPED understands
	}
	return jsonRecord("target-state-"+name, targetStateValue{State: string(v1), StateV2: string(st)})
}

// putConnector writes a connector config, with a target state when it is
// new (initial is "" for an existing connector).
func (s *configStore) putConnector(ctx context.Context, name string, config map[string]string, initial targetState) error {
	var recs []logRecord
	if initial != "" {
		r, err := targetRecord(name, initial)
		if err != nil {
			return err
		}
		recs = append(recs, r)
	}
	r, err := jsonRecord("connector-"+name, propertiesValue{Properties: config})
	if err != nil {
		return err
	}
	return s.write(ctx, append(recs, r)...)
}

// removeConnector deletes a connector's config, task configs and state.
func (s *configStore) removeConnector(ctx context.Context, name string) error {
	return s.write(ctx, logRecord{key: []byte("connector-" + name)}, logRecord{key: []byte("target-state-" + name)})
}

// putTaskConfigs replaces a connector's task configs.
func (s *configStore) putTaskConfigs(ctx context.Context, name string, configs []map[string]string) error {
	var recs []logRecord
	for i, c := range configs {
		r, err := jsonRecord("task-"+name+"-"+strconv.Itoa(i), propertiesValue{Properties: c})
		if err != nil {
			return err
		}
		recs = append(recs, r)
	}
	r, err := jsonRecord("commit-"+name, commitValue{Tasks: len(configs)})
	if err != nil {
		return err
	}
	if err := s.write(ctx, append(recs, r)...); err != nil {
		return fmt.Errorf("write task configs of %s: %w", name, err)
	}
	return nil
}

// putTargetState pauses, resumes or stops a connector.
func (s *configStore) putTargetState(ctx context.Context, name string, st targetState) error {
	r, err := targetRecord(name, st)
	if err != nil {
		return err
	}
	return s.write(ctx, r)
}

// requestRestart records a restart request for whichever worker runs it.
func (s *configStore) requestRestart(ctx context.Context, req restartRequest) error {
	var r logRecord
	var err error
	if req.Task < 0 {
		r, err = jsonRecord("restart-connector-"+req.Connector, restartValue{IncludeTasks: req.IncludeTasks, OnlyFailed: req.OnlyFailed})
	} else {
		r, err = jsonRecord("restart-task-"+taskID{Connector: req.Connector, Task: req.Task}.String(), struct{}{})
	}
	if err != nil {
		return err
	}
	return s.write(ctx, r)
}
