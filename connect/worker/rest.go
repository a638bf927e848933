package worker

// The REST API, compatible with Kafka Connect's: same paths, JSON shapes,
// status codes and error body {"error_code": N, "message": "..."}.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tributary-streams/tributary/connect"
)

// maxBody bounds a request body.
const maxBody = 8 << 20

type restServer struct {
	h         *herder
	log       *slog.Logger
	clusterID string
	srv       *http.Server
	ln        net.Listener
	ready     func() bool
}

type route struct {
	method  string
	handler func(w http.ResponseWriter, r *http.Request) error
}

func startREST(h *herder, listen, clusterID string, ready func() bool) (*restServer, error) {
	tlsCfg, err := h.cfg.restTLSConfig()
	if err != nil {
		return nil, err
	}
	users, err := h.cfg.basicAuthUsers()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("REST listener on %s: %w", listen, err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	s := &restServer{h: h, log: h.log, clusterID: clusterID, ln: ln, ready: ready}
	mux := http.NewServeMux()
	routes := map[string][]route{
		"/":                                           {{"GET", s.root}},
		"/health":                                     {{"GET", s.health}},
		"/connectors":                                 {{"GET", s.listConnectors}, {"POST", s.createConnector}},
		"/connectors/{name}":                          {{"GET", s.getConnector}, {"DELETE", s.deleteConnector}},
		"/connectors/{name}/config":                   {{"GET", s.getConfig}, {"PUT", s.putConfig}, {"PATCH", s.patchConfig}},
		"/connectors/{name}/status":                   {{"GET", s.getStatus}},
		"/connectors/{name}/restart":                  {{"POST", s.restart}},
		"/connectors/{name}/pause":                    {{"PUT", s.target(targetPaused, http.StatusAccepted)}},
		"/connectors/{name}/resume":                   {{"PUT", s.target(targetStarted, http.StatusAccepted)}},
		"/connectors/{name}/stop":                     {{"PUT", s.target(targetStopped, http.StatusNoContent)}},
		"/connectors/{name}/tasks":                    {{"GET", s.getTasks}},
		"/connectors/{name}/tasks/{task}/status":      {{"GET", s.getTaskStatus}},
		"/connectors/{name}/tasks/{task}/restart":     {{"POST", s.restartTask}},
		"/connectors/{name}/topics":                   {{"GET", s.getTopics}},
		"/connectors/{name}/topics/reset":             {{"PUT", s.resetTopics}},
		"/connectors/{name}/offsets":                  {{"GET", s.getOffsets}, {"PATCH", s.patchOffsets}, {"DELETE", s.deleteOffsets}},
		"/connector-plugins":                          {{"GET", s.listPlugins}},
		"/connector-plugins/{plugin}/config":          {{"GET", s.pluginConfig}},
		"/connector-plugins/{plugin}/config/validate": {{"PUT", s.validate}},
	}
	for pattern, rs := range routes {
		exact := pattern
		if pattern == "/" {
			exact = "/{$}"
		}
		mux.HandleFunc(exact, s.dispatch(rs))
	}
	mux.Handle("/metrics", promhttp.HandlerFor(h.rt.metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "HTTP 404 Not Found")
	})
	var handler http.Handler = mux
	if users != nil {
		handler = s.requireBasicAuth(users, mux)
	}
	s.srv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		// TLS handshake failures and the like, at debug level.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("REST server stopped", "err", err)
		}
	}()
	return s, nil
}

func (s *restServer) addr() string { return s.ln.Addr().String() }

func (s *restServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.srv.Shutdown(ctx)
}

// dispatch picks the route by method; an error answers with its status and
// Kafka's error body. A panic in a handler is a 500, not a dead worker.
func (s *restServer) dispatch(rs []route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("REST handler panicked", "path", r.URL.Path, "panic", p)
				writeError(w, http.StatusInternalServerError, fmt.Sprintf("internal error: %v", p))
			}
		}()
		for _, rt := range rs {
			if rt.method == r.Method || rt.method == "GET" && r.Method == "HEAD" {
				// The body is kept for forwarding the request to the leader.
				body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
				if err != nil {
					s.fail(w, bodyError(err))
					return
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				var nle *notLeaderError
				if err := rt.handler(w, r); errors.As(err, &nle) {
					s.forward(w, r, body, nle)
				} else if err != nil {
					s.fail(w, err)
				}
				return
			}
		}
		methods := make([]string, len(rs))
		for i, rt := range rs {
			methods[i] = rt.method
		}
		w.Header().Set("Allow", strings.Join(methods, ", "))
		writeError(w, http.StatusMethodNotAllowed, "HTTP 405 Method Not Allowed")
	}
}

