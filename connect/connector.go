package connect

import "log/slog"

// Connector is the configuration-level half of a plugin: it validates a
// connector config and splits the work into task configs. Implement
// SourceConnector or SinkConnector, not Connector alone.
//
// Contract:
//   - The runtime creates a fresh Connector (through the registry's
//     constructor) for each use: validation, or one run between Start and
//     Stop. Methods are called from one goroutine at a time, never
//     concurrently, except that ConnectorContext methods may be called by
//     the connector from any goroutine.
//   - Config and Validate may be called without Start, on a connector that
//     will never start (REST validation, `tributary connect` config checks).
//   - The config maps hold every key of the connector config, including
//     the runtime's own (name, connector.class, tasks.max, transforms.*,
//     errors.*, ...): ignore keys you do not define, never reject them.
type Connector interface {
	// Config defines the connector's own keys: their types, defaults,
	// importance, documentation and validators. It is used to validate
	// configs, to answer /connector-plugins/{class}/config and
	// /config/validate, and to document the connector.
	Config() *ConfigDef

	// Validate checks a whole config and returns nil or a *ConfigError
	// listing every problem, each naming its key (FieldError). Most
	// connectors return c.Config().Validate(config), joined with checks
	// that span keys (ConfigErrors(...)). Validate must not reach out to
	// external systems for long; it should not block beyond a few seconds.
	Validate(config map[string]string) error

	// Start is called once, with a config that passed Validate, before
	// TaskConfigs. An error fails the connector (status FAILED, with the
	// error as trace); the runtime does not retry it.
	Start(ctx ConnectorContext, config map[string]string) error

	// TaskConfigs returns the configs of up to maxTasks tasks (at least
	// one, or none to run no tasks). The runtime passes each to a task's
	// Start. It is called after Start and again whenever the connector
	// calls ConnectorContext.RequestTaskReconfiguration; if the result
	// differs from the running tasks' configs, the tasks are restarted with
	// the new configs. An error fails the connector.
	TaskConfigs(maxTasks int) ([]map[string]string, error)

	// Stop releases what Start acquired and stops any goroutine the
	// connector started. It is called once, after which nothing else is.
	// It must return within a few seconds.
	Stop() error
}

// SourceConnector is a Connector whose tasks read from an external system
// into Kafka.
type SourceConnector interface {
	Connector
	// NewTask returns a new, unstarted task.
	NewTask() SourceTask
}

// SinkConnector is a Connector whose tasks write Kafka records to an
// external system. The runtime's `topics` / `topics.regex` keys say what
// its tasks consume.
type SinkConnector interface {
	Connector
	// NewTask returns a new, unstarted task.
	NewTask() SinkTask
}

// ConnectorContext is the connector's handle on the runtime. Its methods
// are safe to call from any goroutine, at any time between Start and the
// end of Stop.
type ConnectorContext interface {
	// RequestTaskReconfiguration asks the runtime to call TaskConfigs again
	// soon (e.g. the set of tables to copy changed). It does not block.
	RequestTaskReconfiguration()
	// RaiseError fails the connector with err, from a goroutine the
	// connector runs on its own.
	RaiseError(err error)
	// Logger logs with the connector's name attached.
	Logger() *slog.Logger
}
