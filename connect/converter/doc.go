// Package converter holds the built-in converters, registered under Kafka
// Connect's class names so existing configs run unchanged:
//
//	org.apache.kafka.connect.json.JsonConverter            JSON, with or without the {schema, payload} envelope
//	org.apache.kafka.connect.storage.StringConverter       UTF-8 text
//	org.apache.kafka.connect.converters.ByteArrayConverter raw bytes
//	org.apache.kafka.connect.storage.SimpleHeaderConverter header values as text (Kafka's default header.converter)
//
// JsonConverter, StringConverter and ByteArrayConverter also serve as
// header converters, as in Kafka. Import the package for its registrations.
package converter
