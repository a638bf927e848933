package cli

// `tributary broker` runs a broker in the foreground.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/tributary-streams/tributary/broker"
)

func newBrokerCommand() *cobra.Command {
	var (
		listen, advertise, dataDir, metricsListen, configFile, fsync, logLevel string
		sets, addSCRAM                                                         []string
	)
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run a Kafka-protocol broker",
		Long: `Run a single-node Kafka-protocol broker with a durable log in --data-dir.

Kafka broker config names are accepted through --config FILE (a
server.properties file) and --set key=value, e.g. --set log.retention.ms=3600000
--set num.partitions=3 --set auto.create.topics.enable=false. Flags win over the
file. SIGINT or SIGTERM shuts down cleanly.`,
		Example: `  tributary broker --listen 127.0.0.1:9092 --data-dir ./data
  tributary broker --config server.properties --set log.retention.ms=3600000 --set num.partitions=3`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cfg broker.Config
			if configFile != "" {
				if err := cfg.LoadProperties(configFile); err != nil {
					return usageErrorf("%v", err)
				}
			}
			if err := applySets(sets, cfg.Set); err != nil {
				return err
			}
			cfg.AddSCRAM = append(cfg.AddSCRAM, addSCRAM...)
			if cmd.Flags().Changed("listen") || (cfg.Listen == "" && len(cfg.Listeners) == 0) {
				cfg.Listen = listen
			}
			if cmd.Flags().Changed("advertise") {
				cfg.Advertise = advertise
			}
			if cmd.Flags().Changed("data-dir") || cfg.DataDir == "" {
				cfg.DataDir = dataDir
			}
			cfg.MetricsListen = metricsListen
			switch fsync {
			case "always":
				cfg.FsyncAlways = true
			case "os", "never", "":
			default:
				return usageErrorf("--fsync %q: accepted: always (fsync before acknowledging) or os (rely on the OS and flush.messages/flush.ms)", fsync)
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return usageErrorf("--log-level %q: accepted: debug, info, warn, error", logLevel)
			}
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			if err := cfg.Validate(); err != nil {
				return usageErrorf("%v", err)
			}
			b, err := broker.Start(cmd.Context(), cfg)
			if err != nil {
				if errors.Is(err, context.Canceled) && cmd.Context().Err() != nil {
					return nil // SIGTERM during startup: stopped cleanly
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "tributary broker listening on %s (data in %s)\n", b.Addr(), cfg.DataDir)
			if ls := b.Listeners(); len(ls) > 1 {
				for _, l := range ls {
					fmt.Fprintf(cmd.OutOrStdout(), "  listener %s (%s) on %s\n", l.Name, l.Protocol, l.Advertise)
				}
			}
			select {
			case <-cmd.Context().Done():
				return b.Close()
			case <-b.Done():
				return fmt.Errorf("broker stopped: %w", b.Err())
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:9092", "address the Kafka listener binds (host:port)")
	f.StringVar(&advertise, "advertise", "", "host:port clients are told to connect to (default: the listen address)")
	f.StringVar(&dataDir, "data-dir", "./data", "directory for logs and metadata (Kafka: log.dirs)")
	f.StringVar(&metricsListen, "metrics-listen", "127.0.0.1:9644", "address for /metrics and /healthz; empty disables")
	f.StringVar(&configFile, "config", "", "Kafka broker properties file (server.properties)")
	f.StringArrayVar(&sets, "set", nil, "Kafka broker config key=value (repeatable)")
	f.StringArrayVar(&addSCRAM, "add-scram", nil, "SCRAM credential to add at start when the user has none for the mechanism, as kafka-storage.sh format takes it: 'SCRAM-SHA-256=[name=admin,password=admin-secret]' (repeatable)")
	f.StringVar(&fsync, "fsync", "os", "always: fsync before every acknowledgement; os: rely on the OS and flush.messages/flush.ms")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}
