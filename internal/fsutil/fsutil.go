// Package fsutil holds the file-system steps that durability rests on, so
// that every part of Tributary writes its small state files the same way:
// a crash at any moment leaves either the old content or the new, never a
// mix, and a rename is not reported done before the directory entry is on
// disk.
package fsutil

import (
	"fmt"
	"os"
	"path/filepath"
)

// TempSuffix is appended to a file's name while WriteFileAtomic writes it.
// A leftover file with this suffix is the remains of an interrupted write
// and can be removed.
const TempSuffix = ".tmp"

// WriteFileAtomic replaces path with data: it writes path+TempSuffix,
// fsyncs it, renames it over path and fsyncs the directory. Every error,
// the directory sync's included, is returned: a caller that acknowledges
// something on the strength of this write must not do so after a failure.
// Concurrent writers of the same path must be serialised by the caller
// (they share the temp name).
func WriteFileAtomic(path string, data []byte) error {
	return WriteFileAtomicPerm(path, data, 0o644)
}

// WriteFileAtomicPerm is WriteFileAtomic creating the file with perm, for
// files that must never be readable by others, not even while written.
func WriteFileAtomicPerm(path string, data []byte, perm os.FileMode) error {
	tmp := path + TempSuffix
	if err := writeFileSync(tmp, data, perm, perm != 0o644); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write %s: sync directory: %w", path, err)
	}
	return nil
}

// WriteFileSync creates or truncates path, writes data and fsyncs the file.
// It does not sync the directory: use it for a file that is renamed into
// place afterwards (and SyncDir after the rename).
func WriteFileSync(path string, data []byte) error {
	return writeFileSync(path, data, 0o644, false)
}

// writeFileSync is WriteFileSync with a mode; with chmod an existing file
// gets perm too before data is written (OpenFile keeps an existing mode).
func writeFileSync(path string, data []byte, perm os.FileMode, chmod bool) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if chmod {
		err = f.Chmod(perm)
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SyncDir fsyncs a directory so that files created, renamed or removed in
// it stay so after a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
