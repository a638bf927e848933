// Package connect is the public contract of Tributary's Kafka Connect
// analogue: what a connector, task, converter, transformation or predicate
// implements, the records they exchange, the config definitions that
// validate and document them, and the plugin registry that finds them by
// class name or alias.
//
// A plugin never reaches into the runtime: it implements one of the
// interfaces here and registers itself from an init function:
//
//	func init() {
//		connect.RegisterSource(connect.PluginInfo{
//			Class:   "org.apache.kafka.connect.file.FileStreamSourceConnector",
//			Version: "1.0",
//		}, func() connect.SourceConnector { return &SourceConnector{} })
//	}
//
// The runtime (connect/worker) runs connectors in standalone or distributed
// workers, converts records with the configured converters, applies the
// transformation chain, writes to and reads from Kafka, commits offsets and
// handles errors.
//
// Values carried by records follow the schema model of package
// connect/data.
//
// # The life of a source record
//
// SourceTask.Poll returns records; the runtime applies the transformation
// chain, converts key, value and headers to bytes with the connector's
// converters and produces them. Once every record up to a given one is
// acknowledged by the broker, the runtime may commit that record's source
// offset (every offset.flush.interval.ms, in the offsets topic or file) and
// then calls SourceTask.Commit. After a restart the task reads its
// position back through SourceTaskContext.Offset.
//
// # The life of a sink record
//
// The runtime consumes the connector's topics in the consumer group
// "connect-<connector name>", converts each record with the converters,
// applies the chain and hands batches to SinkTask.Put. Periodically it
// calls SinkTask.Flush with the next offset of every partition delivered so
// far and commits, through the consumer group, the offsets Flush says are
// durable. After a restart consumption resumes from those offsets, so a
// sink sees every record at least once.
package connect
