package streams

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"

	"github.com/tributary-streams/tributary/streams/internal/topology"
	"github.com/tributary-streams/tributary/streams/state"
)

// JoinForeignKey joins each row of l with the row of r whose key fk picks
// out of the left value: Kafka Streams' foreign-key join. The tables need
// not be co-partitioned: left rows subscribe to their right row through
// <application.id>-<name>-subscription-registration-topic (partitioned
// like r), and r answers, now and on every later update of the row,
// through <name>-subscription-response-topic (partitioned like l). An
// answer about a left value that has changed since is dropped, so the
// result follows the left table's latest value. The result is
// materialized (Materialized names the store); opts also take
// WithValueSerde for the result.
func JoinForeignKey[K, V, KO, VO, VR any](l KTable[K, V], r KTable[KO, VO], fk func(V) KO, joiner func(V, VO) VR, opts ...StepOption) KTable[K, VR] {
	return joinForeignKey(l, r, fk, false, func(v V, o *VO) VR { return joiner(v, *o) }, opts)
}

// LeftJoinForeignKey is JoinForeignKey that keeps left rows without a
// right row, with nil for it.
func LeftJoinForeignKey[K, V, KO, VO, VR any](l KTable[K, V], r KTable[KO, VO], fk func(V) KO, joiner func(V, *VO) VR, opts ...StepOption) KTable[K, VR] {
	return joinForeignKey(l, r, fk, true, joiner, opts)
}

// Subscription instructions.
const (
	unsubscribe byte = 0
	subscribe   byte = 1
)

const fkHashLen = 16

// valueHash fingerprints a left value, so that an answer can be matched
// to the value that asked.
func valueHash(b []byte) []byte {
	h := fnv.New128a()
	h.Write(b)
	return h.Sum(nil)
}

