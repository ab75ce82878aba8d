package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Replication in Redis is asynchronous: a master answers a write before its
// replicas have it, and a master that dies in between takes the write with
// it when its replica is promoted. Replicas closes that gap for the answers
// that matter (a webhook's 2xx, a visit's ID): the commands made under a
// context from Track are recorded by the node that served them, and Sync
// waits, before the answer, until replicas of each such node acknowledge
// what it executed. Reads count too: a redelivered message writes nothing,
// but its 2xx acknowledges the earlier delivery's writes, which the node
// that answered the read holds.
//
// WAIT covers the writes of the connection it is sent on, and a pooled or
// cluster client spreads a request's writes over many connections. But a
// master's replication offset is one stream for all its connections: Sync
// sends, on one connection of the node that served the writes, a small
// write in a slot that node holds (ReplicaSync) followed by WAIT. The
// replica that acknowledges the small write has everything the master
// executed before it, the request's writes included.

// ReplicasAuto is the wait of a deployment that does not set one: one
// replica for a master that has a replica online, none for a master without
// (one server, or a master whose replica is gone).
const ReplicasAuto = -1

// ErrNotReplicated is the answer of Sync when too few replicas acknowledged
// the writes in time; the caller answers 5xx so that the sender retries.
var ErrNotReplicated = errors.New("writes not acknowledged by enough replicas")

// replicaCountAge is how long a master's count of online replicas is
// trusted (auto mode): one INFO a second per master per collector.
const replicaCountAge = time.Second

// syncKeyTTL keeps the sync keys from lingering; any TTL works, they are
// rewritten on every sync.
const syncKeyTTL = 10 * time.Second

// Replicas waits for replicas before acknowledgements. It is safe for
// concurrent use.
type Replicas struct {
	want    int
	timeout time.Duration

	mu     sync.Mutex
	online map[string]replicaCount // auto mode: by master address
}

type replicaCount struct {
	n  int
	at time.Time
}

// NewReplicas waits for want replicas (ReplicasAuto, 0 for never, or a
// number that must acknowledge) for at most timeout per Sync.
func NewReplicas(want int, timeout time.Duration) *Replicas {
	return &Replicas{want: want, timeout: timeout, online: map[string]replicaCount{}}
}

// Off reports whether Sync never waits.
func (r *Replicas) Off() bool { return r == nil || r.want == 0 }

// Watch makes c's writes recordable: it hooks c (a *redis.Client) or each
// node client of c (a *redis.ClusterClient, which must not have connected
// yet). It reports false for any other kind of client, whose writes Sync
// cannot see.
func (r *Replicas) Watch(c redis.UniversalClient) bool {
	switch c := c.(type) {
	case *redis.Client:
		c.AddHook(writeHook{node: c})
		return true
	case *redis.ClusterClient:
		c.OnNewNode(func(n *redis.Client) { n.AddHook(writeHook{node: n}) })
		return true
	}
	return false
}

// Writes records, for one acknowledgement, which nodes served the
// request's commands and a key of each: what the node executed before is
// what the acknowledgement answers for. It is safe for concurrent use.
type Writes struct {
	mu    sync.Mutex
	nodes map[string]nodeWrite
}

type nodeWrite struct {
	node *redis.Client
	key  string
}

type writesKey struct{}

// Track returns ctx marked so that the writes made under it through a
// watched client are recorded in the returned Writes.
func Track(ctx context.Context) (context.Context, *Writes) {
	w := &Writes{nodes: map[string]nodeWrite{}}
	return context.WithValue(ctx, writesKey{}, w), w
}

// Nodes returns how many nodes served recorded writes.
func (w *Writes) Nodes() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.nodes)
}

func (w *Writes) add(node *redis.Client, key string) {
	addr := node.Options().Addr
	w.mu.Lock()
	if _, ok := w.nodes[addr]; !ok {
		w.nodes[addr] = nodeWrite{node: node, key: key}
	}
	w.mu.Unlock()
}

