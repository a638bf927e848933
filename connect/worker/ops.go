package worker

// The operations behind the REST API, answered from the stores and carried
// out by writing to them (the herder loop then acts on the change).

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect"
)

// apiError is an error with the HTTP status Kafka Connect answers it with.
type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func newAPIError(code int, format string, args ...any) error {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

func notFound(name string) error {
	return newAPIError(http.StatusNotFound, "Connector %s not found", name)
}

// ConnectorInfo is a connector's config and tasks (GET /connectors/{name}).
type ConnectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []taskID          `json:"tasks"`
	Type   string            `json:"type"`
}

// StateInfo is one connector's or task's state.
type StateInfo struct {
	ID       *int   `json:"id,omitempty"`
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// ConnectorStatus is GET /connectors/{name}/status.
type ConnectorStatus struct {
	Name      string      `json:"name"`
	Connector StateInfo   `json:"connector"`
	Tasks     []StateInfo `json:"tasks"`
	Type      string      `json:"type"`
}

func connectorType(config map[string]string) string {
	p, err := connect.FindPlugin(config[keyConnectorClass], connect.PluginSource, connect.PluginSink)
	if err != nil {
		return "unknown"
	}
	return string(p.Type)
}

func (h *herder) connectorNames() []string {
	snap := h.configs.snapshot()
	names := slices.Collect(maps.Keys(snap.connectors))
	slices.Sort(names)
	return names
}

func (h *herder) connectorInfo(name string) (ConnectorInfo, error) {
	snap := h.configs.snapshot()
	cfg, ok := snap.connectors[name]
	if !ok {
		return ConnectorInfo{}, notFound(name)
	}
	ids := snap.taskIDs(name)
	if ids == nil {
		ids = []taskID{}
	}
	return ConnectorInfo{Name: name, Config: maps.Clone(cfg), Tasks: ids, Type: connectorType(cfg)}, nil
}

func stateInfo(st status, ok bool, id *int) StateInfo {
	if !ok {
		return StateInfo{ID: id, State: stateUnassigned}
	}
	return StateInfo{ID: id, State: st.State, WorkerID: st.WorkerID, Trace: st.trace()}
}

func (h *herder) connectorStatus(name string) (ConnectorStatus, error) {
	snap := h.configs.snapshot()
	cfg, ok := snap.connectors[name]
	if !ok {
		return ConnectorStatus{}, notFound(name)
	}
	st, known := h.rt.statuses.connector(name)
	out := ConnectorStatus{Name: name, Connector: stateInfo(st, known, nil), Type: connectorType(cfg), Tasks: []StateInfo{}}
	if snap.target(name) == targetStopped && (!known || st.State != stateRestarting) {
		out.Connector.State = stateStopped
	}
	tasks := h.rt.statuses.tasksOf(name)
	for _, id := range snap.taskIDs(name) {
		n := id.Task
		ts, ok := tasks[n]
		out.Tasks = append(out.Tasks, stateInfo(ts, ok, &n))
	}
	return out, nil
}

func (h *herder) taskStatus(id taskID) (StateInfo, error) {
	snap := h.configs.snapshot()
	if _, ok := snap.connectors[id.Connector]; !ok {
		return StateInfo{}, notFound(id.Connector)
	}
	if _, ok := snap.taskConfig(id); !ok {
		return StateInfo{}, newAPIError(http.StatusNotFound, "Task %s not found", id)
	}
	n := id.Task
	st, ok := h.rt.statuses.tasksOf(id.Connector)[id.Task]
	return stateInfo(st, ok, &n), nil
}

// TaskConfig is one entry of GET /connectors/{name}/tasks.
type TaskConfig struct {
	ID     taskID            `json:"id"`
	Config map[string]string `json:"config"`
}

func (h *herder) taskConfigs(name string) ([]TaskConfig, error) {
	snap := h.configs.snapshot()
	if _, ok := snap.connectors[name]; !ok {
		return nil, notFound(name)
	}
	out := []TaskConfig{}
	for _, id := range snap.taskIDs(name) {
		cfg, _ := snap.taskConfig(id)
		out = append(out, TaskConfig{ID: id, Config: maps.Clone(cfg)})
	}
	return out, nil
}

// invalidConfig is the 400 answer to a config that fails validation, in
// Kafka's words, with every error.
func invalidConfig(v *validation) error {
	var lines []string
	for _, k := range v.Keys {
		for _, msg := range k.Errors {
			lines = append(lines, fmt.Sprintf("Invalid value for configuration %s: %s", k.Key.Name, msg))
		}
	}
	return newAPIError(http.StatusBadRequest,
		"Connector configuration is invalid and contains the following %d error(s):\n%s\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
		len(lines), strings.Join(lines, "\n"))
}

// putConnector creates or replaces a connector; created reports which.
// create refuses an existing name (POST /connectors).
func (h *herder) putConnector(ctx context.Context, name string, config map[string]string, initial targetState, create bool) (ConnectorInfo, bool, error) {
	done, err := h.beginWrite(ctx)
	if err != nil {
		return ConnectorInfo{}, false, err
	}
	defer done()
	return h.putConnectorLocked(ctx, name, config, initial, create)
}

// patchConnector merges patch into a connector's config and removes the
// keys in remove (PATCH /connectors/{name}/config, KIP-477).
func (h *herder) patchConnector(ctx context.Context, name string, patch map[string]string, remove []string) (ConnectorInfo, error) {
	done, err := h.beginWrite(ctx)
	if err != nil {
		return ConnectorInfo{}, err
	}
	defer done()
	info, err := h.connectorInfo(name)
	if err != nil {
		return ConnectorInfo{}, err
	}
	cfg := maps.Clone(info.Config)
	maps.Copy(cfg, patch)
	for _, k := range remove {
		delete(cfg, k)
	}
	info, _, err = h.putConnectorLocked(ctx, name, cfg, "", false)
	return info, err
}

func (h *herder) putConnectorLocked(ctx context.Context, name string, config map[string]string, initial targetState, create bool) (ConnectorInfo, bool, error) {
	if strings.TrimSpace(name) == "" {
		return ConnectorInfo{}, false, newAPIError(http.StatusBadRequest, "Connector name must not be empty")
	}
	if given, ok := config[keyName]; ok && given != name {
		return ConnectorInfo{}, false, newAPIError(http.StatusBadRequest,
			"Connector name configuration (%s) doesn't match connector name in the URL (%s)", given, name)
	}
	config = maps.Clone(config)
	config[keyName] = name
	if v := h.cfg.validateConnector(config); v.Config == nil {
		return ConnectorInfo{}, false, invalidConfig(v)
	}
	_, exists := h.configs.snapshot().connectors[name]
	if exists && create {
		return ConnectorInfo{}, false, newAPIError(http.StatusConflict, "Connector %s already exists", name)
	}
	if exists {
		initial = ""
	} else if initial == "" {
		initial = targetStarted
	}
	if err := h.configs.putConnector(ctx, name, config, initial); err != nil {
		return ConnectorInfo{}, false, err
	}
	info, err := h.connectorInfo(name)
	return info, !exists, err
}

func (h *herder) deleteConnector(ctx context.Context, name string) error {
	done, err := h.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer done()
	if _, ok := h.configs.snapshot().connectors[name]; !ok {
		return notFound(name)
	}
	if err := h.configs.removeConnector(ctx, name); err != nil {
		return err
	}
	return h.rt.statuses.removeConnector(ctx, name)
}

func (h *herder) setTargetState(ctx context.Context, name string, st targetState) error {
	done, err := h.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer done()
	if _, ok := h.configs.snapshot().connectors[name]; !ok {
		return notFound(name)
	}
	return h.configs.putTargetState(ctx, name, st)
}

// restartConnector asks for a restart and returns the status to answer a
// restart with includeTasks/onlyFailed with (RESTARTING where it applies).
func (h *herder) restartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) (ConnectorStatus, error) {
	done, err := h.beginWrite(ctx)
	if err != nil {
		return ConnectorStatus{}, err
	}
	defer done()
	st, err := h.connectorStatus(name)
	if err != nil {
		return st, err
	}
	if err := h.configs.requestRestart(ctx, restartRequest{Connector: name, Task: -1, IncludeTasks: includeTasks, OnlyFailed: onlyFailed}); err != nil {
		return st, err
	}
	if !onlyFailed || st.Connector.State == stateFailed {
		st.Connector.State = stateRestarting
	}
	for i := range st.Tasks {
		if includeTasks && (!onlyFailed || st.Tasks[i].State == stateFailed) {
			st.Tasks[i].State = stateRestarting
		}
	}
	return st, nil
}

