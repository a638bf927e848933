package testkit

import (
	"slices"
	"strconv"
	"testing"
)

func TestStartMariaDB(t *testing.T) {
	m := StartMariaDB(t, WithServerID(7))
	got := m.Query(t, "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@server_id, @@bind_address, @@port")
	want := []string{"1", "ROW", "FULL", "7", "127.0.0.1", strconv.Itoa(m.Port)}
	if len(got) != 1 || !slices.Equal(got[0], want) {
		t.Fatalf("server variables = %v, want %v", got, want)
	}
	m.Exec(t, "CREATE DATABASE shop", "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20)); INSERT INTO shop.items VALUES (1, 'a'), (2, NULL)")
	rows := m.Query(t, "SELECT id, name FROM shop.items ORDER BY id")
	if len(rows) != 2 || rows[0][1] != "a" || rows[1][1] != "NULL" {
		t.Fatalf("rows = %v", rows)
	}

	m.Restart(t)
	if rows := m.Query(t, "SELECT COUNT(*) FROM shop.items"); rows[0][0] != "2" {
		t.Fatalf("after restart: %v", rows)
	}
	m.Stop()
	m.Stop()
}

func TestStartMariaDBOptions(t *testing.T) {
	off := StartMariaDB(t, WithoutBinlog())
	stmt := StartMariaDB(t, WithBinlogFormat("STATEMENT"))
	if got := off.Query(t, "SELECT @@log_bin"); got[0][0] != "0" {
		t.Errorf("WithoutBinlog: log_bin = %v", got)
	}
	if got := stmt.Query(t, "SELECT @@binlog_format"); got[0][0] != "STATEMENT" {
		t.Errorf("WithBinlogFormat: binlog_format = %v", got)
	}
	if off.Port == stmt.Port {
		t.Errorf("two servers share port %d", off.Port)
	}
}
