// Command wordcount counts words: lines in, a running count per word out
// (key: the word, value: its count as a decimal string). It runs until
// interrupted; run several with the same --application-id to share the
// work.
//
//	go run ./examples/wordcount --bootstrap-server HOST:PORT --input TOPIC --output TOPIC [--exactly-once]
package main

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/tributary-streams/tributary/examples/internal/appflags"
	"github.com/tributary-streams/tributary/streams"
)

func main() { appflags.Main("wordcount", run) }

// topology counts the words of input's lines into output.
func topology(input, output string) (*streams.Topology, error) {
	b := streams.NewBuilder()
	lines := streams.Stream(b, input, streams.String(), streams.String())
	words := streams.FlatMapValues(lines, func(line string, emit func(string)) {
		for _, w := range strings.Fields(strings.ToLower(line)) {
			emit(w)
		}
	})
	counts := streams.GroupBy(words, func(_, word string) string { return word }).Count(streams.Materialized("counts"))
	streams.MapValues(counts.ToStream(), func(n int64) string { return strconv.FormatInt(n, 10) }).To(output)
	return b.Build()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return appflags.Run(ctx, "wordcount", args, stdout, stderr, "", "", nil, func(f *appflags.Flags) (*streams.Topology, error) {
		return topology(f.Input, f.Output)
	})
}