func (h *herder) restartTask(ctx context.Context, id taskID) error {
	done, err := h.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer done()
	if _, err := h.taskStatus(id); err != nil {
		return err
	}
	return h.configs.requestRestart(ctx, restartRequest{Connector: id.Connector, Task: id.Task})
}

// validate answers /connector-plugins/{class}/config/validate.
func (h *herder) validate(class string, config map[string]string) (*validation, error) {
	config = maps.Clone(config)
	if given := strings.TrimSpace(config[keyConnectorClass]); given == "" {
		config[keyConnectorClass] = class
	} else if p1, e1 := connect.FindPlugin(given, connect.PluginSource, connect.PluginSink); e1 == nil {
		if p2, e2 := connect.FindPlugin(class, connect.PluginSource, connect.PluginSink); e2 == nil && p1.Class != p2.Class {
			return nil, newAPIError(http.StatusBadRequest, "Included connector type %s does not match request type %s", given, class)
		}
	}
	if _, err := connect.FindPlugin(class, connect.PluginSource, connect.PluginSink); err != nil {
		return nil, newAPIError(http.StatusNotFound, "%v", err)
	}
	return h.cfg.validateConnector(config), nil
}

// ConnectorOffset is one partition's offset in the offsets API (KIP-875).
type ConnectorOffset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

