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
	"os"
	"os/signal"
	"syscall"

	"github.com/tributary-streams/tributary/examples/internal/appflags"
	"github.com/tributary-streams/tributary/streams"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := appflags.Main("enrichment", run(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr)
	stop()
	os.Exit(code)
}

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
	f, err := appflags.Parse("enrichment", args, stderr, "orders", "enriched-orders", func(fs *flag.FlagSet) {
		fs.StringVar(&customers, "customers", "customers", "customers topic (a table: the latest value per customer id)")
	})
	if err != nil {
		return err
	}
	if customers == "" {
		return fmt.Errorf("%w: --customers must name a topic", appflags.ErrUsage)
	}
	top, err := topology(f.Input, customers, f.Output)
	if err != nil {
		return err
	}
	app, err := streams.New(top, f.Options...)
	if err != nil {
		return err
	}
	io.WriteString(stdout, top.Describe())
	return app.Run(ctx)
}
