package mysqlcdc

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// position is where a restarted connector resumes, in Debezium's offset
// terms: the binlog file and position of the start of a transaction (or
// of the next one), the GTID set executed before it, and how much of the
// transaction was already emitted (event: rows events, row: rows of the
// next rows event). Snapshot marks offsets written while a snapshot runs:
// a restart from one snapshots again.
type position struct {
	File     string
	Pos      uint32
	GTIDs    string
	Event    int
	Row      int
	Snapshot bool
}

// Offset keys, as Debezium's MySQL connector writes them.
const (
	offsetFile     = "file"
	offsetPos      = "pos"
	offsetGTIDs    = "gtids"
	offsetEvent    = "event"
	offsetRow      = "row"
	offsetSnapshot = "snapshot"
	offsetServerID = "server_id"
	offsetTsSec    = "ts_sec"
)

// offset renders p as a connect source offset.
func (p position) offset(serverID uint32, tsSec int64) map[string]any {
	m := map[string]any{offsetFile: p.File, offsetPos: int64(p.Pos)}
	if p.GTIDs != "" {
		m[offsetGTIDs] = p.GTIDs
	}
	if p.Event > 0 {
		m[offsetEvent] = int64(p.Event)
	}
	if p.Row > 0 {
		m[offsetRow] = int64(p.Row)
	}
	if p.Snapshot {
		m[offsetSnapshot] = true
	}
	if serverID != 0 {
		m[offsetServerID] = int64(serverID)
	}
	if tsSec != 0 {
		m[offsetTsSec] = tsSec
	}
	return m
}

// positionFromOffset reads an offset written by offset (or by Debezium).
func positionFromOffset(m map[string]any) (position, error) {
	var p position
	file, ok := m[offsetFile].(string)
	if !ok || file == "" {
		return p, fmt.Errorf("offset %v has no binlog file", m)
	}
	p.File = file
	pos, err := offsetInt(m, offsetPos)
	if err != nil {
		return p, err
	}
	if pos < 0 || pos > 1<<32-1 {
		return p, fmt.Errorf("offset pos %d is out of range", pos)
	}
	p.Pos = uint32(pos)
	if g, ok := m[offsetGTIDs].(string); ok {
		p.GTIDs = g
	}
	ev, err := offsetInt(m, offsetEvent)
	if err != nil {
		return p, err
	}
	row, err := offsetInt(m, offsetRow)
	if err != nil {
		return p, err
	}
	if ev < 0 || row < 0 {
		return p, fmt.Errorf("offset event %d / row %d must not be negative", ev, row)
	}
	p.Event, p.Row = int(ev), int(row)
	switch s := m[offsetSnapshot].(type) {
	case bool:
		p.Snapshot = s
	case string:
		p.Snapshot = s == "true" || s == "last"
	}
	return p, nil
}

func offsetInt(m map[string]any, key string) (int64, error) {
	switch v := m[key].(type) {
	case nil:
		return 0, nil
	case int64:
		return v, nil
	case int:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case float64:
		return int64(v), nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("offset %s %q is not an integer", key, v)
		}
		return n, nil
	}
	return 0, fmt.Errorf("offset %s has type %T, want an integer", key, m[key])
}

// gtidSet parses a GTID set of the flavor ("" is the empty set).
func gtidSet(flavor, s string) (mysql.GTIDSet, error) {
	set, err := mysql.ParseGTIDSet(flavor, s)
	if err != nil {
		return nil, fmt.Errorf("GTID set %q: %v", s, err)
	}
	return set, nil
}

// covers reports whether a connector at p has passed q: the change q
// marks (a history record's position) is behind p. With GTIDs the sets
// decide; otherwise binlog file and position.
func (p position) covers(q position, flavor string) bool {
	if p.GTIDs != "" && q.GTIDs != "" {
		ps, err1 := gtidSet(flavor, p.GTIDs)
		qs, err2 := gtidSet(flavor, q.GTIDs)
		if err1 == nil && err2 == nil {
			return ps.Contain(qs)
		}
	}
	if c := compareBinlogFiles(p.File, q.File); c != 0 {
		return c > 0
	}
	return p.Pos >= q.Pos
}

// compareBinlogFiles orders binlog file names: same base, then the
// numeric extension (mysql-bin.000009 < mysql-bin.000010).
func compareBinlogFiles(a, b string) int {
	ab, an := splitBinlogName(a)
	bb, bn := splitBinlogName(b)
	if ab != bb {
		return strings.Compare(a, b)
	}
	switch {
	case an < bn:
		return -1
	case an > bn:
		return 1
	}
	return 0
}

func splitBinlogName(name string) (string, int64) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return name, 0
	}
	n, err := strconv.ParseInt(name[i+1:], 10, 64)
	if err != nil {
		return name, 0
	}
	return name[:i], n
}
