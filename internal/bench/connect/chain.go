package main

// The 3-transformation chain: Kafka's InsertField$Value, ReplaceField$Value
// and MaskField$Value, on the generator's struct values.

import (
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
	"github.com/tributary-streams/tributary/connectors/datagen"

	_ "github.com/tributary-streams/tributary/connect/transforms"
)

func chainConfig() map[string]string {
	return map[string]string{
		"transforms":                     "insert,rename,mask",
		"transforms.insert.type":         "org.apache.kafka.connect.transforms.InsertField$Value",
		"transforms.insert.static.field": "source",
		"transforms.insert.static.value": "bench",
		"transforms.rename.type":         "org.apache.kafka.connect.transforms.ReplaceField$Value",
		"transforms.rename.renames":      "payload:body",
		"transforms.mask.type":           "org.apache.kafka.connect.transforms.MaskField$Value",
		"transforms.mask.fields":         "seq",
	}
}

// chainApply times Chain.Apply over n generated struct records: wall and
// CPU time per record.
func chainApply(n int64) (time.Duration, time.Duration, error) {
	chain, err := connect.NewChain(chainConfig())
	if err != nil {
		return 0, 0, err
	}
	defer chain.Close()
	const batch = 1000
	recs := make([]connect.Record, batch)
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range recs {
		v := data.NewStruct(datagen.ValueSchema)
		v.PutAt(0, int32(0))
		v.PutAt(1, int64(i))
		v.PutAt(2, now)
		v.PutAt(3, datagen.Text(0, int64(i)))
		recs[i] = connect.Record{Topic: "bench", Partition: -1, ValueSchema: datagen.ValueSchema, Value: v, Offset: -1}
	}
	// Each record is copied into one reused record before the chain runs,
	// as the source runtime does (the chain may change the record's own
	// fields).
	r := new(connect.Record)
	start, cpu0 := time.Now(), cpuTime()
	for done := int64(0); done < n; done += batch {
		for i := range recs {
			*r = recs[i]
			if _, err := chain.Apply(r); err != nil {
				return 0, 0, err
			}
		}
	}
	wall, cpu := time.Since(start), cpuTime()-cpu0
	return time.Duration(float64(wall) / float64(n)), time.Duration(float64(cpu) / float64(n)), nil
}
