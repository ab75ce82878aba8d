package redistest_test

import (
	"context"
	"os"
	"testing"

	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

func TestEachTestGetsAnEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	a := redistest.New(t)
	if err := a.Set(ctx, "visitor A", "1", 0).Err(); err != nil {
		t.Fatalf("set: %v", err)
	}
	b := redistest.New(t)
	n, err := b.DBSize(ctx).Result()
	if err != nil {
		t.Fatalf("dbsize: %v", err)
	}
	if n != 0 {
		t.Fatalf("second database holds %d keys, want 0", n)
	}
	if got, _ := a.Get(ctx, "visitor A").Result(); got != "1" {
		t.Fatalf("first database lost its key: got %q", got)
	}
}

func TestPrivateServerStops(t *testing.T) {
	srv, err := redistest.StartServer()
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("ping running server: %v", err)
	}
	srv.Stop()
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("ping after Stop succeeded, want an error")
	}
}
