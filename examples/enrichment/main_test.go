package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/examples/internal/exampletest"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestEnrichment(t *testing.T) {
	addr := testkit.Bootstrap(t)
	for _, topic := range []string{"orders", "customers", "enriched-orders"} {
		testkit.CreateTopic(t, addr, topic, 3)
	}
	exampletest.Start(t, run, "--bootstrap-server", addr, "--state-dir", t.TempDir())
	latest := exampletest.Latest(t, addr, "enriched-orders")
	orderRec := func(id, cust string, amount int64) *kgo.Record {
		v, _ := json.Marshal(order{Customer: cust, Amount: amount})
		return &kgo.Record{Topic: "orders", Key: []byte(id), Value: v}
	}
	enriched := func(id string) (enrichedOrder, bool) {
		var e enrichedOrder
		v, ok := latest()[id]
		if !ok {
			return e, false
		}
		return e, json.Unmarshal([]byte(v), &e) == nil
	}
	testkit.Produce(t, addr, &kgo.Record{Topic: "customers", Key: []byte("c1"), Value: []byte(`{"name":"Ann","tier":"gold"}`)})
	// A stream-table join sees the table as it is when the order comes:
	// send orders until one finds the customer loaded.
	probe := 0
	testkit.Eventually(t, 30*time.Second, func() error {
		if e, ok := enriched(fmt.Sprintf("probe-%d", probe)); ok && e.Name == "Ann" {
			return nil
		}
		probe++
		testkit.Produce(t, addr, orderRec(fmt.Sprintf("probe-%d", probe), "c1", 1))
		return fmt.Errorf("customer c1 not joined yet")
	})
	testkit.Produce(t, addr, orderRec("o1", "c1", 10), orderRec("o2", "c9", 20))
	testkit.Eventually(t, 30*time.Second, func() error {
		o1, ok1 := enriched("o1")
		o2, ok2 := enriched("o2")
		if !ok1 || !ok2 {
			return fmt.Errorf("o1 and o2 not out yet: %v", latest())
		}
		want1 := enrichedOrder{Order: "o1", Customer: "c1", Name: "Ann", Tier: "gold", Amount: 10}
		want2 := enrichedOrder{Order: "o2", Customer: "c9", Name: "unknown", Amount: 20}
		if o1 != want1 || o2 != want2 {
			return fmt.Errorf("o1 = %+v, o2 = %+v; want %+v, %+v", o1, o2, want1, want2)
		}
		return nil
	})
}
