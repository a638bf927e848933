package broker

// Storage failures the operator can fix: a full disk and a descriptor
// limit. They are logged with what is short and what to do.

import (
	"errors"
	"os"
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
	case errors.Is(err, syscall.ENOSPC):
		b.logger.Error(op+" failed: no space left on the data dir's device", "topic", topic, "data_dir", b.cfg.DataDir,
			"remedy", "free space (delete topics or records, or lower retention) or grow the volume", "err", err)
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
