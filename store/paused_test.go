package store_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// A command sent to a paused server fails after the read timeout (5 s), and runs
// once when the server wakes: go-redis' own retries, on the pool's other
// connections, would each run it again (an INCR ran four times, its caller
// waiting past 20 s).
func TestAPausedRedisRunsACommandOnce(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	db, err := store.Open(ctx, srv.URL(0), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	info, err := db.Client.Info(ctx, "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "process_id:"); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	if pid <= 0 {
		t.Fatalf("no process_id in INFO server:\n%s", info)
	}
	// A warm pool, as a busy collector has: idle connections a retry
	// would take.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A blocking pop holds its connection for its timeout.
			if err := db.Client.BLPop(ctx, time.Second, "nothing").Err(); err != redis.Nil {
				t.Errorf("BLPOP on an empty list: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := db.Client.PoolStats().IdleConns; n < 2 {
		t.Fatalf("%d idle connections after 8 parallel commands", n)
	}

	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	paused := true
	resume := func() {
		if paused {
			paused = false
			if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(resume)
	began := time.Now()
	done := make(chan error, 1)
	go func() { done <- db.Client.Incr(ctx, "counted").Err() }()
	select {
	case err := <-done:
		took := time.Since(began)
		if err == nil {
			t.Fatal("an INCR on a paused server succeeded")
		}
		if took > 7*time.Second {
			t.Errorf("the INCR failed after %v (%v), want within the 5 s read timeout", took, err)
		}
	case <-time.After(15 * time.Second):
		resume()
		t.Fatal("an INCR on a paused server had no answer within 15 s")
	}
	resume()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := db.Client.Get(ctx, "counted").Int()
		if err == nil && n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the server woke the counter is %d (%v), want 1: the command ran more than once", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
