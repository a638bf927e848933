package cli

// `tributary connect standalone|distributed` runs Kafka Connect workers.

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tributary-streams/tributary/connect/worker"
	"github.com/tributary-streams/tributary/internal/properties"

	// The connectors compiled into the binary.
	_ "github.com/tributary-streams/tributary/connectors/datagen"
	_ "github.com/tributary-streams/tributary/connectors/file"
	_ "github.com/tributary-streams/tributary/connectors/mysqlcdc"
	_ "github.com/tributary-streams/tributary/connectors/parquet"
)

func newConnectCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "Run Kafka Connect workers (connectors as pipelines)",
		Long: `Run Kafka Connect workers: the same connector config keys and REST API as
Kafka Connect, in one binary. See 'tributary connect standalone --help' and
'tributary connect distributed --help'.`,
	}
	makeGroupCommand(cmd)
	cmd.AddCommand(newConnectStandaloneCommand(), newConnectDistributedCommand())
	return cmd
}

// workerFlags are the flags both worker commands take.
type workerFlags struct {
	bootstrap, workerFile, restListen, logLevel string
	sets                                        []string
}

func (f *workerFlags) register(cmd *cobra.Command, restDefault string) {
	fl := cmd.Flags()
	fl.StringVar(&f.bootstrap, "bootstrap-server", "", "Kafka cluster to use, host:port[,host:port] (worker key bootstrap.servers)")
	fl.StringVar(&f.workerFile, "worker-config", "", "worker properties file (Kafka's connect-standalone.properties / connect-distributed.properties)")
	fl.StringVar(&f.restListen, "rest-listen", restDefault, "address of the REST API (worker key listeners); empty disables it")
	fl.StringArrayVar(&f.sets, "set", nil, "worker config key=value, e.g. --set offset.flush.interval.ms=10000 (repeatable)")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
}

// config builds the worker config: defaults, then the worker file, then
// --set, then the explicit flags.
func (f *workerFlags) config(cmd *cobra.Command, workerFile string) (worker.Config, error) {
	cfg := worker.Defaults()
	if workerFile != "" {
		if err := cfg.LoadProperties(workerFile); err != nil {
			return cfg, usageErrorf("%v", err)
		}
	}
	if err := applySets(f.sets, cfg.Set); err != nil {
		return cfg, err
	}
	if f.bootstrap != "" {
		if err := cfg.Set("bootstrap.servers", f.bootstrap); err != nil {
			return cfg, usageErrorf("--bootstrap-server: %v", err)
		}
	}
	if cmd.Flags().Changed("rest-listen") || workerFile == "" {
		cfg.RestListen = f.restListen
	}
	logger, err := newLogger(cmd, f.logLevel)
	if err != nil {
		return cfg, err
	}
	cfg.Logger = logger
	return cfg, nil
}

// applySets applies repeated --set key=value flags, reporting every bad one.
func applySets(sets []string, set func(key, value string) error) error {
	var errs []error
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			errs = append(errs, fmt.Errorf("--set %q: want key=value", kv))
			continue
		}
		if err := set(strings.TrimSpace(k), v); err != nil {
			errs = append(errs, fmt.Errorf("--set: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return usageErrorf("%v", err)
	}
	return nil
}

func newLogger(cmd *cobra.Command, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageErrorf("--log-level %q: accepted: debug, info, warn, error", level)
	}
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: l})), nil
}

// isWorkerFile tells a worker properties file from a connector one, as
// Kafka's connect-standalone takes the worker file first: it is a
// .properties file without connector.class.
func isWorkerFile(path string) bool {
	if !strings.HasSuffix(strings.ToLower(path), ".properties") {
		return false
	}
	props, err := properties.ParseFile(path)
	if err != nil {
		return false
	}
	_, connector := properties.Map(props)["connector.class"]
	return !connector
}

