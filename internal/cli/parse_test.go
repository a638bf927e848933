package cli

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestLineFormatParse(t *testing.T) {
	type hdr struct{ k, v string }
	tests := []struct {
		name    string
		props   []string
		line    string
		key     *string
		value   string
		headers []hdr
		wantErr string
	}{
		{name: "value only", line: "hello\tworld", value: "hello\tworld"},
		{name: "empty line is an empty value", line: "", value: ""},
		{name: "key with default tab", props: []string{"parse.key=true"}, line: "k\tv", key: ptr("k"), value: "v"},
		{name: "key with colon", props: []string{"parse.key=true", "key.separator=:"}, line: "k:v:w", key: ptr("k"), value: "v:w"},
		{name: "escaped tab separator", props: []string{"parse.key=true", `key.separator=\t`}, line: "k\tv", key: ptr("k"), value: "v"},
		{name: "multi-char separator", props: []string{"parse.key=true", "key.separator=::"}, line: "a::b", key: ptr("a"), value: "b"},
		{name: "empty key", props: []string{"parse.key=true", "key.separator=:"}, line: ":v", key: ptr(""), value: "v"},
		{name: "missing key separator", props: []string{"parse.key=true", "key.separator=:"}, line: "novalue", wantErr: `no key separator ":" (key.separator) found`},
		{name: "ignore.error keeps the line as value", props: []string{"parse.key=true", "key.separator=:", "ignore.error=true"}, line: "novalue", value: "novalue"},
		{
			name:  "headers and key",
			props: []string{"parse.key=true", "key.separator=:", "parse.headers=true", `headers.delimiter=\t`, "headers.separator=,", "headers.key.separator=="},
			line:  "h1=a,h2=b=c\tk:v", key: ptr("k"), value: "v", headers: []hdr{{"h1", "a"}, {"h2", "b=c"}},
		},
		{name: "headers default format", props: []string{"parse.headers=true"}, line: "h1:x,h1:y\tv", value: "v", headers: []hdr{{"h1", "x"}, {"h1", "y"}}},
		{name: "empty headers", props: []string{"parse.headers=true"}, line: "\tv", value: "v"},
		{name: "header without key separator", props: []string{"parse.headers=true"}, line: "h1\tv", wantErr: `header "h1" has no header key separator ":"`},
		{name: "missing headers delimiter", props: []string{"parse.headers=true", "headers.delimiter=|"}, line: "v", wantErr: `no headers delimiter "|" (headers.delimiter) found`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := newLineFormat(tc.props)
			if err != nil {
				t.Fatal(err)
			}
			r, err := f.parse([]byte(tc.line))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (tc.key == nil) != (r.Key == nil) || (tc.key != nil && *tc.key != string(r.Key)) {
				t.Errorf("key: want %v, got %q (nil=%v)", tc.key, r.Key, r.Key == nil)
			}
			if string(r.Value) != tc.value {
				t.Errorf("value: want %q, got %q", tc.value, r.Value)
			}
			var got []hdr
			for _, h := range r.Headers {
				got = append(got, hdr{h.Key, string(h.Value)})
			}
			if !reflect.DeepEqual(got, tc.headers) {
				t.Errorf("headers: want %v, got %v", tc.headers, got)
			}
		})
	}
}

func TestRecordFormatWrite(t *testing.T) {
	ts := time.UnixMilli(1700000000123)
	rec := &kgo.Record{
		Topic: "t", Partition: 2, Offset: 7, Timestamp: ts,
		Key: []byte("k"), Value: []byte("v"),
		Headers: []kgo.RecordHeader{{Key: "h1", Value: []byte("a")}, {Key: "h2", Value: nil}},
	}
	nullKey := &kgo.Record{Partition: 0, Offset: 1, Timestamp: ts, Value: []byte("v")}
	tests := []struct {
		name  string
		props []string
		rec   *kgo.Record
		want  string
	}{
		{"value only", nil, rec, "v\n"},
		{"key", []string{"print.key=true"}, rec, "k\tv\n"},
		{"null key", []string{"print.key=true"}, nullKey, "null\tv\n"},
		{"null literal", []string{"print.key=true", "null.literal=<nil>"}, nullKey, "<nil>\tv\n"},
		{"everything", []string{"print.timestamp=true", "print.partition=true", "print.offset=true", "print.headers=true", "print.key=true"}, rec,
			"CreateTime:1700000000123\tPartition:2\tOffset:7\th1:a,h2:null\tk\tv\n"},
		{"no headers", []string{"print.headers=true"}, nullKey, "NO_HEADERS\tv\n"},
		{"custom separators", []string{"print.key=true", "print.headers=true", "key.separator= | ", "headers.separator=;", "headers.key.separator==", `line.separator=\r\n`}, rec,
			"h1=a;h2=null | k | v\r\n"},
		// Kafka's formatter ends the line after the last field printed:
		// with print.value=false no key separator trails the key.
		{"no value", []string{"print.key=true", "print.value=false"}, rec, "k\n"},
		{"offset only", []string{"print.offset=true", "print.value=false"}, rec, "Offset:7\n"},
		{"headers and key, no value", []string{"print.headers=true", "print.key=true", "print.value=false"}, rec, "h1:a,h2:null\tk\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := newRecordFormat(tc.props)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := f.write(&b, tc.rec); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("want %q, got %q", tc.want, b.String())
			}
		})
	}
}

