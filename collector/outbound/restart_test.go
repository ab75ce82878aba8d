package outbound

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/reports"
)

// persistentRedis is a redis-server with an append-only file synced on
// every write, as production runs it, that a test can kill and start again
// on the same port and data.
type persistentRedis struct {
	t    *testing.T
	dir  string
	port int
	cmd  *exec.Cmd
}

func startPersistentRedis(t *testing.T) *persistentRedis {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &persistentRedis{t: t, dir: t.TempDir(), port: port}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *persistentRedis) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

func (r *persistentRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--logfile", filepath.Join(r.dir, "redis.log"))
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server on %s did not answer: %v", r.addr(), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill stops the server at once, as a crash would.
func (r *persistentRedis) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

func TestARedisRestartLosesNoDelivery(t *testing.T) {
	srv := startPersistentRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.addr(), MaxRetries: 1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	rc := newReceiver(t, nil)
	var down atomic.Bool
	down.Store(true)
	rc.answer = func(int, received) int {
		if down.Load() {
			return 502
		}
		return 200
	}
	w := newWorld(t, rdb, hook(rc.srv.URL, "conversation.started"))
	rc.clock = w.clock
	d := w.dispatcher("a", Options{})
	for i := range 3 {
		w.conversation(fmt.Sprintf("whatsapp:%d", i), t0, reports.MethodNone)
	}
	drain(t, d)                                          // routed, each tried once
	w.conversation("whatsapp:9", t0, reports.MethodNone) // enqueued, not yet routed

	srv.kill()
	if _, err := d.Step(context.Background()); err == nil {
		t.Fatal("a step without Redis reported no error")
	}
	srv.start()
	down.Store(false)
	w.clock.Advance(time.Minute)
	drain(t, d)
	if n := len(rc.accepted()); n != 4 {
		t.Fatalf("%d delivered after the restart, want 4", n)
	}
}
