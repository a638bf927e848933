package worker

// The workers' assignor: incremental cooperative rebalancing (KIP-415) of
// connectors and tasks over the members of the group. It runs on the
// group's leader.
//
//   - Work a member already runs stays with it, unless it was deleted or
//     the member runs more than its share; such work is revoked first and
//     assigned in the next round, once the member has stopped it (members
//     rejoin as soon as they have stopped what was revoked). So work never
//     runs on two workers at once, and a rebalance moves only what it must.
//   - Work whose worker left the group (lost) is held for
//     scheduled.rebalance.max.delay.ms, in case the worker comes back (a
//     restart); then, or as soon as a new worker joins, it is assigned to
//     the least loaded workers. A worker that comes back (same REST URL)
//     gets its work back at once.
//   - New work goes to the least loaded workers.
//
// Connectors and tasks are balanced separately, as Kafka does.

import (
	"slices"
	"strings"
	"time"
)

// memberState is what a member reported when joining.
type memberState struct {
	ID         string
	URL        string
	Connectors []string
	Tasks      []taskID
}

// memberAssignment is what the leader tells a member.
type memberAssignment struct {
	Version           int      `json:"version"`
	Leader            string   `json:"leader"`
	LeaderURL         string   `json:"leader_url"`
	Connectors        []string `json:"connectors"`
	Tasks             []taskID `json:"tasks"`
	RevokedConnectors []string `json:"revoked_connectors"`
	RevokedTasks      []taskID `json:"revoked_tasks"`
	// DelayMs asks members to rejoin after this long: lost work is being
	// held for its worker to come back.
	DelayMs int64 `json:"delay_ms"`
}

// assignorState is the leader's memory between rounds: who ran what, and
// since when lost work is held.
type assignorState struct {
	connOwners map[string]string // connector -> worker URL
	taskOwners map[taskID]string
	connLost   map[string]time.Time // deadline
	taskLost   map[taskID]time.Time
}

func newAssignorState() *assignorState {
	return &assignorState{connOwners: map[string]string{}, taskOwners: map[taskID]string{},
		connLost: map[string]time.Time{}, taskLost: map[taskID]time.Time{}}
}

func compareTaskID(a, b taskID) int {
	if c := strings.Compare(a.Connector, b.Connector); c != 0 {
		return c
	}
	return a.Task - b.Task
}

// assign computes every member's assignment.
func (s *assignorState) assign(members []memberState, connectors []string, tasks []taskID, delay time.Duration, now time.Time) map[string]memberAssignment {
	members = slices.Clone(members)
	slices.SortFunc(members, func(a, b memberState) int { return strings.Compare(a.ID, b.ID) })
	known := map[string]bool{}
	for _, u := range s.connOwners {
		known[u] = true
	}
	for _, u := range s.taskOwners {
		known[u] = true
	}
	newMembers := false
	for _, m := range members {
		if len(m.Connectors) == 0 && len(m.Tasks) == 0 && !known[m.URL] {
			newMembers = true
		}
	}
	cs := assignKind(members, func(m memberState) []string { return m.Connectors }, connectors, strings.Compare,
		s.connOwners, s.connLost, delay, now, newMembers)
	ts := assignKind(members, func(m memberState) []taskID { return m.Tasks }, tasks, compareTaskID,
		s.taskOwners, s.taskLost, delay, now, newMembers)
	var delayMs int64
	hold := cs.holdUntil
	if hold.IsZero() || !ts.holdUntil.IsZero() && ts.holdUntil.Before(hold) {
		hold = ts.holdUntil
	}
	if !hold.IsZero() {
		delayMs = max(hold.Sub(now).Milliseconds(), 1)
	}
	out := map[string]memberAssignment{}
	for _, m := range members {
		out[m.ID] = memberAssignment{Version: 1,
			Connectors: nonNil(cs.assigned[m.ID]), Tasks: nonNil(ts.assigned[m.ID]),
			RevokedConnectors: nonNil(cs.revoked[m.ID]), RevokedTasks: nonNil(ts.revoked[m.ID]), DelayMs: delayMs}
	}
	return out
}

func nonNil[K any](s []K) []K {
	if s == nil {
		return []K{}
	}
	return s
}

