package mysqlcdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	driver "github.com/go-sql-driver/mysql"
)

// Sentinel errors for a server the connector cannot capture from; each
// error message names the fix.
var (
	ErrAccessDenied  = errors.New("mysqlcdc: access denied")
	ErrBinlogOff     = errors.New("mysqlcdc: binary log is off")
	ErrBinlogFormat  = errors.New("mysqlcdc: binlog_format is not ROW")
	ErrBinlogImage   = errors.New("mysqlcdc: binlog_row_image is not FULL")
	ErrPrivileges    = errors.New("mysqlcdc: missing privileges")
	ErrBinlogMissing = errors.New("mysqlcdc: binlog position no longer on the server")
)

// conn is how to reach the database (database.* keys).
type conn struct {
	host     string
	port     int
	user     string
	password string
	timeout  time.Duration
}

func (c conn) addr() string { return net.JoinHostPort(c.host, strconv.Itoa(c.port)) }

// dsn is a go-sql-driver DSN: utf8mb4, the session in UTC so TIMESTAMP
// values read as UTC, no local-time parsing.
func (c conn) dsn() string {
	cfg := driver.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = c.user, c.password, "tcp", c.addr()
	cfg.Timeout = c.timeout
	cfg.Params = map[string]string{"time_zone": "'+00:00'", "charset": "utf8mb4"}
	cfg.InterpolateParams = false
	cfg.MaxAllowedPacket = 0
	return cfg.FormatDSN()
}

// server is an open connection pool plus what the connector learned about
// the server.
type server struct {
	db       *sql.DB
	conn     conn
	flavor   string // mysql.MySQLFlavor or mysql.MariaDBFlavor
	version  string
	gtidMode bool
	serverID uint32
	charset  string
}

// openServer connects and identifies the server; flavor "" detects it.
func openServer(ctx context.Context, c conn, flavor string) (*server, error) {
	db, err := sql.Open("mysql", c.dsn())
	if err != nil {
		return nil, fmt.Errorf("mysqlcdc: open %s: %w", c.addr(), err)
	}
	db.SetMaxOpenConns(16)
	db.SetConnMaxIdleTime(time.Minute)
	s := &server{db: db, conn: c}
	if err := s.identify(ctx, flavor); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *server) close() error { return s.db.Close() }

// explain turns a driver error into one that names the fix.
func (s *server) explain(err error) error {
	var me *driver.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1045:
			return fmt.Errorf("%w: %s as %q: %s; check database.user and database.password", ErrAccessDenied, s.conn.addr(), s.conn.user, me.Message)
		case 1044, 1142, 1227, 1370:
			return fmt.Errorf("%w: %s: grant the connector's user SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE and REPLICATION CLIENT (REPLICA MONITOR on MariaDB) on *.*", ErrPrivileges, me.Message)
		}
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, driver.ErrInvalidConn) {
		return fmt.Errorf("mysqlcdc: cannot reach %s: %w; check database.hostname and database.port", s.conn.addr(), err)
	}
	return err
}

func (s *server) identify(ctx context.Context, flavor string) error {
	var version, charset string
	var id uint64
	err := s.db.QueryRowContext(ctx, "SELECT VERSION(), @@server_id, @@character_set_server").Scan(&version, &id, &charset)
	if err != nil {
		return s.explain(fmt.Errorf("mysqlcdc: connect to %s: %w", s.conn.addr(), err))
	}
	s.version, s.serverID, s.charset = version, uint32(id), charset
	switch {
	case flavor != "":
		s.flavor = flavor
	case strings.Contains(strings.ToLower(version), "mariadb"):
		s.flavor = mysql.MariaDBFlavor
	default:
		s.flavor = mysql.MySQLFlavor
	}
	if s.flavor == mysql.MariaDBFlavor {
		s.gtidMode = true // MariaDB always writes GTIDs
		return nil
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "SELECT @@gtid_mode").Scan(&mode); err == nil {
		s.gtidMode = strings.EqualFold(mode, "ON")
	}
	return nil
}

