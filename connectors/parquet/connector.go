// Package parquet is a sink connector writing topics as Parquet files to a
// local directory, laid out and named as Confluent's S3 and HDFS sinks do
// (topics/<topic>/<encoded partition>/<topic>+<partition>+<start
// offset>.parquet), with exactly-once files: each file is written under a
// temporary name, renamed into place, and only then are the offsets it
// covers committed.
//
// Configs name it parquet (or io.tributary.connect.parquet.ParquetSinkConnector).
package parquet

import (
	"github.com/tributary-streams/tributary/connect"
)

func init() {
	connect.RegisterSink(connect.PluginInfo{
		Class:   "io.tributary.connect.parquet.ParquetSinkConnector",
		Aliases: []string{"parquet"},
		Doc:     "Writes topics as Parquet files to a local directory, exactly once per record.",
	}, func() connect.SinkConnector { return &Connector{} })
}

// Connector is the sink connector.
type Connector struct {
	config map[string]string
}

var _ connect.SinkConnector = (*Connector)(nil)

// Config defines the sink's keys.
func (c *Connector) Config() *connect.ConfigDef { return configDef }

// Validate checks a config.
func (c *Connector) Validate(config map[string]string) error {
	_, err := ParseConfig(config)
	return err
}

// Start checks the config and that the output directory is writable, so a
// bad directory fails the connector before any task runs.
func (c *Connector) Start(_ connect.ConnectorContext, config map[string]string) error {
	cfg, err := ParseConfig(config)
	if err != nil {
		return err
	}
	if err := cfg.checkWritable(); err != nil {
		return err
	}
	c.config = config
	return nil
}

// TaskConfigs gives every task the connector's config; the runtime
// spreads the topics' partitions over them.
func (c *Connector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	out := make([]map[string]string, max(maxTasks, 1))
	for i := range out {
		out[i] = c.config
	}
	return out, nil
}

// Stop has nothing to release.
func (c *Connector) Stop() error { return nil }

// NewTask returns a task.
func (c *Connector) NewTask() connect.SinkTask { return NewTask() }
