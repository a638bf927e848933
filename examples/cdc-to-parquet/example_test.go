package cdctoparquet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	pgo "github.com/parquet-go/parquet-go"

	"github.com/tributary-streams/tributary/connect/worker"
	_ "github.com/tributary-streams/tributary/connectors/debezium"
	_ "github.com/tributary-streams/tributary/connectors/mysqlcdc"
	_ "github.com/tributary-streams/tributary/connectors/parquet"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// TestExample runs the example's two connector files in a standalone
// worker against a private MariaDB (set up by inventory.sql) and an
// in-process broker: the snapshot, an insert, an update and a delete land
// as Parquet rows with __op, __source_ts_ms and __deleted.
func TestExample(t *testing.T) {
	m := testkit.StartMariaDB(t)
	sql, err := os.ReadFile("inventory.sql")
	if err != nil {
		t.Fatal(err)
	}
	m.Exec(t, string(sql))
	broker := testkit.StartBroker(t)
	out := t.TempDir()
	src, err := worker.LoadConnectorFile("mysql-cdc.properties")
	if err != nil {
		t.Fatal(err)
	}
	sink, err := worker.LoadConnectorFile("parquet-sink.properties")
	if err != nil {
		t.Fatal(err)
	}
	// Only the addresses and the output directory differ from the files.
	src["database.hostname"], src["database.port"] = m.Host, fmt.Sprint(m.Port)
	src["schema.history.internal.kafka.bootstrap.servers"] = broker.Addr
	sink["store.url"] = "file://" + out
	sink["rotate.schedule.interval.ms"] = "200"

	cfg := worker.Defaults()
	cfg.BootstrapServers = []string{broker.Addr}
	cfg.RestListen = "127.0.0.1:0"
	cfg.OffsetStorageFile = filepath.Join(t.TempDir(), "connect.offsets")
	cfg.OffsetFlushInterval = 200 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	w, err := worker.StartStandalone(context.Background(), cfg, src, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	wait := func(want []string) {
		t.Helper()
		testkit.Eventually(t, 60*time.Second, func() error {
			got, err := rows(out)
			if err != nil {
				return err
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				st, _ := w.Status("inventory-parquet")
				return fmt.Errorf("rows:\n%s\nwant:\n%s\n(sink status %+v)", strings.Join(got, "\n"), strings.Join(want, "\n"), st)
			}
			return nil
		})
	}
	wait([]string{
		"1 kettle 24.90 2024-03-01T09:00:00Z r false",
		"2 teapot 18.50 2024-03-02T10:30:00.25Z r false",
	})
	m.Exec(t,
		"INSERT INTO inventory.products VALUES (3, 'mug', 6.00, '2024-03-03 08:15:00.125')",
		"UPDATE inventory.products SET price = 22.00 WHERE id = 1",
		"DELETE FROM inventory.products WHERE id = 2")
	wait([]string{
		"1 kettle 22.00 2024-03-01T09:00:00Z u false",
		"1 kettle 24.90 2024-03-01T09:00:00Z r false",
		"2 teapot 18.50 2024-03-02T10:30:00.25Z d true",
		"2 teapot 18.50 2024-03-02T10:30:00.25Z r false",
		"3 mug 6.00 2024-03-03T08:15:00.125Z c false",
	})
	files, _ := filepath.Glob(filepath.Join(out, "topics", "shop.inventory.products", "partition=*", "shop.inventory.products+*+*.parquet"))
	if len(files) == 0 {
		t.Fatal("no files in the documented layout")
	}
}

// rows reads every committed Parquet file under dir, one line per row:
// id name price added __op __deleted, sorted.
func rows(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		st, _ := f.Stat()
		pf, err := pgo.OpenFile(f, st.Size())
		if err != nil {
			return err
		}
		r := pgo.NewReader(pf)
		defer r.Close()
		for {
			row := map[string]any{}
			if err := r.Read(&row); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			if row["__source_ts_ms"] == nil {
				return fmt.Errorf("%s: a row without __source_ts_ms: %v", path, row)
			}
			// parquet-go reads DECIMAL(10,2) as a *big.Float and
			// TIMESTAMP_MILLIS as int64 milliseconds.
			price, _ := row["price"].(*big.Float)
			added, _ := row["added"].(int64)
			out = append(out, fmt.Sprintf("%v %v %s %s %v %v", row["id"], row["name"], price.Text('f', 2),
				time.UnixMilli(added).UTC().Format(time.RFC3339Nano), row["__op"], row["__deleted"]))
		}
	})
	sort.Strings(out)
	return out, err
}