// checkBinlog verifies the server writes what the connector reads: the
// binary log on, in ROW format, with full row images.
func (s *server) checkBinlog(ctx context.Context) error {
	var logBin, format, image string
	err := s.db.QueryRowContext(ctx, "SELECT @@log_bin, @@binlog_format, @@binlog_row_image").Scan(&logBin, &format, &image)
	if err != nil {
		return s.explain(fmt.Errorf("mysqlcdc: read binlog settings: %w", err))
	}
	if logBin != "1" && !strings.EqualFold(logBin, "ON") {
		return fmt.Errorf("%w on %s: start the server with --log-bin (log_bin=ON) and --binlog-format=ROW", ErrBinlogOff, s.conn.addr())
	}
	if !strings.EqualFold(format, "ROW") {
		return fmt.Errorf("%w on %s (it is %s): set binlog_format=ROW (SET GLOBAL binlog_format='ROW', and in the server config)", ErrBinlogFormat, s.conn.addr(), format)
	}
	if !strings.EqualFold(image, "FULL") {
		return fmt.Errorf("%w on %s (it is %s): set binlog_row_image=FULL", ErrBinlogImage, s.conn.addr(), image)
	}
	return nil
}

// position returns the server's current binlog position and executed
// GTID set. Under a read lock it is the position a snapshot is consistent
// with.
func (s *server) position(ctx context.Context, q querier) (position, error) {
	var p position
	rows, err := q.QueryContext(ctx, "SHOW MASTER STATUS")
	if err != nil {
		// MySQL 8.4 renamed it.
		rows, err = q.QueryContext(ctx, "SHOW BINARY LOG STATUS")
	}
	if err != nil {
		return p, s.explain(fmt.Errorf("mysqlcdc: read binlog position: %w", err))
	}
	cols, _ := rows.Columns()
	found := false
	for rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return p, err
		}
		p.File = string(vals[0])
		pos, _ := strconv.ParseUint(string(vals[1]), 10, 32)
		p.Pos = uint32(pos)
		if len(cols) >= 5 {
			p.GTIDs = strings.ReplaceAll(string(vals[4]), "\n", "")
		}
		found = true
	}
	rows.Close()
	if !found {
		return p, fmt.Errorf("%w on %s: SHOW MASTER STATUS is empty; start the server with --log-bin", ErrBinlogOff, s.conn.addr())
	}
	if s.flavor == mysql.MariaDBFlavor {
		var g string
		if err := q.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&g); err != nil {
			return p, s.explain(fmt.Errorf("mysqlcdc: read gtid_binlog_pos: %w", err))
		}
		p.GTIDs = g
	} else if !s.gtidMode {
		p.GTIDs = ""
	}
	return p, nil
}

// querier is a *sql.DB or *sql.Conn.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// binlogFiles lists the binlog files the server still has, oldest first.
func (s *server) binlogFiles(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return nil, s.explain(fmt.Errorf("mysqlcdc: list binlog files: %w", err))
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var files []string
	for rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		files = append(files, string(vals[0]))
	}
	return files, rows.Err()
}

// available reports whether the server can still stream from p: its file
// is present (file/position mode) or no GTID it needs was purged.
func (s *server) available(ctx context.Context, p position) (bool, error) {
	if p.GTIDs != "" && s.flavor == mysql.MySQLFlavor && s.gtidMode {
		var purged string
		if err := s.db.QueryRowContext(ctx, "SELECT @@gtid_purged").Scan(&purged); err != nil {
			return false, s.explain(err)
		}
		have, err1 := gtidSet(s.flavor, p.GTIDs)
		gone, err2 := gtidSet(s.flavor, strings.ReplaceAll(purged, "\n", ""))
		if err1 != nil || err2 != nil {
			return false, errors.Join(err1, err2)
		}
		return have.Contain(gone), nil
	}
	files, err := s.binlogFiles(ctx)
	if err != nil {
		return false, err
	}
	if len(files) == 0 {
		return false, nil
	}
	return compareBinlogFiles(p.File, files[0]) >= 0, nil
}
