package broker

// The broker's security state: SCRAM credentials, the authorizer (nil
// when authorizer.class.name is unset: every request is allowed, as in
// Kafka without an authorizer), client quotas and their metrics. The
// stores live in the data dir (scram-credentials.json, acls.json,
// client-quotas.json), checksummed and written atomically.

import (
	"crypto/rand"
	"fmt"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/acl"
	"github.com/tributary-streams/tributary/broker/internal/sasl"
)

type security struct {
	credentials *sasl.Credentials
	authorizer  *acl.Authorizer
	// fakeCredentialKey keys the stand-in SCRAM credentials of unknown
	// users (see sasl.NewScramExchange); random per process.
	fakeCredentialKey []byte
	quotas            *clientQuotas
	secMetrics        securityMetrics
}

type securityMetrics struct {
	authentications    *prometheus.CounterVec
	refusedConnections prometheus.Counter
	throttleSeconds    *prometheus.CounterVec
}

func (b *Broker) startSecurity() error {
	m := &b.secMetrics
	m.authentications = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_sasl_authentications_total",
		Help: "SASL authentications, by listener, mechanism and result."}, []string{"listener", "mechanism", "result"})
	m.refusedConnections = prometheus.NewCounter(prometheus.CounterOpts{Name: "tributary_refused_connections_total",
		Help: "Connections closed at accept because their address was at max.connections.per.ip."})
	m.throttleSeconds = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_quota_throttle_seconds_total",
		Help: "Time clients were throttled for exceeding a client quota, by quota."}, []string{"quota"})
	b.metrics.reg.MustRegister(m.authentications, m.refusedConnections, m.throttleSeconds)

	b.fakeCredentialKey = make([]byte, 32)
	rand.Read(b.fakeCredentialKey)
	var err error
	if b.credentials, err = sasl.OpenCredentials(filepath.Join(b.cfg.DataDir, sasl.CredentialsFile)); err != nil {
		return err
	}
	if err := b.addSCRAM(); err != nil {
		return err
	}
	if b.cfg.AuthorizerClassName != "" {
		if b.authorizer, err = acl.Open(filepath.Join(b.cfg.DataDir, acl.File), b.cfg.SuperUsers, b.cfg.AllowEveryoneIfNoACLFound); err != nil {
			return err
		}
	}
	if b.quotas, err = b.openClientQuotas(); err != nil {
		return err
	}
	return nil
}

// securityAPIs are the API table entries of ACLs, SCRAM credentials and
// client quotas.
func (b *Broker) securityAPIs() []api {
	return []api{
		{kmsg.DescribeACLs, 0, 3, handler((*Broker).handleDescribeACLs)},
		{kmsg.CreateACLs, 0, 3, handler((*Broker).handleCreateACLs)},
		{kmsg.DeleteACLs, 0, 3, handler((*Broker).handleDeleteACLs)},
		{kmsg.DescribeUserSCRAMCredentials, 0, 0, handler((*Broker).handleDescribeUserSCRAMCredentials)},
		{kmsg.AlterUserSCRAMCredentials, 0, 0, handler((*Broker).handleAlterUserSCRAMCredentials)},
		{kmsg.DescribeClientQuotas, 0, 1, handler((*Broker).handleDescribeClientQuotas)},
		{kmsg.AlterClientQuotas, 0, 1, handler((*Broker).handleAlterClientQuotas)},
	}
}

// addSCRAM stores the AddSCRAM credentials a user does not have yet.
func (b *Broker) addSCRAM() error {
	var changes []sasl.Change
	for _, entry := range b.cfg.AddSCRAM {
		s, err := parseAddSCRAM(entry) // checked by Validate
		if err != nil {
			return err
		}
		if _, ok := b.credentials.Lookup(s.mechanism, s.user); ok {
			continue
		}
		m, _ := sasl.ScramByName(s.mechanism)
		cred, err := m.NewCredential(s.password, s.iterations)
		if err != nil {
			return fmt.Errorf("--add-scram for %s: %w", s.user, err)
		}
		changes = append(changes, sasl.Change{User: s.user, Mechanism: s.mechanism, Credential: cred})
		b.logger.Info("adding SCRAM credential", "user", s.user, "mechanism", s.mechanism)
	}
	if len(changes) == 0 {
		return nil
	}
	_, err := b.credentials.Apply(changes)
	return err
}
