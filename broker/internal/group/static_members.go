package group

// Static members across a restart (KIP-345). Kafka's coordinator loads a
// group's last generation from __consumer_offsets when it takes over, members
// included, so a static member that comes back under its group.instance.id
// keeps its assignment without a rebalance. Here the group record in the
// state file plays that part: a classic group whose record was written
// Stable and names a static member comes back Stable with every member of
// that generation (static and dynamic, as Kafka loads them), each with a
// fresh session. A member that keeps running through the restart goes on
// heartbeating and committing under its member id and generation; a static
// member whose process restarted joins with its instance id and gets its
// assignment back (replaceStaticMember); a member that never returns is
// removed when its session expires, which rebalances the rest.
//
// Differences from Kafka: a group of dynamic members only comes back Empty,
// its members rejoining as new ones (Kafka would keep them until their
// sessions expire), so a restart does not hold a group of departed
// consumers for a session timeout; and a group caught mid-rebalance comes
// back Empty, where Kafka restores its last Stable generation.

// restoreMembers rebuilds the members of the generation m describes when m
// was written Stable and names a static member. Called while loading, before
// any timer runs; startRestoredSessions arms the sessions afterwards.
func (g *group) restoreMembers(m groupMeta) {
	if m.State != stateStable || !hasStaticMember(m.Members) {
		return
	}
	g.state = stateStable
	g.protocol = m.Protocol
	g.leader = m.Leader
	for _, mm := range m.Members {
		g.joinSeq++
		mem := &member{
			id:                 mm.MemberID,
			instanceID:         mm.InstanceID,
			clientID:           mm.ClientID,
			clientHost:         mm.ClientHost,
			protocolType:       m.ProtocolType,
			protocols:          []protocol{{name: m.Protocol, metadata: mm.Metadata}},
			sessionTimeoutMs:   mm.SessionTimeout,
			rebalanceTimeoutMs: mm.RebalanceTimeout,
			assignment:         append([]byte{}, mm.Assignment...),
			joinSeq:            g.joinSeq,
		}
		g.members[mem.id] = mem
		if mem.instanceID != nil {
			g.static[*mem.instanceID] = mem.id
		}
	}
	if g.members[g.leader] == nil {
		g.leader = g.sortedMembers()[0].id
	}
}

func hasStaticMember(ms []memberMeta) bool {
	for _, mm := range ms {
		if mm.InstanceID != nil {
			return true
		}
	}
	return false
}

// startRestoredSessions arms the session timer of every restored member,
// once loading is over: the timers take the group locks, which loading does
// not hold.
func (c *Coordinator) startRestoredSessions() {
	for _, id := range c.groupIDs() {
		g := c.lockGroup(id, false)
		if g == nil {
			continue
		}
		for _, m := range g.members {
			g.scheduleSession(m)
		}
		if len(g.members) > 0 {
			c.log.Info("restored group members", "group", g.id, "generation", g.generation, "members", len(g.members))
		}
		g.mu.Unlock()
	}
}
