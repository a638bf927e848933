// Package metafile writes and reads the broker's small metadata and
// checkpoint files (topics.json, meta.json, broker-configs.json,
// producer-ids.json, each partition's checkpoints) so that damage is
// detected instead of believed: every file ends with a CRC-32C of its
// content, and a write can keep the version it replaces as <file>.prev.
//
// A file is its content followed by one trailer line:
//
//	#crc32c <8 hex digits>\n
//
// The content stays readable with cat or jq-after-head. Files written
// before checksums existed (no trailer) are read as they are, and get a
// trailer the next time they are written.
package metafile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"

	"github.com/tributary-streams/tributary/internal/fsutil"
)

// ErrCorrupt is wrapped when a file's checksum does not match its content.
var ErrCorrupt = errors.New("checksum mismatch")

// PreviousSuffix names the kept previous version of a file.
const PreviousSuffix = ".prev"

const (
	trailerPrefix = "#crc32c "
	trailerLen    = len(trailerPrefix) + 8 + 1
)

var table = crc32.MakeTable(crc32.Castagnoli)

// Encode appends the checksum trailer to data.
func Encode(data []byte) []byte {
	out := make([]byte, 0, len(data)+trailerLen+1)
	out = append(out, data...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return fmt.Appendf(out, "%s%08x\n", trailerPrefix, crc32.Checksum(out, table))
}

// Decode checks raw's trailer and returns the content before it. A file
// with no trailer at all (written before checksums existed) is returned
// whole; a single flipped bit cannot make a file with a trailer look like
// one without (that takes changing both its '#' and its "crc32c").
func Decode(raw []byte) ([]byte, error) {
	lastLine := raw[bytes.LastIndexByte(raw[:max(len(raw)-1, 0)], '\n')+1:]
	if !bytes.Contains(raw, []byte("crc32c")) && !bytes.Contains(lastLine, []byte("#")) {
		return raw, nil
	}
	i := len(raw) - trailerLen
	if i < 0 || (i > 0 && raw[i-1] != '\n') || !bytes.HasPrefix(raw[i:], []byte(trailerPrefix)) || raw[len(raw)-1] != '\n' {
		return nil, fmt.Errorf("%w: malformed trailer", ErrCorrupt)
	}
	stored := raw[i+len(trailerPrefix) : len(raw)-1]
	if got := fmt.Sprintf("%08x", crc32.Checksum(raw[:i], table)); string(stored) != got {
		return nil, fmt.Errorf("%w: stored %q, content has %s", ErrCorrupt, stored, got)
	}
	return raw[:i], nil
}

// Read returns path's content after checking its checksum. A missing file
// is an error wrapping os.ErrNotExist; a damaged one wraps ErrCorrupt and
// names the file and whether a previous version is kept.
func Read(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data, err := Decode(raw)
	if err != nil {
		hint := ""
		if _, perr := ReadPrevious(path); perr == nil {
			hint = fmt.Sprintf(" (the previous version, %s, is intact)", path+PreviousSuffix)
		}
		return nil, fmt.Errorf("%s: %w%s", path, err, hint)
	}
	return data, nil
}

// ReadPrevious returns the checked content of the kept previous version.
func ReadPrevious(path string) ([]byte, error) {
	prev := path + PreviousSuffix
	raw, err := os.ReadFile(prev)
	if err != nil {
		return nil, err
	}
	data, err := Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prev, err)
	}
	return data, nil
}

// Write atomically replaces path with data and its checksum. With
// keepPrevious, the version being replaced is kept first as path+".prev"
// (when it is intact: a damaged file never replaces a good previous one).
// Concurrent writers of one path must be serialised by the caller.
func Write(path string, data []byte, keepPrevious bool) error {
	if keepPrevious {
		if err := keep(path); err != nil {
			return err
		}
	}
	return fsutil.WriteFileAtomic(path, Encode(data))
}

// keep makes path+".prev" a copy of path, if path exists and is intact: a
// hard link renamed into place, so the previous version is whole at every
// moment.
func keep(path string) error {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("keep previous version of %s: %w", path, err)
	}
	if _, err := Decode(raw); err != nil {
		return nil
	}
	tmp := path + PreviousSuffix + fsutil.TempSuffix
	os.Remove(tmp)
	if err := os.Link(path, tmp); err != nil {
		// No hard links on this file system: copy.
		if err := fsutil.WriteFileSync(tmp, raw); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("keep previous version of %s: %w", path, err)
		}
	}
	if err := os.Rename(tmp, path+PreviousSuffix); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("keep previous version of %s: %w", path, err)
	}
	return nil
}

// ReadJSON decodes path's checked content into v. found is false (and v
// untouched) when the file does not exist; what names the file's content
// in errors ("ACLs", "SCRAM credentials").
func ReadJSON(what, path string, v any) (found bool, err error) {
	raw, err := Read(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", what, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("parse %s %s: %w", what, path, err)
	}
	return true, nil
}

// WriteJSON writes v, indented, as Write does with keepPrevious.
func WriteJSON(what, path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", what, err)
	}
	if err := Write(path, raw, true); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	return nil
}
