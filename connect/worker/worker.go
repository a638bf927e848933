// Package worker runs Kafka Connect connectors: standalone workers (configs
// from files, offsets in a file) and distributed workers (configs, offsets
// and statuses in Kafka topics, connectors and tasks shared through the
// group protocol), both with Kafka Connect's REST API.
package worker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect"
	// The built-in converters and Kafka's transformations and predicates
	// are always available.
	_ "github.com/tributary-streams/tributary/connect/converter"
	_ "github.com/tributary-streams/tributary/connect/transforms"
)

// Worker is a running worker. Close stops it.
type Worker struct {
	cfg     Config
	rt      *runtime
	herder  *herder
	configs *configStore
	rest    *restServer
	logs    []backingLog
	ready   atomic.Bool

	closeOnce sync.Once
	closeErr  error
}

// StartStandalone starts a standalone worker running the given connector
// configs (each must be valid; the error lists every problem), with source
// offsets in cfg.OffsetStorageFile and the REST API on cfg.RestListen.
// Connectors created over REST live until the worker stops, as in Kafka.
func StartStandalone(ctx context.Context, cfg Config, connectors ...map[string]string) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ExactlyOnceSourceSupport == "enabled" {
		return nil, errors.New("exactly.once.source.support=enabled needs a distributed worker (as in Kafka Connect)")
	}
	var errs []error
	seen := map[string]bool{}
	for i, c := range connectors {
		v := cfg.validateConnector(c)
		if v.Config == nil {
			errs = append(errs, fmt.Errorf("connector %d (%s): %w", i+1, c[keyName], v.Err()))
			continue
		}
		if seen[v.Config.Name] {
			errs = append(errs, fmt.Errorf("connector %d: the name %q is used twice", i+1, v.Config.Name))
		}
		seen[v.Config.Name] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	w := &Worker{cfg: cfg}
	w.rt = &runtime{cfg: &w.cfg, log: cfg.logger(), metrics: newMetrics(), offsets: newOffsetStore(), statuses: newStatusStore()}
	offsets, err := openFileLog(cfg.OffsetStorageFile, w.rt.offsets.apply)
	if err != nil {
		return nil, err
	}
	w.rt.offsets.log = offsets
	w.rt.statuses.log = &memoryLog{apply: w.rt.statuses.apply}
	w.configs = newConfigStore()
	w.configs.log = &memoryLog{apply: w.configs.apply}
	w.herder = newHerder(&w.cfg, w.rt, w.configs)
	w.herder.members = soloMembership{}
	if err := w.startREST(ctx); err != nil {
		return nil, err
	}
	for _, c := range connectors {
		if err := w.configs.putConnector(ctx, c[keyName], c, targetStarted); err != nil {
			w.Close()
			return nil, err
		}
	}
	w.configs.goLive()
	w.herder.start()
	w.ready.Store(true)
	w.rt.log.Info("standalone worker started", "rest", w.URL(), "connectors", len(connectors), "offsets", cfg.OffsetStorageFile)
	return w, nil
}

// StartDistributed starts a distributed worker: it creates the config,
// offset and status topics when they are missing (compacted; the config
// topic with one partition), reads them, joins the workers' group
// (group.id) and runs what the group assigns it, with the REST API on
// cfg.RestListen.
func StartDistributed(ctx context.Context, cfg Config) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.GroupID == "" {
		return nil, errors.New("group.id is empty: set --group-id")
	}
	w := &Worker{cfg: cfg}
	w.rt = &runtime{cfg: &w.cfg, log: cfg.logger(), metrics: newMetrics(), offsets: newOffsetStore(), statuses: newStatusStore(),
		exactlyOnce: cfg.ExactlyOnceSourceSupport == "enabled"}
	w.configs = newConfigStore()
	started := false
	defer func() {
		if !started {
			w.Close()
		}
	}()
	if err := w.createTopics(ctx); err != nil {
		return nil, err
	}
	for _, l := range []struct {
		topic string
		apply func(key, value []byte)
		set   func(backingLog)
	}{
		{cfg.OffsetStorageTopic, w.rt.offsets.apply, func(l backingLog) { w.rt.offsets.log = l }},
		{cfg.StatusStorageTopic, w.rt.statuses.apply, func(l backingLog) { w.rt.statuses.log = l }},
		{cfg.ConfigStorageTopic, w.configs.apply, func(l backingLog) { w.configs.log = l }},
	} {
		kl, err := openTopicLog(&w.cfg, l.topic, l.apply)
		if err != nil {
			return nil, err
		}
		w.logs = append(w.logs, kl)
		l.set(kl)
	}
	readCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, l := range w.logs {
		if err := l.readToEnd(readCtx); err != nil {
			return nil, err
		}
	}
	w.configs.goLive()
	w.herder = newHerder(&w.cfg, w.rt, w.configs)
	if err := w.startREST(ctx); err != nil {
		return nil, err
	}
	members, err := newGroupMembership(&w.cfg, w.rt, w.configs, w.advertisedURL())
	if err != nil {
		return nil, err
	}
	w.herder.members = members
	w.herder.start()
	members.start(w.herder.poke)
	// Serve as a member: REST writes before the first assignment would be
	// refused as "rebalancing".
	select {
	case <-members.joined:
	case <-time.After(cfg.RebalanceTimeout):
		w.rt.log.Warn("not in the workers' group yet; going on", "group", cfg.GroupID)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	started = true
	w.ready.Store(true)
	w.rt.log.Info("distributed worker started", "rest", w.URL(), "group", cfg.GroupID, "worker_id", w.rt.workerID,
		"exactly_once_source", w.rt.exactlyOnce)
	return w, nil
}

