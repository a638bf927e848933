//go:build soak

package streams_test

// The soak build (go test -tags soak) counts ten million words over the
// instances that come and go, and kills an instance over a million.
func init() {
	millionWords = 10_000_000
	killWords = 1_000_000
}
