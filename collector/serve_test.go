package collector

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestServeStopsWhenCancelledAtOnce: a server whose context ends before it
// has begun to accept (a test that fails right after starting it) still
// stops and closes its listener.
func TestServeStopsWhenCancelledAtOnce(t *testing.T) {
	for i := range 5 {
		w := newTestWorld(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan error, 1)
		go func() { done <- w.srv.Serve(ctx, ln, time.Second) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve %d: %v", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("serve %d never returned after its context ended", i)
		}
	}
}
