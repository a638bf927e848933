// Package file is Kafka's FileStream connectors in Go: a source that tails
// a text file into a topic, one record per line, and a sink that appends
// each record's value to a text file as a line.
//
// Registered as org.apache.kafka.connect.file.FileStreamSourceConnector
// (alias FileStreamSource) and
// org.apache.kafka.connect.file.FileStreamSinkConnector (FileStreamSink),
// with Kafka's keys:
//
//	source: file (default: standard input), topic, batch.size (2000)
//	sink:   file (default: standard output), and the runtime's topics / topics.regex
//
// The source resumes from its committed offset, {"position": <byte offset
// after the last line sent>} under the source partition {"filename":
// <file>}, exactly as Kafka's does, and waits for lines appended later. A
// final line without a newline is sent once its newline arrives. Without
// file it reads the worker process's standard input, as Kafka's does
// (`cat lines | tributary connect standalone worker.properties
// source.properties`); standard input has no offsets, so what was sent
// before a restart is not sent again and what was read but not sent is
// lost. The sink fsyncs the file when the runtime flushes, before offsets
// are committed.
package file

import "github.com/tributary-streams/tributary/connect"

// Class names, Kafka's.
const (
	SourceClass = "org.apache.kafka.connect.file.FileStreamSourceConnector"
	SinkClass   = "org.apache.kafka.connect.file.FileStreamSinkConnector"
)

// Config keys.
const (
	FileKey      = "file"
	TopicKey     = "topic"
	BatchSizeKey = "batch.size"
)

// Source offset keys, Kafka's.
const (
	FilenameField = "filename"
	PositionField = "position"
)

func init() {
	connect.RegisterSource(connect.PluginInfo{Class: SourceClass, Doc: "Tails a text file into a topic, one record per line."},
		func() connect.SourceConnector { return &SourceConnector{} })
	connect.RegisterSink(connect.PluginInfo{Class: SinkClass, Doc: "Appends record values to a text file, one per line."},
		func() connect.SinkConnector { return &SinkConnector{} })
}
