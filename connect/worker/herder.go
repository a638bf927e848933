package worker

// The herder makes this worker run what it is assigned (Kafka Connect's
// Herder): it compares the config snapshot and this worker's assignment
// with the connectors and tasks it runs, stops what is no longer wanted or
// whose config changed, starts what is missing, and applies target states
// and restart requests. Standalone and distributed workers differ only in
// how the assignment is decided (membership).
//
// One goroutine (loop) does all starting and stopping; the stores and the
// membership only wake it. REST handlers read through the stores.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/tributary-streams/tributary/connect"
)

// membership decides what this worker runs.
type membership interface {
	// assignment returns the connectors and tasks this worker should run
	// given the snapshot.
	assignment(snap snapshot) (connectors map[string]bool, tasks map[taskID]bool)
	// reconciled is called after the herder applied an assignment (stopped
	// what was revoked).
	reconciled()
	// rebalancing reports whether the assignment is being renegotiated
	// (REST writes answer 409 meanwhile).
	rebalancing() bool
	// leadership reports whether this worker carries out REST writes itself,
	// and otherwise the REST URL of the worker that does (the group's
	// leader; "" while it is unknown).
	leadership() (self bool, url string)
	close()
}

// soloMembership assigns everything to this worker: standalone mode.
type soloMembership struct{}

func (soloMembership) assignment(snap snapshot) (map[string]bool, map[taskID]bool) {
	conns, tasks := map[string]bool{}, map[taskID]bool{}
	for name := range snap.connectors {
		conns[name] = true
		for _, id := range snap.taskIDs(name) {
			tasks[id] = true
		}
	}
	return conns, tasks
}
func (soloMembership) reconciled()                {}
func (soloMembership) rebalancing() bool          { return false }
func (soloMembership) leadership() (bool, string) { return true, "" }
func (soloMembership) close()                     {}

type runningTask struct {
	runner        taskRunner
	config        map[string]string // the task config it started with
	connectorConf map[string]string // the connector config it started with
}

type herder struct {
	cfg     *Config
	rt      *runtime
	configs *configStore
	members membership
	log     *slog.Logger

	wake     chan struct{} // capacity 1: reconcile soon
	restarts chan restartRequest
	stopCh   chan struct{}
	done     chan struct{}

	// Owned by the loop goroutine.
	connectors map[string]*connectorRunner
	tasks      map[taskID]*runningTask

	// taskMu serialises task config writes of connectors run here.
	taskMu sync.Mutex
	// writeMu serialises REST writes on the leader (forward.go).
	writeMu sync.Mutex
	fwd     *forwarder

	started bool // set by start, read by stop: both on the worker's goroutine
}

// newHerder returns a herder; set members before start.
func newHerder(cfg *Config, rt *runtime, configs *configStore) *herder {
	h := &herder{cfg: cfg, rt: rt, configs: configs, log: rt.log,
		wake: make(chan struct{}, 1), restarts: make(chan restartRequest, 64), stopCh: make(chan struct{}), done: make(chan struct{}),
		connectors: map[string]*connectorRunner{}, tasks: map[taskID]*runningTask{}}
	h.fwd = newForwarder(cfg)
	configs.changed = h.poke
	configs.restart = func(r restartRequest) {
		select {
		case h.restarts <- r:
		default:
			h.log.Warn("restart requests are arriving faster than they are handled; dropping one", "connector", r.Connector)
		}
	}
	return h
}

// poke asks for a reconcile; it never blocks.
func (h *herder) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *herder) start() {
	h.started = true
	go h.loop()
}

func (h *herder) loop() {
	defer close(h.done)
	h.reconcile()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-h.stopCh:
			h.stopAll()
			return
		case <-h.wake:
			h.reconcile()
		case r := <-h.restarts:
			h.restart(r)
			h.reconcile()
		case <-tick.C:
			// A periodic pass picks up anything a lost wake-up missed.
			h.reconcile()
		}
	}
}

// stop stops every connector and task and the loop.
func (h *herder) stop() {
	if !h.started {
		return
	}
	close(h.stopCh)
	<-h.done
}