func joinForeignKey[K, V, KO, VO, VR any](l KTable[K, V], r KTable[KO, VO], fk func(V) KO, left bool, joiner func(V, *VO) VR, opts []StepOption) KTable[K, VR] {
	b := l.b
	prefix := "KTABLE-FK-JOIN"
	if left {
		prefix = "KTABLE-FK-LEFTJOIN"
	}
	c := b.configure(prefix, opts, optStore, optValueSerde)
	name := b.stepName(c, prefix)
	subTopic, respTopic := name+"-subscription-registration-topic", name+"-subscription-response-topic"
	subStore := name + "-subscription-store"
	result := c.store
	if result == "" {
		result = name + "-result-store"
	}
	lk, lv, rk, rv := l.keys, l.values, r.keys, r.values
	out := serdeOption(b, name, "value", c.valueSerde, defaultSerde[VR]())
	ok := needSerde(b, name, "key", "the response topic (left keys)", lk)
	ok = needSerde(b, name, "value", "matching answers to left values", lv) && ok
	ok = needSerde(b, name, "key", "the subscription topic (foreign keys)", rk) && ok
	ok = needSerde(b, name, "value", "the response topic (right values)", rv) && ok
	ok = needSerde(b, name, "value", "the result store", out) && ok
	if !ok {
		return KTable[K, VR]{b: b, node: l.node, keys: lk}
	}
	b.g.AddInternal(&topology.InternalTopic{Name: subTopic})
	b.g.AddInternal(&topology.InternalTopic{Name: respTopic})
	b.g.AddStore(&topology.Store{Name: subStore, Kind: topology.KeyValueStore, Logged: true, Plain: true}, name)
	b.g.AddStore(&topology.Store{Name: result, Kind: topology.KeyValueStore, Logged: true, Query: kvQuery(lk, out)}, name)
	lkc, lvc, rkc, rvc := newCodec(lk), newCodec(lv), newCodec(rk), newCodec(rv)
	lookupL, lookupR := l.lookup, r.lookup

	// 1. Left rows (un)subscribe to their foreign key; a deleted left row
	// deletes its result at once.
	processor(b, name+"-subscription-send", []string{result}, []*topology.Node{l.node}, func(bd *topology.Build, _ forward[K, change[VR]]) (any, error) {
		res, err := openTableStore(bd, result, lk, out, true)
		if err != nil {
			return nil, err
		}
		topic := bd.Topic(subTopic)
		ctx := bd.Ctx
		return receiveFunc[K, change[V]](func(rec Record[K, change[V]]) error {
			kb, err := lkc.owned(rec.Key)
			if err != nil {
				return fmt.Errorf("step %s: encode key: %w", name, err)
			}
			var newFK, oldFK []byte
			if rec.Value.HasNew {
				if newFK, err = rkc.owned(fk(rec.Value.New)); err != nil {
					return fmt.Errorf("step %s: encode foreign key: %w", name, err)
				}
			}
			if rec.Value.HasOld {
				if oldFK, err = rkc.owned(fk(rec.Value.Old)); err != nil {
					return fmt.Errorf("step %s: encode foreign key: %w", name, err)
				}
			}
			if rec.Value.HasOld && (!rec.Value.HasNew || !bytes.Equal(oldFK, newFK)) {
				v := append(append([]byte{unsubscribe}, make([]byte, fkHashLen)...), kb...)
				ctx.Send(topic, -1, oldFK, v, rec.Timestamp, nil)
			}
			if !rec.Value.HasNew {
				var zero VR
				return res.put(rec.Key, zero, false, rec.Timestamp)
			}
			vb, err := lvc.owned(rec.Value.New)
			if err != nil {
				return fmt.Errorf("step %s: encode value: %w", name, err)
			}
			v := append(append([]byte{subscribe}, valueHash(vb)...), kb...)
			ctx.Send(topic, -1, newFK, v, rec.Timestamp, nil)
			return nil
		}), nil
	})

	// answer sends the right value (or its absence) for one subscription.
	answer := func(ctx *topology.Context, topic string, leftKey, hash []byte, v VO, has bool, ts int64) error {
		resp := append([]byte(nil), hash...)
		if has {
			vb, err := rvc.enc(append(resp, 1), v)
			if err != nil {
				return fmt.Errorf("step %s: encode right value: %w", name, err)
			}
			resp = vb
		} else {
			resp = append(resp, 0)
		}
		ctx.Send(topic, -1, append([]byte(nil), leftKey...), resp, ts, nil)
		return nil
	}
	subKey := func(dst, fkb []byte) []byte { return append(binary.AppendUvarint(dst, uint64(len(fkb))), fkb...) }

	// 2. The right side keeps the subscriptions and answers each new one.
	_, subSrc := addSource(b, subTopic, Bytes(), Bytes(), []StepOption{Named(name + "-subscription-source")})
	recvStores := append([]string{subStore}, r.stores...)
	processor(b, name+"-subscription-receive", recvStores, []*topology.Node{subSrc}, func(bd *topology.Build, _ forward[K, VR]) (any, error) {
		raw, err := bd.Store(subStore)
		if err != nil {
			return nil, err
		}
		subs := raw.(state.KeyValueStore)
		get, err := lookupR(bd)
		if err != nil {
			return nil, err
		}
		topic := bd.Topic(respTopic)
		ctx := bd.Ctx
		var key []byte
		return receiveFunc[[]byte, []byte](func(rec Record[[]byte, []byte]) error {
			if len(rec.Value) < 1+fkHashLen {
				return fmt.Errorf("step %s: a subscription of %d bytes", name, len(rec.Value))
			}
			hash, leftKey := rec.Value[1:1+fkHashLen], rec.Value[1+fkHashLen:]
			key = append(subKey(key[:0], rec.Key), leftKey...)
			if rec.Value[0] == unsubscribe {
				return subs.Delete(key)
			}
			if err := subs.Put(key, hash); err != nil {
				return err
			}
			k, err := rkc.dec(rec.Key)
			if err != nil {
				return fmt.Errorf("step %s: decode foreign key: %w", name, err)
			}
			v, _, has, err := get(k)
			if err != nil {
				return err
			}
			return answer(ctx, topic, leftKey, hash, v, has, rec.Timestamp)
		}), nil
	})
	b.g.Copart = append(b.g.Copart, topology.CoPartition{Step: name, Nodes: []*topology.Node{subSrc, r.node}})

	// 3. A right row's update answers every left row subscribed to it.
	processor(b, name+"-subscription-join-foreign", []string{subStore}, []*topology.Node{r.node}, func(bd *topology.Build, _ forward[K, VR]) (any, error) {
		raw, err := bd.Store(subStore)
		if err != nil {
			return nil, err
		}
		subs := raw.(state.KeyValueStore)
		topic := bd.Topic(respTopic)
		ctx := bd.Ctx
		return receiveFunc[KO, change[VO]](func(rec Record[KO, change[VO]]) error {
			fkb, err := rkc.owned(rec.Key)
			if err != nil {
				return fmt.Errorf("step %s: encode foreign key: %w", name, err)
			}
			p := subKey(nil, fkb)
			it, err := subs.Range(p, prefixEnd(p))
			if err != nil {
				return err
			}
			type sub struct{ leftKey, hash []byte }
			var found []sub
			for it.Next() {
				found = append(found, sub{append([]byte(nil), it.Key()[len(p):]...), append([]byte(nil), it.Value()...)})
			}
			if err := it.Close(); err != nil {
				return err
			}
			for _, s := range found {
				if err := answer(ctx, topic, s.leftKey, s.hash, rec.Value.New, rec.Value.HasNew, rec.Timestamp); err != nil {
					return err
				}
			}
			return nil
		}), nil
	})

	// 4. The left side turns answers about its current values into results.
	_, respSrc := addSource(b, respTopic, Bytes(), Bytes(), []StepOption{Named(name + "-response-source")})
	resStores := append([]string{result}, l.stores...)
	node := processor(b, name+"-result", resStores, []*topology.Node{respSrc}, func(bd *topology.Build, next forward[K, change[VR]]) (any, error) {
		res, err := openTableStore(bd, result, lk, out, true)
		if err != nil {
			return nil, err
		}
		res.emit = emitChange(next)
		bd.OnFlush(res.flush)
		get, err := lookupL(bd)
		if err != nil {
			return nil, err
		}
		var vbuf []byte
		return receiveFunc[[]byte, []byte](func(rec Record[[]byte, []byte]) error {
			if len(rec.Value) < fkHashLen+1 {
				return fmt.Errorf("step %s: an answer of %d bytes", name, len(rec.Value))
			}
			k, err := lkc.dec(rec.Key)
			if err != nil {
				return fmt.Errorf("step %s: decode key: %w", name, err)
			}
			cur, ts, has, err := get(k)
			if err != nil || !has {
				return err // the left row is gone: its result went with it
			}
			if vbuf, err = lvc.enc(vbuf[:0], cur); err != nil {
				return fmt.Errorf("step %s: encode value: %w", name, err)
			}
			if !bytes.Equal(valueHash(vbuf), rec.Value[:fkHashLen]) {
				return nil // an answer to an older value of the row
			}
			var right *VO
			if rec.Value[fkHashLen] == 1 {
				v, err := rvc.dec(rec.Value[fkHashLen+1:])
				if err != nil {
					return fmt.Errorf("step %s: decode right value: %w", name, err)
				}
				right = &v
			}
			ts = max(ts, rec.Timestamp)
			if right == nil && !left {
				var zero VR
				return res.put(k, zero, false, ts)
			}
			return res.put(k, joiner(cur, right), true, ts)
		}), nil
	})
	b.g.Copart = append(b.g.Copart, topology.CoPartition{Step: name, Nodes: []*topology.Node{respSrc, l.node}})
	return KTable[K, VR]{b: b, node: node, keys: lk, values: out, stores: []string{result}, lookup: storeLookup(result, lk, out)}
}

// prefixEnd is the first key after every key that starts with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
