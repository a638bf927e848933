package streams_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/streams"
	"github.com/tributary-streams/tributary/streams/streamstest"
)

func opt(p *string) string {
	if p == nil {
		return "nil"
	}
	return *p
}

func streamJoinTopology(kind string) *streams.Builder {
	b := streams.NewBuilder()
	l := streams.Stream(b, "left", streams.String(), streams.String())
	r := streams.Stream(b, "right", streams.String(), streams.String())
	w := streams.JoinWindowsOf(10 * time.Millisecond).WithGrace(5 * time.Millisecond)
	var out streams.KStream[string, string]
	switch kind {
	case "inner":
		out = streams.Join(l, r, w, func(a, b string) string { return a + "+" + b })
	case "left":
		out = streams.LeftJoin(l, r, w, func(a string, b *string) string { return a + "+" + opt(b) })
	case "outer":
		out = streams.OuterJoin(l, r, w, func(a, b *string) string { return opt(a) + "+" + opt(b) })
	}
	out.To("joined")
	return b
}

func TestStreamStreamJoins(t *testing.T) {
	for _, tc := range []struct {
		kind string
		want []string
	}{
		// l1@0 and r1@5 join; r2@34 is too far from l1 and moves stream time
		// to 34, which closes the windows of l0@1 and r0@2 (1+10+5 < 34):
		// left and outer joins emit them unjoined then. l2@32 joins r2 (out
		// of order, within grace). l3@13 is late: 13+10+5 < 34. r3@100 is
		// unjoined, but its window is still open.
		{"inner", []string{"k=l1+r1@5", "k=l2+r2@34"}},
		{"left", []string{"k=l1+r1@5", "j=l0+nil@1", "k=l2+r2@34"}},
		{"outer", []string{"k=l1+r1@5", "j=l0+nil@1", "q=nil+r0@2", "k=l2+r2@34"}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			d := testDriver(t, streamJoinTopology(tc.kind))
			left := streamstest.InputTopic(d, "left", streams.String(), streams.String())
			right := streamstest.InputTopic(d, "right", streams.String(), streams.String())
			must(t, left.PipeAt("j", "l0", 1))
			must(t, right.PipeAt("q", "r0", 2))
			must(t, left.PipeAt("k", "l1", 0))
			must(t, right.PipeAt("k", "r1", 5))
			must(t, right.PipeAt("k", "r2", 34))
			must(t, left.PipeAt("k", "l2", 32))
			must(t, left.PipeAt("k", "l3", 13))
			must(t, right.PipeAt("z", "r3", 100))
			expect(t, kvs(t, streamstest.OutputTopic(d, "joined", streams.String(), streams.String())), tc.want...)
			if _, late, _ := d.Stats(); late != 1 {
				t.Fatalf("late = %d, want 1 (l3)", late)
			}
		})
	}
}

func TestStreamStreamJoinRepartitionsRekeyedSide(t *testing.T) {
	b := streams.NewBuilder()
	l := streams.SelectKey(streams.Stream(b, "left", streams.String(), streams.String()), func(_, v string) string { return v })
	r := streams.Stream(b, "right", streams.String(), streams.String())
	streams.Join(l, r, streams.JoinWindowsOf(time.Second), func(a, b string) string { return a + b }, streams.Named("j")).To("out")
	d := testDriver(t, b, streams.WithApplicationID("app"))
	must(t, streamstest.InputTopic(d, "left", streams.String(), streams.String()).PipeAt("x", "k", 1))
	must(t, streamstest.InputTopic(d, "right", streams.String(), streams.String()).PipeAt("k", "!", 2))
	expect(t, kvs(t, streamstest.OutputTopic(d, "out", streams.String(), streams.String())), "k=k!@2")
	if len(d.Output("app-j-left-repartition")) != 1 {
		t.Fatal("the re-keyed left side was not repartitioned")
	}
}

func TestStreamTableJoins(t *testing.T) {
	b := streams.NewBuilder()
	orders := streams.Stream(b, "orders", streams.String(), streams.Int64())
	customers := streams.Table(b, "customers", streams.String(), streams.String())
	streams.JoinTable(orders, customers, func(amount int64, name string) string { return fmt.Sprintf("%s:%d", name, amount) }).To("inner")
	streams.LeftJoinTable(orders, customers, func(amount int64, name *string) string { return fmt.Sprintf("%s:%d", opt(name), amount) }).To("left")
	d := testDriver(t, b)
	o := streamstest.InputTopic(d, "orders", streams.String(), streams.Int64())
	c := streamstest.InputTopic(d, "customers", streams.String(), streams.String())
	must(t, o.PipeAt("c1", 10, 1)) // no customer yet
	must(t, c.PipeAt("c1", "ann", 2))
	must(t, o.PipeAt("c1", 20, 3))
	must(t, c.PipeAt("c1", "anne", 4))
	must(t, o.PipeAt("c1", 30, 5))
	must(t, c.PipeTombstone("c1", 6))
	must(t, o.PipeAt("c1", 40, 7))
	expect(t, kvs(t, streamstest.OutputTopic(d, "inner", streams.String(), streams.String())), "c1=ann:20@3", "c1=anne:30@5")
	expect(t, kvs(t, streamstest.OutputTopic(d, "left", streams.String(), streams.String())),
		"c1=nil:10@1", "c1=ann:20@3", "c1=anne:30@5", "c1=nil:40@7")
}