func (h *herder) reconcile() {
	snap := h.configs.snapshot()
	wantConns, wantTasks := h.members.assignment(snap)
	defer h.members.reconciled()

	// Stop what is no longer wanted, or runs an outdated config.
	var stopping []<-chan struct{}
	for name, c := range h.connectors {
		cfg, exists := snap.connectors[name]
		if !wantConns[name] || !exists || snap.target(name) == targetStopped || !maps.Equal(cfg, c.config) {
			if !exists {
				c.deleted.Store(true)
			}
			c.stop()
			stopping = append(stopping, c.finished)
			delete(h.connectors, name)
		}
	}
	for id, t := range h.tasks {
		cfg, ok := snap.taskConfig(id)
		conn, exists := snap.connectors[id.Connector]
		if !wantTasks[id] || !ok || !exists || snap.target(id.Connector) == targetStopped ||
			!maps.Equal(cfg, t.config) || !maps.Equal(conn, t.connectorConf) {
			b := t.runner.base()
			if !exists || !wantTasks[id] {
				h.rt.metrics.forgetTask(id)
			}
			b.stop()
			stopping = append(stopping, b.finished)
			delete(h.tasks, id)
		}
	}
	h.waitAll(stopping)

	// Start what is missing; apply target states to the rest.
	for name := range wantConns {
		cfg, ok := snap.connectors[name]
		if !ok {
			continue
		}
		target := snap.target(name)
		if c, running := h.connectors[name]; running {
			c.setTarget(target)
			continue
		}
		if target == targetStopped {
			h.markStopped(name, snap)
			continue
		}
		v := h.cfg.validateConnector(cfg)
		if v.Config == nil {
			h.rt.reportConnector(name, stateFailed, v.Err())
			continue
		}
		h.connectors[name] = startConnector(h, v.Config, target)
	}
	for id := range wantTasks {
		cfg, ok := snap.taskConfig(id)
		conn, exists := snap.connectors[id.Connector]
		if !ok || !exists {
			continue
		}
		target := snap.target(id.Connector)
		if t, running := h.tasks[id]; running {
			t.runner.base().setTarget(target)
			continue
		}
		if target == targetStopped {
			continue
		}
		v := h.cfg.validateConnector(conn)
		if v.Config == nil {
			h.rt.reportTask(id, h.rt.metrics.task(id), stateFailed, v.Err())
			h.tasks[id] = &runningTask{runner: failedTask(h.rt, id), config: cfg, connectorConf: conn}
			continue
		}
		taskCfg, _, refErrs := h.cfg.resolveConfig(cfg)
		if len(refErrs) > 0 {
			h.rt.reportTask(id, h.rt.metrics.task(id), stateFailed, fmt.Errorf("task config: %v", refErrs))
			h.tasks[id] = &runningTask{runner: failedTask(h.rt, id), config: cfg, connectorConf: conn}
			continue
		}
		var r taskRunner
		if v.Config.Plugin.Type == connect.PluginSource {
			r = startSourceTask(h.rt, id, v.Config, taskCfg, target)
		} else {
			r = startSinkTask(h.rt, id, v.Config, taskCfg, target)
		}
		h.tasks[id] = &runningTask{runner: r, config: cfg, connectorConf: conn}
	}
}

// failedTask is a placeholder for a task that could not be built: it is
// finished from the start, so the herder does not retry it until a
// restart or config change.
func failedTask(rt *runtime, id taskID) taskRunner {
	b := newTaskBase(rt, id, nil, nil, targetStarted)
	close(b.finished)
	return b
}

// markStopped makes a stopped connector's status STOPPED and its task
// configs empty (KIP-875), once.
func (h *herder) markStopped(name string, snap snapshot) {
	if st, ok := h.rt.statuses.connector(name); !ok || st.State != stateStopped {
		h.rt.reportConnector(name, stateStopped, nil)
	}
	if len(snap.tasks[name]) > 0 {
		go func() {
			if err := h.writeTaskConfigs(context.Background(), name, []map[string]string{}); err != nil {
				h.log.Warn("could not clear the task configs of a stopped connector", "connector", name, "err", err)
			}
		}()
	}
}

