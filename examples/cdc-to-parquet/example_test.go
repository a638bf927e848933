package cdctoparquet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	pgo "github.com/parquet-go/parquet-go"

	"github.com/tributary-streams/tributary/internal/cli"
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
	// The example's files, with only the addresses and the output
	// directory changed, run by the documented command line.
	dir := t.TempDir()
	src := rewrite(t, "mysql-cdc.properties", dir, map[string]string{
		"database.hostname": m.Host, "database.port": fmt.Sprint(m.Port),
		"schema.history.internal.kafka.bootstrap.servers": broker.Addr,
	})
	sink := rewrite(t, "parquet-sink.properties", dir, map[string]string{
		"store.url": "file://" + out, "rotate.schedule.interval.ms": "200",
	})
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	var stdout, stderr testkit.SyncBuffer
	go func() {
		exited <- cli.Execute(ctx, []string{"connect", "standalone", "--bootstrap-server", broker.Addr,
			"--offsets", filepath.Join(dir, "connect.offsets"), "--rest-listen", "127.0.0.1:0",
			"--set", "offset.flush.interval.ms=200", "--log-level", "error", src, sink}, strings.NewReader(""), &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-exited; code != 0 {
			t.Errorf("tributary connect standalone exited %d: %s", code, stderr.String())
		}
	}()

	wait := func(want []string) {
		t.Helper()
		testkit.Eventually(t, 60*time.Second, func() error {
			got, err := rows(out)
			if err != nil {
				return err
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				return fmt.Errorf("rows:\n%s\nwant:\n%s\n(worker output: %s %s)", strings.Join(got, "\n"), strings.Join(want, "\n"), stdout.String(), stderr.String())
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

// rewrite copies a properties file into dir with some keys' values
// replaced, and returns the copy's path.
func rewrite(t *testing.T, name, dir string, values map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if k, _, ok := strings.Cut(line, "="); ok {
			if v, replace := values[strings.TrimSpace(k)]; replace {
				line = k + "=" + v
				delete(values, strings.TrimSpace(k))
			}
		}
		out = append(out, line)
	}
	for k, v := range values {
		out = append(out, k+"="+v)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