type kindAssignment[K comparable] struct {
	assigned  map[string][]K // member -> what it runs after this round
	revoked   map[string][]K
	holdUntil time.Time
}

// assignKind assigns one kind of work (connectors or tasks); owners and
// lost are the leader's memory for that kind, updated in place.
func assignKind[K comparable](members []memberState, owned func(memberState) []K, all []K, cmp func(a, b K) int,
	owners map[K]string, lost map[K]time.Time, delay time.Duration, now time.Time, newMembers bool) kindAssignment[K] {
	out := kindAssignment[K]{assigned: map[string][]K{}, revoked: map[string][]K{}}
	all = slices.Clone(all)
	slices.SortFunc(all, cmp)
	inWork := map[K]bool{}
	for _, k := range all {
		inWork[k] = true
	}
	byURL := map[string]string{}
	for _, m := range members {
		byURL[m.URL] = m.ID
	}
	owner := map[K]string{}
	for _, m := range members {
		mine := slices.Clone(owned(m))
		slices.SortFunc(mine, cmp)
		for _, k := range mine {
			if _, taken := owner[k]; taken || !inWork[k] {
				out.revoked[m.ID] = append(out.revoked[m.ID], k)
				continue
			}
			owner[k] = m.ID
			out.assigned[m.ID] = append(out.assigned[m.ID], k)
		}
	}
	var free []K
	held := 0
	for _, k := range all {
		if _, ok := owner[k]; ok {
			continue
		}
		prev := owners[k]
		if id, back := byURL[prev]; prev != "" && back {
			// Its worker is here (it came back, or never ran it yet).
			owner[k] = id
			out.assigned[id] = append(out.assigned[id], k)
			delete(lost, k)
			continue
		}
		if prev != "" && delay > 0 && !newMembers {
			deadline, seen := lost[k]
			if !seen {
				deadline = now.Add(delay)
				lost[k] = deadline
			}
			if now.Before(deadline) {
				held++
				if out.holdUntil.IsZero() || deadline.Before(out.holdUntil) {
					out.holdUntil = deadline
				}
				continue
			}
		}
		delete(lost, k)
		free = append(free, k)
	}
	// Targets: the total split as evenly as possible; the members that run
	// the most keep the larger shares.
	total := len(all) - held
	n := len(members)
	if n > 0 {
		order := slices.Clone(members)
		slices.SortStableFunc(order, func(a, b memberState) int {
			return len(out.assigned[b.ID]) - len(out.assigned[a.ID])
		})
		target := map[string]int{}
		for i, m := range order {
			target[m.ID] = total / n
			if i < total%n {
				target[m.ID]++
			}
		}
		for _, m := range members {
			if extra := len(out.assigned[m.ID]) - target[m.ID]; extra > 0 {
				cut := len(out.assigned[m.ID]) - extra
				out.revoked[m.ID] = append(out.revoked[m.ID], out.assigned[m.ID][cut:]...)
				out.assigned[m.ID] = out.assigned[m.ID][:cut]
			}
		}
		for _, k := range free {
			best := ""
			for _, m := range members {
				if len(out.assigned[m.ID]) >= target[m.ID] {
					continue
				}
				if best == "" || len(out.assigned[m.ID]) < len(out.assigned[best]) {
					best = m.ID
				}
			}
			if best == "" { // only when targets are already met: least loaded
				for _, m := range members {
					if best == "" || len(out.assigned[m.ID]) < len(out.assigned[best]) {
						best = m.ID
					}
				}
			}
			out.assigned[best] = append(out.assigned[best], k)
		}
	}
	// Remember who runs what; revoked work has no owner to come back to.
	urlOf := map[string]string{}
	for _, m := range members {
		urlOf[m.ID] = m.URL
	}
	for k := range owners {
		if !inWork[k] {
			delete(owners, k)
			delete(lost, k)
		}
	}
	for id, ks := range out.revoked {
		for _, k := range ks {
			if owners[k] == urlOf[id] {
				delete(owners, k)
			}
		}
	}
	for id, ks := range out.assigned {
		for _, k := range ks {
			owners[k] = urlOf[id]
		}
	}
	return out
}
