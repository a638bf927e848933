package transforms

import "github.com/tributary-streams/tributary/connect"

// Filter drops every record it is applied to; with a predicate (and
// negate) it keeps or drops records selectively.
type filter struct{}

func (filter) Config() *connect.ConfigDef                     { return connect.NewConfigDef() }
func (filter) Configure(map[string]string) error              { return nil }
func (filter) Apply(*connect.Record) (*connect.Record, error) { return nil, nil }
func (filter) Close() error                                   { return nil }
