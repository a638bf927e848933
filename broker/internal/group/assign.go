package group

import (
	"slices"
	"strings"
)

// Server-side assignors for KIP-848 groups.
//
//   - "uniform" (the default): spreads partitions as evenly as each
//     partition's subscribers allow, keeping every partition on its previous
//     owner unless moving it evens out the load (sticky).
//   - "range": per topic, the subscribed members in join order get
//     contiguous ranges, the first ones one extra partition (like the
//     client-side RangeAssignor, so co-partitioned topics line up).

type assignMember struct {
	id     string
	topics []topicInfo // sorted by name
}

type assignInput struct {
	members []assignMember        // in a stable order
	prev    map[string]assignment // previous target, for stickiness
}

func assignRange(in assignInput) map[string]assignment {
	out := make(map[string]assignment, len(in.members))
	byTopic := make(map[string][]int) // topic → member indexes
	infos := make(map[string]topicInfo)
	for i, m := range in.members {
		out[m.id] = make(assignment)
		for _, t := range m.topics {
			byTopic[t.name] = append(byTopic[t.name], i)
			infos[t.name] = t
		}
	}
	for _, name := range sortedKeys(byTopic) {
		t, ms := infos[name], byTopic[name]
		n, k := int(t.partitions), len(ms)
		per, extra := n/k, n%k
		start := 0
		for i, mi := range ms {
			size := per
			if i < extra {
				size++
			}
			for p := start; p < start+size; p++ {
				out[in.members[mi].id].add(t.id, int32(p))
			}
			start += size
		}
	}
	return out
}

func assignUniform(in assignInput) map[string]assignment {
	type part struct {
		key  tpid
		name string
	}
	var parts []part
	eligible := make(map[[16]byte][]int) // topic → subscribed member indexes
	seen := make(map[[16]byte]bool)
	for i, m := range in.members {
		for _, t := range m.topics {
			eligible[t.id] = append(eligible[t.id], i)
			if !seen[t.id] {
				seen[t.id] = true
				for p := int32(0); p < t.partitions; p++ {
					parts = append(parts, part{tpid{t.id, p}, t.name})
				}
			}
		}
	}
	slices.SortFunc(parts, func(a, b part) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return int(a.key.p) - int(b.key.p)
	})
	counts := make([]int, len(in.members))
	owner := make(map[tpid]int, len(parts))
	isEligible := func(mi int, id [16]byte) bool { return slices.Contains(eligible[id], mi) }

	// Keep previous owners.
	for mi, m := range in.members {
		for id, ps := range in.prev[m.id] {
			if !isEligible(mi, id) {
				continue
			}
			for _, p := range ps {
				k := tpid{id, p}
				if _, owned := owner[k]; !owned && seen[id] && p < partitionsOf(in.members[mi].topics, id) {
					owner[k] = mi
					counts[mi]++
				}
			}
		}
	}
	least := func(id [16]byte) int {
		best := -1
		for _, mi := range eligible[id] {
			if best < 0 || counts[mi] < counts[best] {
				best = mi
			}
		}
		return best
	}
	// Place the rest on the least loaded subscriber.
	for _, pt := range parts {
		if _, owned := owner[pt.key]; owned {
			continue
		}
		mi := least(pt.key.id)
		owner[pt.key] = mi
		counts[mi]++
	}
	// Move partitions from a member to a less loaded subscriber while that
	// narrows the gap by more than one. Each move lowers the sum of squared
	// loads, so this ends.
	for moved := true; moved; {
		moved = false
		for _, pt := range parts {
			from := owner[pt.key]
			to := least(pt.key.id)
			if counts[from]-counts[to] > 1 {
				owner[pt.key] = to
				counts[from]--
				counts[to]++
				moved = true
			}
		}
	}
	out := make(map[string]assignment, len(in.members))
	for _, m := range in.members {
		out[m.id] = make(assignment)
	}
	for k, mi := range owner {
		out[in.members[mi].id].add(k.id, k.p)
	}
	return out
}

func partitionsOf(ts []topicInfo, id [16]byte) int32 {
	for _, t := range ts {
		if t.id == id {
			return t.partitions
		}
	}
	return 0
}
