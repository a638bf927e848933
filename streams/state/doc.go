// Package state holds the stores of a streams application: key-value,
// window and session stores over bytes, kept in one ordered engine per
// process. Two engines serve them: Pebble (OpenPebble), one instance per
// process with a shared block cache and a memory budget, and an in-memory
// engine for tests (NewMemory). Both pass the same conformance suite.
//
// The stores of one task (sub-topology x partition) form a Shard. Writes
// are staged in the shard and become durable together, with the changelog
// offsets they cover, in one Shard.Commit: a crash never leaves data
// without its offset or an offset without its data. Every write of a
// logged store is also handed to the store's Changelog, which the runtime
// produces to the compacted <application.id>-<store>-changelog topic; a
// shard restores from its checkpoint to the changelog's end (Restorer)
// before its task runs.
//
// Timestamps are milliseconds since the Unix epoch and are never negative.
package state
