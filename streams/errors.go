package streams

import "errors"

var errShortDelta = errors.New("streams: a grouped-table record without its add/subtract flag")
