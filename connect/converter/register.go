package converter

import "github.com/tributary-streams/tributary/connect"

// Class names, Kafka's.
const (
	JSONConverterClass         = "org.apache.kafka.connect.json.JsonConverter"
	StringConverterClass       = "org.apache.kafka.connect.storage.StringConverter"
	ByteArrayConverterClass    = "org.apache.kafka.connect.converters.ByteArrayConverter"
	SimpleHeaderConverterClass = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
)

func init() {
	json := connect.PluginInfo{Class: JSONConverterClass, Doc: "JSON, with Kafka Connect's {schema, payload} envelope unless schemas.enable=false."}
	str := connect.PluginInfo{Class: StringConverterClass, Doc: "UTF-8 text."}
	raw := connect.PluginInfo{Class: ByteArrayConverterClass, Doc: "Bytes, unchanged."}
	connect.RegisterConverter(json, func() connect.Converter { return &JSONConverter{} })
	connect.RegisterConverter(str, func() connect.Converter { return StringConverter{} })
	connect.RegisterConverter(raw, func() connect.Converter { return ByteArrayConverter{} })
	connect.RegisterHeaderConverter(json, func() connect.HeaderConverter { return &jsonHeaderConverter{} })
	connect.RegisterHeaderConverter(str, func() connect.HeaderConverter { return stringHeaderConverter{} })
	connect.RegisterHeaderConverter(raw, func() connect.HeaderConverter { return byteArrayHeaderConverter{} })
	connect.RegisterHeaderConverter(connect.PluginInfo{Class: SimpleHeaderConverterClass,
		Doc: "Header values as text, types inferred when read (Kafka's default header converter)."},
		func() connect.HeaderConverter { return SimpleHeaderConverter{} })
}
