package broker

// Storage failures the operator can fix: a full disk and a descriptor
// limit. They are logged with what is short and what to do, and a full
// disk is reported by /healthz (a storage check) and the metrics
// tributary_storage_full and tributary_storage_free_bytes.

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"
)

// logStorageFailure logs a failed file operation of op on topic, naming
// the limit and the remedy when it is one the operator can fix.
func (b *Broker) logStorageFailure(op, topic string, err error) {
	switch {
	case errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE):
		var lim syscall.Rlimit
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		b.logger.Error(op+" failed: the process is out of file descriptors", "topic", topic,
			"open_files_limit", lim.Cur, "open_files", openFiles(),
			"remedy", "raise the limit (ulimit -n, or LimitNOFILE= for systemd) or close idle client connections",
			"err", err)
	case b.noteWriteError(op, err):
	default:
		b.logger.Error(op+" failed", "topic", topic, "err", err)
	}
}

// defaultOpenSegmentFiles is a quarter of the descriptor limit, between 64
// and 4096: the rest stays for connections and everything else.
func defaultOpenSegmentFiles() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 1024
	}
	return int(min(max(lim.Cur/4, 64), 4096))
}

// openFiles counts this process's open descriptors, -1 if unknown.
func openFiles() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// storageState says whether the data dir's device is full: set when a
// write fails for want of space, cleared when a write succeeds again or
// the device has resumeFreeBytes free. Reads, deletes and startup go on
// while it is set; only writes fail (produce answers KAFKA_STORAGE_ERROR).
type storageState struct {
	full atomic.Bool
}

// resumeFreeBytes is the free space at which a full device counts as
// writable again.
const resumeFreeBytes = 1 << 20

// noteWriteError records a write that failed for want of space, logging
// it once per episode rather than once per failed request.
func (b *Broker) noteWriteError(op string, err error) (logged bool) {
	if !errors.Is(err, syscall.ENOSPC) {
		return false
	}
	if !b.storage.full.Swap(true) {
		b.logger.Error(op+" failed: no space left on the data dir's device; writes fail until space returns, reads and deletes go on",
			"data_dir", b.cfg.DataDir, "free_bytes", b.freeBytes(),
			"remedy", "free space (delete topics or records, or lower retention) or grow the volume", "err", err)
	}
	return true
}

// noteWriteOK records a successful write: space is back.
func (b *Broker) noteWriteOK() {
	if b.storage.full.Load() && b.storage.full.CompareAndSwap(true, false) {
		b.logger.Info("writes succeed again on the data dir's device", "data_dir", b.cfg.DataDir, "free_bytes", b.freeBytes())
	}
}

// storageFull reports whether the device is full, checking whether space
// has returned.
func (b *Broker) storageFull() bool {
	free := b.freeBytes()
	if b.storage.full.Load() && free >= resumeFreeBytes {
		b.noteWriteOK()
	}
	return b.storage.full.Load() || free == 0
}

// freeBytes is the space available to the broker on the data dir's
// device, -1 if unknown.
func (b *Broker) freeBytes() int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(b.cfg.DataDir, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
