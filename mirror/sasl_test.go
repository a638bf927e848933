package mirror_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// saslBroker is a broker whose clients must use SASL_SSL (a PLAINTEXT
// listener too, for the test's own reads and writes), with user mirror.
func saslBroker(t *testing.T, certs *testkit.Certs, mechanisms string) *testkit.Broker {
	t.Helper()
	return testkit.StartBroker(t,
		testkit.WithConfig("listeners", "SASL_SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0"),
		testkit.WithConfig("sasl.enabled.mechanisms", mechanisms),
		testkit.WithConfig("ssl.keystore.location", certs.ServerKeystore),
		testkit.WithSCRAM("SCRAM-SHA-256=[name=mirror,password=mirror-secret]"),
		testkit.WithSCRAM("SCRAM-SHA-512=[name=mirror,password=mirror-secret]"))
}

// A flow between two clusters that take only SASL_SSL, each with its own
// security settings (A.security.protocol, B.sasl.jaas.config, ...).
func TestCopiesBetweenSASLSSLClusters(t *testing.T) {
	certs := testkit.NewCerts(t)
	a, b := saslBroker(t, certs, "SCRAM-SHA-256"), saslBroker(t, certs, "SCRAM-SHA-512,PLAIN")
	createTopic(t, a.ListenerAddr("PLAINTEXT"), "orders", 2)
	recs := produce(t, a.ListenerAddr("PLAINTEXT"), sourceRecords("orders", 2, 10)...)
	m := startMirror(t, twoClusters(a.ListenerAddr("SASL_SSL"), b.ListenerAddr("SASL_SSL"))+fmt.Sprintf(`
A->B.enabled = true
A.security.protocol = SASL_SSL
A.sasl.mechanism = SCRAM-SHA-256
A.sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required username="mirror" password="mirror-secret";
A.ssl.truststore.location = %[1]s
B.security.protocol = SASL_SSL
B.sasl.mechanism = PLAIN
B.sasl.username = mirror
B.sasl.password = mirror-secret
B.ssl.truststore.type = PEM
B.ssl.truststore.location = %[1]s
`, certs.CAFile))
	testkit.Eventually(t, 30*time.Second, func() error {
		if st := flowStatus(m, "A->B"); st.Err != nil || len(st.Topics) == 0 || st.Topics[0].Partitions != 2 {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	checkCopied(t, recs, consumeN(t, b.ListenerAddr("PLAINTEXT"), "A.orders", len(recs), 30*time.Second))
}
