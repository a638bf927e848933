package broker

// partition.metadata: each partition directory names the topic id it
// belongs to, as in Kafka, so that startup can tell a directory of a live
// topic from one left by a deleted topic of the same name or by metadata
// damage, and DeleteTopics can never touch a newer topic's files.
//
//	version: 0
//	topic_id: <the topic id, base64url, as Kafka prints it>
//	#crc32c <checksum>

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tributary-streams/tributary/broker/internal/metafile"
)

const partitionMetadataFile = "partition.metadata"

// writePartitionMetadata records id in dir. It is not fsynced: the
// directory sync that follows makes the entry durable, and a torn write
// fails its checksum and is rewritten at the next start (the topic's
// record in topics.json is what counts).
func writePartitionMetadata(dir string, id [16]byte) error {
	content := "version: 0\ntopic_id: " + base64.RawURLEncoding.EncodeToString(id[:]) + "\n"
	if err := os.WriteFile(filepath.Join(dir, partitionMetadataFile), metafile.Encode([]byte(content)), 0o644); err != nil {
		return fmt.Errorf("write partition metadata: %w", err)
	}
	return nil
}

// readPartitionMetadata returns the topic id recorded in dir; ok is false
// when the file is missing (a directory from before partition metadata
// existed). A damaged file is an error.
func readPartitionMetadata(dir string) (id [16]byte, ok bool, err error) {
	path := filepath.Join(dir, partitionMetadataFile)
	raw, err := metafile.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		return id, false, nil
	}
	if err != nil {
		return id, false, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, found := strings.CutPrefix(line, "topic_id: "); found {
			b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(v))
			if err != nil || len(b) != 16 {
				return id, false, fmt.Errorf("%s: bad topic_id %q", path, v)
			}
			copy(id[:], b)
			return id, true, nil
		}
	}
	return id, false, fmt.Errorf("%s: no topic_id", path)
}
