package broker

// The data-dir lock. Like Kafka's log-dir .lock, <data-dir>/.lock is held
// with flock(LOCK_EX) from before anything in the directory is read or
// written until the broker stops, so a second broker on the same directory
// refuses to start instead of writing the same offsets as the first. The
// file holds the owner's pid so the refusal can name it. The kernel drops
// the lock when the process dies, so a crash never leaves it stuck.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrDataDirLocked is returned by Start when another process holds the
// data dir.
var ErrDataDirLocked = errors.New("data dir is in use by another broker")

const lockFileName = ".lock"

// lockDataDir takes the lock and records this process's pid in it.
func lockDataDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open data dir lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := "another process"
			if raw, rerr := os.ReadFile(path); rerr == nil {
				if pid, perr := strconv.Atoi(strings.TrimSpace(string(raw))); perr == nil {
					holder = "pid " + strconv.Itoa(pid)
				}
			}
			return nil, fmt.Errorf("%w: %s is locked by %s (%s); stop that broker or choose another --data-dir",
				ErrDataDirLocked, dir, holder, path)
		}
		return nil, fmt.Errorf("lock data dir %s: %w", path, err)
	}
	// Only the lock holder writes the pid, so a reader sees the holder's.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
