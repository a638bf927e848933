package worker

// Connector and task statuses, as Kafka Connect keeps them in its status
// topic: key status-connector-<name> or status-task-<name>-<id>, value
// {"state":..,"trace":..,"worker_id":..,"generation":..}; plus the topics
// each connector has used (status-topic-<topic>:connector-<name>, KIP-558).
// The latest status wins, except that UNASSIGNED (written by a worker that
// stopped a connector or task) is ignored when another worker wrote the
// current status: a worker that stopped a task late cannot overwrite what
// the task's new owner wrote.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The states of Kafka Connect's REST API.
const (
	stateRunning    = "RUNNING"
	statePaused     = "PAUSED"
	stateFailed     = "FAILED"
	stateUnassigned = "UNASSIGNED"
	stateRestarting = "RESTARTING"
	stateStopped    = "STOPPED"
)

type status struct {
	State      string  `json:"state"`
	Trace      *string `json:"trace"`
	WorkerID   string  `json:"worker_id"`
	Generation int64   `json:"generation"`
}

func (s status) trace() string {
	if s.Trace == nil {
		return ""
	}
	return *s.Trace
}

type topicStatus struct {
	Topic struct {
		Name              string `json:"name"`
		Connector         string `json:"connector"`
		Task              int    `json:"task"`
		DiscoverTimestamp int64  `json:"discoverTimestamp"`
	} `json:"topic"`
}

type statusStore struct {
	log backingLog

	mu         sync.Mutex
	connectors map[string]status
	tasks      map[taskID]status
	topics     map[string]map[string]bool // connector -> topics
}

func newStatusStore() *statusStore {
	return &statusStore{connectors: map[string]status{}, tasks: map[taskID]status{}, topics: map[string]map[string]bool{}}
}

func connectorStatusKey(name string) string { return "status-connector-" + name }
func taskStatusKey(id taskID) string {
	return "status-task-" + id.Connector + "-" + strconv.Itoa(id.Task)
}
func topicStatusKey(connector, topic string) string {
	return "status-topic-" + topic + ":connector-" + connector
}

func (s *statusStore) apply(key, value []byte) {
	k := string(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case strings.HasPrefix(k, "status-connector-"):
		name := strings.TrimPrefix(k, "status-connector-")
		if value == nil {
			delete(s.connectors, name)
			return
		}
		var st status
		if json.Unmarshal(value, &st) != nil {
			return
		}
		if old, ok := s.connectors[name]; !ok || supersedes(st, old) {
			s.connectors[name] = st
		}
	case strings.HasPrefix(k, "status-task-"):
		id, ok := parseTaskID(strings.TrimPrefix(k, "status-task-"))
		if !ok {
			return
		}
		if value == nil {
			delete(s.tasks, id)
			return
		}
		var st status
		if json.Unmarshal(value, &st) != nil {
			return
		}
		if old, ok := s.tasks[id]; !ok || supersedes(st, old) {
			s.tasks[id] = st
		}
	case strings.HasPrefix(k, "status-topic-"):
		topic, connector, ok := strings.Cut(strings.TrimPrefix(k, "status-topic-"), ":connector-")
		if !ok {
			return
		}
		if value == nil {
			delete(s.topics[connector], topic)
			return
		}
		if s.topics[connector] == nil {
			s.topics[connector] = map[string]bool{}
		}
		s.topics[connector][topic] = true
	}
}

func supersedes(st, old status) bool {
	return st.State != stateUnassigned || st.WorkerID == old.WorkerID
}

func (s *statusStore) send(ctx context.Context, key string, v any) error {
	var value []byte
	if v != nil {
		var err error
		if value, err = json.Marshal(v); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.log.send(ctx, logRecord{key: []byte(key), value: value}); err != nil {
		return fmt.Errorf("write status %s: %w", key, err)
	}
	return nil
}

func (s *statusStore) putConnector(ctx context.Context, name string, st status) error {
	return s.send(ctx, connectorStatusKey(name), st)
}

func (s *statusStore) putTask(ctx context.Context, id taskID, st status) error {
	return s.send(ctx, taskStatusKey(id), st)
}

func (s *statusStore) connector(name string) (status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.connectors[name]
	return st, ok
}

// tasks returns the statuses of a connector's tasks by id.
func (s *statusStore) tasksOf(name string) map[int]status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]status{}
	for id, st := range s.tasks {
		if id.Connector == name {
			out[id.Task] = st
		}
	}
	return out
}

// removeConnector deletes a connector's statuses (after it was deleted).
func (s *statusStore) removeConnector(ctx context.Context, name string) error {
	var recs []logRecord
	s.mu.Lock()
	recs = append(recs, logRecord{key: []byte(connectorStatusKey(name))})
	for id := range s.tasks {
		if id.Connector == name {
			recs = append(recs, logRecord{key: []byte(taskStatusKey(id))})
		}
	}
	s.mu.Unlock()
	return s.log.send(ctx, recs...)
}

// removeTasksFrom deletes the statuses of tasks numbered from n up (after
// a connector shrank to n tasks).
func (s *statusStore) removeTasksFrom(ctx context.Context, name string, n int) error {
	var recs []logRecord
	s.mu.Lock()
	for id := range s.tasks {
		if id.Connector == name && id.Task >= n {
			recs = append(recs, logRecord{key: []byte(taskStatusKey(id))})
		}
	}
	s.mu.Unlock()
	if len(recs) == 0 {
		return nil
	}
	return s.log.send(ctx, recs...)
}

// putTopic records that a connector's task used topic, once.
func (s *statusStore) putTopic(ctx context.Context, connector, topic string, task int) error {
	s.mu.Lock()
	known := s.topics[connector][topic]
	s.mu.Unlock()
	if known {
		return nil
	}
	var ts topicStatus
	ts.Topic.Name, ts.Topic.Connector, ts.Topic.Task = topic, connector, task
	ts.Topic.DiscoverTimestamp = time.Now().UnixMilli()
	return s.send(ctx, topicStatusKey(connector, topic), ts)
}

// topicsOf returns the topics a connector has used, sorted.
func (s *statusStore) topicsOf(connector string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.topics[connector]))
	for t := range s.topics[connector] {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// resetTopics forgets a connector's topics.
func (s *statusStore) resetTopics(ctx context.Context, connector string) error {
	var recs []logRecord
	for _, t := range s.topicsOf(connector) {
		recs = append(recs, logRecord{key: []byte(topicStatusKey(connector, t))})
	}
	if len(recs) == 0 {
		return nil
	}
	return s.log.send(ctx, recs...)
}

// taskID names a task: connector and index.
type taskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

func (id taskID) String() string { return id.Connector + "-" + strconv.Itoa(id.Task) }

// parseTaskID reads "<connector>-<n>" (the connector name may hold dashes).
func parseTaskID(s string) (taskID, bool) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return taskID{}, false
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil || n < 0 {
		return taskID{}, false
	}
	return taskID{Connector: s[:i], Task: n}, true
}
