package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"time"

	"github.com/tributary-streams/tributary/streams/internal/topology"
	"github.com/tributary-streams/tributary/streams/state"
)

// Interactive queries read a store's committed state: what the owning
// task last committed (at most commit.interval.ms behind its processing).

// ErrNotLocal reports a key whose task runs on another instance; Owner
// says where.
var ErrNotLocal = errors.New("streams: the key's task is not on this instance")

// ErrUnknownStore reports a store the topology does not have or that is
// not queryable.
var ErrUnknownStore = errors.New("streams: no such queryable store")

// NotLocalError names the instance that owns a key.
type NotLocalError struct {
	Store, Task string
	// Owner is the owner's query endpoint, "" if unknown.
	Owner string
}

func (e *NotLocalError) Error() string {
	owner := e.Owner
	if owner == "" {
		owner = "an instance without a query endpoint"
	}
	return fmt.Sprintf("streams: store %s: task %s runs on %s", e.Store, e.Task, owner)
}

func (e *NotLocalError) Unwrap() error { return ErrNotLocal }

// Entry is one result of a query, decoded for JSON.
type Entry struct {
	Key   any `json:"key"`
	Value any `json:"value"`
	// Start is the window start of window stores.
	Start *int64 `json:"window_start,omitempty"`
}

func (in *Instance) queryStore(name string) (*topology.Store, int, error) {
	st := in.g.Stores[name]
	if st == nil || st.Query == nil {
		return nil, 0, fmt.Errorf("%w: %s", ErrUnknownStore, name)
	}
	if st.Global {
		return st, -1, nil
	}
	for _, sub := range in.g.Subtopologies {
		if slices.Contains(sub.Stores, name) {
			return st, sub.ID, nil
		}
	}
	return nil, 0, fmt.Errorf("%w: %s", ErrUnknownStore, name)
}

func (in *Instance) owns(id topology.TaskID) bool {
	o := in.owned.Load()
	return o != nil && slices.Contains(o.active, id)
}

// Owner is the task of a store's key and its owner's query endpoint.
func (in *Instance) Owner(store string, key []byte) (task string, endpoint string, local bool, err error) {
	st, sub, err := in.queryStore(store)
	if err != nil {
		return "", "", false, err
	}
	if st.Global {
		return "global", "", true, nil
	}
	if in.layout == nil {
		return "", "", false, errors.New("streams: not running yet")
	}
	id := topology.TaskID{Subtopology: sub, Partition: st.Query.Partition(key, in.layout.tasks[sub])}
	o := in.owned.Load()
	if o != nil {
		endpoint = o.owners[id.String()]
	}
	return id.String(), endpoint, in.owns(id), nil
}

// view opens a read-only view of one store in one shard.
func (in *Instance) view(shard string, st *topology.Store) (any, error) {
	v, err := in.engine.View(shard)
	if err != nil {
		return nil, err
	}
	switch st.Kind {
	case topology.WindowStore:
		return v.Window(st.Name, st.Window, nil)
	case topology.SessionStore:
		return v.Session(st.Name, st.Session, nil)
	default:
		return v.KeyValue(st.Name, nil)
	}
}

// Get reads one key of a store on this instance: its value, or every
// window of a window store for the key. A key owned elsewhere is a
// *NotLocalError.
func (in *Instance) Get(store string, key []byte) ([]Entry, error) {
	st, _, err := in.queryStore(store)
	if err != nil {
		return nil, err
	}
	task, owner, local, err := in.Owner(store, key)
	if err != nil {
		return nil, err
	}
	if !local {
		return nil, &NotLocalError{Store: store, Task: task, Owner: owner}
	}
	s, err := in.view(task, st)
	if err != nil {
		return nil, err
	}
	switch s := s.(type) {
	case state.KeyValueStore:
		v, ok, err := s.Get(key)
		if err != nil || !ok {
			return nil, err
		}
		k, val, err := st.Query.Decode(key, v)
		if err != nil {
			return nil, err
		}
		return []Entry{{Key: k, Value: val}}, nil
	case state.WindowStore:
		it, err := s.Fetch(key, 0, 1<<62)
		if err != nil {
			return nil, err
		}
		return windowEntries(st, it)
	default:
		return nil, fmt.Errorf("%w: %s is a %s store", ErrUnknownStore, store, st.Kind)
	}
}

func windowEntries(st *topology.Store, it state.WindowIterator) ([]Entry, error) {
	defer it.Close()
	var out []Entry
	for it.Next() {
		k, v, err := st.Query.Decode(it.Key(), it.Value())
		if err != nil {
			return nil, err
		}
		start := it.Start()
		out = append(out, Entry{Key: k, Value: v, Start: &start})
	}
	return out, it.Close()
}