func (s *restServer) fail(w http.ResponseWriter, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		writeError(w, ae.code, ae.msg)
	case errors.Is(err, errRebalancing), errors.Is(err, errNoLeader), errors.Is(err, errForwardHops):
		writeError(w, http.StatusConflict, err.Error())
	default:
		s.log.Warn("REST request failed", "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, err = w.Write(append(b, '\n'))
	return err
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"error_code": code, "message": msg})
}

func noContent(w http.ResponseWriter, code int) error {
	w.WriteHeader(code)
	return nil
}

// readJSON decodes a request body into v, naming what is wrong.
func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return newAPIError(http.StatusBadRequest, "request body is empty: want a JSON document")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return newAPIError(http.StatusBadRequest, "malformed JSON request body: %v", err)
	}
	if dec.More() {
		return newAPIError(http.StatusBadRequest, "malformed JSON request body: data after the JSON document")
	}
	return nil
}

func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return newAPIError(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", maxBody)
	}
	return newAPIError(http.StatusBadRequest, "read request body: %v", err)
}

// configMap turns a JSON object of config values into strings: numbers and
// booleans are accepted as their text; null is kept as a deletion mark
// only when allowNull.
func configMap(raw map[string]any, allowNull bool) (map[string]string, []string, error) {
	out := map[string]string{}
	var nulls []string
	for k, v := range raw {
		switch x := v.(type) {
		case string:
			out[k] = x
		case json.Number:
			out[k] = x.String()
		case bool:
			out[k] = strconv.FormatBool(x)
		case nil:
			if !allowNull {
				return nil, nil, newAPIError(http.StatusBadRequest, "config %q is null: want a string value", k)
			}
			nulls = append(nulls, k)
		default:
			return nil, nil, newAPIError(http.StatusBadRequest, "config %q: want a string value, got a JSON %s", k, jsonKind(v))
		}
	}
	return out, nulls, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

func (s *restServer) root(w http.ResponseWriter, _ *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]any{"version": connect.Version, "commit": "tributary", "kafka_cluster_id": s.clusterID})
}

func (s *restServer) health(w http.ResponseWriter, _ *http.Request) error {
	if !s.ready() {
		return writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "starting", "message": "Worker is still starting up."})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."})
}

func (s *restServer) listConnectors(w http.ResponseWriter, r *http.Request) error {
	names := s.h.connectorNames()
	expand := r.URL.Query()["expand"]
	if len(expand) == 0 {
		return writeJSON(w, http.StatusOK, names)
	}
	out := map[string]map[string]any{}
	for _, name := range names {
		entry := map[string]any{}
		for _, e := range expand {
			switch e {
			case "status":
				if st, err := s.h.connectorStatus(name); err == nil {
					entry["status"] = st
				}
			case "info":
				if info, err := s.h.connectorInfo(name); err == nil {
					entry["info"] = info
				}
			default:
				return newAPIError(http.StatusBadRequest, "expand=%s: accepted status, info", e)
			}
		}
		out[name] = entry
	}
	return writeJSON(w, http.StatusOK, out)
}

type createRequest struct {
	Name         *string        `json:"name"`
	Config       map[string]any `json:"config"`
	InitialState string         `json:"initial_state"`
}

func (s *restServer) createConnector(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.Name == nil || strings.TrimSpace(*req.Name) == "" {
		return newAPIError(http.StatusBadRequest, `Connector name must be given: {"name": "...", "config": {...}}`)
	}
	if req.Config == nil {
		return newAPIError(http.StatusBadRequest, `Connector config must be given: {"name": "...", "config": {...}}`)
	}
	cfg, _, err := configMap(req.Config, false)
	if err != nil {
		return err
	}
	initial := targetStarted
	switch strings.ToUpper(req.InitialState) {
	case "", "RUNNING":
	case "PAUSED":
		initial = targetPaused
	case "STOPPED":
		initial = targetStopped
	default:
		return newAPIError(http.StatusBadRequest, "initial_state %q: accepted RUNNING, PAUSED, STOPPED", req.InitialState)
	}
	info, _, err := s.h.putConnector(r.Context(), *req.Name, cfg, initial, true)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/connectors/"+*req.Name)
	return writeJSON(w, http.StatusCreated, info)
}