// createTopics creates the config, offset and status topics when missing.
func (w *Worker) createTopics(ctx context.Context) error {
	cl, err := kgo.NewClient(w.cfg.clientOpts(roleAdmin)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := ensureTopic(ctx, adm, w.cfg.ConfigStorageTopic, 1, w.cfg.ConfigStorageReplicationFactor, true); err != nil {
		return err
	}
	if err := ensureTopic(ctx, adm, w.cfg.OffsetStorageTopic, w.cfg.OffsetStoragePartitions, w.cfg.OffsetStorageReplicationFactor, false); err != nil {
		return err
	}
	return ensureTopic(ctx, adm, w.cfg.StatusStorageTopic, w.cfg.StatusStoragePartitions, w.cfg.StatusStorageReplicationFactor, false)
}

// startREST starts the REST API (when configured) and settles the worker
// id: the advertised REST host:port.
func (w *Worker) startREST(ctx context.Context) error {
	host, port := w.cfg.RestAdvertisedHost, w.cfg.RestAdvertisedPort
	if w.cfg.RestListen != "" {
		rest, err := startREST(w.herder, w.cfg.RestListen, w.clusterID(ctx), w.ready.Load)
		if err != nil {
			return err
		}
		w.rest = rest
		h, p, _ := net.SplitHostPort(rest.addr())
		if host == "" && h != "::" && h != "0.0.0.0" {
			host = h
		}
		if port == 0 {
			port, _ = strconv.Atoi(p)
		}
	}
	if host == "" {
		host, _ = os.Hostname()
	}
	w.rt.workerID = net.JoinHostPort(host, strconv.Itoa(port))
	return nil
}

// advertisedURL is the REST base URL other workers reach this one at (it
// forwards writes to the leader's): the scheme and the worker id.
func (w *Worker) advertisedURL() string {
	if w.cfg.RestTLS {
		return "https://" + w.rt.workerID
	}
	return "http://" + w.rt.workerID
}

func (w *Worker) clusterID(ctx context.Context) string {
	cl, err := kgo.NewClient(w.cfg.clientOpts(roleAdmin)...)
	if err != nil {
		return ""
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		return ""
	}
	return m.Cluster
}

// URL is the REST API's base URL ("" when it is disabled).
func (w *Worker) URL() string {
	if w.rest == nil {
		return ""
	}
	if w.cfg.RestTLS {
		return "https://" + w.rest.addr()
	}
	return "http://" + w.rest.addr()
}

// WorkerID is how statuses name this worker: its advertised REST host:port.
func (w *Worker) WorkerID() string { return w.rt.workerID }

// Close stops every connector and task (committing offsets), then the REST
// API and the stores.
func (w *Worker) Close() error {
	w.closeOnce.Do(func() {
		if w.herder != nil {
			w.herder.stop()
			if w.herder.members != nil {
				w.herder.members.close()
			}
		}
		if w.rest != nil {
			w.rest.close()
		}
		if w.herder != nil {
			w.herder.fwd.close()
		}
		for _, l := range w.logs {
			l.close()
		}
	})
	return w.closeErr
}

// PutConnector creates or updates a connector, as PUT
// /connectors/{name}/config does (on the leader: a follower forwards it).
func (w *Worker) PutConnector(ctx context.Context, name string, config map[string]string) error {
	_, _, err := w.herder.putConnector(ctx, name, config, "", false)
	var nle *notLeaderError
	if errors.As(err, &nle) {
		return w.herder.forwardCall(ctx, nle, "PUT", "/connectors/"+url.PathEscape(name)+"/config", config)
	}
	return err
}

// DeleteConnector deletes a connector, as DELETE /connectors/{name} does
// (on the leader: a follower forwards it).
func (w *Worker) DeleteConnector(ctx context.Context, name string) error {
	err := w.herder.deleteConnector(ctx, name)
	var nle *notLeaderError
	if errors.As(err, &nle) {
		return w.herder.forwardCall(ctx, nle, "DELETE", "/connectors/"+url.PathEscape(name), nil)
	}
	return err
}

// Status returns a connector's status, as GET /connectors/{name}/status.
func (w *Worker) Status(name string) (ConnectorStatus, error) { return w.herder.connectorStatus(name) }

// Validate checks a connector config and returns nil or a
// *connect.ConfigError naming every bad key.
func (w *Worker) Validate(config map[string]string) error {
	return w.cfg.validateConnector(config).Err()
}

// ValidateConnector checks a connector config against a worker config
// without starting anything.
func ValidateConnector(cfg Config, config map[string]string) error {
	return cfg.validateConnector(config).Err()
}

var _ connect.ConnectorContext = (*connectorRunner)(nil)
