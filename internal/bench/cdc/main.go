// Command cdc measures the change data capture pipeline, as `make bench`
// runs it: the MySQL/MariaDB source's snapshot rows/s and binlog events/s
// into the in-process broker (through a standalone worker, JsonConverter),
// and the Parquet sink's rows/s on one core and bytes per row. Debezium and
// Confluent's sinks are Java and not run here: the report compares each
// figure with the target the issue sets from their published numbers.
//
// CPU-seconds come from /proc/self/stat (this process: connector, worker
// and broker; MariaDB is another process), steadier than wall time on a
// shared machine. BENCH_TRACE=1 prints the topic's progress and the
// worker's log.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/broker"
	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
	"github.com/tributary-streams/tributary/connect/worker"
	_ "github.com/tributary-streams/tributary/connectors/mysqlcdc"
	"github.com/tributary-streams/tributary/connectors/parquet"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func main() {
	snapshotRows := flag.Int("snapshot-rows", 300000, "rows in the snapshot table")
	binlogEvents := flag.Int("binlog-events", 300000, "row events streamed from the binlog")
	parquetRows := flag.Int("parquet-rows", 500000, "rows written by the Parquet sink")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(*snapshotRows, *binlogEvents, *parquetRows); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type result struct {
	name   string
	n      int
	wall   time.Duration
	cpu    time.Duration
	target float64
	unit   string
	extra  string
}

func (r result) rate() float64 { return float64(r.n) / r.wall.Seconds() }

// cpuRate is records per CPU-second of this process: what one core the
// pipeline had to itself would do, the steadier figure on a shared machine.
func (r result) cpuRate() float64 { return float64(r.n) / r.cpu.Seconds() }

func run(snapshotRows, binlogEvents, parquetRows int) error {
	dir, err := os.MkdirTemp("", "tributary-bench-cdc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Printf("CDC benchmark (%d CPUs, load %s)\n\n", runtime.NumCPU(), loadAverage())
	var results []result

	r, err := benchSource(dir, "snapshot", snapshotRows)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	results = append(results, r)
	r, err = benchSource(dir, "binlog", binlogEvents)
	if err != nil {
		return fmt.Errorf("binlog: %w", err)
	}
	results = append(results, r)
	r, err = benchParquet(dir, parquetRows)
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	results = append(results, r)

	fmt.Printf("%-40s %8s %8s %8s %11s %11s %10s %7s %7s  %s\n", "workload", "records", "wall", "cpu", "rate", "per cpu-s", "target", "ratio", "cpu", "")
	for _, r := range results {
		fmt.Printf("%-40s %8d %7.2fs %7.2fs %9.0f/s %9.0f/s %8.0f/s %6.2fx %6.2fx  %s\n", r.name, r.n, r.wall.Seconds(), r.cpu.Seconds(),
			r.rate(), r.cpuRate(), r.target, r.rate()/r.target, r.cpuRate()/r.target, r.extra)
	}
	fmt.Println("\nratio: wall-clock rate / target; cpu: records per CPU-second of this process (connector, worker, broker;")
	fmt.Println("MariaDB runs apart) / target. Targets: snapshot >= 150k rows/s, binlog >= 50k events/s (twice Debezium's")
	fmt.Println("published figure), Parquet sink >= 300k rows/s on one core.")
	return nil
}

// benchTable is the captured table: the columns of an orders table, ten
// types among them.
const benchTable = `CREATE TABLE bench.orders (
	id BIGINT PRIMARY KEY, customer INT NOT NULL, status ENUM('new','paid','shipped') NOT NULL,
	amount DECIMAL(10,2) NOT NULL, note VARCHAR(64), created DATETIME(3) NOT NULL,
	updated TIMESTAMP(6) NULL, qty SMALLINT NOT NULL, flag TINYINT NOT NULL, score DOUBLE)`

// fill inserts rows [from, to) in transactions of 1000 rows, with
// MariaDB's sequence engine.
func fill(db *sql.DB, from, to int) error {
	for lo := from; lo < to; lo += 1000 {
		hi := min(lo+1000, to) - 1
		_, err := db.Exec(fmt.Sprintf(`INSERT INTO bench.orders SELECT seq, seq %% 1000, ELT(1 + seq %% 3, 'new', 'paid', 'shipped'),
			seq * 0.01, CONCAT('order note ', seq), '2024-01-01 00:00:00' + INTERVAL seq SECOND,
			'2024-06-01 00:00:00' + INTERVAL seq SECOND, seq %% 100, seq %% 2, seq / 7 FROM bench.seq_%d_to_%d`, lo, hi))
		if err != nil {
			return err
		}
	}
	return nil
}

// benchSource times a mysql-cdc connector in a standalone worker until
// the table topic holds n records: a snapshot of a filled table, or (binlog)
// the binlog of a table filled while the connector was not running.
func benchSource(dir, mode string, n int) (result, error) {
	res := result{name: "mysql-cdc " + mode + " -> broker", n: n}
	sub := filepath.Join(dir, mode)
	m, err := testkit.LaunchMariaDB(filepath.Join(sub, "mariadb"))
	if err != nil {
		return res, err
	}
	defer m.Stop()
	db, err := sql.Open("mysql", m.DSN(""))
	if err != nil {
		return res, err
	}
	defer db.Close()
	for _, s := range []string{"CREATE DATABASE bench", benchTable} {
		if _, err := db.Exec(s); err != nil {
			return res, err
		}
	}
	if err := fill(db, 1, n+1); err != nil {
		return res, err
	}
	ctx := context.Background()
	b, err := broker.Start(ctx, broker.Config{Listen: "127.0.0.1:0", DataDir: filepath.Join(sub, "broker"), Logger: quiet(),
		OffsetsTopicNumPartitions: 5, TransactionStateLogNumPartitions: 5})
	if err != nil {
		return res, err
	}
	defer b.Close()
	snapshot, target := "initial", 150000.0
	if mode == "binlog" {
		snapshot, target = "never", 50000.0
	}
	res.target = target
	cfg := worker.Defaults()
	cfg.BootstrapServers = []string{b.Addr()}
	cfg.RestListen = "127.0.0.1:0"
	cfg.OffsetStorageFile = filepath.Join(sub, "offsets")
	cfg.Logger = quiet()
	if os.Getenv("BENCH_TRACE") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	conn := map[string]string{
		"name": "bench", "connector.class": "mysql-cdc", "database.hostname": m.Host, "database.port": strconv.Itoa(m.Port),
		"database.user": m.User, "database.password": m.Password, "topic.prefix": "bench",
		"table.include.list": `bench\.orders`, "snapshot.mode": snapshot, "snapshot.fetch.size": "10000",
		"schema.history.internal.kafka.bootstrap.servers": b.Addr(), "schema.history.internal.kafka.topic": "bench-history",
		"topic.creation.default.partitions": "3", "include.schema.changes": "false",
	}
	cpu0, t0 := cpuTime(), time.Now()
	w, err := worker.StartStandalone(ctx, cfg, conn)
	if err != nil {
		return res, err
	}
	defer w.Close()
	admin, err := newAdmin(b.Addr())
	if err != nil {
		return res, err
	}
	defer admin.Close()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		got := topicRecords(ctx, admin.adm, "bench.bench.orders")
		if os.Getenv("BENCH_TRACE") != "" {
			fmt.Fprintf(os.Stderr, "%6.2fs %d\n", time.Since(t0).Seconds(), got)
		}
		if got >= int64(n) {
			break
		}
		if time.Now().After(deadline) {
			st, _ := w.Status("bench")
			return res, fmt.Errorf("%d of %d records after 10 minutes (status %+v)", got, n, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	res.wall, res.cpu = time.Since(t0), cpuTime()-cpu0
	res.extra = fmt.Sprintf("%.1f us CPU/record", float64(res.cpu.Microseconds())/float64(n))
	return res, nil
}

type admin struct {
	cl  *kgo.Client
	adm *kadm.Client
}

func newAdmin(addr string) (*admin, error) {
	// Metadata is refreshed at once: the topic appears mid-run, and kgo's
	// default minimum age would hide it for 5 s.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		return nil, err
	}
	return &admin{cl: cl, adm: kadm.NewClient(cl)}, nil
}

func (a *admin) Close() { a.cl.Close() }

func topicRecords(ctx context.Context, adm *kadm.Client, topic string) int64 {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n
}

// benchParquet writes n rows of the orders table, as ExtractNewRecordState
// gives them, through the sink task on one core.
func benchParquet(dir string, n int) (result, error) {
	res := result{name: "parquet sink, one core", n: n, target: 300000}
	out := filepath.Join(dir, "parquet")
	task := parquet.NewTask()
	if err := task.Start(nil, map[string]string{"store.url": "file://" + out, "flush.size": "100000", "topics": "orders"}); err != nil {
		return res, err
	}
	tp := connect.TopicPartition{Topic: "orders"}
	if err := task.Open([]connect.TopicPartition{tp}); err != nil {
		return res, err
	}
	dec := data.DecimalSchema(2)
	dec.Parameters["connect.decimal.precision"] = "10"
	schema := data.StructSchema("bench.bench.orders.Value",
		data.NewField("id", data.Int64Schema), data.NewField("customer", data.Int32Schema),
		data.NewField("status", &data.Schema{Type: data.TypeString, Name: "io.debezium.data.Enum", Version: 1}),
		data.NewField("amount", dec), data.NewField("note", data.OptionalStringSchema),
		data.NewField("created", &data.Schema{Type: data.TypeInt64, Name: "io.debezium.time.Timestamp", Version: 1}),
		data.NewField("updated", &data.Schema{Type: data.TypeString, Name: "io.debezium.time.ZonedTimestamp", Version: 1, Optional: true}),
		data.NewField("qty", data.Int16Schema), data.NewField("flag", data.Int16Schema), data.NewField("score", data.OptionalFloat64Schema),
		data.NewField("__op", data.OptionalStringSchema), data.NewField("__source_ts_ms", data.OptionalInt64Schema),
		data.NewField("__deleted", data.OptionalStringSchema))
	// Rows are built before timing; a pool of distinct values, reused.
	const pool = 4096
	rows := make([]*data.Struct, pool)
	statuses := []string{"new", "paid", "shipped"}
	for i := range rows {
		s := data.NewStruct(schema)
		id := int64(i + 1)
		s.PutAt(0, id)
		s.PutAt(1, int32(id%1000))
		s.PutAt(2, statuses[id%3])
		s.PutAt(3, data.NewDecimal(id, 2))
		s.PutAt(4, "order note "+strconv.FormatInt(id, 10))
		s.PutAt(5, 1704067200000+id*1000)
		s.PutAt(6, time.UnixMilli(1717200000000+id*1000).UTC().Format("2006-01-02T15:04:05.000000Z"))
		s.PutAt(7, int16(id%100))
		s.PutAt(8, int16(id%2))
		s.PutAt(9, float64(id)/7)
		s.PutAt(10, "c")
		s.PutAt(11, 1717200000000+id)
		s.PutAt(12, "false")
		rows[i] = s
	}
	batch := make([]connect.SinkRecord, 500)
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	runtime.GC()
	cpu0, t0 := cpuTime(), time.Now()
	for off := 0; off < n; off += len(batch) {
		k := min(len(batch), n-off)
		for i := 0; i < k; i++ {
			o := int64(off + i)
			batch[i] = connect.SinkRecord{Record: connect.Record{Topic: "orders", ValueSchema: schema, Value: rows[o%pool], Offset: o},
				Original: tp, OriginalOffset: o}
		}
		if err := task.Put(context.Background(), batch[:k]); err != nil {
			return res, err
		}
	}
	if err := task.Stop(); err != nil {
		return res, err
	}
	res.wall, res.cpu = time.Since(t0), cpuTime()-cpu0
	var size int64
	files := 0
	filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".parquet") {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
				files++
			}
		}
		return nil
	})
	committed := n / 100000 * 100000 // Stop drops the open file: only whole files count
	if committed == 0 {
		return res, fmt.Errorf("parquet-rows %d is below flush.size 100000: no file committed", n)
	}
	res.extra = fmt.Sprintf("%.1f bytes/row (snappy, %d files), %.2f us CPU/row", float64(size)/float64(committed), files, float64(res.cpu.Microseconds())/float64(n))
	return res, nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// cpuTime is this process's user+system CPU time from /proc/self/stat.
func cpuTime() time.Duration {
	raw, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(raw)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ
	return time.Duration(utime+stime) * time.Second / ticks
}

func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	first, _, _ := strings.Cut(string(raw), " ")
	return first
}
