package broker

// topics.json: the registry's durable form, written through
// broker/internal/metafile (a CRC-32C trailer, the previous version kept as
// topics.json.prev). It lists every topic and the topics being deleted,
// whose directories a restart must finish removing:
//
//	{"topics": [{"name": .., "id": .., "partitions": .., "configs": {..}}],
//	 "deleting": [{"name": .., "id": .., "partitions": ..}]}
//
// A damaged topics.json stops the broker from starting, naming the file:
// which topics exist is not something to guess (a flipped bit in a name
// once started the broker with an empty topic of the new name). Files
// written before this format (a bare array of topics, no checksum) are
// read as they are.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/tributary-streams/tributary/broker/internal/metafile"
)

type topicRecord struct {
	Name       string            `json:"name"`
	ID         string            `json:"id"`
	Partitions int32             `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
}

type topicsFile struct {
	Topics   []topicRecord `json:"topics"`
	Deleting []topicRecord `json:"deleting,omitempty"`
}

// readTopicsFile returns the stored registry; an absent file is an empty
// one.
func (b *Broker) readTopicsFile() (topicsFile, error) {
	var f topicsFile
	path := b.topicsFile()
	raw, err := metafile.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("topic metadata %w: refusing to guess which topics exist; restore the file and start again", err)
	}
	if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && trimmed[0] == '[' {
		err = json.Unmarshal(raw, &f.Topics)
	} else {
		err = json.Unmarshal(raw, &f)
	}
	if err != nil {
		return f, fmt.Errorf("parse %s: %w", path, err)
	}
	for _, r := range append(append([]topicRecord(nil), f.Topics...), f.Deleting...) {
		if _, err := parseTopicID(r.ID); err != nil || validateTopicName(r.Name) != nil || r.Partitions < 0 {
			return f, fmt.Errorf("%s: topic %q (id %q, %d partitions) is not valid", path, r.Name, r.ID, r.Partitions)
		}
	}
	return f, nil
}

func parseTopicID(s string) ([16]byte, error) {
	var id [16]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 16 {
		return id, fmt.Errorf("bad topic id %q", s)
	}
	copy(id[:], b)
	return id, nil
}

// saveLocked rewrites topics.json. Callers hold mu.
func (ts *topics) saveLocked() error {
	var f topicsFile
	for _, t := range ts.byName {
		f.Topics = append(f.Topics, topicRecord{Name: t.name, ID: hex.EncodeToString(t.id[:]), Partitions: t.recorded, Configs: t.configs})
	}
	for id, d := range ts.deleting {
		f.Deleting = append(f.Deleting, topicRecord{Name: d.name, ID: hex.EncodeToString(id[:]), Partitions: d.partitions})
	}
	sort.Slice(f.Topics, func(i, j int) bool { return f.Topics[i].Name < f.Topics[j].Name })
	sort.Slice(f.Deleting, func(i, j int) bool { return f.Deleting[i].ID < f.Deleting[j].ID })
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return metafile.Write(ts.b.topicsFile(), raw, true)
}
