package worker

import (
	"slices"
	"testing"
	"time"
)

func tasksOf(name string, n int) []taskID {
	out := make([]taskID, n)
	for i := range out {
		out[i] = taskID{Connector: name, Task: i}
	}
	return out
}

// apply plays a member's side: run what was assigned.
func applyRound(members []memberState, as map[string]memberAssignment) []memberState {
	out := slices.Clone(members)
	for i := range out {
		a := as[out[i].ID]
		out[i].Connectors, out[i].Tasks = a.Connectors, a.Tasks
	}
	return out
}

func load(members []memberState) []int {
	var out []int
	for _, m := range members {
		out = append(out, len(m.Tasks))
	}
	return out
}

func TestAssignorBalancesNewWork(t *testing.T) {
	s := newAssignorState()
	now := time.Unix(1000, 0)
	members := []memberState{{ID: "a", URL: "A"}, {ID: "b", URL: "B"}}
	as := s.assign(members, []string{"x", "y"}, append(tasksOf("x", 3), tasksOf("y", 3)...), time.Minute, now)
	members = applyRound(members, as)
	if l := load(members); l[0] != 3 || l[1] != 3 {
		t.Fatalf("tasks not balanced: %v", l)
	}
	if len(members[0].Connectors) != 1 || len(members[1].Connectors) != 1 {
		t.Fatalf("connectors not balanced: %+v", members)
	}
}

// A joining worker takes a share: first the others revoke (nothing runs
// twice), then the next round assigns it.
func TestAssignorJoinRevokesThenAssigns(t *testing.T) {
	s := newAssignorState()
	now := time.Unix(1000, 0)
	tasks := tasksOf("x", 6)
	members := applyRound([]memberState{{ID: "a", URL: "A"}}, s.assign([]memberState{{ID: "a", URL: "A"}}, []string{"x"}, tasks, time.Minute, now))
	members = append(members, memberState{ID: "b", URL: "B"})
	as := s.assign(members, []string{"x"}, tasks, time.Minute, now)
	if len(as["a"].RevokedTasks) != 3 || len(as["b"].Tasks) != 0 {
		t.Fatalf("round 1: a revokes 3 and b gets nothing yet: %+v", as)
	}
	members = applyRound(members, as)
	as = s.assign(members, []string{"x"}, tasks, time.Minute, now)
	members = applyRound(members, as)
	if l := load(members); l[0] != 3 || l[1] != 3 || len(as["a"].RevokedTasks) != 0 {
		t.Fatalf("round 2: %v %+v", l, as)
	}
}

// A worker that leaves: its work is held for the delay, nobody else's work
// moves, and then only its work moves.
func TestAssignorLostWorkHeldThenMoved(t *testing.T) {
	s := newAssignorState()
	now := time.Unix(1000, 0)
	tasks := tasksOf("x", 4)
	members := []memberState{{ID: "a", URL: "A"}, {ID: "b", URL: "B"}}
	members = applyRound(members, s.assign(members, []string{"x"}, tasks, time.Minute, now))
	aTasks := members[0].Tasks
	bTasks := members[1].Tasks
	survivors := members[:1]
	as := s.assign(survivors, []string{"x"}, tasks, time.Minute, now.Add(time.Second))
	if !slices.Equal(as["a"].Tasks, aTasks) || len(as["a"].RevokedTasks) != 0 || as["a"].DelayMs != 60000 {
		t.Fatalf("during the delay a keeps exactly its own work and is told to rejoin in 60s: %+v", as["a"])
	}
	as = s.assign(survivors, []string{"x"}, tasks, time.Minute, now.Add(62*time.Second))
	got := slices.Clone(as["a"].Tasks)
	slices.SortFunc(got, compareTaskID)
	if len(got) != 4 || as["a"].DelayMs != 0 {
		t.Fatalf("after the delay a runs everything: %+v", as["a"])
	}
	for _, id := range aTasks {
		if !slices.Contains(got, id) {
			t.Fatalf("a lost its own task %v", id)
		}
	}
	_ = bTasks
}

// A worker that comes back within the delay gets its work back.
func TestAssignorReturningWorker(t *testing.T) {
	s := newAssignorState()
	now := time.Unix(1000, 0)
	tasks := tasksOf("x", 4)
	members := applyRound([]memberState{{ID: "a", URL: "A"}, {ID: "b", URL: "B"}}, s.assign([]memberState{{ID: "a", URL: "A"}, {ID: "b", URL: "B"}}, []string{"x"}, tasks, time.Minute, now))
	bTasks := members[1].Tasks
	s.assign(members[:1], []string{"x"}, tasks, time.Minute, now.Add(time.Second))
	back := []memberState{members[0], {ID: "b2", URL: "B"}}
	as := s.assign(back, []string{"x"}, tasks, time.Minute, now.Add(2*time.Second))
	if !slices.Equal(as["b2"].Tasks, bTasks) || as["b2"].DelayMs != 0 {
		t.Fatalf("the returning worker gets its tasks back: %+v, want %v", as["b2"], bTasks)
	}
}

// Deleted work is revoked; duplicates are revoked from all but one.
func TestAssignorRevokesDeletedAndDuplicates(t *testing.T) {
	s := newAssignorState()
	now := time.Unix(1000, 0)
	members := []memberState{
		{ID: "a", URL: "A", Connectors: []string{"gone", "x"}, Tasks: []taskID{{"x", 0}}},
		{ID: "b", URL: "B", Tasks: []taskID{{"x", 0}}},
	}
	as := s.assign(members, []string{"x"}, tasksOf("x", 1), 0, now)
	if !slices.Equal(as["a"].RevokedConnectors, []string{"gone"}) || len(as["b"].RevokedTasks) != 1 {
		t.Fatalf("%+v", as)
	}
}