// Sync returns once replicas of every node that served a write recorded in
// w acknowledged it, or ErrNotReplicated (wrapped) when too few did within
// the timeout; with no wait configured, or nothing recorded, at once.
func (r *Replicas) Sync(ctx context.Context, w *Writes) error {
	if r.Off() || w == nil {
		return nil
	}
	w.mu.Lock()
	todo := make([]nodeWrite, 0, len(w.nodes))
	for _, nw := range w.nodes {
		todo = append(todo, nw)
	}
	w.mu.Unlock()
	// The sync's own commands are not recorded.
	ctx = context.WithValue(ctx, writesKey{}, (*Writes)(nil))
	if len(todo) == 1 {
		return r.syncNode(ctx, todo[0])
	}
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for i, nw := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.syncNode(ctx, nw)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// syncNode writes the sync key of nw's slot and waits for the replicas, in
// one pipeline: one connection, so WAIT covers the sync key's write and
// with it everything the node executed before.
func (r *Replicas) syncNode(ctx context.Context, nw nodeWrite) error {
	addr := nw.node.Options().Addr
	want := r.want
	if want == ReplicasAuto {
		n, err := r.onlineReplicas(ctx, nw.node)
		if err != nil {
			return fmt.Errorf("store.Replicas: %s: %w", addr, err)
		}
		want = min(n, 1)
	}
	if want == 0 {
		return nil
	}
	pipe := nw.node.Pipeline()
	pipe.Set(ctx, ReplicaSync(nw.key), "1", syncKeyTTL)
	wait := pipe.Do(ctx, "WAIT", want, r.timeout.Milliseconds())
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("store.Replicas: sync %s: %w", addr, err)
	}
	got, err := wait.Int64()
	if err != nil {
		return fmt.Errorf("store.Replicas: WAIT on %s: %w", addr, err)
	}
	if got < int64(want) {
		return fmt.Errorf("store.Replicas: %s: %d of %d replicas within %v: %w", addr, got, want, r.timeout, ErrNotReplicated)
	}
	return nil
}

// onlineReplicas returns how many replicas node has online, read at most
// once every replicaCountAge. A server that does not report replication
// (the embedded store) has none.
func (r *Replicas) onlineReplicas(ctx context.Context, node *redis.Client) (int, error) {
	addr := node.Options().Addr
	now := time.Now()
	r.mu.Lock()
	c, ok := r.online[addr]
	r.mu.Unlock()
	if ok && now.Sub(c.at) < replicaCountAge {
		return c.n, nil
	}
	info, err := node.Info(ctx, "replication").Result()
	var rerr redis.Error
	switch {
	case errors.As(err, &rerr):
		info = ""
	case err != nil:
		return 0, fmt.Errorf("INFO replication: %w", err)
	}
	n := OnlineReplicas(info)
	r.mu.Lock()
	r.online[addr] = replicaCount{n: n, at: now}
	r.mu.Unlock()
	return n, nil
}

// OnlineReplicas counts the replicas in state online in the text of INFO
// replication ("slave0:ip=…,port=…,state=online,offset=…,lag=0").
func OnlineReplicas(info string) int {
	n := 0
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		name, val, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "slave") {
			continue
		}
		if _, err := strconv.Atoi(name[len("slave"):]); err != nil {
			continue
		}
		if strings.Contains(","+val+",", ",state=online,") {
			n++
		}
	}
	return n
}

// writeHook records, under a tracked context, the node and the first key of
// each command that succeeded on it, reads included: a redelivery that
// finds its message stored writes nothing, but its 2xx acknowledges the
// earlier write, which the read's node executed and the sync then covers.
type writeHook struct{ node *redis.Client }

func (h writeHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h writeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if w, _ := ctx.Value(writesKey{}).(*Writes); w != nil {
			h.record(w, cmd)
		}
		return err
	}
}

func (h writeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if w, _ := ctx.Value(writesKey{}).(*Writes); w != nil {
			for _, cmd := range cmds {
				h.record(w, cmd)
			}
		}
		return err
	}
}

// record adds cmd's node when cmd had a key. A command that
// failed is not recorded: it either wrote nothing (a redirection, a refused
// connection) or fails the request, which then answers 5xx anyway.
func (h writeHook) record(w *Writes, cmd redis.Cmder) {
	if err := cmd.Err(); err != nil && !errors.Is(err, redis.Nil) {
		return
	}
	if key := writtenKey(cmd.Args()); key != "" {
		w.add(h.node, key)
	}
}

// keyless are commands without a key: nothing of theirs is recorded.
var keyless = map[string]bool{
	"ping": true, "info": true, "cluster": true, "wait": true, "client": true, "hello": true,
	"auth": true, "select": true, "readonly": true, "readwrite": true, "script": true, "function": true,
	"config": true, "dbsize": true, "time": true, "command": true, "multi": true, "exec": true,
	"discard": true, "flushall": true, "flushdb": true, "debug": true, "memory": true, "role": true,
	"echo": true, "quit": true, "publish": true, "unwatch": true,
}

// writtenKey returns the first key of cmd, or "" for a command without
// keys.
func writtenKey(args []any) string {
	if len(args) < 2 {
		return ""
	}
	name, _ := args[0].(string)
	name = strings.ToLower(name)
	if keyless[name] {
		return ""
	}
	pos := 1
	switch name {
	case "eval", "evalsha", "fcall":
		if len(args) < 4 {
			return ""
		}
		if n, err := strconv.Atoi(fmt.Sprint(args[2])); err != nil || n < 1 {
			return ""
		}
		pos = 3
	}
	if s, ok := args[pos].(string); ok {
		return s
	}
	return fmt.Sprint(args[pos])
}
