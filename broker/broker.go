// Package broker is Tributary's Kafka-wire-protocol broker: a single node
// that any Kafka client can use unchanged. Embed it with Start (or Run), on
// nothing but an address and a directory:
//
//	b, err := broker.Start(ctx, broker.Config{Listen: "127.0.0.1:0", DataDir: dir})
//	if err != nil { ... }
//	defer b.Close()
//	client, _ := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
//
// It serves until the context is cancelled, Close is called, or it fails;
// Done and Err tell a program when and why it stopped.
//
// Each protocol API lives in its own file named after it (produce.go,
// fetch.go, ...). apis.go holds the table mapping API keys to handlers and
// version ranges; ApiVersions is generated from that table.
package broker

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/log"
	"github.com/tributary-streams/tributary/broker/internal/metafile"
)

// Broker is a running broker.
type Broker struct {
	cfg    Config
	logger *slog.Logger

	// listeners are bound in Start and never change after.
	listeners  []*listener
	connLimits *connLimits
	clusterID  string

	topics        *topics
	fetchSessions *fetchSessions
	metrics       *metrics
	apis          map[int16]api
	apiMetrics    map[int16]*apiMetrics
	coordinators
	security

	// fetchModeForTests, when set, is how new connections write Fetch
	// responses (a fetchWriteMode), so tests can compare the paths.
	fetchModeForTests atomic.Uint32

	// Broker-level topic defaults: static (flags/file), dynamic (altered at
	// runtime, persisted) and the merged map readers use, replaced whole.
	// dynamicConfigs is replaced under topics.mu: read it through dynamic().
	staticDefaults map[string]string
	dynamicConfigs dynamicConfigs
	topicDefaults  atomic.Pointer[map[string]string]

	httpSrv  *http.Server
	httpLn   net.Listener
	ready    atomic.Bool
	recovery recoveryProgress
	storage  storageState

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	connMu sync.Mutex
	conns  map[*clientConn]struct{}
	// requestMemory bounds the request frames held in memory.
	requestMemory *requestMemory
	// files bounds the segment files held open by all partition logs.
	files *log.Files

	closeOnce sync.Once
	done      chan struct{} // closed once Close has finished
	stopErr   error         // why the broker stopped; set before done is closed
	failErr   atomic.Pointer[error]

	// dirLock holds <data-dir>/.lock until Close.
	dirLock *os.File
}

// Start opens the data dir, recovers every partition log, and starts serving
// the Kafka protocol on cfg.Listen. Zero fields of cfg take their defaults
// (see Config); an invalid cfg is an error naming every bad field. Start
// returns once the broker accepts connections. Cancelling ctx stops the
// broker as Close does.
func Start(ctx context.Context, cfg Config) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("broker config: %w", err)
	}
	cfg.Defaults()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	b := &Broker{
		cfg:     cfg,
		logger:  cfg.Logger,
		conns:   map[*clientConn]struct{}{},
		metrics: newMetrics(),
		done:    make(chan struct{}),

		requestMemory: newRequestMemory(cfg.QueuedMaxRequestBytes),
		files:         log.NewFiles(cfg.OpenSegmentFiles),
	}
	b.ctx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	b.metrics.broker = b
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	b.dirLock = lock
	started := false
	defer func() {
		if !started {
			b.Close()
		}
	}()

	if cfg.MetricsListen != "" {
		if err := b.startHTTP(); err != nil {
			return nil, err
		}
	}
	if err := b.loadIdentity(); err != nil {
		return nil, err
	}
	if err := b.loadDynamicConfigs(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := b.loadTopics(ctx); err != nil {
		return nil, err
	}
	b.fetchSessions = newFetchSessions(cfg.MaxIncrementalFetchSessionCacheSlots)
	if err := b.startCoordinators(); err != nil {
		return nil, err
	}
	if err := b.startSecurity(); err != nil {
		return nil, err
	}
	b.apis = b.apiTable()

	b.connLimits = b.newConnLimits()
	if err := b.startListeners(); err != nil {
		return nil, err
	}
	b.ready.Store(true)
	started = true
	for _, l := range b.listeners {
		b.logger.Info("listener started", "listener", l.Name, "protocol", l.Protocol, "listen", l.ln.Addr().String(), "advertise", l.Addr())
	}
	b.logger.Info("broker started", "advertise", b.Addr(),
		"data_dir", cfg.DataDir, "topics", len(b.topics.list()), "recovery", time.Since(t0).Round(time.Millisecond))

	b.wg.Add(1 + len(b.listeners))
	for _, l := range b.listeners {
		go b.acceptLoop(l)
	}
	go b.maintenanceLoop()
	go func() {
		select {
		case <-ctx.Done():
			b.Close()
		case <-b.ctx.Done():
		}
	}()
	return b, nil
}

