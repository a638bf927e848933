// Command embedded-broker starts a Tributary broker inside a Go program,
// with nothing but an address and a data directory, produces a few records
// with franz-go, reads them back, and stops the broker.
//
//	go run ./examples/embedded-broker [--data-dir DIR]
//
// Without --data-dir it uses a temporary directory, removed at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/broker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "embedded-broker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("embedded-broker", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "", "broker data directory (default: a temporary one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" {
		dir, err := os.MkdirTemp("", "embedded-broker-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dataDir = dir
	}

	// The zero Config plus two fields: every other setting takes Kafka's
	// default. The broker logs through slog.Default() unless given a Logger.
	b, err := broker.Start(ctx, broker.Config{
		Listen:  "127.0.0.1:0", // an ephemeral port; b.Addr() tells which
		DataDir: *dataDir,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return fmt.Errorf("start broker: %w", err)
	}
	defer b.Close()
	fmt.Fprintf(stdout, "broker listening on %s\n", b.Addr())

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("greetings"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "greetings"); err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	words := []string{"hello", "bonjour", "hallo"}
	for _, w := range words {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "greetings", Value: []byte(w)}).FirstErr(); err != nil {
			return fmt.Errorf("produce: %w", err)
		}
	}
	for read := 0; read < len(words); {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("consume: %d of %d records: %w", read, len(words), err)
		}
		if errs := fetches.Errors(); len(errs) > 0 {
			return fmt.Errorf("consume: %w", errs[0].Err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			fmt.Fprintf(stdout, "offset %d: %s\n", r.Offset, r.Value)
			read++
		})
	}
	cl.Close()
	if err := b.Close(); err != nil {
		return fmt.Errorf("stop broker: %w", err)
	}
	<-b.Done() // closed once the broker has released its data dir
	if err := b.Err(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "broker stopped")
	return nil
}
