package testkit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MariaDB is a private MariaDB server started for one test: its own data
// directory under t.TempDir(), a unix socket there, TCP on 127.0.0.1 and an
// ephemeral port. It never touches a MariaDB the machine already runs.
type MariaDB struct {
	// Host and Port are where the server listens (Host is 127.0.0.1).
	Host string
	Port int
	// User and Password are the root credentials.
	User     string
	Password string
	// ServerID is the server's --server-id.
	ServerID uint32
	// Dir holds the data directory, socket, binlogs and error log.
	Dir string
	// Socket is the unix socket path.
	Socket string

	opts mariaDBOptions
	cmd  *exec.Cmd
	done chan struct{}
	db   *sql.DB
}

// MariaDBRootPassword is the root password of every test server.
const MariaDBRootPassword = "tributary"

type mariaDBOptions struct {
	binlog       bool
	binlogFormat string
	rowImage     string
	serverID     uint32
	extraArgs    []string
}

// MariaDBOption adjusts StartMariaDB.
type MariaDBOption func(*mariaDBOptions)

// WithoutBinlog starts the server with the binary log off.
func WithoutBinlog() MariaDBOption { return func(o *mariaDBOptions) { o.binlog = false } }

// WithBinlogFormat sets --binlog-format (default ROW): STATEMENT or MIXED
// for the tests of a misconfigured server.
func WithBinlogFormat(format string) MariaDBOption {
	return func(o *mariaDBOptions) { o.binlogFormat = format }
}

// WithBinlogRowImage sets --binlog-row-image (default FULL).
func WithBinlogRowImage(image string) MariaDBOption {
	return func(o *mariaDBOptions) { o.rowImage = image }
}

// WithServerID sets --server-id (default 1).
func WithServerID(id uint32) MariaDBOption { return func(o *mariaDBOptions) { o.serverID = id } }

// WithMariaDBArgs passes extra mariadbd options, e.g. "--max-connections=20".
func WithMariaDBArgs(args ...string) MariaDBOption {
	return func(o *mariaDBOptions) { o.extraArgs = append(o.extraArgs, args...) }
}

// StartMariaDB starts a private mariadbd with the binary log on in ROW
// format and full row images (--log-bin --binlog-format=ROW
// --binlog-row-image=FULL --server-id), and stops it on cleanup. The data
// directory is copied from a template that mariadb-install-db builds once
// per machine and server version (under the user cache directory), so a
// start costs a copy of ~20 MB and the server's own start-up.
func StartMariaDB(t testing.TB, opts ...MariaDBOption) *MariaDB {
	t.Helper()
	m, err := LaunchMariaDB(t.TempDir(), opts...)
	if m != nil {
		t.Cleanup(m.Stop)
	}
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	return m
}

// LaunchMariaDB starts a server as StartMariaDB does, in dir, for programs
// that are not tests (benchmarks); the caller must Stop it. On an error
// after the server started, the returned server is stopped too.
func LaunchMariaDB(dir string, opts ...MariaDBOption) (*MariaDB, error) {
	o := mariaDBOptions{binlog: true, binlogFormat: "ROW", rowImage: "FULL", serverID: 1}
	for _, opt := range opts {
		opt(&o)
	}
	server, err := mariadbdPath()
	if err != nil {
		return nil, err
	}
	template, err := mariaDBTemplate(server)
	if err != nil {
		return nil, err
	}
	if err := os.CopyFS(filepath.Join(dir, "data"), os.DirFS(template)); err != nil {
		return nil, fmt.Errorf("copy MariaDB template %s: %w", template, err)
	}
	m := &MariaDB{
		Host: "127.0.0.1", User: "root", Password: MariaDBRootPassword, ServerID: o.serverID,
		Dir: dir, Socket: filepath.Join(dir, "mariadb.sock"), opts: o,
	}
	if err := os.WriteFile(filepath.Join(dir, "init.sql"), []byte(initSQL), 0o600); err != nil {
		return nil, err
	}
	// A port that was free a moment ago can be taken before mariadbd binds
	// it: retry with a new one when the server says so.
	for attempt := 0; ; attempt++ {
		err := m.start(server, 0)
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, errPortTaken) || attempt == 4 {
			return nil, fmt.Errorf("start MariaDB: %w", err)
		}
	}
}

// initSQL runs at every start: root gets a password (over TCP and the
// socket), and nothing of it reaches the binary log.
const initSQL = `SET sql_log_bin = 0;
ALTER USER 'root'@'localhost' IDENTIFIED BY '` + MariaDBRootPassword + `';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '` + MariaDBRootPassword + `';
FLUSH PRIVILEGES;
`

var errPortTaken = errors.New("port taken")