func (h *herder) waitAll(chans []<-chan struct{}) {
	deadline := time.After(h.cfg.TaskShutdownTimeout + h.cfg.OffsetFlushTimeout + 5*time.Second)
	for _, c := range chans {
		select {
		case <-c:
		case <-deadline:
			h.log.Warn("a connector or task did not stop in time; abandoning it")
			return
		}
	}
}

func (h *herder) stopAll() {
	var stopping []<-chan struct{}
	for name, c := range h.connectors {
		c.stop()
		stopping = append(stopping, c.finished)
		delete(h.connectors, name)
	}
	for id, t := range h.tasks {
		b := t.runner.base()
		b.stop()
		stopping = append(stopping, b.finished)
		delete(h.tasks, id)
	}
	h.waitAll(stopping)
}

// restart carries out a restart request for what runs here: the runners
// are stopped, so the reconcile that follows starts them again.
func (h *herder) restart(r restartRequest) {
	var stopping []<-chan struct{}
	failedOnly := func(st status, ok bool) bool { return !r.OnlyFailed || ok && st.State == stateFailed }
	if r.Task >= 0 {
		id := taskID{Connector: r.Connector, Task: r.Task}
		if t, ok := h.tasks[id]; ok {
			h.rt.reportTask(id, t.runner.base().m, stateRestarting, nil)
			t.runner.base().stop()
			stopping = append(stopping, t.runner.base().finished)
			delete(h.tasks, id)
		}
		h.waitAll(stopping)
		return
	}
	if c, ok := h.connectors[r.Connector]; ok && failedOnly(h.rt.statuses.connector(r.Connector)) {
		h.rt.reportConnector(r.Connector, stateRestarting, nil)
		c.stop()
		stopping = append(stopping, c.finished)
		delete(h.connectors, r.Connector)
	}
	if r.IncludeTasks {
		statuses := h.rt.statuses.tasksOf(r.Connector)
		for id, t := range h.tasks {
			st, ok := statuses[id.Task]
			if id.Connector != r.Connector || !failedOnly(st, ok) {
				continue
			}
			h.rt.reportTask(id, t.runner.base().m, stateRestarting, nil)
			t.runner.base().stop()
			stopping = append(stopping, t.runner.base().finished)
			delete(h.tasks, id)
		}
	}
	h.waitAll(stopping)
}

// writeTaskConfigs stores a connector's task configs if they changed.
func (h *herder) writeTaskConfigs(ctx context.Context, name string, configs []map[string]string) error {
	h.taskMu.Lock()
	defer h.taskMu.Unlock()
	snap := h.configs.snapshot()
	if _, exists := snap.connectors[name]; !exists {
		return nil
	}
	old, had := snap.tasks[name]
	if had && sameConfigs(old, configs) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := h.configs.putTaskConfigs(ctx, name, configs); err != nil {
		return err
	}
	if len(configs) < len(old) {
		if err := h.rt.statuses.removeTasksFrom(ctx, name, len(configs)); err != nil {
			h.log.Warn("could not remove statuses of removed tasks", "connector", name, "err", err)
		}
	}
	return nil
}

// errRebalancing is answered with 409 while the workers rebalance.
var errRebalancing = errors.New("Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)")

// rebalanceWait is how long a REST write waits for a rebalance in progress
// to end before it is refused with 409. Rebalances triggered by creating a
// connector take milliseconds; the wait spares clients a retry for those.
const rebalanceWait = 3 * time.Second

// checkWritable refuses writes during a rebalance that does not end within
// rebalanceWait.
func (h *herder) checkWritable(ctx context.Context) error {
	deadline := time.Now().Add(rebalanceWait)
	for h.members.rebalancing() {
		if time.Now().After(deadline) || sleepCtx(ctx, 20*time.Millisecond) != nil {
			return fmt.Errorf("%w", errRebalancing)
		}
	}
	return nil
}
