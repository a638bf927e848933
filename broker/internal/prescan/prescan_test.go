package prescan

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// populate fills every field of v (strings, arrays of two elements, nested
// structs, an unknown tag per struct) so each field's encoding shows up in
// AppendTo.
func populate(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Struct:
		if tags, ok := v.Addr().Interface().(*kmsg.Tags); ok {
			tags.Set(99, []byte{1, 2, 3})
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Name == "Version" || !v.Field(i).CanSet() {
				continue
			}
			populate(v.Field(i), depth)
		}
	case reflect.String:
		v.SetString("ab")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			v.Index(i).SetUint(uint64(i + 1))
		}
	case reflect.Pointer:
		if depth > 4 {
			return
		}
		p := reflect.New(v.Type().Elem())
		populate(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte{0, 1, 2, 3})
			return
		}
		if depth > 4 {
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			populate(s.Index(i), depth+1)
		}
		v.Set(s)
	}
}

// everyRequest yields a populated request of every key and version kmsg
// knows, encoded.
func everyRequest(t *testing.T, fn func(key, version int16, flexible bool, body []byte)) {
	t.Helper()
	for key := int16(0); key < 200; key++ {
		req := kmsg.RequestForKey(key)
		if req == nil {
			continue
		}
		if !Known(key) {
			t.Fatalf("no schema for API key %d (%s)", key, kmsg.NameForKey(key))
		}
		populate(reflect.ValueOf(req).Elem(), 0)
		for v := int16(0); v <= req.MaxVersion(); v++ {
			req.SetVersion(v)
			fn(key, v, req.IsFlexible(), req.AppendTo(nil))
		}
	}
}

func decode(key, version int16, body []byte) error {
	req := kmsg.RequestForKey(key)
	req.SetVersion(version)
	return req.ReadFrom(body)
}

// The schema agrees with kmsg: every well-formed request passes, and on
// every truncation and single-byte change of one, a body that passes Check
// decodes in kmsg.
func TestCheckAgreesWithKmsg(t *testing.T) {
	n := 0
	everyRequest(t, func(key, version int16, flexible bool, body []byte) {
		n++
		if err := decode(key, version, body); err != nil {
			t.Fatalf("%s v%d: kmsg cannot decode its own encoding: %v", kmsg.NameForKey(key), version, err)
		}
		if err := Check(key, version, flexible, body); err != nil {
			t.Fatalf("%s v%d: well-formed body rejected: %v", kmsg.NameForKey(key), version, err)
		}
		agree := func(b []byte, what string) {
			if Check(key, version, flexible, b) == nil {
				if err := decode(key, version, b); err != nil {
					t.Fatalf("%s v%d %s: Check passed a body kmsg rejects (%v): %x", kmsg.NameForKey(key), version, what, err, b)
				}
			}
		}
		for i := range body {
			agree(body[:i], "truncated")
			for _, x := range []byte{0x00, 0xff, 0x80, 0x01} {
				b := append([]byte(nil), body...)
				b[i] = x
				agree(b, "mutated")
			}
		}
	})
	t.Logf("%d request versions checked", n)
}

// threadCPU is this OS thread's CPU time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_THREAD, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// The count bombs: kmsg alone spends minutes on each.
func countBombs() map[string]struct {
	key, version int16
	body         []byte
} {
	huge := binary.AppendUvarint(nil, 0xffffffff)
	return map[string]struct {
		key, version int16
		body         []byte
	}{
		// ApiVersions v3: two empty compact strings, then a tag count of 2^32-1.
		"ApiVersions tag count":      {18, 3, append([]byte{1, 1}, huge...)},
		"Metadata topic tag count":   {3, 12, append([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, huge...)},
		"Produce body tag count":     {0, 9, append([]byte{0, 0xff, 0xff, 0, 0, 0, 0, 1}, huge...)},
		"Heartbeat tag count":        {12, 4, append([]byte{2, 'g', 0, 0, 0, 1, 2, 'm', 0}, huge...)},
		"Fetch array count":          {1, 12, append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, huge...)},
		"header-sized string length": {18, 3, append(binary.AppendUvarint(nil, 1<<31), 0)},
	}
}

func TestCountBombsRejectedCheaply(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for name, c := range countBombs() {
		t.Run(name, func(t *testing.T) {
			start := threadCPU()
			err := Check(c.key, c.version, true, c.body)
			if used := threadCPU() - start; used > 100*time.Millisecond {
				t.Fatalf("Check took %s of CPU", used)
			}
			if err == nil {
				t.Fatalf("Check passed a body claiming more than it holds")
			}
			t.Logf("%v", err)
		})
	}
}

// FuzzCheck: no input costs more than 100 ms of CPU in Check, or in kmsg
// once Check has passed it, and kmsg decodes whatever Check passes.
func FuzzCheck(f *testing.F) {
	for _, c := range countBombs() {
		f.Add(c.key, c.version, c.body)
	}
	for _, key := range []int16{0, 1, 3, 11, 18, 19, 68} {
		req := kmsg.RequestForKey(key)
		populate(reflect.ValueOf(req).Elem(), 0)
		req.SetVersion(req.MaxVersion())
		f.Add(key, req.MaxVersion(), req.AppendTo(nil))
	}
	f.Fuzz(func(t *testing.T, key, version int16, body []byte) {
		req := kmsg.RequestForKey(key)
		if req == nil || version < 0 || version > req.MaxVersion() {
			return
		}
		req.SetVersion(version)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		start := threadCPU()
		err := Check(key, version, req.IsFlexible(), body)
		if used := threadCPU() - start; used > 100*time.Millisecond {
			t.Fatalf("Check of %d bytes took %s of CPU", len(body), used)
		}
		if err != nil {
			return
		}
		start = threadCPU()
		derr := req.ReadFrom(body)
		if used := threadCPU() - start; used > 100*time.Millisecond {
			t.Fatalf("kmsg took %s of CPU on %d bytes Check passed", used, len(body))
		}
		if derr != nil {
			t.Fatalf("Check passed a body kmsg rejects: %v", derr)
		}
	})
}

// schema_gen.go is what ./gen derives from the kmsg in go.mod: a kmsg
// upgrade must come with a regenerated schema.
func TestSchemaUpToDate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "schema_gen.go")
	if msg, err := exec.Command("go", "run", "./gen", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("go run ./gen: %v: %s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("schema_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, have) {
		t.Fatal("schema_gen.go is stale: run go generate ./broker/internal/prescan")
	}
}