func TestTableTableJoins(t *testing.T) {
	b := streams.NewBuilder()
	l := streams.Table(b, "l", streams.String(), streams.String())
	r := streams.Table(b, "r", streams.String(), streams.String())
	streams.JoinTables(l, r, func(a, b string) string { return a + b }).To("inner")
	streams.LeftJoinTables(l, r, func(a string, b *string) string { return a + opt(b) }).To("left")
	streams.OuterJoinTables(l, r, func(a, b *string) string { return opt(a) + opt(b) }).To("outer")
	d := testDriver(t, b)
	li := streamstest.InputTopic(d, "l", streams.String(), streams.String())
	ri := streamstest.InputTopic(d, "r", streams.String(), streams.String())
	must(t, li.PipeAt("k", "a", 1))
	must(t, ri.PipeAt("k", "x", 2))
	must(t, li.PipeAt("k", "b", 3))
	must(t, ri.PipeTombstone("k", 4))
	must(t, li.PipeTombstone("k", 5))
	must(t, ri.PipeAt("k", "y", 6))
	out := func(topic string) []string {
		return kvs(t, streamstest.OutputTopic(d, topic, streams.String(), streams.String()))
	}
	expect(t, out("inner"), "k=ax@2", "k=bx@3", "k=<deleted>@4")
	expect(t, out("left"), "k=anil@1", "k=ax@2", "k=bx@3", "k=bnil@4", "k=<deleted>@5")
	expect(t, out("outer"), "k=anil@1", "k=ax@2", "k=bx@3", "k=bnil@4", "k=<deleted>@5", "k=nily@6")
}

type order struct {
	Customer string `json:"customer"`
	Amount   int64  `json:"amount"`
}

func TestForeignKeyJoins(t *testing.T) {
	b := streams.NewBuilder()
	orders := streams.Table(b, "orders", streams.String(), streams.JSON[order]())
	customers := streams.Table(b, "customers", streams.String(), streams.String())
	streams.JoinForeignKey(orders, customers, func(o order) string { return o.Customer },
		func(o order, name string) string { return fmt.Sprintf("%s:%d", name, o.Amount) }, streams.Materialized("enriched")).To("inner")
	streams.LeftJoinForeignKey(orders, customers, func(o order) string { return o.Customer },
		func(o order, name *string) string { return fmt.Sprintf("%s:%d", opt(name), o.Amount) }).To("left")
	d := testDriver(t, b)
	o := streamstest.InputTopic(d, "orders", streams.String(), streams.JSON[order]())
	c := streamstest.InputTopic(d, "customers", streams.String(), streams.String())
	must(t, c.PipeAt("c1", "ann", 1))
	must(t, o.PipeAt("o1", order{"c1", 10}, 2))
	must(t, o.PipeAt("o2", order{"c2", 20}, 3)) // no customer c2 yet
	must(t, c.PipeAt("c2", "bob", 4))           // answers o2
	must(t, c.PipeAt("c1", "anne", 5))          // updates o1
	must(t, o.PipeAt("o1", order{"c2", 11}, 6)) // moves o1 to c2
	must(t, c.PipeAt("c1", "ann again", 7))     // o1 no longer follows c1
	must(t, o.PipeTombstone("o2", 8))
	must(t, c.PipeTombstone("c2", 9))
	out := func(topic string) []string {
		return kvs(t, streamstest.OutputTopic(d, topic, streams.String(), streams.String()))
	}
	expect(t, out("inner"), "o1=ann:10@2", "o2=bob:20@4", "o1=anne:10@5", "o1=bob:11@6", "o2=<deleted>@8", "o1=<deleted>@9")
	expect(t, out("left"), "o1=ann:10@2", "o2=nil:20@3", "o2=bob:20@4", "o1=anne:10@5", "o1=bob:11@6", "o2=<deleted>@8", "o1=nil:11@9")
	if _, ok, _ := streamstest.KeyValueStore(d, "enriched", streams.String(), streams.String()).Get("o1"); ok {
		t.Fatal("o1 is still in the inner result after its customer was deleted")
	}
}

func TestGlobalTableJoins(t *testing.T) {
	b := streams.NewBuilder()
	clicks := streams.Stream(b, "clicks", streams.String(), streams.String())
	pages := streams.GlobalTable(b, "pages", streams.String(), streams.String())
	// The global table is keyed by page, the stream by user: no
	// repartitioning, the key comes from the value.
	streams.JoinGlobal(clicks, pages, func(_, page string) string { return page },
		func(page, title string) string { return page + "=" + title }).To("inner")
	streams.LeftJoinGlobal(clicks, pages, func(_, page string) string { return page },
		func(page string, title *string) string { return page + "=" + opt(title) }).To("left")
	d := testDriver(t, b)
	p := streamstest.InputTopic(d, "pages", streams.String(), streams.String())
	c := streamstest.InputTopic(d, "clicks", streams.String(), streams.String())
	must(t, p.PipeAt("/", "Home", 1))
	must(t, c.PipeAt("u1", "/", 2))
	must(t, c.PipeAt("u2", "/about", 3))
	must(t, p.PipeTombstone("/", 4))
	must(t, c.PipeAt("u3", "/", 5))
	expect(t, kvs(t, streamstest.OutputTopic(d, "inner", streams.String(), streams.String())), "u1=/=Home@2")
	expect(t, kvs(t, streamstest.OutputTopic(d, "left", streams.String(), streams.String())), "u1=/=Home@2", "u2=/about=nil@3", "u3=/=nil@5")
}
