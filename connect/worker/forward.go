package worker

// REST writes run on the leader of the workers' group, as in Kafka
// Connect: a follower that receives POST /connectors, PUT or PATCH
// .../config, DELETE, restart, pause, resume, stop or an offsets change
// forwards the request to the leader's REST URL (each worker publishes its
// URL in its group metadata; the leader puts its own in every assignment)
// and answers with the leader's response. The leader carries out one
// write at a time, so checks such as "already exists" hold until the
// write is in the config topic.
//
// A request may be forwarded twice at most (Kafka's forward query
// parameter: absent on a client's request, true after one hop, false
// after two), so workers with stale views of who leads cannot bounce a
// request for ever. 409 is answered while a rebalance is in progress, when
// the leader is unknown, and when the hops are used up. The original
// Authorization header goes along (basic auth); https leaders are reached
// with the listeners.https.ssl.* (else ssl.*) truststore and keystore.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/internal/pemfile"
)

// forwardTimeout bounds a forwarded request (Kafka's REST client waits
// 90 s).
const forwardTimeout = 90 * time.Second

// forwardParam is the query parameter counting hops.
const forwardParam = "forward"

// notLeaderError is returned by a write on a worker that is not the
// leader; url is the leader's REST URL ("" when unknown).
type notLeaderError struct{ url string }

func (e *notLeaderError) Error() string {
	if e.url == "" {
		return "this worker is not the leader, and the leader is not known"
	}
	return "this worker is not the leader; the leader is " + e.url
}

var (
	errNoLeader    = errors.New("Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.")
	errForwardHops = errors.New("Cannot complete request because of a conflicting operation (e.g. worker rebalance)")
)

// beginWrite admits a REST write: after a rebalance in progress (up to
// rebalanceWait), on the leader only, one at a time. The caller runs the
// write and then calls done.
func (h *herder) beginWrite(ctx context.Context) (done func(), err error) {
	if err := h.checkWritable(ctx); err != nil {
		return nil, err
	}
	h.writeMu.Lock()
	if self, url := h.members.leadership(); !self {
		h.writeMu.Unlock()
		return nil, &notLeaderError{url: url}
	}
	return h.writeMu.Unlock, nil
}

// forwarder sends REST requests to the leader.
type forwarder struct {
	client *http.Client
	err    error // the TLS settings could not be read (Config.Validate reports it)
}

func newForwarder(cfg *Config) *forwarder {
	tlsCfg, err := cfg.restClientTLS()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	return &forwarder{err: err, client: &http.Client{Transport: tr, Timeout: forwardTimeout,
		// A redirect from the leader is answered to the client as it is.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (f *forwarder) close() { f.client.CloseIdleConnections() }

// restClientTLS is how a worker with an https listener reaches the
// others: the REST truststore (else the system's CAs), and the REST
// keystore as a client certificate (for ssl.client.auth). Nil for http.
func (c *Config) restClientTLS() (*tls.Config, error) {
	if !c.RestTLS {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ts := c.restSSL("ssl.truststore.location"); ts != "" {
		pool, err := pemfile.ReadCertPool("REST client: ssl.truststore.location", ts)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if ks := c.restSSL("ssl.keystore.location"); ks != "" {
		cert, err := pemfile.ReadKeyPair("REST client: ssl.keystore.location", ks, c.restSSL("ssl.key.location"))
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// nextHop returns the forward parameter for the next hop of a request
// that arrived with param, or an error when no hop is left.
func nextHop(param string) (string, error) {
	switch param {
	case "":
		return "true", nil
	case "true":
		return "false", nil
	}
	return "", fmt.Errorf("%w", errForwardHops)
}

// send forwards a request to leader; the caller closes the response body.
func (f *forwarder) send(ctx context.Context, leader, method, path, query string, header http.Header, body []byte) (*http.Response, error) {
	if leader == "" {
		return nil, fmt.Errorf("%w", errNoLeader)
	}
	if f.err != nil {
		return nil, f.err
	}
	if !strings.Contains(leader, "://") {
		leader = "http://" + leader // an older worker's metadata: host:port
	}
	target := strings.TrimSuffix(leader, "/") + path
	if query != "" {
		target += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("forward the request to the leader at %s: %w", leader, err)
	}
	for _, k := range []string{"Content-Type", "Accept", "Authorization"} {
		if v := header.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("forward the request to the leader at %s: %w", leader, err)
	}
	return resp, nil
}

// forward answers a REST request that needs the leader with the leader's
// answer.
func (s *restServer) forward(w http.ResponseWriter, r *http.Request, body []byte, nle *notLeaderError) {
	q := r.URL.Query()
	hop, err := nextHop(q.Get(forwardParam))
	if err == nil && nle.url == "" {
		err = fmt.Errorf("%w", errNoLeader)
	}
	if err != nil {
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	q.Set(forwardParam, hop)
	s.log.Debug("forwarding a REST request to the leader", "method", r.Method, "path", r.URL.Path, "leader", nle.url)
	resp, err := s.h.fwd.send(r.Context(), nle.url, r.Method, r.URL.EscapedPath(), q.Encode(), r.Header, body)
	if err != nil {
		s.fail(w, err)
		return
	}
	defer resp.Body.Close()
	s.h.catchUp(r.Context(), resp.StatusCode)
	for _, k := range []string{"Content-Type", "Location"} {
		if v := resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil {
		s.log.Warn("could not relay the leader's answer", "path", r.URL.Path, "err", err)
	}
}

// catchUp reads the config topic to its end after the leader carried out
// a write, so that this worker's next answers show it (read your writes).
func (h *herder) catchUp(ctx context.Context, status int) {
	if status >= 300 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := h.configs.log.readToEnd(ctx); err != nil {
		h.log.Warn("could not read the config topic after a forwarded write", "err", err)
	}
}

// forwardCall carries out a write of the Go API (Worker.PutConnector, ...)
// on the leader, through its REST API.
func (h *herder) forwardCall(ctx context.Context, nle *notLeaderError, method, path string, body any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	header := http.Header{"Content-Type": []string{"application/json"}}
	resp, err := h.fwd.send(ctx, nle.url, method, path, forwardParam+"=true", header, raw)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	h.catchUp(ctx, resp.StatusCode)
	if resp.StatusCode < 300 {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	var e struct {
		Message string `json:"message"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if json.Unmarshal(b, &e) != nil || e.Message == "" {
		e.Message = strings.TrimSpace(string(b))
	}
	if resp.StatusCode == http.StatusConflict && (e.Message == errRebalancing.Error()) {
		return fmt.Errorf("%w", errRebalancing)
	}
	return &apiError{code: resp.StatusCode, msg: e.Message}
}
