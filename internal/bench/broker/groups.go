package main

// Group rebalance time: members of one consumer group start one after
// another, as fast as the client is created, and the clock runs from the
// first client's creation until every partition of the topic is assigned to
// exactly one member and every member holds its even share. The members are
// plain franz-go group consumers with the client's defaults: the default
// balancer list (cooperative-sticky only) over the classic protocol. A
// member already in a session learns of a rebalance from a heartbeat: the
// client sends one 500 ms into each cooperative session, then every 3 s. A
// join that misses a rebalance therefore costs 500 ms whatever the broker
// does, and a run takes either a few ms or 500 ms steps more; the report
// says so.
//
// Each run gets a fresh instance, so no run inherits the group, its
// committed state or its timers from the one before.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	rebalanceTopic = "rebalance"
	rebalanceGroup = "rebalance-bench"
)

// rebalanceResult is one target's runs, in the order they ran.
type rebalanceResult struct {
	runs []time.Duration
	// generations is, for each run, the group generation the members
	// ended in: how many rebalances it took.
	generations []int32
}

// median is the middle run (the mean of the two middle ones for an even
// count).
func (r rebalanceResult) median() time.Duration {
	if len(r.runs) == 0 {
		return 0
	}
	s := slices.Clone(r.runs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// measureRebalance times runs group formations on t, each on a fresh
// instance.
func measureRebalance(ctx context.Context, t target, members int, nPartitions int32, runs int, progress func(run int, took time.Duration, generation int32)) (rebalanceResult, error) {
	var res rebalanceResult
	for i := range runs {
		took, gen, err := rebalanceRun(ctx, t, members, nPartitions)
		if err != nil {
			return res, fmt.Errorf("run %d: %w", i+1, err)
		}
		res.runs = append(res.runs, took)
		res.generations = append(res.generations, gen)
		progress(i+1, took, gen)
	}
	return res, nil
}

func rebalanceRun(ctx context.Context, t target, members int, nPartitions int32) (took time.Duration, generation int32, err error) {
	inst, err := t.start(ctx, 0, "")
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		if cerr := inst.close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close %s: %w", t.name, cerr))
		}
	}()
	if err := createTopic(ctx, inst.addr, rebalanceTopic, nPartitions); err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, phaseTimeout)
	defer cancel()

	tr := newAssignmentTracker(members, nPartitions)
	clients := make([]*kgo.Client, 0, members)
	// Members leave concurrently: one by one, each leave would start a
	// rebalance the remaining members wait out.
	defer func() {
		var wg sync.WaitGroup
		for _, cl := range clients {
			wg.Go(cl.Close)
		}
		wg.Wait()
	}()

	start := time.Now()
	for m := range members {
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(inst.addr),
			kgo.ConsumerGroup(rebalanceGroup),
			kgo.ConsumeTopics(rebalanceTopic),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) { tr.assigned(m, a[rebalanceTopic]) }),
			kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, r map[string][]int32) { tr.revoked(m, r[rebalanceTopic]) }),
			kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, l map[string][]int32) { tr.revoked(m, l[rebalanceTopic]) }),
		)
		if err != nil {
			return 0, 0, fmt.Errorf("member %d client: %w", m, err)
		}
		clients = append(clients, cl)
	}
	select {
	case <-tr.done:
	case <-ctx.Done():
		return 0, 0, fmt.Errorf("group not balanced: %w; members hold %v", ctx.Err(), tr.counts())
	}
	took = tr.doneAt.Sub(start)
	for _, cl := range clients {
		_, gen := cl.GroupMetadata()
		generation = max(generation, gen)
	}
	// What the members say must be what the coordinator says.
	if err := checkGroupBalanced(ctx, clients[0], members, nPartitions); err != nil {
		return 0, 0, err
	}
	return took, generation, nil
}

// assignmentTracker follows what each member holds through the client's
// assignment callbacks. The callbacks of different members run on their
// own goroutines; mu orders them, and done is closed (once, under mu) by
// the callback that completes the assignment, after setting doneAt.
type assignmentTracker struct {
	mu          sync.Mutex
	held        []map[int32]bool // member → partitions it holds
	holders     []int            // partition → how many members hold it
	nPartitions int32
	done        chan struct{}
	doneAt      time.Time
}

func newAssignmentTracker(members int, nPartitions int32) *assignmentTracker {
	tr := &assignmentTracker{
		held:        make([]map[int32]bool, members),
		holders:     make([]int, nPartitions),
		nPartitions: nPartitions,
		done:        make(chan struct{}),
	}
	for i := range tr.held {
		tr.held[i] = map[int32]bool{}
	}
	return tr
}

// assigned adds partitions to a member: all of them under an eager
// balancer, only the new ones under a cooperative one.
func (tr *assignmentTracker) assigned(member int, parts []int32) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, p := range parts {
		if p < 0 || p >= tr.nPartitions || tr.held[member][p] {
			continue
		}
		tr.held[member][p] = true
		tr.holders[p]++
	}
	tr.checkLocked()
}

func (tr *assignmentTracker) revoked(member int, parts []int32) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, p := range parts {
		if tr.held[member][p] {
			delete(tr.held[member], p)
			tr.holders[p]--
		}
	}
}

// checkLocked closes done the first time every partition has exactly one
// holder and every member holds its share (nPartitions/members, or one more
// where the division leaves a remainder).
func (tr *assignmentTracker) checkLocked() {
	select {
	case <-tr.done:
		return
	default:
	}
	for _, n := range tr.holders {
		if n != 1 {
			return
		}
	}
	share := int(tr.nPartitions) / len(tr.held)
	for _, h := range tr.held {
		if len(h) < share || len(h) > share+1 {
			return
		}
	}
	tr.doneAt = time.Now()
	close(tr.done)
}

// counts is how many partitions each member holds, for an error message.
func (tr *assignmentTracker) counts() []int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	c := make([]int, len(tr.held))
	for i, h := range tr.held {
		c[i] = len(h)
	}
	return c
}

// checkGroupBalanced asks the coordinator, until phaseTimeout, for a Stable
// group of the given size whose member assignments cover the topic's
// partitions exactly once.
func checkGroupBalanced(ctx context.Context, cl *kgo.Client, members int, nPartitions int32) error {
	adm := kadm.NewClient(cl)
	var last error
	for {
		last = describeBalanced(ctx, adm, members, nPartitions)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("coordinator's view of the group: %w", last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func describeBalanced(ctx context.Context, adm *kadm.Client, members int, nPartitions int32) error {
	groups, err := adm.DescribeGroups(ctx, rebalanceGroup)
	if err != nil {
		return fmt.Errorf("describe group: %w", err)
	}
	g := groups[rebalanceGroup]
	if g.Err != nil {
		return fmt.Errorf("describe group: %w", g.Err)
	}
	if g.State != "Stable" || len(g.Members) != members {
		return fmt.Errorf("group %s with %d members, want Stable with %d", g.State, len(g.Members), members)
	}
	holders := make([]int, nPartitions)
	for _, m := range g.Members {
		a, ok := m.Assigned.AsConsumer()
		if !ok {
			return fmt.Errorf("member %s: assignment is not a consumer assignment", m.MemberID)
		}
		for _, t := range a.Topics {
			for _, p := range t.Partitions {
				if t.Topic != rebalanceTopic || p < 0 || p >= nPartitions {
					return fmt.Errorf("member %s assigned %s[%d]", m.MemberID, t.Topic, p)
				}
				holders[p]++
			}
		}
	}
	for p, n := range holders {
		if n != 1 {
			return fmt.Errorf("partition %d assigned to %d members", p, n)
		}
	}
	return nil
}
