package topology

import "fmt"

// NewGlobalTask builds the task that feeds the global stores from their
// topics, in env.Shard (the "global" shard). Its source topics are the
// stores' changelogs, so the stores are not logged.
func NewGlobalTask(g *Graph, env *Env) (*Task, error) {
	if env.Logger == nil {
		return nil, fmt.Errorf("global task: no logger")
	}
	t := &Task{ID: TaskID{Subtopology: -1}, graph: g, sources: map[string]Source{}, stores: map[string]any{},
		logged: map[string]string{}, shared: map[string]any{}}
	t.ctx = &Context{Task: t.ID, Env: env, Stats: &Stats{}, streamTime: -1}
	for _, gs := range g.Globals {
		kv, err := env.Shard.KeyValue(gs.Store, nil)
		if err != nil {
			return nil, fmt.Errorf("global store %s: %w", gs.Store, err)
		}
		t.stores[gs.Store] = kv
	}
	for _, gs := range g.Globals {
		b := &Build{Ctx: t.ctx, Node: &Node{Name: "GLOBAL-SOURCE-" + gs.Store}, task: t}
		src, err := gs.Build(b)
		if err != nil {
			return nil, fmt.Errorf("global store %s: %w", gs.Store, err)
		}
		t.sources[gs.Topic] = src
		t.flushers = append(t.flushers, b.flush...)
	}
	return t, nil
}

// GlobalTopics are the topics that feed global stores.
func (g *Graph) GlobalTopics() []string {
	var out []string
	for _, gs := range g.Globals {
		out = append(out, gs.Topic)
	}
	return out
}
