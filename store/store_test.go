package store_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestOpen(t *testing.T) {
	// One server's URLs on both passes; TestOpenClusterAndReadIt opens a
	// cluster's node list.
	srv := redistest.Shared(t)
	tests := []struct {
		name     string
		url      string
		embedded bool
		wantErr  string
	}{
		{name: "embedded when empty", url: "", embedded: true},
		{name: "redis URL", url: srv.URL(3)},
		{name: "bad scheme", url: "http://127.0.0.1:1/0", wantErr: "parse REDIS_URL"},
		{name: "nothing listening", url: "redis://127.0.0.1:1/0", wantErr: "ping"},
		{name: "TLS URL on a plain server", url: "rediss://" + srv.Addr + "/0", wantErr: "rediss:// needs a server that speaks TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			db, err := store.Open(ctx, tt.url, quietLog())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open(%q) error = %v, want one containing %q", tt.url, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tt.url, err)
			}
			defer db.Close()
			if db.Embedded() != tt.embedded {
				t.Fatalf("Embedded() = %v, want %v", db.Embedded(), tt.embedded)
			}
			if err := db.Client.Set(ctx, "k", "v", 0).Err(); err != nil {
				t.Fatalf("set: %v", err)
			}
		})
	}
}

func TestKeysShareTheSiteSlot(t *testing.T) {
	keys := []string{
		store.Secret("demo"),
		store.VisitSeq("demo"),
		store.NewShards("demo", 1).Visit(12345),
		store.NewShards("demo", 1).Clicks("whatsapp:15551234567", 0),
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "mt:{demo}:") {
			t.Errorf("key %q does not carry the {demo} hash tag", k)
		}
		if strings.Count(k, "{") != 1 || strings.Count(k, "}") != 1 {
			t.Errorf("key %q has more than one hash tag", k)
		}
	}
}

func TestKeysEscapeFreeFormParts(t *testing.T) {
	sh := store.NewShards("demo", 1)
	k := sh.Clicks("telegram:{evil}:x y", 0)
	if strings.Count(k, "{") != 1 || strings.Contains(k, " ") {
		t.Fatalf("free-form part leaked structure into %q", k)
	}
	if sh.Clicks("a:b", 0) == sh.Clicks("a%3Ab", 0) {
		t.Fatal("escaping is not injective")
	}
}

func TestManualClock(t *testing.T) {
	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	c := store.NewManualClock(start)
	c.Advance(90 * 24 * time.Hour)
	if got, want := c.Now(), start.AddDate(0, 0, 90); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
}