// Range reads the keys in [from, to) (nil: open) of a key-value store
// from every task of it on this instance, in key order within each task.
func (in *Instance) Range(store string, from, to []byte) ([]Entry, error) {
	st, sub, err := in.queryStore(store)
	if err != nil {
		return nil, err
	}
	var shards []string
	if st.Global {
		shards = []string{"global"}
	} else if o := in.owned.Load(); o != nil {
		for _, id := range o.active {
			if id.Subtopology == sub {
				shards = append(shards, id.String())
			}
		}
	}
	sort.Strings(shards)
	var out []Entry
	for _, sh := range shards {
		s, err := in.view(sh, st)
		if err != nil {
			return nil, err
		}
		switch s := s.(type) {
		case state.KeyValueStore:
			it, err := s.Range(from, to)
			if err != nil {
				return nil, err
			}
			for it.Next() {
				k, v, err := st.Query.Decode(it.Key(), it.Value())
				if err != nil {
					it.Close()
					return nil, err
				}
				out = append(out, Entry{Key: k, Value: v})
			}
			if err := it.Close(); err != nil {
				return nil, err
			}
		case state.WindowStore:
			it, err := s.FetchAll(0, 1<<62)
			if err != nil {
				return nil, err
			}
			es, err := windowEntries(st, it)
			if err != nil {
				return nil, err
			}
			out = append(out, es...)
		}
	}
	return out, nil
}

// queryServer serves interactive queries over HTTP:
//
//	GET /stores/{store}/keys/{key}  one key (forwarded to its owner)
//	GET /stores/{store}?from=&to=   a range, from every instance (local=true: this one only)
//	GET /topology                   the described topology and this instance's tasks
//	GET /metrics                    this instance's metrics, in Prometheus' text format
//
// Keys are text: as is for string keys, decimal for int64, JSON otherwise.
type queryServer struct {
	addr   string
	srv    *http.Server
	client *http.Client
}

func (in *Instance) startQueryServer() (*queryServer, error) {
	ln, err := net.Listen("tcp", in.cfg.QueryListen)
	if err != nil {
		return nil, fmt.Errorf("streams: query listen %s: %w", in.cfg.QueryListen, err)
	}
	q := &queryServer{addr: ln.Addr().String(), client: &http.Client{Timeout: 10 * time.Second}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stores/{store}/keys/{key}", func(w http.ResponseWriter, r *http.Request) { in.serveKey(q, w, r) })
	mux.HandleFunc("GET /stores/{store}", func(w http.ResponseWriter, r *http.Request) { in.serveRange(q, w, r) })
	mux.HandleFunc("GET /topology", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"topology": in.g.Describe(), "tasks": in.Metrics().Tasks})
	})
	mux.Handle("GET /metrics", in.prom.handler())
	q.srv = serve(ln, mux)
	return q, nil
}

func (q *queryServer) close() { shutdown(q.srv) }

// serve serves h on ln until shutdown.
func serve(ln net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return srv
}

// shutdown stops a server, letting requests under way finish for a while.
func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func (in *Instance) serveKey(q *queryServer, w http.ResponseWriter, r *http.Request) {
	store := r.PathValue("store")
	st, _, err := in.queryStore(store)
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	key, err := st.Query.Key(r.PathValue("key"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	entries, err := in.Get(store, key)
	var nl *NotLocalError
	switch {
	case errors.As(err, &nl):
		if nl.Owner == "" || nl.Owner == q.addr || r.URL.Query().Get("forwarded") != "" {
			writeError(w, http.StatusServiceUnavailable, err)
			return
		}
		q.forward(w, "http://"+nl.Owner+r.URL.EscapedPath()+"?forwarded=1")
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
	case len(entries) == 0:
		writeError(w, http.StatusNotFound, fmt.Errorf("store %s has no key %s", store, r.PathValue("key")))
	case st.Kind == topology.WindowStore:
		writeJSON(w, http.StatusOK, entries)
	default:
		writeJSON(w, http.StatusOK, entries[0])
	}
}

func (q *queryServer) forward(w http.ResponseWriter, target string) {
	resp, err := q.client.Get(target)
	if err != nil {
		writeError(w, http.StatusBadGateway, fmt.Errorf("forward to the owner: %w", err))
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func (in *Instance) serveRange(q *queryServer, w http.ResponseWriter, r *http.Request) {
	store := r.PathValue("store")
	st, _, err := in.queryStore(store)
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	var from, to []byte
	for name, dst := range map[string]*[]byte{"from": &from, "to": &to} {
		if v := r.URL.Query().Get(name); v != "" {
			if *dst, err = st.Query.Key(v); err != nil {
				writeError(w, http.StatusBadRequest, fmt.Errorf("%s: %w", name, err))
				return
			}
		}
	}
	entries, err := in.Range(store, from, to)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if r.URL.Query().Get("local") == "" && !st.Global {
		others := map[string]bool{}
		if o := in.owned.Load(); o != nil {
			for _, ep := range o.owners {
				if ep != "" && ep != q.addr {
					others[ep] = true
				}
			}
		}
		for ep := range others {
			u := url.URL{Scheme: "http", Host: ep, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
			qs := u.Query()
			qs.Set("local", "1")
			u.RawQuery = qs.Encode()
			resp, err := q.client.Get(u.String())
			if err != nil {
				writeError(w, http.StatusBadGateway, fmt.Errorf("range from %s: %w", ep, err))
				return
			}
			var more []Entry
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || json.NewDecoder(bytes.NewReader(body)).Decode(&more) != nil {
				writeError(w, http.StatusBadGateway, fmt.Errorf("range from %s: %s", ep, bytes.TrimSpace(body)))
				return
			}
			entries = append(entries, more...)
		}
	}
	if entries == nil {
		entries = []Entry{}
	}
	writeJSON(w, http.StatusOK, entries)
}
