package broker

// Producer id allocation. Ids are handed out from blocks of 1000 whose upper
// bound is persisted before any id of the block is used, so an id is never
// reused after a crash (at worst part of a block is skipped).

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/tributary-streams/tributary/broker/internal/metafile"
)

const producerIDBlock = 1000

type producerIDs struct {
	mu    sync.Mutex
	path  string
	next  int64
	limit int64 // persisted: ids below it may have been handed out
}

func openProducerIDs(dataDir string) (*producerIDs, error) {
	pi := &producerIDs{path: filepath.Join(dataDir, "producer-ids.json")}
	raw, err := metafile.Read(pi.path)
	switch {
	case err == nil:
		var st struct {
			Limit int64 `json:"limit"`
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, fmt.Errorf("parse %s: %w", pi.path, err)
		}
		pi.next, pi.limit = st.Limit, st.Limit
	case errors.Is(err, os.ErrNotExist):
	default:
		// A damaged limit could hand out producer ids twice: refuse.
		return nil, fmt.Errorf("read producer id limit: %w", err)
	}
	return pi, nil
}

// Allocate returns a fresh producer id.
func (pi *producerIDs) Allocate() (int64, error) {
	pi.mu.Lock()
	defer pi.mu.Unlock()
	if pi.next >= pi.limit {
		limit := pi.next + producerIDBlock
		raw, _ := json.Marshal(map[string]int64{"limit": limit})
		if err := metafile.Write(pi.path, raw, true); err != nil {
			return 0, fmt.Errorf("reserve producer ids: %w", err)
		}
		pi.limit = limit
	}
	id := pi.next
	pi.next++
	return id, nil
}
