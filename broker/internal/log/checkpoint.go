// Small checkpoint files in the partition directory. Each holds one decimal
// offset and a CRC-32C (broker/internal/metafile) and is replaced
// atomically (write temp, fsync, rename, fsync dir), so a crash leaves
// either the old or the new value, never a torn one, and a damaged value is
// detected, not believed. log-start-offset keeps its previous version as
// log-start-offset.prev: a damaged start offset falls back to it (an older,
// lower start hides nothing), else to the first segment's base. A damaged
// recovery point means recovering every segment, a damaged cleaner offset
// cleaning from the start: both only cost time.
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

	"github.com/tributary-streams/tributary/broker/internal/metafile"
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
	err := metafile.Write(filepath.Join(dir, name), []byte(strconv.FormatInt(v, 10)+"\n"), name == startOffsetFile)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// readCheckpoint returns the stored value, or ok=false if the file does not
// exist. A damaged file is an error wrapping metafile.ErrCorrupt.
func readCheckpoint(dir, name string) (v int64, ok bool, err error) {
	b, err := metafile.Read(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read checkpoint %s: %w", name, err)
	}
	return parseCheckpoint(name, b)
}

func parseCheckpoint(name string, b []byte) (int64, bool, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || v < 0 {
		return 0, false, fmt.Errorf("read checkpoint %s: %w: bad content %q", name, metafile.ErrCorrupt, b)
	}
	return v, true, nil
}

// readStartOffset reads log-start-offset, falling back to its previous
// version when it is damaged (see the file comment). ok is false when
// neither gives a value.
func (l *Log) readStartOffset() (v int64, ok bool) {
	v, ok, err := readCheckpoint(l.dir, startOffsetFile)
	if err == nil {
		return v, ok
	}
	if prev, perr := metafile.ReadPrevious(filepath.Join(l.dir, startOffsetFile)); perr == nil {
		if pv, pok, perr := parseCheckpoint(startOffsetFile, prev); perr == nil && pok {
			l.logger.Warn("log start offset checkpoint is damaged; using its previous version", "start_offset", pv, "err", err)
			return pv, true
		}
	}
	l.logger.Warn("log start offset checkpoint is damaged and has no intact previous version; starting at the first segment", "err", err)
	return 0, false
}

// fsync is (*os.File).Sync. It is a variable only so that tests checking
// logic rather than durability (the fuzz target) can skip the disk flush.
var fsync = (*os.File).Sync
