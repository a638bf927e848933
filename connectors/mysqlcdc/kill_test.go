package mysqlcdc

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/tributary-streams/tributary/connectors/internal/standalone"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// workload changes cdc.types at random: inserts of every column type,
// updates (some of the key), deletes, rolled-back transactions, and one
// ALTER TABLE halfway, after which every row is updated so the topic's
// last event of each row has the new columns.
type workload struct {
	rng     *rand.Rand
	conn    *sql.Conn
	ids     map[int]bool
	nextID  int
	altered bool
}

func newWorkload(t *testing.T, m *testkit.MariaDB, seed int64) *workload {
	c, err := m.DB().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// Zero and invalid dates are allowed, as non-strict servers do.
	if _, err := c.ExecContext(context.Background(), "SET SESSION sql_mode = 'ALLOW_INVALID_DATES'"); err != nil {
		t.Fatal(err)
	}
	return &workload{rng: rand.New(rand.NewSource(seed)), conn: c, ids: map[int]bool{}, nextID: 1}
}

func (w *workload) exec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := w.conn.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("workload %q: %v", clip(s), err)
		}
	}
}

func (w *workload) pick() int {
	n := w.rng.Intn(len(w.ids))
	for id := range w.ids {
		if n == 0 {
			return id
		}
		n--
	}
	return 0
}

// step runs one random transaction.
func (w *workload) step(t *testing.T) {
	switch r := w.rng.Intn(100); {
	case r < 45 || len(w.ids) < 5:
		var stmts []string
		for n := 1 + w.rng.Intn(3); n > 0; n-- {
			stmts = append(stmts, w.insert(w.nextID))
			w.ids[w.nextID] = true
			w.nextID++
		}
		w.exec(t, append(append([]string{"BEGIN"}, stmts...), "COMMIT")...)
	case r < 75:
		id := w.pick()
		w.exec(t, w.update(id))
	case r < 80:
		id := w.pick()
		w.exec(t, fmt.Sprintf("UPDATE cdc.types SET id = %d WHERE id = %d", w.nextID, id))
		delete(w.ids, id)
		w.ids[w.nextID] = true
		w.nextID++
	case r < 95:
		id := w.pick()
		w.exec(t, fmt.Sprintf("DELETE FROM cdc.types WHERE id = %d", id))
		delete(w.ids, id)
	default:
		id := w.pick()
		w.exec(t, "BEGIN", w.insert(w.nextID+1000000), w.update(id), fmt.Sprintf("DELETE FROM cdc.types WHERE id = %d", w.pick()), "ROLLBACK")
	}
}

// alter changes the table mid-stream and touches every row.
func (w *workload) alter(t *testing.T) {
	w.exec(t, "ALTER TABLE cdc.types ADD COLUMN extra VARCHAR(20) DEFAULT 'x' AFTER id, DROP COLUMN mt, MODIFY vc VARCHAR(200)",
		"UPDATE cdc.types SET extra = CONCAT('e', id)")
	w.altered = true
}

func (w *workload) insert(id int) string {
	cols, vals := w.row()
	return fmt.Sprintf("INSERT INTO cdc.types (id, %s) VALUES (%d, %s)", strings.Join(cols, ", "), id, strings.Join(vals, ", "))
}

func (w *workload) update(id int) string {
	cols, vals := w.row()
	var sets []string
	for i := range cols {
		if w.rng.Intn(3) == 0 {
			sets = append(sets, cols[i]+" = "+vals[i])
		}
	}
	if len(sets) == 0 {
		sets = append(sets, cols[0]+" = "+vals[0])
	}
	return fmt.Sprintf("UPDATE cdc.types SET %s WHERE id = %d", strings.Join(sets, ", "), id)
}

