package main

// The workloads written with lovoo/goka (sarama underneath), against the
// same kind of broker: the peer the issue compares with. Goka keeps its
// state in LevelDB (its default) and changelogs every update to the
// group table topic; it has no record cache, so every update is also
// emitted.

import (
	"context"
	"fmt"
	"io"
	"log"
	"strconv"
	"strings"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"
)

func gokaConfig() {
	cfg := goka.DefaultConfig()
	// The inputs are filled before the run: read them from the start, as
	// the streams App does (auto.offset.reset=earliest).
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Producer.Compression = sarama.CompressionNone
	goka.ReplaceGlobalConfig(cfg)
	sarama.Logger = log.New(io.Discard, "", 0)
}

func gokaTopicManager() goka.TopicManagerBuilder {
	tmc := goka.NewTopicManagerConfig()
	tmc.Table.Replication = 1
	tmc.Stream.Replication = 1
	return goka.TopicManagerBuilderWithTopicManagerConfig(tmc)
}

// startGoka runs a goka processor in the background.
func startGoka(c *cluster, g *goka.GroupGraph) (func() error, error) {
	gokaConfig()
	p, err := goka.NewProcessor([]string{c.addr}, g,
		goka.WithTopicManagerBuilder(gokaTopicManager()),
		goka.WithConsumerGroupBuilder(goka.DefaultConsumerGroupBuilder),
		goka.WithStorageBuilder(storage.DefaultBuilder(c.tempDir("goka"))),
		goka.WithLogger(log.New(io.Discard, "", 0)),
	)
	if err != nil {
		return nil, fmt.Errorf("goka processor: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() error {
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			return err
		}
		return nil
	}, nil
}

func statelessGoka(ctx context.Context, n int) (result, error) {
	g := goka.DefineGroup("goka-stateless",
		goka.Input("stateless-in", new(codec.String), func(ctx goka.Context, msg any) {
			if v := msg.(string); keep(v) {
				ctx.Emit("stateless-out", ctx.Key(), strings.ToUpper(v))
			}
		}),
		goka.Output("stateless-out", new(codec.String)),
	)
	return statelessWorkload(n).run(ctx, "goka-stateless", []string{"stateless-in"}, func(c *cluster) (func() error, error) {
		return startGoka(c, g)
	})
}

func wordCountGoka(ctx context.Context, words int) (result, error) {
	// Words go through the loopback topic (goka's repartitioning, keyed by
	// word) to the partition that counts them.
	g := goka.DefineGroup("goka-wc",
		goka.Input("lines", new(codec.String), func(ctx goka.Context, msg any) {
			for _, w := range strings.Fields(msg.(string)) {
				ctx.Loopback(w, "")
			}
		}),
		goka.Loop(new(codec.String), func(ctx goka.Context, _ any) {
			var n int64
			if v := ctx.Value(); v != nil {
				n = v.(int64)
			}
			n++
			ctx.SetValue(n)
			ctx.Emit("word-counts", ctx.Key(), strconv.FormatInt(n, 10))
		}),
		goka.Output("word-counts", new(codec.String)),
		goka.Persist(new(codec.Int64)),
	)
	return wordCountWorkload(words).run(ctx, "goka-wc", []string{"lines", "goka-wc-loop"}, func(c *cluster) (func() error, error) {
		return startGoka(c, g)
	})
}