func (s *restServer) getConnector(w http.ResponseWriter, r *http.Request) error {
	info, err := s.h.connectorInfo(r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}

func (s *restServer) deleteConnector(w http.ResponseWriter, r *http.Request) error {
	if err := s.h.deleteConnector(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	return noContent(w, http.StatusNoContent)
}

func (s *restServer) getConfig(w http.ResponseWriter, r *http.Request) error {
	info, err := s.h.connectorInfo(r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info.Config)
}

func (s *restServer) putConfig(w http.ResponseWriter, r *http.Request) error {
	var raw map[string]any
	if err := readJSON(r, &raw); err != nil {
		return err
	}
	if raw == nil {
		return newAPIError(http.StatusBadRequest, "request body must be a JSON object of config keys and values")
	}
	cfg, _, err := configMap(raw, false)
	if err != nil {
		return err
	}
	info, created, err := s.h.putConnector(r.Context(), r.PathValue("name"), cfg, "", false)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
		w.Header().Set("Location", "/connectors/"+r.PathValue("name"))
	}
	return writeJSON(w, code, info)
}

// patchConfig merges keys into the config; a null value removes a key
// (KIP-477).
func (s *restServer) patchConfig(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var raw map[string]any
	if err := readJSON(r, &raw); err != nil {
		return err
	}
	patch, nulls, err := configMap(raw, true)
	if err != nil {
		return err
	}
	info, err := s.h.patchConnector(r.Context(), name, patch, nulls)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}

func (s *restServer) getStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := s.h.connectorStatus(r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, newAPIError(http.StatusBadRequest, "%s=%s: want true or false", name, v)
	}
	return b, nil
}

func (s *restServer) restart(w http.ResponseWriter, r *http.Request) error {
	include, err := boolParam(r, "includeTasks")
	if err != nil {
		return err
	}
	onlyFailed, err := boolParam(r, "onlyFailed")
	if err != nil {
		return err
	}
	st, err := s.h.restartConnector(r.Context(), r.PathValue("name"), include, onlyFailed)
	if err != nil {
		return err
	}
	if !include && !onlyFailed {
		return noContent(w, http.StatusNoContent)
	}
	return writeJSON(w, http.StatusAccepted, st)
}

func (s *restServer) target(st targetState, code int) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.h.setTargetState(r.Context(), r.PathValue("name"), st); err != nil {
			return err
		}
		return noContent(w, code)
	}
}

func (s *restServer) getTasks(w http.ResponseWriter, r *http.Request) error {
	tasks, err := s.h.taskConfigs(r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tasks)
}

func taskParam(r *http.Request) (taskID, error) {
	n, err := strconv.Atoi(r.PathValue("task"))
	if err != nil || n < 0 {
		return taskID{}, newAPIError(http.StatusNotFound, "Task %s not found: want a task number", r.PathValue("task"))
	}
	return taskID{Connector: r.PathValue("name"), Task: n}, nil
}

func (s *restServer) getTaskStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := taskParam(r)
	if err != nil {
		return err
	}
	st, err := s.h.taskStatus(id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (s *restServer) restartTask(w http.ResponseWriter, r *http.Request) error {
	id, err := taskParam(r)
	if err != nil {
		return err
	}
	if err := s.h.restartTask(r.Context(), id); err != nil {
		return err
	}
	return noContent(w, http.StatusNoContent)
}

func (s *restServer) getTopics(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	topics, err := s.h.activeTopics(name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{name: map[string]any{"topics": topics}})
}

func (s *restServer) resetTopics(w http.ResponseWriter, r *http.Request) error {
	if err := s.h.resetTopics(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	return noContent(w, http.StatusNoContent)
}

func (s *restServer) getOffsets(w http.ResponseWriter, r *http.Request) error {
	offs, err := s.h.connectorOffsets(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"offsets": offs})
}

func (s *restServer) patchOffsets(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Offsets []ConnectorOffset `json:"offsets"`
	}
	if err := readJSON(r, &body); err != nil {
		return err
	}
	if body.Offsets == nil {
		return newAPIError(http.StatusBadRequest, `the request body must hold {"offsets": [{"partition": {...}, "offset": {...}}, ...]}`)
	}
	for i := range body.Offsets {
		body.Offsets[i].Partition = plainNumbers(body.Offsets[i].Partition)
		body.Offsets[i].Offset = plainNumbers(body.Offsets[i].Offset)
	}
	if err := s.h.alterOffsets(r.Context(), r.PathValue("name"), body.Offsets); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"message": "The offsets for this connector have been altered successfully"})
}