// Sink partitions and offsets use these keys in the offsets API.
const (
	sinkTopicKey     = "kafka_topic"
	sinkPartitionKey = "kafka_partition"
	sinkOffsetKey    = "kafka_offset"
)

func (h *herder) connectorOffsets(ctx context.Context, name string) ([]ConnectorOffset, error) {
	snap := h.configs.snapshot()
	cfg, ok := snap.connectors[name]
	if !ok {
		return nil, notFound(name)
	}
	out := []ConnectorOffset{}
	if connectorType(cfg) == string(connect.PluginSink) {
		adm, cl, err := h.admin(cfg)
		if err != nil {
			return nil, err
		}
		defer cl.Close()
		offs, err := adm.FetchOffsets(ctx, groupID(name))
		if err != nil {
			return nil, fmt.Errorf("fetch offsets of group %s: %w", groupID(name), err)
		}
		offs.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil && o.At >= 0 {
				out = append(out, ConnectorOffset{
					Partition: map[string]any{sinkTopicKey: o.Topic, sinkPartitionKey: int64(o.Partition)},
					Offset:    map[string]any{sinkOffsetKey: o.At}})
			}
		})
		return out, nil
	}
	if err := h.rt.offsets.log.readToEnd(ctx); err != nil {
		return nil, err
	}
	for _, p := range h.rt.offsets.all(name) {
		out = append(out, ConnectorOffset{Partition: p.Partition, Offset: p.Offset})
	}
	return out, nil
}

