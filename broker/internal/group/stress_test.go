package group

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestConcurrentStress runs random operations on a few groups from many
// goroutines (run it with -race): no deadlock, and KIP-848 groups never
// have a partition owned by two members.
func TestConcurrentStress(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.ConsumerSessionTimeoutMs = 200
		c.ConsumerHeartbeatIntervalMs = 20
	})
	groups := []string{"s1", "s2", "s3"}
	deadline := time.Now().Add(1500 * time.Millisecond)
	var wg sync.WaitGroup
	for w := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			member := ""
			sim := &sim848{id: fmt.Sprintf("w%d", w), topics: []string{"a", "b"}}
			for time.Now().Before(deadline) {
				g := groups[rng.IntN(len(groups))]
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
				switch rng.IntN(9) {
				case 0, 1:
					r := e.c.JoinGroup(ctx, joinReq(g, member, withSession(100), withRebalance(50)))
					if r.MemberID != "" {
						member = r.MemberID
					}
					if r.ErrorCode == 0 {
						e.c.SyncGroup(ctx, syncReq(g, member, r.Generation, map[string][]byte{member: {1}}))
					}
				case 2:
					e.commit(g, member, int32(rng.IntN(3)), commitPart{"t1", int32(rng.IntN(3)), int64(rng.IntN(100)), ""})
				case 3:
					e.fetch(g, rng.IntN(2) == 0, nil)
				case 4:
					e.c.ListGroups(ctx, kmsg.NewPtrListGroupsRequest())
					e.describe(g)
				case 5:
					dg := kmsg.NewPtrDeleteGroupsRequest()
					dg.Groups = []string{g}
					e.c.DeleteGroups(ctx, dg)
				case 6, 7:
					// KIP-848 on a group of its own.
					resp := e.c.ConsumerGroupHeartbeat(ctx, sim.request("k"+g))
					if resp.ErrorCode != 0 {
						sim.epoch, sim.consuming, sim.assigned = 0, nil, nil
					} else {
						sim.epoch = resp.MemberEpoch
						if resp.Assignment != nil {
							a := make(assignment)
							for _, tt := range resp.Assignment.Topics {
								for _, p := range tt.Partitions {
									a.add(tt.TopicID, p)
								}
							}
							sim.assigned, sim.consuming = a, a
						}
					}
				case 8:
					lr := kmsg.NewPtrLeaveGroupRequest()
					lr.Group, lr.MemberID = g, member
					e.c.LeaveGroup(ctx, lr)
					member = ""
				}
				cancel()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("deadlock: workers did not finish")
	}
	for _, g := range groups {
		cg := e.c.lockGroup("k"+g, false)
		if cg == nil {
			continue
		}
		if cg.cg != nil {
			seen := make(map[tpid]string)
			for _, m := range cg.cg.members {
				for _, a := range []assignment{m.assigned, m.revoking} {
					for id, ps := range a {
						for _, p := range ps {
							if o, ok := seen[tpid{id, p}]; ok {
								t.Errorf("group %s: partition owned by %s and %s", cg.id, o, m.id)
							}
							seen[tpid{id, p}] = m.id
						}
					}
				}
			}
		}
		cg.mu.Unlock()
	}
}
