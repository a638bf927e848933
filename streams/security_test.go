package streams_test

import (
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/streams"
)

// TestAppOverSASLSSL: a streams app (exactly-once, so its group,
// transactional producer, changelog and repartition clients all connect)
// reaches a broker that takes only SASL_SSL through WithClientProperties.
func TestAppOverSASLSSL(t *testing.T) {
	certs := testkit.NewCerts(t)
	b := testkit.StartBroker(t,
		testkit.WithConfig("listeners", "SASL_SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0"),
		testkit.WithConfig("ssl.keystore.location", certs.ServerKeystore),
		testkit.WithSCRAM("SCRAM-SHA-512=[name=wordcount,password=wc-secret]"))
	plain, secure := b.ListenerAddr("PLAINTEXT"), b.ListenerAddr("SASL_SSL")
	testkit.CreateTopic(t, plain, "secure-lines", 2)
	testkit.CreateTopic(t, plain, "secure-counts", 2)
	lines := []string{"to be or not to be", "that is the question"}
	produceLines(t, plain, "secure-lines", lines)
	startApp(t, wordCountTopology(t, "secure-lines", "secure-counts"),
		streams.WithApplicationID("wc-sasl-ssl"), streams.WithBootstrapServers(secure), streams.WithStateDir(t.TempDir()),
		streams.WithProcessingGuarantee(streams.ExactlyOnce), streams.WithCommitInterval(100*time.Millisecond),
		streams.WithClientProperties(map[string]string{
			"security.protocol":       "SASL_SSL",
			"sasl.mechanism":          "SCRAM-SHA-512",
			"sasl.jaas.config":        `org.apache.kafka.common.security.scram.ScramLoginModule required username="wordcount" password="wc-secret";`,
			"ssl.truststore.location": certs.CAFile,
		}))
	latest := readCounts(t, plain, "secure-counts")
	want := wantCounts(lines)
	testkit.Eventually(t, 60*time.Second, func() error { return equalCounts(latest(), want) })
}
