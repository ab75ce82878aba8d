// Package faults runs the messtrack binary built from this tree against a
// real redis-server, set up as deploy/redis-messtrack.conf says, and breaks
// things under load: Redis killed and started again on its append-only
// file, a collector killed while another goes on, Redis paused. Visitors
// and the platforms (WhatsApp, Telegram) are played by the test over
// loopback HTTP, the platforms retrying every webhook not answered 2xx as
// they do. After each fault the test reads back, through the public API,
// that a webhook answered 2xx is never lost, one answered 5xx is stored
// once after the retry, a visit answered with an ID is findable, and
// nothing counts twice. Nothing skips: a missing redis-server fails.
package faults

import (
	"syscall"
	"testing"
	"time"
)

// workers is how many visitors and platform deliveries run at once.
const workers = 6

// TestRedisRestartedMidLoad kills Redis (SIGKILL, as a crash) while
// visits, clicks and webhooks flow through one collector, and starts it
// again on the same append-only file.
func TestRedisRestartedMidLoad(t *testing.T) {
	rs := startRedis(t)
	c := startCollector(t, rs.url())
	l := newLoad(t, c)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { l.run(workers, stop); close(done) }()

	time.Sleep(4 * time.Second)
	before := l.figures()
	killed := time.Now()
	rs.proc.Kill()
	time.Sleep(2 * time.Second)
	rs.start()
	down := time.Since(killed)
	healthy := waitHealthy(t, c, 30*time.Second)
	time.Sleep(5 * time.Second)
	close(stop)
	<-done
	t.Logf("before the kill: %s", before)
	t.Logf("Redis down %v (killed, restarted from its AOF), the collector healthy %v after", down.Round(time.Millisecond), healthy.Round(time.Millisecond))
	t.Logf("load: %s", l.figures())
	if l.status503.Load() == 0 || l.retries.Load() == 0 {
		t.Errorf("%d requests answered 503 and %d webhooks retried while Redis was down for %v: the fault did not reach the load", l.status503.Load(), l.retries.Load(), down)
	}
	if n := l.status5xx.Load() - l.status503.Load(); n > 0 {
		t.Errorf("%d answers were 5xx other than 503: Redis down should read as unavailable", n)
	}
	l.check(t, c)
}

// TestCollectorKilledMidLoad runs two collectors on one Redis, spreads the
// traffic over both and kills one (SIGKILL) in the middle, with requests
// under way: the platforms' retries reach the survivor.
func TestCollectorKilledMidLoad(t *testing.T) {
	rs := startRedis(t)
	a, b := startCollector(t, rs.url()), startCollector(t, rs.url())
	l := newLoad(t, a, b)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { l.run(workers, stop); close(done) }()

	time.Sleep(4 * time.Second)
	before := l.figures()
	// Redis held for a moment first, so that the kill lands while b's
	// requests are under way: their commands sent, their answers not.
	rs.proc.Signal(t, syscall.SIGSTOP)
	time.Sleep(500 * time.Millisecond)
	b.proc.Kill()
	rs.proc.Signal(t, syscall.SIGCONT)
	time.Sleep(6 * time.Second)
	close(stop)
	<-done
	t.Logf("before the kill: %s", before)
	t.Logf("load: %s", l.figures())
	if l.connErrors.Load() == 0 {
		t.Errorf("no request went unanswered after a collector was killed: the fault did not reach the load")
	}
	l.check(t, a)
}

// TestRedisPausedMidLoad stops Redis (SIGSTOP) for longer than the
// collector's Redis timeouts while the load flows, then continues it:
// requests wait or fail with 5xx, never 2xx without their effect stored,
// and the platforms' retries store each message once.
func TestRedisPausedMidLoad(t *testing.T) {
	rs := startRedis(t)
	c := startCollector(t, rs.url())
	l := newLoad(t, c)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { l.run(workers, stop); close(done) }()

	time.Sleep(4 * time.Second)
	before := l.figures()
	const pause = 8 * time.Second
	rs.proc.Signal(t, syscall.SIGSTOP)
	time.Sleep(pause)
	rs.proc.Signal(t, syscall.SIGCONT)
	healthy := waitHealthy(t, c, 30*time.Second)
	time.Sleep(5 * time.Second)
	close(stop)
	<-done
	t.Logf("before the pause: %s", before)
	t.Logf("Redis paused %v, the collector healthy %v after", pause, healthy.Round(time.Millisecond))
	t.Logf("load: %s", l.figures())
	if l.status503.Load() == 0 || l.retries.Load() == 0 {
		t.Errorf("%d requests answered 503 and %d webhooks retried while Redis was paused for %v: the fault did not reach the load", l.status503.Load(), l.retries.Load(), pause)
	}
	// A request a sender waits on has a 5 s budget for Redis: a paused
	// Redis costs it that, not the length of the pause.
	if slowest := time.Duration(l.slowest.Load()); slowest > pause-time.Second {
		t.Errorf("the slowest answer took %v while Redis was paused for %v: requests waited on Redis past their budget", slowest, pause)
	}
	if n := l.status5xx.Load() - l.status503.Load(); n > 0 {
		t.Errorf("%d answers were 5xx other than 503: a paused Redis should read as unavailable", n)
	}
	l.check(t, c)
}
