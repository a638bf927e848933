package converter_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect/converter"
)

// FuzzJSONToConnect feeds arbitrary bytes to the JSON converter, with and
// without schemas. Nothing may panic, and whatever decodes must encode, and
// re-decode to the same bytes (encode∘decode is a fixpoint after one step).
func FuzzJSONToConnect(f *testing.F) {
	s, v := allTypes()
	golden, _ := converter.NewJSONConverter(true).FromConnect("t", s, v)
	for _, seed := range []string{
		string(golden),
		`{"schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"string","optional":true}},"payload":[[1,"a"],[2,null]]}`,
		`{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":1.5e1}`,
		`{"schema":{"type":"float"},"payload":"NaN"}`,
		`{"schema":null,"payload":{"a":[1,2.5,"x",null,{"b":true}]}}`,
		`{"a":1}`, `[1,2]`, `"s"`, `null`, `12345678901234567890`,
	} {
		f.Add([]byte(seed), true)
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, schemas bool) {
		timer := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("slow input %q", in)) })
		defer timer.Stop()
		c := converter.NewJSONConverter(schemas)
		schema, value, err := c.ToConnect("t", in)
		if err != nil {
			return
		}
		b1, err := c.FromConnect("t", schema, value)
		if err != nil {
			t.Fatalf("decoded %q but cannot encode it back: %v", in, err)
		}
		schema2, value2, err := c.ToConnect("t", b1)
		if err != nil {
			t.Fatalf("cannot decode our own output %q (from %q): %v", b1, in, err)
		}
		b2, err := c.FromConnect("t", schema2, value2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("not a fixpoint:\n%q\n%q\n%v", b1, b2, err)
		}
	})
}