func newConnectStandaloneCommand() *cobra.Command {
	var f workerFlags
	var offsets string
	cmd := &cobra.Command{
		Use:   "standalone [WORKER_PROPERTIES] CONNECTOR_FILE...",
		Short: "Run connectors from files in one worker (offsets in a file)",
		Long: `Run the connectors of the given files in one standalone worker, with source
offsets kept in --offsets FILE and the Kafka Connect REST API on --rest-listen.

Connector files are .properties (as Kafka's connect-standalone takes them),
.json in Kafka Connect's {"name": ..., "config": {...}} form (or a flat
object), or .yaml/.yml in either shape. As with connect-standalone, a first
.properties file without connector.class is the worker config
(bootstrap.servers, key.converter, offset.flush.interval.ms, ...), the same
as --worker-config. Flags win over --set, which wins over the worker file.
SIGINT or SIGTERM stops the connectors cleanly, committing their offsets.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			workerFile := f.workerFile
			if workerFile == "" && len(args) > 0 && isWorkerFile(args[0]) {
				workerFile, args = args[0], args[1:]
			}
			cfg, err := f.config(cmd, workerFile)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("offsets") || workerFile == "" {
				cfg.OffsetStorageFile = offsets
			}
			if len(cfg.BootstrapServers) == 0 {
				return usageErrorf("--bootstrap-server is required (or bootstrap.servers in the worker config)")
			}
			var connectors []map[string]string
			var errs []error
			for _, path := range args {
				c, err := worker.LoadConnectorFile(path)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				connectors = append(connectors, c)
			}
			if err := errors.Join(errs...); err != nil {
				return usageErrorf("%v", err)
			}
			if err := cfg.Validate(); err != nil {
				return usageErrorf("%v", err)
			}
			w, err := worker.StartStandalone(cmd.Context(), cfg, connectors...)
			if err != nil {
				return usageErrorf("%v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "tributary connect standalone: %d connector(s), REST API on %s, offsets in %s\n",
				len(connectors), orNone(w.URL()), cfg.OffsetStorageFile)
			<-cmd.Context().Done()
			return w.Close()
		},
	}
	f.register(cmd, "127.0.0.1:8083")
	cmd.Flags().StringVar(&offsets, "offsets", "connect.offsets", "file for source offsets (worker key offset.storage.file.filename)")
	return cmd
}

func orNone(url string) string {
	if url == "" {
		return "(disabled)"
	}
	return url
}

func newConnectDistributedCommand() *cobra.Command {
	var f workerFlags
	var group string
	cmd := &cobra.Command{
		Use:   "distributed",
		Short: "Run a distributed worker (configs, offsets and statuses in Kafka)",
		Long: `Run a distributed Kafka Connect worker. Workers with the same --group-id share
connectors and tasks through the group protocol (incremental cooperative
rebalancing: a worker that leaves moves only its own work, after
scheduled.rebalance.max.delay.ms). Connector configs, source offsets and
statuses live in the topics config.storage.topic (connect-configs),
offset.storage.topic (connect-offsets) and status.storage.topic
(connect-status), created compacted when missing. Connectors are managed
through the REST API on --rest-listen. Flags win over --set, which wins over
--worker-config. SIGINT or SIGTERM stops the worker cleanly.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config(cmd, f.workerFile)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("group-id") || f.workerFile == "" {
				cfg.GroupID = group
			}
			if len(cfg.BootstrapServers) == 0 {
				return usageErrorf("--bootstrap-server is required (or bootstrap.servers in the worker config)")
			}
			if err := cfg.Validate(); err != nil {
				return usageErrorf("%v", err)
			}
			w, err := worker.StartDistributed(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "tributary connect distributed: group %s, REST API on %s\n", cfg.GroupID, orNone(w.URL()))
			<-cmd.Context().Done()
			return w.Close()
		},
	}
	f.register(cmd, ":8083")
	cmd.Flags().StringVar(&group, "group-id", "connect-cluster", "the workers' group (worker key group.id)")
	return cmd
}