// plainNumbers turns json.Number values into int64 or float64, as offsets
// read back from the store are.
func plainNumbers(m map[string]any) map[string]any {
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				m[k] = i
			} else if f, err := n.Float64(); err == nil {
				m[k] = f
			}
		}
	}
	return m
}

func (s *restServer) deleteOffsets(w http.ResponseWriter, r *http.Request) error {
	if err := s.h.alterOffsets(r.Context(), r.PathValue("name"), nil); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"message": "The offsets for this connector have been reset successfully"})
}

type pluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version,omitempty"`
}

func (s *restServer) listPlugins(w http.ResponseWriter, r *http.Request) error {
	connectorsOnly := true
	if v := r.URL.Query().Get("connectorsOnly"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return newAPIError(http.StatusBadRequest, "connectorsOnly=%s: want true or false", v)
		}
		connectorsOnly = b
	}
	types := []connect.PluginType{connect.PluginSource, connect.PluginSink}
	if !connectorsOnly {
		types = nil
	}
	out := []pluginInfo{}
	for _, p := range connect.Plugins(types...) {
		out = append(out, pluginInfo{Class: p.Class, Type: string(p.Type), Version: p.Version})
	}
	return writeJSON(w, http.StatusOK, out)
}

type configKeyJSON struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Required      bool     `json:"required"`
	DefaultValue  *string  `json:"default_value"`
	Importance    string   `json:"importance"`
	Documentation string   `json:"documentation"`
	Group         *string  `json:"group"`
	Width         string   `json:"width"`
	DisplayName   string   `json:"display_name"`
	Dependents    []string `json:"dependents"`
	Order         int      `json:"order"`
}

func keyJSON(k connect.ConfigKey) configKeyJSON {
	out := configKeyJSON{Name: k.Name, Type: string(k.Type), Required: k.Required, Importance: string(k.Importance),
		Documentation: k.Documentation, Width: string(k.Width), DisplayName: k.DisplayName, Dependents: k.Dependents, Order: k.OrderInGroup}
	if out.Dependents == nil {
		out.Dependents = []string{}
	}
	if !k.Required {
		d := k.Default
		out.DefaultValue = &d
	}
	if k.Group != "" {
		g := k.Group
		out.Group = &g
	}
	if out.Order == 0 {
		out.Order = -1
	}
	return out
}

func (s *restServer) pluginConfig(w http.ResponseWriter, r *http.Request) error {
	p, err := connect.FindPlugin(r.PathValue("plugin"))
	if err != nil {
		return newAPIError(http.StatusNotFound, "%v", err)
	}
	def := p.Config()
	out := []configKeyJSON{}
	for _, k := range def.Keys() {
		out = append(out, keyJSON(k))
	}
	return writeJSON(w, http.StatusOK, out)
}

type configValueJSON struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}

type configInfoJSON struct {
	Definition configKeyJSON   `json:"definition"`
	Value      configValueJSON `json:"value"`
}

type configInfosJSON struct {
	Name       string           `json:"name"`
	ErrorCount int              `json:"error_count"`
	Groups     []string         `json:"groups"`
	Configs    []configInfoJSON `json:"configs"`
}

func validationJSON(v *validation) configInfosJSON {
	out := configInfosJSON{Name: v.Class, ErrorCount: v.ErrorCount(), Groups: v.Groups, Configs: []configInfoJSON{}}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	for _, k := range v.Keys {
		val := configValueJSON{Name: k.Key.Name, RecommendedValues: []string{}, Errors: slices.Clone(k.Errors), Visible: true}
		if k.Given || !k.Key.Required {
			x := k.Value
			val.Value = &x
		}
		if val.Errors == nil {
			val.Errors = []string{}
		}
		out.Configs = append(out.Configs, configInfoJSON{Definition: keyJSON(k.Key), Value: val})
	}
	return out
}

func (s *restServer) validate(w http.ResponseWriter, r *http.Request) error {
	var raw map[string]any
	if err := readJSON(r, &raw); err != nil {
		return err
	}
	cfg, _, err := configMap(raw, false)
	if err != nil {
		return err
	}
	v, err := s.h.validate(r.PathValue("plugin"), cfg)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, validationJSON(v))
}
