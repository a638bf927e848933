package main

// The workloads, written with Tributary streams: the same records in and
// out as the goka versions in goka.go.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/streams"
)

const (
	partitions     = 6
	valueBytes     = 100
	vocabulary     = 10_000
	wordsPerLine   = 10
	commitInterval = time.Second
	runTimeout     = 10 * time.Minute
)

// statelessValue is record i of the stateless input: 100 bytes, whose
// last digit says whether the filter keeps it (nine in ten).
func statelessValue(i int) []byte {
	v := fmt.Sprintf("record %09d ", i)
	return []byte(v + strings.Repeat("x", valueBytes-len(v)-1) + strconv.Itoa(i%10))
}

func keep(v string) bool { return v[len(v)-1] != '0' }

func kept(n int) int64 { return int64(n - (n+9)/10) }

// startApp runs an App in the background; the returned stop cancels it
// and waits.
func startApp(top *streams.Topology, opts ...streams.Option) (func() error, error) {
	app, err := streams.New(top, opts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	return func() error { cancel(); return <-done }, nil
}

func appOptions(c *cluster, app string) []streams.Option {
	return []streams.Option{streams.WithApplicationID(app), streams.WithBootstrapServers(c.addr),
		streams.WithStateDir(c.tempDir("state")), streams.WithCommitInterval(commitInterval)}
}

func statelessTributary(ctx context.Context, n int) (result, error) {
	c, err := startCluster(ctx)
	if err != nil {
		return result{}, err
	}
	defer c.close()
	for _, t := range []string{"stateless-in", "stateless-out"} {
		if err := c.createTopic(ctx, t, partitions, nil); err != nil {
			return result{}, err
		}
	}
	if err := c.fill(ctx, "stateless-in", n, func(i int) *kgo.Record {
		return &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: statelessValue(i)}
	}); err != nil {
		return result{}, err
	}
	b := streams.NewBuilder()
	in := streams.Stream(b, "stateless-in", streams.String(), streams.String())
	streams.MapValues(in.Filter(func(_, v string) bool { return keep(v) }), strings.ToUpper).To("stateless-out")
	top, err := b.Build()
	if err != nil {
		return result{}, err
	}
	r, err := measure(ctx, func() (func() error, error) { return startApp(top, appOptions(c, "bench-stateless")...) },
		func() error { return c.waitConsumed(ctx, "bench-stateless", []string{"stateless-in"}, runTimeout) })
	if err != nil {
		return r, err
	}
	r.records = int64(n)
	return r, checkCount(ctx, c, "stateless-out", kept(n))
}

func checkCount(ctx context.Context, c *cluster, topic string, want int64) error {
	got, err := c.records(ctx, topic)
	if err != nil {
		return err
	}
	if got < want {
		return fmt.Errorf("%s has %d records, want %d", topic, got, want)
	}
	return nil
}

// lines are the wordcount input: lines of ten words from a vocabulary,
// and the count of each word.
func lines(words int) ([]string, map[string]int64) {
	r := rand.New(rand.NewPCG(7, 7))
	counts := map[string]int64{}
	var out []string
	line := make([]string, 0, wordsPerLine)
	for i := range words {
		w := "w" + strconv.Itoa(r.IntN(vocabulary))
		counts[w]++
		line = append(line, w)
		if len(line) == wordsPerLine || i == words-1 {
			out = append(out, strings.Join(line, " "))
			line = line[:0]
		}
	}
	return out, counts
}

func fillLines(ctx context.Context, c *cluster, topic string, ls []string) error {
	return c.fill(ctx, topic, len(ls), func(i int) *kgo.Record { return &kgo.Record{Value: []byte(ls[i])} })
}

// checkCounts compares the latest count of each word on topic.
func checkCounts(ctx context.Context, c *cluster, topic string, want map[string]int64) error {
	latest, err := c.readLatest(ctx, topic)
	if err != nil {
		return err
	}
	if len(latest) != len(want) {
		return fmt.Errorf("%s: %d words, want %d", topic, len(latest), len(want))
	}
	for w, n := range want {
		if latest[w] != strconv.FormatInt(n, 10) {
			return fmt.Errorf("%s: count of %s = %s, want %d", topic, w, latest[w], n)
		}
	}
	return nil
}

func wordCountTributary(ctx context.Context, words int) (result, error) {
	c, err := startCluster(ctx)
	if err != nil {
		return result{}, err
	}
	defer c.close()
	for _, t := range []string{"lines", "word-counts"} {
		if err := c.createTopic(ctx, t, partitions, nil); err != nil {
			return result{}, err
		}
	}
	ls, want := lines(words)
	if err := fillLines(ctx, c, "lines", ls); err != nil {
		return result{}, err
	}
	b := streams.NewBuilder()
	ws := streams.FlatMapValues(streams.Stream(b, "lines", streams.String(), streams.String()), func(line string, emit func(string)) {
		for _, w := range strings.Fields(line) {
			emit(w)
		}
	})
	counts := streams.GroupBy(ws, func(_, w string) string { return w }).Count(streams.Materialized("counts"))
	streams.MapValues(counts.ToStream(), func(n int64) string { return strconv.FormatInt(n, 10) }).To("word-counts")
	top, err := b.Build()
	if err != nil {
		return result{}, err
	}
	r, err := measure(ctx, func() (func() error, error) { return startApp(top, appOptions(c, "bench-wc")...) },
		func() error {
			return c.waitConsumed(ctx, "bench-wc", []string{"lines", "bench-wc-counts-repartition"}, runTimeout)
		})
	if err != nil {
		return r, err
	}
	r.records = int64(words)
	return r, checkCounts(ctx, c, "word-counts", want)
}
