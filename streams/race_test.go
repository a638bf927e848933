//go:build race

package streams_test

// Under the race detector the broker-backed tests run smaller: the full
// sizes run in `make test`'s plain line.
func init() {
	millionWords = 100_000
	killWords = 40_000
	purgeWords = 10_000
}
