package cli

// `tributary server` is the all-in-one dev server: a broker plus a
// distributed connect worker using it.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tributary-streams/tributary/broker"
	"github.com/tributary-streams/tributary/connect/worker"
)

func newServerCommand() *cobra.Command {
	var listen, dataDir, restListen, logLevel string
	var sets []string
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the all-in-one dev server (broker + connect worker)",
		Long: `Run a broker (on --listen, data in --data-dir) and a distributed Kafka Connect
worker using it (REST API on --rest-listen, group connect-cluster, topics
connect-configs, connect-offsets and connect-status), on embedded defaults:
no setup. Connectors are created over the REST API, e.g.

  curl -X POST -H 'Content-Type: application/json' http://127.0.0.1:8083/connectors \
    -d '{"name": "in", "config": {"connector.class": "FileStreamSource", "file": "in.txt", "topic": "lines"}}'

Offsets are committed every 10 s (offset.flush.interval.ms, as Kafka's
shipped worker files set it). --set takes broker config keys. SIGINT or
SIGTERM stops the worker, then the broker, cleanly.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(cmd, logLevel)
			if err != nil {
				return err
			}
			var bcfg broker.Config
			if err := applySets(sets, bcfg.Set); err != nil {
				return err
			}
			bcfg.Listen, bcfg.DataDir, bcfg.Logger = listen, dataDir, logger
			if err := bcfg.Validate(); err != nil {
				return usageErrorf("%v", err)
			}
			// The broker outlives the signal: the worker commits its offsets
			// to it while stopping, then the broker closes.
			b, err := broker.Start(context.WithoutCancel(cmd.Context()), bcfg)
			if err != nil {
				return err
			}
			defer b.Close()
			wcfg := worker.Defaults()
			wcfg.BootstrapServers = []string{b.Addr()}
			wcfg.RestListen = restListen
			wcfg.OffsetFlushInterval = 10 * time.Second
			wcfg.Logger = logger
			if err := wcfg.Validate(); err != nil {
				return usageErrorf("%v", err)
			}
			w, err := worker.StartDistributed(cmd.Context(), wcfg)
			if err != nil {
				return fmt.Errorf("connect worker: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "tributary server: broker on %s (data in %s), connect REST API on %s\n", b.Addr(), dataDir, orNone(w.URL()))
			select {
			case <-cmd.Context().Done():
			case <-b.Done():
				w.Close()
				return fmt.Errorf("broker stopped: %w", b.Err())
			}
			return errors.Join(w.Close(), b.Close())
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:9092", "address the broker's Kafka listener binds (host:port)")
	f.StringVar(&dataDir, "data-dir", "./data", "directory for the broker's logs and metadata")
	f.StringVar(&restListen, "rest-listen", ":8083", "address of the connect worker's REST API")
	f.StringArrayVar(&sets, "set", nil, "broker config key=value (repeatable)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}