// alterOffsets writes (offsets given) or resets (nil) a stopped
// connector's offsets.
func (h *herder) alterOffsets(ctx context.Context, name string, offsets []ConnectorOffset) error {
	done, err := h.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer done()
	snap := h.configs.snapshot()
	cfg, ok := snap.connectors[name]
	if !ok {
		return notFound(name)
	}
	if snap.target(name) != targetStopped {
		return newAPIError(http.StatusBadRequest, "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
	}
	if connectorType(cfg) == string(connect.PluginSink) {
		return h.alterSinkOffsets(ctx, name, cfg, offsets)
	}
	var positions []connect.Position
	if offsets == nil {
		for _, p := range h.rt.offsets.all(name) {
			positions = append(positions, connect.Position{Partition: p.Partition})
		}
	}
	for i, o := range offsets {
		if o.Partition == nil {
			return newAPIError(http.StatusBadRequest, "offsets[%d]: the source partition may not be null", i)
		}
		positions = append(positions, connect.Position{Partition: o.Partition, Offset: o.Offset})
	}
	if len(positions) == 0 {
		return nil
	}
	return h.rt.offsets.put(ctx, name, positions)
}

func (h *herder) alterSinkOffsets(ctx context.Context, name string, config map[string]string, offsets []ConnectorOffset) error {
	adm, cl, err := h.admin(config)
	if err != nil {
		return err
	}
	defer cl.Close()
	group := groupID(name)
	if offsets == nil {
		fetched, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			return fmt.Errorf("fetch offsets of group %s: %w", group, err)
		}
		set := kadm.TopicsSet{}
		fetched.Each(func(o kadm.OffsetResponse) { set.Add(o.Topic, o.Partition) })
		if len(set) == 0 {
			return nil
		}
		resp, err := adm.DeleteOffsets(ctx, group, set)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("reset offsets of group %s: %w", group, err)
		}
		return nil
	}
	commit := kadm.Offsets{}
	var del kadm.TopicsSet
	for i, o := range offsets {
		topic, ok1 := o.Partition[sinkTopicKey].(string)
		part, ok2 := asInt64(o.Partition[sinkPartitionKey])
		if !ok1 || !ok2 {
			return newAPIError(http.StatusBadRequest, "offsets[%d]: a sink partition needs %q (string) and %q (integer)", i, sinkTopicKey, sinkPartitionKey)
		}
		if o.Offset == nil {
			if del == nil {
				del = kadm.TopicsSet{}
			}
			del.Add(topic, int32(part))
			continue
		}
		off, ok := asInt64(o.Offset[sinkOffsetKey])
		if !ok || off < 0 {
			return newAPIError(http.StatusBadRequest, "offsets[%d]: a sink offset needs %q, a non-negative integer", i, sinkOffsetKey)
		}
		commit.Add(kadm.Offset{Topic: topic, Partition: int32(part), At: off, LeaderEpoch: -1})
	}
	if len(commit) > 0 {
		resp, err := adm.CommitOffsets(ctx, group, commit)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("alter offsets of group %s: %w", group, err)
		}
	}
	if del != nil {
		resp, err := adm.DeleteOffsets(ctx, group, del)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("reset offsets of group %s: %w", group, err)
		}
	}
	return nil
}

func asInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	}
	return 0, false
}

// admin is an admin client with a connector's settings (its
// admin.override.* keys; config as stored, references unresolved).
func (h *herder) admin(config map[string]string) (*kadm.Client, *kgo.Client, error) {
	raw, _, refErrs := h.cfg.resolveConfig(config)
	if len(refErrs) > 0 {
		return nil, nil, fmt.Errorf("connector config: %v", refErrs)
	}
	s, err := h.cfg.connectorClient(roleAdmin, raw)
	if err != nil {
		return nil, nil, err
	}
	cl, err := kgo.NewClient(s.defaultClientID("connector-adminclient-" + config[keyName]).opts()...)
	if err != nil {
		return nil, nil, err
	}
	return kadm.NewClient(cl), cl, nil
}

func (h *herder) activeTopics(name string) ([]string, error) {
	if _, ok := h.configs.snapshot().connectors[name]; !ok {
		return nil, notFound(name)
	}
	return h.rt.statuses.topicsOf(name), nil
}

func (h *herder) resetTopics(ctx context.Context, name string) error {
	if _, ok := h.configs.snapshot().connectors[name]; !ok {
		return notFound(name)
	}
	return h.rt.statuses.resetTopics(ctx, name)
}
