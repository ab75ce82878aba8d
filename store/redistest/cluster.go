package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterEnv names an already running cluster (a comma-separated list of
// host:port, as `make cluster` prints it) that Shared clusters use instead of
// starting their own.
const ClusterEnv = "MESSTRACK_TEST_CLUSTER"

// Cluster is a Redis Cluster of three masters with one replica each, on
// loopback ports, built from redis-server processes with
// `redis-cli --cluster create`.
type Cluster struct {
	// Nodes are every node's server; nil for a cluster named by ClusterEnv.
	Nodes []*Server
	addrs []string
	stop  sync.Once
}

// Addrs returns host:port of every node.
func (c *Cluster) Addrs() []string { return append([]string(nil), c.addrs...) }

// URL returns the node list as REDIS_URL takes it.
func (c *Cluster) URL() string { return strings.Join(c.addrs, ",") }

// sharedCluster is the cluster NewCluster starts once per test binary; Main
// stops it. Test-only state.
var (
	sharedCluster atomic.Pointer[Cluster]
	clusterOnce   sync.Mutex
)

// SharedCluster returns the test binary's cluster, starting it at the first
// call (or using the one ClusterEnv names). Main stops it.
func SharedCluster(tb testing.TB) *Cluster {
	tb.Helper()
	clusterOnce.Lock()
	defer clusterOnce.Unlock()
	if c := sharedCluster.Load(); c != nil {
		return c
	}
	var c *Cluster
	if env := strings.TrimSpace(os.Getenv(ClusterEnv)); env != "" {
		c = &Cluster{addrs: strings.Split(env, ",")}
	} else {
		var err error
		if c, err = StartCluster(); err != nil {
			tb.Fatal("redistest:", err)
		}
	}
	sharedCluster.Store(c)
	return c
}

// NewCluster returns a client on the shared cluster, every master flushed,
// and closes it when the test ends. Tests that use it must not run in
// parallel with each other: a cluster has one database.
func NewCluster(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	return SharedCluster(tb).Client(tb)
}

// PrivateCluster starts a cluster for one test (for tests that kill nodes
// on purpose) and stops it when the test ends.
func PrivateCluster(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := StartCluster()
	if err != nil {
		tb.Fatal("redistest:", err)
	}
	tb.Cleanup(c.Stop)
	return c
}

// Client returns a cluster client with every master flushed, closed when the
// test ends.
func (c *Cluster) Client(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		return m.FlushAll(ctx).Err()
	})
	if err != nil {
		_ = cc.Close()
		tb.Fatalf("redistest: flush the cluster %s: %v", c.URL(), err)
	}
	tb.Cleanup(func() { _ = cc.Close() })
	return cc
}

// StartCluster starts six cluster-enabled servers, joins them into three
// masters with a replica each and waits until every slot is served and
// every replica is in sync.
func StartCluster() (*Cluster, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found in PATH: run `make deps` or `apt-get install redis-server`")
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, errors.New("redis-cli not found in PATH: run `make deps` or `apt-get install redis-tools`")
	}
	c := &Cluster{}
	for i := 0; i < 6; i++ {
		var srv *Server
		for attempt := 0; attempt < 5; attempt++ {
			if srv, err = startOnce(bin, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
				"--cluster-node-timeout", "2000", "--appendonly", "yes", "--appendfsync", "everysec"); err == nil {
				break
			}
		}
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("start cluster node %d: %w", i+1, err)
		}
		c.Nodes = append(c.Nodes, srv)
		c.addrs = append(c.addrs, srv.Addr)
	}
	args := append([]string{"--cluster", "create"}, c.addrs...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %w: %s", err, out)
	}
	if err := c.WaitHealthy(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// WaitHealthy waits until every running node reports cluster_state:ok and
// every replica's link to its master is up.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	var last string
	for {
		ok := true
		for _, addr := range c.addrs {
			if !c.running(addr) {
				continue
			}
			if healthy, why := nodeHealthy(ctx, addr); !healthy {
				ok, last = false, addr+": "+why
				break
			}
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster %s not healthy (%s): %w", c.URL(), last, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// running reports whether the node at addr is one of ours still running (a
// cluster named by ClusterEnv counts as running).
func (c *Cluster) running(addr string) bool {
	for _, n := range c.Nodes {
		if n.Addr == addr {
			select {
			case <-n.exited:
				return false
			default:
				return true
			}
		}
	}
	return true
}

func nodeHealthy(ctx context.Context, addr string) (bool, string) {
	cl := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer cl.Close()
	info, err := cl.ClusterInfo(ctx).Result()
	if err != nil {
		return false, err.Error()
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return false, "cluster_state not ok"
	}
	repl, err := cl.Info(ctx, "replication").Result()
	if err != nil {
		return false, err.Error()
	}
	if strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
		return false, "replica not in sync"
	}
	return true, ""
}

// Stop stops every node.
func (c *Cluster) Stop() {
	c.stop.Do(func() {
		for _, n := range c.Nodes {
			n.Stop()
		}
	})
}

// Kill ends the server with SIGKILL, as a crash would: nothing is flushed
// and its directory stays (Stop removes it).
func (s *Server) Kill() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// MasterOf returns the node serving key's slot.
func (c *Cluster) MasterOf(ctx context.Context, key string) (*Server, error) {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	defer cc.Close()
	m, err := cc.MasterForKey(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("master of %q: %w", key, err)
	}
	for _, n := range c.Nodes {
		if n.Addr == m.Options().Addr {
			return n, nil
		}
	}
	return nil, fmt.Errorf("master of %q is %s, not one of this cluster's started nodes", key, m.Options().Addr)
}
