// Package streams is Kafka Streams for Go: typed stream-processing
// topologies that run on any Kafka-protocol cluster, with state in Pebble
// changelogged to the cluster, and at-least-once or exactly-once
// processing.
//
// A topology is built with a Builder. Steps that keep the record types are
// methods (s.Filter, s.Merge, s.To, t.Filter, ...); steps that change them
// are functions, as Go methods cannot add type parameters (Map,
// MapValues, FlatMap, SelectKey, GroupBy, Aggregate, WindowedBy, the
// joins, Process):
//
//	b := streams.NewBuilder()
//	lines := streams.Stream(b, "lines", streams.String(), streams.String())
//	words := streams.FlatMapValues(lines, func(line string, emit func(string)) { ... })
//	counts := streams.GroupBy(words, func(_, w string) string { return w }).Count()
//	streams.MapValues(counts.ToStream(), strconv.Itoa64).To("counts")
//	top, err := b.Build()
//
// Build validates the whole topology and reports every mistake at once,
// each naming its step: a serde a step needs and cannot infer (string,
// []byte, int64 and float64 are inferred), an option a step does not take,
// join inputs whose fixed partition counts differ. Describe prints it as
// Kafka Streams does.
//
// A stateful step after a key change repartitions by itself, through
// <application.id>-<name>-repartition. Aggregations, tables and joins keep
// their state in stores (package state), changelogged to
// <application.id>-<store>-changelog. Time is event time: each task has a
// stream time (the largest timestamp it processed); windows accept
// out-of-order records within their grace period and drop later ones.
//
// New runs a topology as one instance of an application; instances with
// the same application id share its tasks through a consumer group. The
// package streamstest runs a topology in memory for tests.
package streams
