// Package mysqlcdc is a MySQL and MariaDB change data capture source
// connector, compatible with Debezium's: a consistent snapshot, then the
// binary log, as Debezium change events on topics
// <topic.prefix>.<database>.<table>, with the schema history kept in a
// topic so rows always decode with the table definition of their time.
//
// Register it by importing the package; configs name it by Debezium's
// class io.debezium.connector.mysql.MySqlConnector or the alias mysql-cdc.
package mysqlcdc

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connectors/mysqlcdc/internal/ddl"
)

func init() {
	connect.RegisterSource(connect.PluginInfo{
		Class:   "io.debezium.connector.mysql.MySqlConnector",
		Aliases: []string{"mysql-cdc", "io.debezium.connector.mariadb.MariaDbConnector"},
		Doc:     "Captures row changes of MySQL and MariaDB from a snapshot and the binary log, as Debezium change events.",
	}, func() connect.SourceConnector { return &Connector{} })
}

// Connector is the source connector: one task per server, as in Debezium.
type Connector struct {
	config map[string]string
}

var _ connect.SourceConnector = (*Connector)(nil)

// Config defines the connector's keys.
func (c *Connector) Config() *connect.ConfigDef { return configDef }

// Validate checks the config without contacting the server.
func (c *Connector) Validate(config map[string]string) error {
	_, err := ParseConfig(config)
	return err
}

// Start checks the server the way the task will use it, so that wrong
// credentials, a binary log that is off or not in ROW format, and a
// captured table without a key fail the connector at once with the fix.
func (c *Connector) Start(_ connect.ConnectorContext, config map[string]string) error {
	cfg, err := ParseConfig(config)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ConnectTimeout+10*time.Second)
	defer cancel()
	s, err := openServer(ctx, cfg.conn(), cfg.Flavor)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.checkBinlog(ctx); err != nil {
		return err
	}
	f, err := cfg.filters()
	if err != nil {
		return err
	}
	if err := checkKeys(ctx, s, f); err != nil {
		return err
	}
	c.config = config
	return nil
}

// checkKeys finds captured tables with neither a primary key nor
// message.key.columns. It reads SHOW CREATE TABLE with the connector's own
// parser, as the snapshot does: information_schema's constraint tables
// hide rows from users without more than SELECT on MariaDB.
func checkKeys(ctx context.Context, s *server, f *filters) error {
	rows, err := s.db.QueryContext(ctx, "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'")
	if err != nil {
		return s.explain(fmt.Errorf("mysqlcdc: list tables: %w", err))
	}
	var ids []ddl.TableID
	for rows.Next() {
		var id ddl.TableID
		if err := rows.Scan(&id.Database, &id.Table); err != nil {
			rows.Close()
			return err
		}
		if f.captured(id) && f.keyFor(id) == nil {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	schemas := ddl.NewSchemas(s.charset)
	var missing []string
	for _, id := range ids {
		var name, def string
		if err := s.db.QueryRowContext(ctx, "SHOW CREATE TABLE "+quoteID(id)).Scan(&name, &def); err != nil {
			return s.explain(fmt.Errorf("mysqlcdc: SHOW CREATE TABLE %s: %w", id, err))
		}
		if _, err := schemas.Apply(id.Database, def); err != nil {
			return fmt.Errorf("mysqlcdc: definition of %s: %w", id, err)
		}
		if t := schemas.Table(id); t == nil || len(t.PrimaryKey) == 0 {
			missing = append(missing, id.String())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s; add a primary key, name key columns with message.key.columns=<db>.<table>:<column>[,...], or leave the tables out with table.exclude.list",
			ErrNoPrimaryKey, strings.Join(missing, ", "))
	}
	return nil
}

// TaskConfigs returns one task: the binlog is read in order by one reader.
func (c *Connector) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{c.config}, nil
}

// Stop has nothing to release.
func (c *Connector) Stop() error { return nil }

// NewTask returns a task.
func (c *Connector) NewTask() connect.SourceTask { return NewTask() }
