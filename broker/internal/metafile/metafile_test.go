package metafile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTripAndEveryBitFlip(t *testing.T) {
	content := []byte(`[{"name":"orders","id":"00112233445566778899aabbccddeeff","partitions":3}]` + "\n")
	enc := Encode(content)
	got, err := Decode(enc)
	if err != nil || string(got) != string(content) {
		t.Fatalf("decode: %q, %v", got, err)
	}
	for i := range enc {
		for bit := 0; bit < 8; bit++ {
			b := append([]byte(nil), enc...)
			b[i] ^= 1 << bit
			if got, err := Decode(b); err == nil {
				t.Fatalf("flip of bit %d of byte %d accepted: %q", bit, i, got)
			}
		}
	}
}

func TestLegacyFileWithoutTrailer(t *testing.T) {
	got, err := Decode([]byte("42\n"))
	if err != nil || string(got) != "42\n" {
		t.Fatalf("legacy: %q %v", got, err)
	}
}

func TestWriteKeepsPrevious(t *testing.T) {
	path := filepath.Join(t.TempDir(), "topics.json")
	if _, err := Read(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	for _, v := range []string{"one", "two", "three"} {
		if err := Write(path, []byte(v), true); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := Read(path); err != nil || string(got) != "three\n" {
		t.Fatalf("current: %q %v", got, err)
	}
	if got, err := ReadPrevious(path); err != nil || string(got) != "two\n" {
		t.Fatalf("previous: %q %v", got, err)
	}
	// Damage the current file: Read names it and the intact previous one,
	// and the next write does not let the damage replace it.
	raw, _ := os.ReadFile(path)
	raw[1] ^= 0x04
	os.WriteFile(path, raw, 0o644)
	_, err := Read(path)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), path+PreviousSuffix+", is intact") {
		t.Fatalf("damaged: %v", err)
	}
	if err := Write(path, []byte("four"), true); err != nil {
		t.Fatal(err)
	}
	if got, _ := ReadPrevious(path); string(got) != "two\n" {
		t.Fatalf("a damaged file replaced the previous version: %q", got)
	}
}
