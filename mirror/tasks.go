package mirror

// Tasks: a flow's source partitions are split among tasks.max tasks by a
// fixed hash, and the tasks among the mirror processes running the flow.
// The processes form a consumer group on the target over the positions
// topic, which has a partition per task: whoever is assigned partition i
// runs task i. The group never fetches; it only assigns. A fixed task
// number per partition set is what lets an exactly-once task fence its
// predecessor: both use the transactional ID of the task.

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// taskOf is the task that copies a source partition. Partitions of one
// topic go to consecutive tasks.
func taskOf(topic string, partition int32, tasks int) int {
	h := fnv.New32a()
	h.Write([]byte(topic))
	return int((uint64(h.Sum32()) + uint64(partition)) % uint64(tasks))
}

// runningTask is a task this process runs.
type runningTask struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// runTasks joins the flow's task group and runs the tasks assigned to this
// process until ctx ends.
//
// Order of events: kgo calls the assign and revoke callbacks from its
// group goroutine, one at a time; revoke stops the tasks and waits for
// them to finish (their last positions written) before returning, so the
// group hands a task to another process only after this one let go. The
// tasks map is touched only from those callbacks and, after the client is
// closed (which runs revoke for what is still assigned), from here.
func (f *flow) runTasks(ctx context.Context, ep *endpoints, watch *topicWatch) error {
	var (
		mu      sync.Mutex
		running = map[int]*runningTask{}
	)
	start := func(task int) {
		mu.Lock()
		defer mu.Unlock()
		if running[task] != nil {
			return
		}
		tctx, cancel := context.WithCancel(ctx)
		rt := &runningTask{cancel: cancel, done: make(chan struct{})}
		running[task] = rt
		f.status.setTask(task, true)
		go func() {
			defer close(rt.done)
			f.runTask(tctx, ep, watch, task)
		}()
	}
	stop := func(task int) {
		mu.Lock()
		rt := running[task]
		delete(running, task)
		mu.Unlock()
		if rt == nil {
			return
		}
		rt.cancel()
		<-rt.done
		f.status.setTask(task, false)
	}
	tasksOf := func(assigned map[string][]int32) []int {
		var out []int
		for _, p := range assigned[f.positionsTopic] {
			if int(p) < f.cfg.TasksMax {
				out = append(out, int(p))
			} else {
				// The positions topic has more partitions than tasks.max:
				// another process runs a larger tasks.max, or this one
				// was lowered. A task handed here runs nowhere.
				f.log.Error("the task group assigned a task beyond tasks.max: every process of a flow must run the same tasks.max",
					"task", p, "tasks.max", f.cfg.TasksMax)
			}
		}
		return out
	}
	cl, err := f.newClient(f.tgt, adminClient,
		kgo.ConsumerGroup(f.taskGroup),
		kgo.ConsumeTopics(f.positionsTopic),
		kgo.DisableAutoCommit(),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.SessionTimeout(f.cfg.SessionTimeout),
		kgo.HeartbeatInterval(f.cfg.HeartbeatInterval),
		kgo.RebalanceTimeout(f.cfg.RebalanceTimeout),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
			for _, t := range tasksOf(assigned) {
				f.log.Info("task assigned", "task", t)
				start(t)
			}
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
			for _, t := range tasksOf(revoked) {
				f.log.Info("task revoked", "task", t)
				stop(t)
			}
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
			for _, t := range tasksOf(lost) {
				f.log.Warn("task lost (group session ended)", "task", t)
				stop(t)
			}
		}),
	)
	if err != nil {
		return err
	}
	// The group only assigns; nothing is fetched from the positions topic
	// through it.
	cl.PauseFetchTopics(f.positionsTopic)
	<-ctx.Done()
	closed := make(chan struct{})
	go func() { cl.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(f.cfg.RebalanceTimeout):
		f.log.Warn("leaving the task group timed out")
	}
	mu.Lock()
	left := make([]int, 0, len(running))
	for t := range running {
		left = append(left, t)
	}
	mu.Unlock()
	for _, t := range left {
		stop(t)
	}
	return nil
}

// runTask runs one task until ctx ends; the owner of task 0 also runs the
// flow's heartbeats and checkpoints. Each part restarts on its own after
// a failure, with backoff, so a checkpoint problem does not stop copying.
func (f *flow) runTask(ctx context.Context, ep *endpoints, watch *topicWatch, task int) {
	var wg sync.WaitGroup
	run := func(what string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			retry(ctx, 500*time.Millisecond, fn, func(err error) {
				f.status.setErr(fmt.Errorf("task %d %s: %w", task, what, err))
			})
		}()
	}
	run("copy", func(ctx context.Context) error { return f.copyTask(ctx, ep, watch, task) })
	if task == 0 && f.cfg.EmitHeartbeatsEnabled {
		run("heartbeats", f.emitHeartbeats)
	}
	if task == 0 && f.cfg.EmitCheckpointsEnabled {
		run("checkpoints", func(ctx context.Context) error { return f.checkpointLoop(ctx, ep, watch) })
	}
	wg.Wait()
}

// retry runs fn until ctx ends, calling onErr with each failure and
// waiting before the next try: initial, doubling to 30 s, back to initial
// after a run that lasted a minute.
func retry(ctx context.Context, initial time.Duration, fn func(context.Context) error, onErr func(error)) {
	backoff := initial
	for ctx.Err() == nil {
		started := time.Now()
		err := fn(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("stopped unexpectedly")
		}
		onErr(err)
		if time.Since(started) > time.Minute {
			backoff = initial
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}