// Run starts a broker with cfg and serves until ctx is cancelled or the
// broker fails. It returns nil after a clean stop on cancellation, and
// otherwise why the broker could not start or why it stopped.
func Run(ctx context.Context, cfg Config) error {
	b, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	<-b.Done()
	return b.Err()
}

// Done is closed once the broker has stopped and released its data dir:
// after Close, after ctx given to Start is cancelled, or after a failure.
func (b *Broker) Done() <-chan struct{} { return b.done }

// Err is why the broker stopped: nil while it runs and after a stop that
// was asked for and went cleanly; otherwise the failure that stopped it
// and any error closing its logs and coordinators.
func (b *Broker) Err() error {
	select {
	case <-b.done:
		return b.stopErr
	default:
		return nil
	}
}

// fail stops the broker because of err, which Err then reports. Only the
// first failure is kept.
func (b *Broker) fail(err error) {
	if b.failErr.CompareAndSwap(nil, &err) {
		b.logger.Error("broker failed, stopping", "err", err)
	}
	go b.Close()
}

// Addr is the advertised host:port of the first listener (see
// ListenerAddr for the others).
func (b *Broker) Addr() string {
	if len(b.listeners) == 0 {
		return ""
	}
	return b.listeners[0].Addr()
}

// MetricsAddr is the bound address of the /metrics and /healthz endpoint,
// or "" when it is disabled.
func (b *Broker) MetricsAddr() string {
	if b.httpLn == nil {
		return ""
	}
	return b.httpLn.Addr().String()
}

// ClusterID is the id reported to clients.
func (b *Broker) ClusterID() string { return b.clusterID }

// loadIdentity reads or creates <data-dir>/meta.json with the cluster id.
func (b *Broker) loadIdentity() error {
	path := filepath.Join(b.cfg.DataDir, "meta.json")
	var meta struct {
		ClusterID string `json:"cluster_id"`
		NodeID    int32  `json:"node_id"`
	}
	raw, err := metafile.Read(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &meta); err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
		meta.ClusterID = b.cfg.ClusterID
		if meta.ClusterID == "" {
			var id [16]byte
			rand.Read(id[:])
			meta.ClusterID = base64.RawURLEncoding.EncodeToString(id[:])
		}
		meta.NodeID = b.cfg.NodeID
		raw, _ := json.Marshal(meta)
		if err := metafile.Write(path, raw, true); err != nil {
			return err
		}
	default:
		// A damaged identity is not guessed at (metafile names the file).
		return fmt.Errorf("read broker identity: %w", err)
	}
	if b.cfg.ClusterID != "" && b.cfg.ClusterID != meta.ClusterID {
		return fmt.Errorf("cluster.id %q does not match %q stored in %s", b.cfg.ClusterID, meta.ClusterID, path)
	}
	b.clusterID = meta.ClusterID
	return nil
}