// start runs mariadbd on port (0: a free one).
func (m *MariaDB) start(server string, port int) error {
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	m.Port = port
	logPath := filepath.Join(m.Dir, "error.log")
	os.Remove(logPath)
	args := []string{
		"--no-defaults",
		"--datadir=" + filepath.Join(m.Dir, "data"),
		"--socket=" + m.Socket,
		"--pid-file=" + filepath.Join(m.Dir, "mariadb.pid"),
		"--log-error=" + logPath,
		"--bind-address=127.0.0.1",
		"--port=" + strconv.Itoa(m.Port),
		"--init-file=" + filepath.Join(m.Dir, "init.sql"),
		"--server-id=" + strconv.FormatUint(uint64(m.opts.serverID), 10),
		"--skip-name-resolve",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_general_ci",
		"--innodb-buffer-pool-size=64M",
		"--innodb-log-file-size=16M",
		// Tests never crash the server itself; a flush per second instead of
		// per commit keeps thousands of small transactions cheap.
		"--innodb-flush-log-at-trx-commit=2",
		"--performance-schema=OFF",
		"--max-connections=200",
	}
	if m.opts.binlog {
		args = append(args,
			"--log-bin="+filepath.Join(m.Dir, "binlog", "mariadb-bin"),
			"--binlog-format="+m.opts.binlogFormat,
			"--binlog-row-image="+m.opts.rowImage,
		)
		if err := os.MkdirAll(filepath.Join(m.Dir, "binlog"), 0o700); err != nil {
			return err
		}
	} else {
		args = append(args, "--skip-log-bin")
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	args = append(args, m.opts.extraArgs...)
	cmd := exec.Command(server, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", server, err)
	}
	m.cmd, m.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(m.done) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-m.done:
			log := m.ErrorLog()
			if strings.Contains(log, "Address already in use") || strings.Contains(log, "Bind on TCP/IP port") {
				return errPortTaken
			}
			return fmt.Errorf("mariadbd exited during start-up: %s", tail(log, 2000))
		default:
		}
		if db, err := m.open(""); err == nil {
			if err = db.Ping(); err == nil {
				m.db = db
				return nil
			}
			db.Close()
		}
		if time.Now().After(deadline) {
			m.kill()
			return fmt.Errorf("mariadbd not ready on port %d after 60s: %s", m.Port, tail(m.ErrorLog(), 2000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Addr is host:port.
func (m *MariaDB) Addr() string { return net.JoinHostPort(m.Host, strconv.Itoa(m.Port)) }

// DSN is a go-sql-driver/mysql DSN for root over TCP to database db ("" for
// none).
func (m *MariaDB) DSN(db string) string {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = m.User, m.Password, "tcp", m.Addr(), db
	c.MultiStatements = true
	c.InterpolateParams = true
	return c.FormatDSN()
}

func (m *MariaDB) open(db string) (*sql.DB, error) {
	d, err := sql.Open("mysql", m.DSN(db))
	if err != nil {
		return nil, err
	}
	d.SetMaxOpenConns(4)
	return d, nil
}

// DB returns a root connection pool (no default database), closed when the
// server stops.
func (m *MariaDB) DB() *sql.DB { return m.db }

// Exec runs each statement (several may share one string, separated by
// semicolons) and fails the test on an error.
func (m *MariaDB) Exec(t testing.TB, statements ...string) {
	t.Helper()
	for _, s := range statements {
		if _, err := m.db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("testkit: MariaDB %q: %v", tail(s, 300), err)
		}
	}
}

// Query runs a query and returns every row as strings ("NULL" for NULL).
func (m *MariaDB) Query(t testing.TB, query string, args ...any) [][]string {
	t.Helper()
	rows, err := m.db.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("testkit: MariaDB %q: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		raw := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("testkit: MariaDB %q: %v", query, err)
		}
		row := make([]string, len(cols))
		for i, r := range raw {
			if r == nil {
				row[i] = "NULL"
			} else {
				row[i] = string(r)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("testkit: MariaDB %q: %v", query, err)
	}
	return out
}

// ErrorLog returns the server's error log.
func (m *MariaDB) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(m.Dir, "error.log"))
	return string(b)
}

// Stop shuts the server down cleanly (SIGTERM, then SIGKILL after 30 s)
// and reaps it. Safe to call twice.
func (m *MariaDB) Stop() {
	if m.cmd == nil {
		return
	}
	if m.db != nil {
		m.db.Close()
		m.db = nil
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
		m.kill()
	}
	m.cmd = nil
}

// Restart stops the server and starts it again on the same data directory
// and port (binary logs kept; a new one is begun).
func (m *MariaDB) Restart(t testing.TB) {
	t.Helper()
	m.Stop()
	server, err := mariadbdPath()
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	if err := m.start(server, m.Port); err != nil {
		t.Fatalf("testkit: restart MariaDB: %v", err)
	}
}

func (m *MariaDB) kill() {
	m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func mariadbdPath() (string, error) {
	if p, err := exec.LookPath("mariadbd"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/mariadbd", "/usr/libexec/mariadbd", "/usr/local/sbin/mariadbd"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("mariadbd not found: install the Debian package mariadb-server (make test-deps does)")
}

var templateMu sync.Mutex

// mariaDBTemplate returns a data directory initialised by
// mariadb-install-db for this server binary, building it on first use. The
// build happens in a private directory renamed into place, so concurrent
// test binaries either win the rename or use the winner's copy.
func mariaDBTemplate(server string) (string, error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	out, err := exec.Command(server, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", server, err)
	}
	sum := sha256.Sum256(out)
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	root := filepath.Join(base, "tributary")
	dir := filepath.Join(root, "mariadb-template-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(filepath.Join(dir, "mysql")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	build, err := os.MkdirTemp(root, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(build)
	install, err := exec.LookPath("mariadb-install-db")
	if err != nil {
		install = "/usr/bin/mariadb-install-db"
	}
	args := []string{"--no-defaults", "--datadir=" + filepath.Join(build, "data"),
		"--auth-root-authentication-method=normal", "--skip-test-db", "--innodb-log-file-size=16M"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	cmd := exec.Command(install, args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("mariadb-install-db: %w: %s", err, tail(string(b), 2000))
	}
	if err := os.Rename(filepath.Join(build, "data"), dir); err != nil {
		// Another test binary may have won the race.
		if _, statErr := os.Stat(filepath.Join(dir, "mysql")); statErr == nil {
			return dir, nil
		}
		return "", fmt.Errorf("install MariaDB template %s: %w", dir, err)
	}
	return dir, nil
}