// row returns random values (or NULL) for every column but id.
func (w *workload) row() ([]string, []string) {
	r := w.rng
	i := func(lo, hi int64) string { return fmt.Sprint(lo + r.Int63n(hi-lo+1)) }
	u64 := func() string { return fmt.Sprint(r.Uint64()) }
	dec := func(intDigits, frac int) string {
		s := ""
		for k := 0; k < 1+r.Intn(intDigits); k++ {
			s += string(rune('0' + r.Intn(10)))
		}
		if frac > 0 {
			s += "."
			for k := 0; k < frac; k++ {
				s += string(rune('0' + r.Intn(10)))
			}
		}
		if r.Intn(2) == 0 {
			s = "-" + s
		}
		return s
	}
	text := func(alphabet []string, max int) string {
		var b strings.Builder
		for k := r.Intn(max + 1); k > 0; k-- {
			b.WriteString(alphabet[r.Intn(len(alphabet))])
		}
		return "'" + strings.ReplaceAll(strings.ReplaceAll(b.String(), `\`, `\\`), "'", "''") + "'"
	}
	hex := func(n int) string {
		b := make([]byte, r.Intn(n+1))
		r.Read(b)
		return fmt.Sprintf("x'%x'", b)
	}
	date := func() string {
		switch r.Intn(10) {
		case 0:
			return "'0000-00-00'"
		case 1:
			return "'2023-02-30'"
		}
		return fmt.Sprintf("'%04d-%02d-%02d'", 1000+r.Intn(9000), 1+r.Intn(12), 1+r.Intn(28))
	}
	clock := func(fsp int) string {
		s := fmt.Sprintf("%02d:%02d:%02d", r.Intn(24), r.Intn(60), r.Intn(60))
		if fsp > 0 {
			s += "." + fmt.Sprintf("%06d", r.Intn(1000000))[:fsp]
		}
		return s
	}
	datetime := func(fsp int) string {
		if r.Intn(10) == 0 {
			return "'0000-00-00 00:00:00'"
		}
		d := date()
		if strings.HasPrefix(d, "'0000") || strings.HasPrefix(d, "'2023-02-30") {
			d = "'2001-02-03'"
		}
		return d[:len(d)-1] + " " + clock(fsp) + "'"
	}
	timestamp := func(fsp int) string {
		tm := time.Unix(1+r.Int63n(2147483646), 0).UTC()
		s := "'" + tm.Format("2006-01-02 15:04:05")
		if fsp > 0 {
			s += "." + fmt.Sprintf("%06d", r.Intn(1000000))[:fsp]
		}
		return s + "'"
	}
	latin1 := []string{"a", "Z", "é", "€", "ß", "'", `\`, " "}
	uni := []string{"a", "Ā", "Æ", "中", "😀", "'", `"`, "\n"}
	cyr := []string{"П", "р", "и", "в", "е", "т", " "}
	gbk := []string{"中", "文", "字", "a"}
	bmp := []string{"a", "Ā", "Æ", "中"}
	geoms := []string{
		fmt.Sprintf("ST_GeomFromText('POINT(%d %d)', %d)", r.Intn(100), r.Intn(100), []int{0, 4326}[r.Intn(2)]),
		fmt.Sprintf("ST_GeomFromText('LINESTRING(0 0,%d %d)')", 1+r.Intn(9), 1+r.Intn(9)),
		"ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))')",
	}
	pairs := [][2]string{
		{"ti", i(-128, 127)}, {"tu", i(0, 255)}, {"si", i(-32768, 32767)}, {"su", i(0, 65535)},
		{"mi", i(-8388608, 8388607)}, {"mu", i(0, 16777215)}, {"i", i(-2147483648, 2147483647)}, {"iu", i(0, 4294967295)},
		{"bi", fmt.Sprint(int64(r.Uint64()))}, {"bu", u64()},
		{"d1", dec(20, 10)}, {"d2", dec(3, 2)}, {"d3", dec(35, 30)}, {"d4", dec(10, 0)},
		{"f", fmt.Sprint(float32(r.NormFloat64() * 1e5))}, {"db", fmt.Sprint(r.NormFloat64() * 1e200)},
		{"b1", fmt.Sprintf("b'%d'", r.Intn(2))}, {"b12", fmt.Sprintf("b'%b'", r.Intn(4096))}, {"b64", fmt.Sprintf("x'%016x'", r.Uint64())},
		{"da", date()}, {"t0", fmt.Sprintf("'%s%d:%02d:%02d'", []string{"", "-"}[r.Intn(2)], r.Intn(839), r.Intn(60), r.Intn(60))},
		{"t6", "'" + clock(6) + "'"}, {"dt0", datetime(0)}, {"dt3", datetime(3)}, {"dt6", datetime(6)},
		{"ts0", timestamp(0)}, {"ts6", timestamp(6)}, {"y", i(1901, 2155)},
		{"c5", text(latin1, 5)}, {"vc", text(uni, 40)}, {"tx", text(bmp, 200)}, {"tt", text(uni, 20)}, {"mt", text(uni, 30)}, {"lt", text(uni, 50)},
		{"u2", text(bmp, 10)}, {"u16", text(uni, 10)}, {"u32", text(uni, 10)}, {"cy", text(cyr, 10)}, {"gb", text(gbk, 10)},
		{"bn", hex(4)}, {"vb", hex(10)}, {"bl", hex(300)}, {"tb", hex(20)}, {"mb", hex(40)}, {"lb", hex(60)},
		{"en", []string{"'a'", "'b c'", "'d'"}[r.Intn(3)]}, {"st", []string{"''", "'x'", "'x,z'", "'x,y,z'"}[r.Intn(4)]},
		{"js", fmt.Sprintf(`'{"n": %d, "s": "%s", "a": [1, 2.5, null]}'`, r.Intn(1000), []string{"x", "ü", "中"}[r.Intn(3)])},
		{"ge", geoms[r.Intn(len(geoms))]}, {"pt", fmt.Sprintf("POINT(%g, %g)", float64(r.Intn(1000))/8, -float64(r.Intn(1000))/4)},
		{"ls", "ST_GeomFromText('LINESTRING(3 4,5 6)')"},
	}
	var cols, vals []string
	for _, p := range pairs {
		if w.altered && p[0] == "mt" {
			continue
		}
		cols = append(cols, p[0])
		if r.Intn(8) == 0 {
			vals = append(vals, "NULL")
		} else {
			vals = append(vals, p[1])
		}
	}
	if w.altered {
		cols = append(cols, "extra")
		vals = append(vals, text(latin1, 20))
	}
	return cols, vals
}

func writeConnectorFile(t *testing.T, dir string, cfg map[string]string) string {
	var b strings.Builder
	for k, v := range cfg {
		fmt.Fprintf(&b, "%s=%s\n", k, strings.ReplaceAll(v, `\`, `\\`))
	}
	path := filepath.Join(dir, "mysql-cdc.properties")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKillWorkerMidStream captures a workload of every column type (a
// snapshot first, then the binlog with an ALTER TABLE, updates of keys,
// deletes and rolled-back transactions) with a real worker process that
// is killed with SIGKILL several times, the first time usually during the
// snapshot: the topic, replayed, equals the final table row for row.
func TestKillWorkerMidStream(t *testing.T) {
	ops, kills := 600, 3
	if testing.Short() {
		ops, kills = 200, 2
	}
	if os.Getenv("TRIBUTARY_SOAK") != "" {
		ops, kills = 5000, 12
	}
	m, _ := setupEveryType(t)
	broker := testkit.StartBroker(t)
	dir := t.TempDir()
	w := newWorkload(t, m, 42)
	w.nextID = 100
	for i := 0; i < 50; i++ {
		w.step(t) // the snapshot's rows
	}
	file := writeConnectorFile(t, dir, map[string]string{
		"name": "cdc", "connector.class": "mysql-cdc", keyHostname: m.Host, keyPort: itoa(m.Port),
		keyUser: m.User, keyPassword: m.Password, keyTopicPrefix: "srv", keyTableInclude: `cdc\.types`,
		keyHistoryBootstrap: broker.Addr, keyHistoryTopic: "srv-history", keyTopicPartitions: "3",
		keySnapshotThreads: "2", keyFetchSize: "7",
	})
	offsets := filepath.Join(dir, "connect.offsets")
	topic := "srv.cdc.types"
	records := func() int64 {
		ends, err := testkit.Admin(t, broker.Addr).ListEndOffsets(context.Background(), topic)
		if err != nil {
			return 0
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		return n
	}

	proc := standalone.Start(t, broker.Addr, offsets, file)
	// The workload runs in phases, one per kill and a last one; during each,
	// the worker is killed once it has written some of the phase's changes.
	perPhase := ops / (kills + 1)
	for k := 0; k <= kills; k++ {
		base := records()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; i < perPhase; i++ {
				if k == (kills+1)/2 && i == 0 {
					w.alter(t)
				}
				w.step(t)
			}
		}()
		if k == kills {
			<-done
			break
		}
		testkit.Eventually(t, 60*time.Second, func() error {
			if n := records(); n < base+40 {
				return fmt.Errorf("%d records, waiting for %d (worker log: %s)", n, base+40, clip(proc.Logs()))
			}
			return nil
		})
		proc.Kill()
		<-done
		proc = standalone.Start(t, broker.Addr, offsets, file)
	}
	want := tableRows(t, m, "cdc", "types", "id")
	var n int
	testkit.Eventually(t, 3*time.Minute, func() error {
		got, count, err := replayTopic(t, broker.Addr, topic)
		if err != nil {
			return err
		}
		n = count
		return sameRows(got, want)
	})
	t.Logf("%d rows equal after %d ops, %d kills and %d records", len(want), ops, kills, n)
	proc.Stop()
}
