package worker

// A running connector: Start, TaskConfigs (again on
// RequestTaskReconfiguration), Stop; the task configs it produces are
// written to the config store by the worker running it.

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-streams/tributary/connect"
)

type connectorRunner struct {
	h      *herder
	name   string
	cc     *connectorConfig
	config map[string]string
	log    *slog.Logger

	ctx      context.Context
	cancel   context.CancelFunc
	finished chan struct{}
	// deleted is set before stop when the connector was deleted: its
	// statuses are gone and must not be written again.
	deleted atomic.Bool

	reconfigure chan struct{} // capacity 1
	raised      chan error    // capacity 1
	mu          sync.Mutex
	target      targetState
	targetCh    chan struct{} // capacity 1
}

func startConnector(h *herder, cc *connectorConfig, target targetState) *connectorRunner {
	ctx, cancel := context.WithCancel(context.Background())
	c := &connectorRunner{h: h, name: cc.Name, cc: cc, config: cc.Raw, log: h.rt.log.With("connector", cc.Name),
		ctx: ctx, cancel: cancel, finished: make(chan struct{}), reconfigure: make(chan struct{}, 1),
		raised: make(chan error, 1), target: target, targetCh: make(chan struct{}, 1)}
	go c.run()
	return c
}

func (c *connectorRunner) stop() { c.cancel() }

func (c *connectorRunner) setTarget(t targetState) {
	c.mu.Lock()
	c.target = t
	c.mu.Unlock()
	select {
	case c.targetCh <- struct{}{}:
	default:
	}
}

func (c *connectorRunner) currentTarget() targetState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.target
}

// ConnectorContext.
func (c *connectorRunner) RequestTaskReconfiguration() {
	select {
	case c.reconfigure <- struct{}{}:
	default:
	}
}

func (c *connectorRunner) RaiseError(err error) {
	select {
	case c.raised <- err:
	default:
	}
}

func (c *connectorRunner) Logger() *slog.Logger { return c.log }

func (c *connectorRunner) report(state string, cause error) {
	if !c.deleted.Load() {
		c.h.rt.reportConnector(c.name, state, cause)
	}
}

func (c *connectorRunner) run() {
	defer close(c.finished)
	conn := c.cc.Plugin.New().(connect.Connector)
	if err := conn.Start(c, c.config); err != nil {
		c.log.Error("connector failed to start", "err", err)
		c.report(stateFailed, fmt.Errorf("start connector: %w", err))
		conn.Stop()
		return
	}
	target := c.currentTarget()
	c.report(stateOf(target), nil)
	failed := func(err error) {
		c.log.Error("connector failed", "err", err)
		c.report(stateFailed, err)
		<-c.ctx.Done()
	}
	if err := c.generateTaskConfigs(conn); err != nil {
		failed(err)
	}
	for c.ctx.Err() == nil {
		select {
		case <-c.ctx.Done():
		case <-c.reconfigure:
			if err := c.generateTaskConfigs(conn); err != nil {
				failed(err)
			}
		case err := <-c.raised:
			failed(err)
		case <-c.targetCh:
			if t := c.currentTarget(); t != target {
				target = t
				c.report(stateOf(target), nil)
			}
		}
	}
	if err := stopWithin(conn.Stop, c.h.cfg.TaskShutdownTimeout); err != nil {
		c.log.Warn("connector Stop failed", "err", err)
	}
	c.report(stateUnassigned, nil)
}

// stopWithin runs stop and waits at most d for it.
func stopWithin(stop func() error, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- stop() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("did not return within %s", d)
	}
}

// generateTaskConfigs asks the connector for task configs and writes them
// when they differ from the stored ones.
func (c *connectorRunner) generateTaskConfigs(conn connect.Connector) error {
	configs, err := conn.TaskConfigs(c.cc.TasksMax)
	if err != nil {
		return fmt.Errorf("task configs: %w", err)
	}
	if len(configs) > c.cc.TasksMax {
		if c.cc.EnforceTasksMax {
			return fmt.Errorf("the connector generated %d task configs but tasks.max is %d", len(configs), c.cc.TasksMax)
		}
		c.log.Warn("the connector generated more task configs than tasks.max", "tasks", len(configs), "tasks.max", c.cc.TasksMax)
	}
	// Resolved secrets go back to their references before the configs
	// are stored (and shown); each task resolves them when it starts.
	for i := range configs {
		configs[i] = mask(configs[i], c.cc.secrets)
	}
	return c.h.writeTaskConfigs(c.ctx, c.name, configs)
}

func sameConfigs(a, b []map[string]string) bool {
	return slices.EqualFunc(a, b, func(x, y map[string]string) bool { return maps.Equal(x, y) })
}