func TestToJSONRecord(t *testing.T) {
	r := &kgo.Record{
		Topic: "t", Partition: 1, Offset: 5, Timestamp: time.UnixMilli(42),
		Value:   []byte{0xff, 0x00},
		Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("x")}},
	}
	jr := toJSONRecord(r)
	if jr.Key != nil || jr.KeyEncoding != "" {
		t.Errorf("null key should stay null, got %v %q", jr.Key, jr.KeyEncoding)
	}
	if jr.Value == nil || *jr.Value != "/wA=" || jr.ValueEncoding != "base64" {
		t.Errorf("binary value should be base64 with value_encoding, got %v %q", jr.Value, jr.ValueEncoding)
	}
	if jr.Timestamp != 42 || jr.Offset != 5 || jr.Partition != 1 || len(jr.Headers) != 1 || *jr.Headers[0].Value != "x" {
		t.Errorf("unexpected record %+v", jr)
	}
}

func TestParseISODuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"PT1H", time.Hour, true},
		{"P1D", 24 * time.Hour, true},
		{"P1DT12H30M", 36*time.Hour + 30*time.Minute, true},
		{"PT0.5S", 500 * time.Millisecond, true},
		{"pt15m", 15 * time.Minute, true},
		{"PT1H1M1S", time.Hour + time.Minute + time.Second, true},
		{"P", 0, false},
		{"PT", 0, false},
		{"P1DT", 0, false},
		{"1h", 0, false},
		{"PT1M1H", 0, false}, // units out of order
		{"P1H", 0, false},    // hours belong after T
		{"PT1.5H", 0, false}, // only seconds may have a fraction
		{"-PT1H", 0, false},
		{"PTxS", 0, false},
	}
	for _, tc := range tests {
		got, err := parseISODuration(tc.in)
		if tc.ok && (err != nil || got != tc.want) {
			t.Errorf("%q: want %s, got %s, %v", tc.in, tc.want, got, err)
		}
		if !tc.ok && err == nil {
			t.Errorf("%q: want an error, got %s", tc.in, got)
		}
	}
}

func TestParseKafkaDateTime(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-01-02T03:04:05.678", time.Date(2024, 1, 2, 3, 4, 5, 678e6, loc), true},
		{"2024-01-02T03:04:05", time.Date(2024, 1, 2, 3, 4, 5, 0, loc), true},
		{"2024-01-02T03:04:05.678Z", time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC), true},
		{"2024-01-02T03:04:05+02:00", time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC), true},
		{"2024-01-02T03:04:05.000-0130", time.Date(2024, 1, 2, 4, 34, 5, 0, time.UTC), true},
		{"2024-01-02", time.Time{}, false},
		{"yesterday", time.Time{}, false},
	}
	for _, tc := range tests {
		got, err := parseKafkaDateTime(tc.in, loc)
		if tc.ok && (err != nil || !got.Equal(tc.want)) {
			t.Errorf("%q: want %s, got %s, %v", tc.in, tc.want, got, err)
		}
		if !tc.ok && err == nil {
			t.Errorf("%q: want an error, got %s", tc.in, got)
		}
	}
}

