package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestRecordFormatter(t *testing.T) {
	ts := time.Date(2026, 11, 1, 12, 30, 45, 123e6, time.UTC)
	rec := &kgo.Record{
		Topic: "orders", Partition: 2, Offset: 17, Timestamp: ts, LeaderEpoch: 3, ProducerID: 9, ProducerEpoch: 1,
		Key: []byte("k1"), Value: []byte(`{"n": 1}`),
		Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("a")}, {Key: "empty", Value: nil}},
	}
	nullKey := &kgo.Record{Topic: "t", Value: []byte("plain"), Timestamp: ts}
	fp := &kgo.FetchPartition{LogStartOffset: 5, LastStableOffset: 20, HighWatermark: 21}
	tests := []struct {
		layout string
		rec    *kgo.Record
		want   string
	}{
		{`%t %p %o %k %v\n`, rec, "orders 2 17 k1 {\"n\": 1}\n"},
		{`%t\t%k=%v\r\n`, rec, "orders\tk1={\"n\": 1}\r\n"},
		{`%T %K %V %H`, rec, "6 2 8 2"},
		{`%e %x %y %i`, rec, "3 9 1 1"},
		{`%d`, rec, "1793536245123"},
		{`%d{go#2006-01-02T15:04:05.000Z07:00#}`, rec, "2026-11-01T12:30:45.123Z"},
		{`%d{go##15:04##}`, rec, "12:30"},
		{`%d{go[2006]}`, rec, "2026"},
		{`%d{strftime[%F %T.%L %s]}`, rec, "2026-11-01 12:30:45.123 1793536245"},
		{`%h{%k=%v;}`, rec, "trace=a;empty=;"},
		{`%h{%k:%v{json} }`, rec, `trace:"a" empty:null `},
		{`%v{json}`, rec, `{"n":1}`},
		{`%k{json}`, rec, `"k1"`},
		{`%k{json} %v{json}`, nullKey, `null "plain"`},
		{`[%k]`, nullKey, "[]"},
		{`%v{hex}`, nullKey, "706c61696e"},
		{`%v{base64}`, nullKey, "cGxhaW4="},
		{`%v{base64raw}`, nullKey, "cGxhaW4"},
		{`%p{hex16} %o{hex}`, rec, "0002 11"},
		{`%p{big16}`, rec, "\x00\x02"},
		{`%o{bool} %K{little16}`, rec, "true \x02\x00"},
		{`%a{compression} %a{timestamp-type} %a{transactional-bit;bool}`, rec, "none 0 false"},
		{`%[ %| %]`, rec, "5 20 21"},
		{`100%% %{x%}`, rec, "100% {x}"},
		{`\x41\\`, rec, `A\`},
	}
	for _, tc := range tests {
		f, err := parseRecordFormat(tc.layout)
		if err != nil {
			t.Errorf("%q: %v", tc.layout, err)
			continue
		}
		if got := string(f.append(nil, tc.rec, fp)); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.layout, got, tc.want)
		}
	}
	// %i counts the records formatted.
	f, _ := parseRecordFormat("%i,")
	var b []byte
	for i := 0; i < 3; i++ {
		b = f.append(b, rec, nil)
	}
	if string(b) != "1,2,3," {
		t.Errorf("%%i: %q", b)
	}
}

func TestRecordFormatterErrors(t *testing.T) {
	tests := []struct{ layout, want string }{
		{`%q`, "%q at position 1: unknown verb"},
		{`abc%`, "ends in a lone %"},
		{`abc\`, "ends in a lone backslash"},
		{`\q`, `unknown escape \q`},
		{`\x4`, `\x at position 1 needs two hex digits`},
		{`\xZZ`, `needs two hex digits, got "ZZ"`},
		{`%v{yaml}`, "unknown text modifier {yaml} (accepted hex, base64, base64raw, json)"},
		{`%p{hex7}`, "unknown number modifier {hex7}"},
		{`%v{hex`, "unclosed { modifier"},
		{`%h`, "needs a header specification"},
		{`%h{%t}`, "not accepted inside %h{...}"},
		{`%a`, "needs an attribute"},
		{`%a{color}`, `unknown attribute "color"`},
		{`%d{go#2006}`, `not closed with "#"`},
		{`%d{go}`, "needs a layout"},
	}
	for _, tc := range tests {
		_, err := parseRecordFormat(tc.layout)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error containing %q", tc.layout, err, tc.want)
		}
	}
}

// FuzzRecordFormat: no layout panics the parser, and a parsed layout
// formats any record without panicking.
func FuzzRecordFormat(f *testing.F) {
	for _, s := range []string{`%t %p %o %k %v\n`, `%h{%k=%v;}`, `%d{go#15:04#}`, `%d{strftime[%F]}`, `%a{compression;hex8}`, `%v{json}`, `\x41%%`, `%{%}`} {
		f.Add(s)
	}
	rec := &kgo.Record{Topic: "t", Key: []byte{0xff, 'k'}, Value: []byte("v"), Headers: []kgo.RecordHeader{{Key: "h"}}}
	f.Fuzz(func(t *testing.T, layout string) {
		fm, err := parseRecordFormat(layout)
		if err != nil {
			return
		}
		fm.append(nil, rec, nil)
		fm.append(nil, rec, &kgo.FetchPartition{})
	})
}
