// Package store opens the Redis connection that the collector and the reports
// share, builds every Redis key (keys.go) and provides the clock. It sits below
// both so that neither imports the other.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// pingTimeout bounds the check that the server answers at start-up.
const pingTimeout = 5 * time.Second

// clusterReload is how often a cluster client reads the slot map again.
// A dead master's slots move to its replica within seconds of the cluster
// node timeout, but a refused connection does not make the client look
// (its own default is a minute): until it reloads, every write for those
// slots fails. One CLUSTER SLOTS a second per collector is cheap.
const clusterReload = time.Second

// noRetries stops go-redis from sending a command again when its answer
// did not come (its default is three more tries). A command that timed out
// on a paused or overloaded server still runs when the server wakes, and so
// does every copy: an INCR sent to a paused server on a warm pool ran four
// times, and the caller waited past 20 s for an error. Without retries a
// command fails after the read timeout (5 s) and its request with a 5xx,
// which a platform retries and the collector stores once (a message by its
// ID). A REDIS_URL may still ask for retries with max_retries=N.
const noRetries = -1

// DB is an open Redis connection: a server, a cluster, or the embedded
// in-memory store used for trying messtrack out.
type DB struct {
	// Client speaks to Redis; a *redis.Client or a *redis.ClusterClient.
	Client   redis.UniversalClient
	embedded *miniredis.Miniredis
	persist  *persister
}

// Embedded reports whether DB is the in-memory store, which keeps its data
// across restarts only in the file Persist names.
func (d *DB) Embedded() bool { return d.embedded != nil }

// Close closes the client and stops the embedded store, if any, writing
// its file first when Persist named one.
func (d *DB) Close() error {
	var perr error
	if d.persist != nil {
		perr = d.persist.finish()
	}
	err := d.Client.Close()
	if d.embedded != nil {
		d.embedded.Close()
	}
	if err = errors.Join(perr, err); err != nil {
		return fmt.Errorf("store.Close: %w", err)
	}
	return nil
}

// Open connects to the Redis named by url and checks it answers.
//
// url is "redis://…" or "rediss://…" for one server, a comma-separated list of
// host:port (or redis:// URLs) for a cluster, or empty for the embedded store.
// The embedded store is a miniredis served on a loopback port, so the same
// go-redis code paths run as in production.
func Open(ctx context.Context, url string, log *slog.Logger) (*DB, error) {
	url = strings.TrimSpace(url)
	db := &DB{}
	switch {
	case url == "":
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("store.Open: start embedded store: %w", err)
		}
		db.embedded = m
		db.Client = redis.NewClient(&redis.Options{Addr: m.Addr()})
		log.Warn("no Redis configured: using the embedded in-memory store, for trying messtrack out",
			"addr", m.Addr())
	case strings.Contains(url, ","):
		var addrs []string
		var base *redis.Options
		for _, node := range strings.Split(url, ",") {
			node = strings.TrimSpace(node)
			if node == "" {
				continue
			}
			if strings.Contains(node, "://") {
				opt, err := redis.ParseURL(node)
				if err != nil {
					return nil, fmt.Errorf("store.Open: cluster node %q: %w", node, err)
				}
				if base == nil {
					base = opt
				}
				node = opt.Addr
			}
			addrs = append(addrs, node)
		}
		copt := &redis.ClusterOptions{Addrs: addrs, ClusterStateReloadInterval: clusterReload}
		// As on one server, a caller's deadline bounds its calls; the
		// retries stay, since a failover needs them (see noRetries).
		copt.ContextTimeoutEnabled = true
		if base != nil {
			copt.Username, copt.Password, copt.TLSConfig = base.Username, base.Password, base.TLSConfig
		}
		db.Client = redis.NewClusterClient(copt)
	default:
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, fmt.Errorf("store.Open: parse REDIS_URL: %w", err)
		}
		if opt.MaxRetries == 0 {
			opt.MaxRetries = noRetries
		}
		// A caller's deadline bounds its calls, not only the read timeout:
		// the collector gives what a platform waits on a few seconds.
		opt.ContextTimeoutEnabled = true
		db.Client = redis.NewClient(opt)
	}
	// A first answer comes within milliseconds from a healthy server; a
	// server that never answers (a rediss:// URL on a plain server waits on
	// a TLS handshake) should fail start-up quickly and say why.
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := db.Client.Ping(pctx).Err(); err != nil {
		_ = db.Close()
		hint := ""
		if strings.HasPrefix(url, "rediss://") {
			hint = " (rediss:// needs a server that speaks TLS; use redis:// for a plain one)"
		}
		return nil, fmt.Errorf("store.Open: ping: %w%s", err, hint)
	}
	return db, nil
}
