package worker

// What source and sink task runners share: identity, the target state the
// herder sets (started or paused), and the stop request.

import (
	"context"
	"log/slog"
	"sync"
)

// taskRunner is a running task as the herder sees it.
type taskRunner interface {
	base() *taskBase
}

type taskBase struct {
	rt     *runtime
	id     taskID
	cc     *connectorConfig
	config map[string]string
	log    *slog.Logger
	m      *taskMetrics

	// ctx is cancelled by stop; the runner's goroutine then winds down and
	// closes finished.
	ctx      context.Context
	cancel   context.CancelFunc
	finished chan struct{}

	// mu guards target; targetCh (capacity 1) signals a change to the
	// runner's goroutine.
	mu       sync.Mutex
	target   targetState
	targetCh chan struct{}
}

func newTaskBase(rt *runtime, id taskID, cc *connectorConfig, config map[string]string, target targetState) *taskBase {
	ctx, cancel := context.WithCancel(context.Background())
	return &taskBase{rt: rt, id: id, cc: cc, config: config, log: rt.taskLogger(id), m: rt.metrics.task(id),
		ctx: ctx, cancel: cancel, finished: make(chan struct{}), target: target, targetCh: make(chan struct{}, 1)}
}

func (b *taskBase) base() *taskBase { return b }

// setTarget asks the task to pause or resume.
func (b *taskBase) setTarget(t targetState) {
	b.mu.Lock()
	b.target = t
	b.mu.Unlock()
	select {
	case b.targetCh <- struct{}{}:
	default:
	}
}

func (b *taskBase) currentTarget() targetState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.target
}

// stop asks the task to stop; finished closes when it has.
func (b *taskBase) stop() { b.cancel() }

// taskLog is the slog handle passed to plugins through their contexts.
func (b *taskBase) Logger() *slog.Logger { return b.log }
