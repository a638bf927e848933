// Small checkpoint files in the partition directory. Each holds one decimal
// offset and is replaced atomically (write temp, fsync, rename, fsync dir),
// so a crash leaves either the old or the new value, never a torn one.
//
//	log-start-offset   first offset readers may see (DeleteRecords, retention)
//	recovery-point     every segment below the one holding this offset is
//	                   fsynced and its indexes are trustworthy
//	cleaner-offset     compaction has cleaned everything below this offset
//	.clean-shutdown    empty marker written by Close, removed by Open

package log

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tributary-streams/tributary/internal/fsutil"
)

const (
	startOffsetFile   = "log-start-offset"
	recoveryPointFile = "recovery-point"
	cleanerOffsetFile = "cleaner-offset"
	cleanShutdownFile = ".clean-shutdown"
	tmpSuffix         = fsutil.TempSuffix
)

// writeCheckpoint atomically replaces dir/name with v. Caller holds
// Log.ckMu (the temp file name is shared).
func writeCheckpoint(dir, name string, v int64) error {
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, name), []byte(strconv.FormatInt(v, 10)+"\n")); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// readCheckpoint returns the stored value, or ok=false if the file does not
// exist.
func readCheckpoint(dir, name string) (v int64, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read checkpoint %s: %w", name, err)
	}
	v, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || v < 0 {
		return 0, false, fmt.Errorf("read checkpoint %s: bad content %q", name, b)
	}
	return v, true, nil
}

// fsync is (*os.File).Sync. It is a variable only so that tests checking
// logic rather than durability (the fuzz target) can skip the disk flush.
var fsync = (*os.File).Sync
