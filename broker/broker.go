// Package broker is Tributary's Kafka-wire-protocol broker: a single node
// that any Kafka client can use unchanged. Start it with Start; it serves
// until the context is cancelled or Close is called.
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
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Broker is a running broker.
type Broker struct {
	cfg    Config
	logger *slog.Logger

	ln        net.Listener
	advHost   string
	advPort   int32
	clusterID string

	topics        *topics
	fetchSessions *fetchSessions
	metrics       *metrics
	apis          map[int16]api
	apiMetrics    map[int16]*apiMetrics
	coordinators

	// Broker-level topic defaults: static (flags/file), dynamic (altered at
	// runtime, persisted) and the merged map readers use, replaced whole.
	// dynamicConfigs is replaced under topics.mu: read it through dynamic().
	staticDefaults map[string]string
	dynamicConfigs map[string]string
	topicDefaults  atomic.Pointer[map[string]string]

	httpSrv *http.Server
	httpLn  net.Listener
	ready   atomic.Bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	connMu sync.Mutex
	conns  map[*clientConn]struct{}
	// requestMemory bounds the request frames held in memory.
	requestMemory *requestMemory

	closeOnce sync.Once
	closeErr  error

	// dirLock holds <data-dir>/.lock until Close.
	dirLock *os.File
}

// Start opens the data dir, recovers every partition log, and starts serving
// the Kafka protocol on cfg.Listen. It returns once the broker accepts
// connections.
func Start(ctx context.Context, cfg Config) (*Broker, error) {
	if cfg.TopicDefaults == nil {
		d := Defaults()
		cfg.TopicDefaults = d.TopicDefaults
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("broker config: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	b := &Broker{
		cfg:     cfg,
		logger:  cfg.Logger,
		conns:   map[*clientConn]struct{}{},
		metrics: newMetrics(),

		requestMemory: newRequestMemory(cfg.QueuedMaxRequestBytes),
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
	if err := b.loadTopics(); err != nil {
		return nil, err
	}
	b.fetchSessions = newFetchSessions(cfg.MaxIncrementalFetchSessionCacheSlots)
	if err := b.startCoordinators(); err != nil {
		return nil, err
	}
	b.apis = b.apiTable()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	b.ln = ln
	if err := b.resolveAdvertised(); err != nil {
		return nil, err
	}
	b.ready.Store(true)
	started = true
	b.logger.Info("broker started", "listen", ln.Addr().String(), "advertise", b.Addr(),
		"data_dir", cfg.DataDir, "topics", len(b.topics.list()), "recovery", time.Since(t0).Round(time.Millisecond))

	b.wg.Add(2)
	go b.acceptLoop()
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

// Addr is the advertised host:port clients use.
func (b *Broker) Addr() string {
	return net.JoinHostPort(b.advHost, strconv.Itoa(int(b.advPort)))
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

func (b *Broker) resolveAdvertised() error {
	adv := b.cfg.Advertise
	if adv == "" {
		adv = b.ln.Addr().String()
	}
	host, portStr, err := net.SplitHostPort(adv)
	if err != nil {
		return fmt.Errorf("advertise %q: %w", adv, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		// An unspecified address can't be dialled: tell clients loopback,
		// and say so, since remote clients will need --advertise.
		host = "127.0.0.1"
		b.logger.Warn("listening on all interfaces without --advertise: advertising 127.0.0.1, which only local clients can reach")
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 {
		return fmt.Errorf("advertise %q: bad port", adv)
	}
	b.advHost, b.advPort = host, int32(port)
	return nil
}

// loadIdentity reads or creates <data-dir>/meta.json with the cluster id.
func (b *Broker) loadIdentity() error {
	path := filepath.Join(b.cfg.DataDir, "meta.json")
	var meta struct {
		ClusterID string `json:"cluster_id"`
		NodeID    int32  `json:"node_id"`
	}
	raw, err := os.ReadFile(path)
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
		if err := writeFileAtomic(path, raw); err != nil {
			return err
		}
	default:
		return fmt.Errorf("read %s: %w", path, err)
	}
	if b.cfg.ClusterID != "" && b.cfg.ClusterID != meta.ClusterID {
		return fmt.Errorf("cluster.id %q does not match %q stored in %s", b.cfg.ClusterID, meta.ClusterID, path)
	}
	b.clusterID = meta.ClusterID
	return nil
}

func (b *Broker) acceptLoop() {
	defer b.wg.Done()
	for {
		nc, err := b.ln.Accept()
		if err != nil {
			if b.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			b.logger.Warn("accept", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c := b.newClientConn(nc)
		b.connMu.Lock()
		if b.ctx.Err() != nil {
			b.connMu.Unlock()
			nc.Close()
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
		}()
	}
}

// maintenanceLoop runs retention, flush.ms and compaction periodically.
func (b *Broker) maintenanceLoop() {
	defer b.wg.Done()
	retention := time.Duration(b.cfg.RetentionCheckIntervalMs) * time.Millisecond
	tick := min(retention, time.Second)
	if b.cfg.LogCleanerEnable {
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
			runClean := b.cfg.LogCleanerEnable && now.Sub(lastClean) >= time.Duration(b.cfg.LogCleanerBackoffMs)*time.Millisecond
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
// markers for every log and stops the coordinators.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.ready.Store(false)
		b.cancel()
		if b.ln != nil {
			b.ln.Close()
		}
		b.connMu.Lock()
		for c := range b.conns {
			c.nc.Close()
		}
		b.connMu.Unlock()
		b.wg.Wait()
		var errs []error
		if err := b.stopCoordinators(); err != nil {
			errs = append(errs, err)
		}
		if b.topics != nil {
			for _, t := range b.topics.list() {
				for _, p := range *t.partitions.Load() {
					if err := p.saveProducerState(true); err != nil {
						b.logger.Warn("save producer state", "topic", t.name, "partition", p.index, "err", err)
					}
					if err := p.log.Close(); err != nil {
						errs = append(errs, fmt.Errorf("close %s-%d: %w", t.name, p.index, err))
					}
				}
			}
		}
		if b.httpSrv != nil {
			b.httpSrv.Close()
		}
		if b.dirLock != nil {
			b.dirLock.Close() // releases the flock
		}
		b.closeErr = errors.Join(errs...)
		b.logger.Info("broker stopped")
	})
	return b.closeErr
}
