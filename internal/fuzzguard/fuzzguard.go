// Package fuzzguard holds what fuzz targets share to keep away from known
// limits of the libraries under them.
package fuzzguard

// HugeUvarint reports whether b could hold a uvarint of 2^25 or more.
// kmsg v1.15.0 loops once per claimed tagged field before noticing that the
// input ended, so a tiny flexible request claiming 2^32 tags takes up to a
// minute of CPU to reject (a known limit, noted on the broker issue). Fuzz
// targets skip such inputs: they would test that loop, not our code.
func HugeUvarint(b []byte) bool {
	run := 0
	for _, c := range b {
		if c&0x80 != 0 {
			run++
			if run >= 4 {
				return true
			}
			continue
		}
		if run == 3 && c >= 0x10 {
			return true
		}
		run = 0
	}
	return false
}