func TestParseTopicPartitions(t *testing.T) {
	tests := []struct {
		in      string
		want    topicPartitions
		wantErr string
	}{
		{in: "orders", want: topicPartitions{topic: "orders"}},
		{in: "orders:0", want: topicPartitions{topic: "orders", partitions: []int32{0}}},
		{in: "orders:0, 2,5", want: topicPartitions{topic: "orders", partitions: []int32{0, 2, 5}}},
		{in: ":1", wantErr: "--topic must be TOPIC or TOPIC:PARTITION"},
		{in: "orders:", wantErr: `partitions must be comma-separated non-negative integers, got ""`},
		{in: "orders:-1", wantErr: `got "-1"`},
	}
	for _, tc := range tests {
		got, err := parseTopicPartitions(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !isUsageError(err) {
				t.Errorf("%q: want usage error containing %q, got %v", tc.in, tc.wantErr, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: want %+v, got %+v, %v", tc.in, tc.want, got, err)
		}
	}
}

func TestParseKeyValuesWithLists(t *testing.T) {
	got, order, err := parseKeyValues("add-config", []string{"cleanup.policy=[compact,delete],retention.ms=100", "a=b=c"}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"cleanup.policy": "compact,delete", "retention.ms": "100", "a": "b=c"}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(order, []string{"cleanup.policy", "retention.ms", "a"}) {
		t.Errorf("got %v in order %v", got, order)
	}
	// Without list support a comma is part of the value, as for
	// kafka-topics.sh --config.
	got, _, err = parseKeyValues("config", []string{"x=1,2"}, false)
	if err != nil || got["x"] != "1,2" {
		t.Errorf("got %v, %v", got, err)
	}
	if _, _, err := parseKeyValues("add-config", []string{"a=1]"}, true); err == nil || !strings.Contains(err.Error(), "unbalanced ']'") {
		t.Errorf("want unbalanced bracket error, got %v", err)
	}
}

func TestCommandConfigSettings(t *testing.T) {
	path := t.TempDir() + "/client.properties"
	if err := writeFile(path, "client.id=reporting\nrequest.timeout.ms=1500\n"); err != nil {
		t.Fatal(err)
	}
	c := &connFlags{bootstrap: "a:9092, b:9093", commandConfig: path, timeout: time.Second}
	s, err := c.settings()
	if err != nil {
		t.Fatal(err)
	}
	if s.ClientID != "reporting" || s.RequestTimeout != 1500*time.Millisecond || !reflect.DeepEqual(s.Seeds, []string{"a:9092", "b:9093"}) {
		t.Errorf("unexpected settings %+v", s)
	}
}

func TestPlanReset(t *testing.T) {
	listed := func(vals map[int32]int64) kadm.ListedOffsets {
		m := map[int32]kadm.ListedOffset{}
		for p, o := range vals {
			m[p] = kadm.ListedOffset{Topic: "t", Partition: p, Offset: o}
		}
		return kadm.ListedOffsets{"t": m}
	}
	parts := []kadm.TopicPartitions{{Topic: "t", Partitions: []int32{0, 1}}}
	start := listed(map[int32]int64{0: 0, 1: 10})
	end := listed(map[int32]int64{0: 100, 1: 20})
	committed := listed(map[int32]int64{0: 50, 1: 15})
	byTime := listed(map[int32]int64{0: 30, 1: -1})

	tests := []struct {
		sc      resetScenario
		want    map[int32]int64
		wantErr string
	}{
		{sc: resetScenario{kind: "to-earliest"}, want: map[int32]int64{0: 0, 1: 10}},
		{sc: resetScenario{kind: "to-latest"}, want: map[int32]int64{0: 100, 1: 20}},
		{sc: resetScenario{kind: "to-offset", offset: 12}, want: map[int32]int64{0: 12, 1: 12}},
		{sc: resetScenario{kind: "to-offset", offset: 500}, want: map[int32]int64{0: 100, 1: 20}},
		{sc: resetScenario{kind: "to-offset", offset: 0}, want: map[int32]int64{0: 0, 1: 10}},
		{sc: resetScenario{kind: "shift-by", offset: -10}, want: map[int32]int64{0: 40, 1: 10}},
		{sc: resetScenario{kind: "shift-by", offset: 3}, want: map[int32]int64{0: 53, 1: 18}},
		{sc: resetScenario{kind: "to-datetime"}, want: map[int32]int64{0: 30, 1: 20}},
		{sc: resetScenario{kind: "by-duration"}, want: map[int32]int64{0: 30, 1: 20}},
	}
	for _, tc := range tests {
		plan, err := planReset(tc.sc, parts, start, end, committed, byTime)
		if err != nil {
			t.Errorf("%+v: %v", tc.sc, err)
			continue
		}
		got := map[int32]int64{}
		plan.Each(func(o kadm.Offset) { got[o.Partition] = o.At })
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v: want %v, got %v", tc.sc, tc.want, got)
		}
	}
	_, err := planReset(resetScenario{kind: "shift-by", offset: 1}, parts, start, end, kadm.ListedOffsets{}, nil)
	if err == nil || !strings.Contains(err.Error(), `cannot shift topic "t" partition 0: the group has no committed offset there`) {
		t.Errorf("shift-by without commits: got %v", err)
	}
}
