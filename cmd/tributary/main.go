// Command tributary is the single Tributary binary: broker, dev server, and
// Kafka-style admin and console tools. See internal/cli.
package main

import (
	"os"

	"github.com/tributary-streams/tributary/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