func (b *Broker) acceptLoop(l *listener) {
	defer b.wg.Done()
	var lastWarn time.Time
	skipped := 0
	for {
		b.connLimits.waitForSlot(b.ctx, l.limits)
		nc, err := l.ln.Accept()
		if err != nil {
			if b.ctx.Err() != nil {
				return // Close closed the listener
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporaryAccept(err) {
				// Out of descriptors or a connection reset before
				// accept: keep serving the connections we have, and
				// say so once a second, not at every retry.
				if time.Since(lastWarn) >= time.Second {
					b.logger.Warn("cannot accept connections; retrying", "err", err, "failed_since_last_warning", skipped)
					lastWarn, skipped = time.Now(), 0
				} else {
					skipped++
				}
				time.Sleep(10 * time.Millisecond)
				continue
			}
			b.fail(fmt.Errorf("accept on %s: %w", l.ln.Addr(), err))
			return
		}
		ip := remoteIP(nc)
		if !b.connLimits.admit(l.limits, ip) {
			b.logger.Info("refusing connection: too many connections from this address (max.connections.per.ip)",
				"listener", l.Name, "remote", nc.RemoteAddr().String())
			b.secMetrics.refusedConnections.Inc()
			nc.Close()
			continue
		}
		c := b.newClientConn(nc, l)
		b.connMu.Lock()
		if b.ctx.Err() != nil {
			b.connMu.Unlock()
			nc.Close()
			b.connLimits.release(l.limits, ip)
			return
		}
		b.conns[c] = struct{}{}
		b.connMu.Unlock()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			c.serve()
			b.connMu.Lock()
			delete(b.conns, c)
			b.connMu.Unlock()
			b.connLimits.release(l.limits, ip)
		}()
	}
}

// maintenanceLoop runs retention, flush.ms and compaction periodically.
func (b *Broker) maintenanceLoop() {
	defer b.wg.Done()
	retention := time.Duration(b.cfg.RetentionCheckIntervalMs) * time.Millisecond
	tick := min(retention, time.Second)
	if !b.cfg.DisableLogCleaner {
		tick = min(tick, time.Duration(b.cfg.LogCleanerBackoffMs)*time.Millisecond)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	lastRetention, lastClean := time.Now(), time.Now()
	for {
		select {
		case <-b.ctx.Done():
			return
		case now := <-t.C:
			runRetention := now.Sub(lastRetention) >= retention
			runClean := !b.cfg.DisableLogCleaner && now.Sub(lastClean) >= time.Duration(b.cfg.LogCleanerBackoffMs)*time.Millisecond
			if runRetention {
				lastRetention = now
			}
			if runClean {
				lastClean = now
			}
			b.topics.maintainAll(now, runRetention, runClean)
		}
	}
}

// RunMaintenance runs retention and compaction once, now. Tests and the
// admin tooling use it instead of waiting for the periodic loop.
func (b *Broker) RunMaintenance() {
	b.topics.maintainAll(time.Now(), true, true)
}

// Close stops accepting, closes every connection, writes clean-shutdown
// markers for every log and stops the coordinators. The first call does the
// work and returns its error; later calls wait for it and return nil.
func (b *Broker) Close() (err error) {
	first := false
	b.closeOnce.Do(func() {
		first = true
		b.ready.Store(false)
		b.cancel()
		for _, l := range b.listeners {
			l.ln.Close()
		}
		if b.connLimits != nil {
			b.connLimits.wakeAll()
		}
		b.connMu.Lock()
		for c := range b.conns {
			c.sock.Close()
		}
		b.connMu.Unlock()
		b.wg.Wait()
		var errs []error
		if err := b.stopCoordinators(); err != nil {
			errs = append(errs, err)
		}
		if b.topics != nil {
			if err := b.closePartitions(); err != nil {
				errs = append(errs, err)
			}
		}
		if b.httpSrv != nil {
			b.httpSrv.Close()
		}
		if b.dirLock != nil {
			b.dirLock.Close() // releases the flock
		}
		closeErr := errors.Join(errs...)
		b.stopErr = closeErr
		if f := b.failErr.Load(); f != nil {
			b.stopErr = errors.Join(*f, closeErr)
		}
		if closeErr != nil {
			b.logger.Error("broker stopped with errors", "err", closeErr)
		} else {
			b.logger.Info("broker stopped")
		}
		close(b.done)
		err = closeErr
	})
	if !first {
		<-b.done
	}
	return err
}

// isTemporaryAccept reports accept errors that leave the listener usable:
// the process is out of descriptors, or a connection was aborted before it
// was accepted.
func isTemporaryAccept(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}
