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

// workload is a benchmark's input and its check, the same for every
// target: fresh topics, filled before the clock starts.
type workload struct {
	topics  []string
	records int64
	fill    func(ctx context.Context, c *cluster) error
	check   func(ctx context.Context, c *cluster) error
}

// run measures one target on w: start starts it on a fresh cluster, and
// it is done when group has consumed the topics in done.
func (w workload) run(ctx context.Context, group string, done []string, start func(c *cluster) (func() error, error)) (result, error) {
	c, err := startCluster(ctx)
	if err != nil {
		return result{}, err
	}
	defer c.close()
	for _, t := range w.topics {
		if err := c.createTopic(ctx, t, partitions, nil); err != nil {
			return result{}, err
		}
	}
	if err := w.fill(ctx, c); err != nil {
		return result{}, err
	}
	r, err := measure(ctx, func() (func() error, error) { return start(c) },
		func() error { return c.waitConsumed(ctx, group, done, runTimeout) })
	if err != nil {
		return r, err
	}
	r.records = w.records
	return r, w.check(ctx, c)
}

// statelessWorkload is n records of 100 bytes in; nine in ten out,
// upper-cased.
func statelessWorkload(n int) workload {
	return workload{topics: []string{"stateless-in", "stateless-out"}, records: int64(n),
		fill: func(ctx context.Context, c *cluster) error {
			return c.fill(ctx, "stateless-in", n, func(i int) *kgo.Record {
				return &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: statelessValue(i)}
			})
		},
		check: func(ctx context.Context, c *cluster) error { return checkCount(ctx, c, "stateless-out", kept(n)) },
	}
}

func statelessTributary(ctx context.Context, n int) (result, error) {
	b := streams.NewBuilder()
	in := streams.Stream(b, "stateless-in", streams.String(), streams.String())
	streams.MapValues(in.Filter(func(_, v string) bool { return keep(v) }), strings.ToUpper).To("stateless-out")
	top, err := b.Build()
	if err != nil {
		return result{}, err
	}
	return statelessWorkload(n).run(ctx, "bench-stateless", []string{"stateless-in"}, func(c *cluster) (func() error, error) {
		return startApp(top, appOptions(c, "bench-stateless")...)
	})
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

// wordCountWorkload is lines of ten words in, the latest count of each
// word out.
func wordCountWorkload(words int) workload {
	ls, want := lines(words)
	return workload{topics: []string{"lines", "word-counts"}, records: int64(words),
		fill: func(ctx context.Context, c *cluster) error {
			return c.fill(ctx, "lines", len(ls), func(i int) *kgo.Record { return &kgo.Record{Value: []byte(ls[i])} })
		},
		check: func(ctx context.Context, c *cluster) error { return checkCounts(ctx, c, "word-counts", want) },
	}
}

func wordCountTributary(ctx context.Context, words int) (result, error) {
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
	return wordCountWorkload(words).run(ctx, "bench-wc", []string{"lines", "bench-wc-counts-repartition"}, func(c *cluster) (func() error, error) {
		return startApp(top, appOptions(c, "bench-wc")...)
	})
}
