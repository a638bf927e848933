// Command enrichment joins a stream of orders with a table of customers:
// each order comes out with its customer's name and tier, or "unknown"
// when the customer is not known yet (a left join). Orders are keyed by
// order id, so they are re-keyed by customer and repartitioned, which the
// join does by itself. Input: orders (key order id, value JSON {"customer",
// "amount"}) and customers (key customer id, value JSON {"name", "tier"}).
// Output: key order id, value JSON {"order", "customer", "name", "tier",
// "amount"}.
//
//	go run ./examples/enrichment --bootstrap-server HOST:PORT [--input orders] [--customers customers] [--output enriched-orders]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/tributary-streams/tributary/examples/internal/appflags"
	"github.com/tributary-streams/tributary/streams"
)

func main() { appflags.Main("enrichment", run) }

type order struct {
	ID       string `json:"id,omitempty"`
	Customer string `json:"customer"`
	Amount   int64  `json:"amount"`
}

type customer struct {
	Name string `json:"name"`
	Tier string `json:"tier"`
}

type enrichedOrder struct {
	Order    string `json:"order"`
	Customer string `json:"customer"`
	Name     string `json:"name"`
	Tier     string `json:"tier"`
	Amount   int64  `json:"amount"`
}

func topology(orders, customers, output string) (*streams.Topology, error) {
	b := streams.NewBuilder()
	byOrder := streams.Stream(b, orders, streams.String(), streams.JSON[order]())
	// Keep the order id in the value: the join's key is the customer.
	byCustomer := streams.Map(byOrder, func(id string, o order) (string, order) {
		o.ID = id
		return o.Customer, o
	})
	known := streams.Table(b, customers, streams.String(), streams.JSON[customer](), streams.Materialized("customers"))
	enriched := streams.LeftJoinTable(byCustomer, known, func(o order, c *customer) enrichedOrder {
		e := enrichedOrder{Order: o.ID, Customer: o.Customer, Name: "unknown", Amount: o.Amount}
		if c != nil {
			e.Name, e.Tier = c.Name, c.Tier
		}
		return e
	}, streams.WithValueSerde(streams.JSON[order]()))
	streams.SelectKey(enriched, func(_ string, e enrichedOrder) string { return e.Order }).
		To(output, streams.WithValueSerde(streams.JSON[enrichedOrder]()))
	return b.Build()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var customers string
	return appflags.Run(ctx, "enrichment", args, stdout, stderr, "orders", "enriched-orders", func(fs *flag.FlagSet) {
		fs.StringVar(&customers, "customers", "customers", "customers topic (a table: the latest value per customer id)")
	}, func(f *appflags.Flags) (*streams.Topology, error) {
		if customers == "" {
			return nil, fmt.Errorf("%w: --customers must name a topic", appflags.ErrUsage)
		}
		return topology(f.Input, customers, f.Output)
	})
}
