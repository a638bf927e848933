package broker_test

// kafkajs against the in-process broker: testdata/kafkajs/compat.js (kafkajs
// pinned at 2.2.4 by its package-lock.json) creates topics, produces plain and
// gzip batches, consumes them in a group, and runs idempotent and
// transactional producers with a read_committed consumer. kafkajs never uses
// flexible versions (Produce v7, Fetch v11, Metadata v6, JoinGroup v5,
// ApiVersions v2, InitProducerId v1), so this covers the broker's older
// non-flexible encodings. franz-go then checks what kafkajs left behind.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
)

const kafkajsDir = "testdata/kafkajs"

// needNode returns node's path; without node the test skips, except in CI.
func needNode(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node is not installed (apt-get install nodejs npm): %v", err)
		}
		t.Skip("node not installed; `make test` installs kafkajs once node and npm are present")
	}
	return path
}

var npmCIMu sync.Mutex

// ensureKafkajs runs `npm ci` when node_modules/kafkajs is missing. Runs are
// serialised within this process by a mutex and across processes (two `go
// test` runs in one tree) by an flock on package-lock.json, and the check is
// repeated under the lock.
func ensureKafkajs(t *testing.T) {
	t.Helper()
	installed := func() bool {
		fi, err := os.Stat(filepath.Join(kafkajsDir, "node_modules", "kafkajs"))
		return err == nil && fi.IsDir()
	}
	if installed() {
		return
	}
	npmCIMu.Lock()
	defer npmCIMu.Unlock()
	lock, err := os.Open(filepath.Join(kafkajsDir, "package-lock.json"))
	if err != nil {
		t.Fatalf("kafkajs lock file: %v", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("flock %s: %v", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if installed() {
		return
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("node is installed but npm is not (apt-get install npm): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, npm, "ci", "--prefix", kafkajsDir, "--no-audit", "--no-fund").CombinedOutput()
	if err != nil {
		t.Fatalf("npm ci --prefix %s: %v\n%s", kafkajsDir, err, out)
	}
	t.Logf("npm ci --prefix %s took %s", kafkajsDir, time.Since(start).Round(time.Millisecond))
}

type kafkajsSummary struct {
	Produced       int `json:"produced"`
	Consumed       int `json:"consumed"`
	CommittedSeen  int `json:"committedSeen"`
	AbortedSeen    int `json:"abortedSeen"`
	IdempotentSeen int `json:"idempotentSeen"`
}

func TestKafkaJS(t *testing.T) {
	node := needNode(t)
	ensureKafkajs(t)

	// Broker logs are shown when the test fails.
	logs := &testkit.SyncBuffer{}
	b := testkit.StartBroker(t, testkit.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("broker logs:\n%s", logs.String())
		}
	})

	const prefix, group = "kafkajs", "kafkajs-group"
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "compat.js")
	cmd.Dir = kafkajsDir
	cmd.Env = append(os.Environ(), "BROKER="+b.Addr, "TOPIC="+prefix, "GROUP="+group)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("node compat.js took %s", time.Since(start).Round(time.Millisecond))
	if stderr.Len() > 0 {
		t.Logf("compat.js stderr:\n%s", stderr.String())
	}
	if err != nil {
		t.Fatalf("node compat.js: %v (context: %v)\nstdout:\n%s", err, ctx.Err(), stdout.String())
	}

	var got kafkajsSummary
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	dec := json.NewDecoder(strings.NewReader(lines[len(lines)-1]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("compat.js summary: %v\nstdout:\n%s", err, stdout.String())
	}
	want := kafkajsSummary{Produced: 200, Consumed: 200, CommittedSeen: 10, AbortedSeen: 0, IdempotentSeen: 10}
	if got != want {
		t.Fatalf("compat.js summary %+v, want %+v", got, want)
	}

	// franz-go reads back what kafkajs produced: 100 plain and 100 gzip.
	mainTopic := prefix + "-main"
	records := consumeAll(t, b.Addr, mainTopic, 200)
	seen := map[string]string{}
	for _, r := range records {
		seen[string(r.Key)] = string(r.Value)
	}
	if len(records) != 200 || len(seen) != 200 {
		t.Fatalf("%s: %d records with %d distinct keys, want 200", mainTopic, len(records), len(seen))
	}
	for _, codec := range []string{"plain", "gzip"} {
		for i := range 100 {
			k, v := fmt.Sprintf("%s-k%d", codec, i), fmt.Sprintf("%s-v%d", codec, i)
			if seen[k] != v {
				t.Fatalf("%s: key %s has value %q, want %q", mainTopic, k, seen[k], v)
			}
		}
	}

	// The kafkajs group committed the end of every partition.
	adm := kadm.NewClient(testkit.Client(t, b.Addr))
	offsets, err := adm.FetchOffsets(ctxT(t), group)
	if err == nil {
		err = offsets.Error()
	}
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	var sum int64
	offsets.Each(func(o kadm.OffsetResponse) {
		if o.Topic == mainTopic {
			sum += o.At
		}
	})
	if sum != 200 {
		t.Fatalf("group %s committed offsets on %s sum to %d, want 200: %v", group, mainTopic, sum, offsets)
	}

	// read_committed through franz-go: the committed transaction and the
	// idempotent records, never the aborted transaction.
	txnTopic := prefix + "-txn"
	cl := testkit.Client(t, b.Addr, kgo.ConsumeTopics(txnTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	var values []string
	pollCtx := ctxT(t)
	for len(values) < 20 {
		fs := cl.PollFetches(pollCtx)
		if err := pollCtx.Err(); err != nil {
			t.Fatalf("%s read_committed: %d of 20 records %v: %v", txnTopic, len(values), values, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s[%d]: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) { values = append(values, string(r.Value)) })
	}
	var committed, idempotent int
	for _, v := range values {
		switch {
		case strings.HasPrefix(v, "committed-"):
			committed++
		case strings.HasPrefix(v, "idempotent-"):
			idempotent++
		default:
			t.Fatalf("%s read_committed returned %q: %v", txnTopic, v, values)
		}
	}
	if committed != 10 || idempotent != 10 {
		t.Fatalf("%s read_committed: %d committed and %d idempotent records, want 10 and 10: %v", txnTopic, committed, idempotent, values)
	}
}
