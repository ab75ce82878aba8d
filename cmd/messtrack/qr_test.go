package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/messtrack/messtrack/collector"
	"github.com/messtrack/messtrack/collector/qr"
	"github.com/messtrack/messtrack/collector/qr/qrtest"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// qrTestConfig is a site with a flyer source; REDIS is replaced per test.
const qrTestConfig = `
public_url: https://track.shop.test
redis: REDIS
sites:
  demo:
    api_key: demo-key-123
    id_secret: demo-secret-0123456789
    whatsapp:
      - number: "15551234567"
    telegram:
      bots: [demo_bot]
    sources:
      flyer: {channel: offline, number: "15551234567", title: "Spring flyer"}
      desk: {channel: offline, bot: demo_bot}
`

// writeQRConfig writes the test config with the given redis URL and returns
// its path.
func writeQRConfig(t *testing.T, redisURL string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "messtrack.yaml")
	raw := strings.Replace(qrTestConfig, "REDIS", `"`+redisURL+`"`, 1)
	if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runQR runs `messtrack qr` with args and returns its stdout.
func runQR(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"qr"}, args...), &out, &errOut, func(string) string { return "" })
	return out.Bytes(), err
}

// decodePNGFile reads the QR code in a PNG file.
func decodePNGFile(t *testing.T, path string, wantSize int) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return qrtest.DecodePNG(t, b, wantSize)
}

func TestQRCommandWritesScanLink(t *testing.T) {
	cfgPath := writeQRConfig(t, "")
	dir := t.TempDir()

	t.Run("png file", func(t *testing.T) {
		file := filepath.Join(dir, "flyer.png")
		out, err := runQR(t, "--config", cfgPath, "--site", "demo", "--source", "flyer", "--out", file, "--size", "300", "--level", "H")
		if err != nil {
			t.Fatal(err)
		}
		if got := decodePNGFile(t, file, 300); got != "https://track.shop.test/q/demo/flyer" {
			t.Errorf("QR holds %q", got)
		}
		if !strings.Contains(string(out), "wrote "+file+" (png, 300 px, level H)") {
			t.Errorf("stdout %q does not say what was written", out)
		}
	})
	t.Run("svg on stdout matches the collector's", func(t *testing.T) {
		out, err := runQR(t, "--config", cfgPath, "--site", "demo", "--source", "flyer", "--format", "svg")
		if err != nil {
			t.Fatal(err)
		}
		want, err := qr.Render("https://track.shop.test/q/demo/flyer", qr.Options{Format: "svg"})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, want) {
			t.Errorf("stdout is not the collector's SVG of the /q/ link:\n%.300s", out)
		}
	})
	t.Run("format from the file name", func(t *testing.T) {
		file := filepath.Join(dir, "desk.SVG")
		if _, err := runQR(t, "--config", cfgPath, "--site", "demo", "--source", "desk", "--out", file); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(file)
		if err != nil || !bytes.HasPrefix(b, []byte("<svg ")) {
			t.Errorf("desk.SVG holds %.60q, %v", b, err)
		}
	})
}

func TestQRCommandStatic(t *testing.T) {
	redisURL, rdb := redistest.NewURL(t)
	cfgPath := writeQRConfig(t, redisURL)
	file := filepath.Join(t.TempDir(), "flyer-static.png")
	if _, err := runQR(t, "--config", cfgPath, "--site", "demo", "--source", "flyer", "--static", "--out", file); err != nil {
		t.Fatal(err)
	}
	link := decodePNGFile(t, file, qr.DefaultSize)
	if !strings.HasPrefix(link, "https://wa.me/15551234567?text=") {
		t.Fatalf("static QR holds %q, want the chat link", link)
	}
	again := filepath.Join(t.TempDir(), "again.png")
	if _, err := runQR(t, "--config", cfgPath, "--site", "demo", "--source", "flyer", "--static", "--out", again); err != nil {
		t.Fatal(err)
	}
	if got := decodePNGFile(t, again, qr.DefaultSize); got != link {
		t.Errorf("second run holds %q, want the same code %q", got, link)
	}
	// A running collector on the same Redis knows the same static code.
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := collector.New(context.Background(), collector.Options{Config: cfg, Redis: rdb, Clock: store.SystemClock{},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	served, err := s.StaticSourceLink(context.Background(), "demo", "flyer")
	if err != nil || served != link {
		t.Errorf("collector's static link %q, %v; want %q", served, err, link)
	}
	if n, err := rdb.Exists(context.Background(), store.SourceVisit("demo", "flyer")).Result(); err != nil || n != 1 {
		t.Errorf("source visit key: %d, %v", n, err)
	}
}

func TestQRCommandBadInput(t *testing.T) {
	cfgPath := writeQRConfig(t, "")
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "no site", args: []string{"--config", cfgPath, "--source", "flyer"}, wantErr: "--site and --source are required"},
		{name: "no source", args: []string{"--config", cfgPath, "--site", "demo"}, wantErr: "--site and --source are required"},
		{name: "unknown site", args: []string{"--config", cfgPath, "--site", "shop", "--source", "flyer"}, wantErr: `unknown site "shop"`},
		{name: "unknown source", args: []string{"--config", cfgPath, "--site", "demo", "--source", "leaflet"}, wantErr: `site "demo" has no source "leaflet"`},
		{name: "unknown format", args: []string{"--config", cfgPath, "--site", "demo", "--source", "flyer", "--format", "gif"}, wantErr: `format "gif" is not png or svg`},
		{name: "format against file name", args: []string{"--config", cfgPath, "--site", "demo", "--source", "flyer", "--format", "svg", "--out", filepath.Join(dir, "a.png")}, wantErr: "--format svg but --out"},
		{name: "size zero", args: []string{"--config", cfgPath, "--site", "demo", "--source", "flyer", "--size", "0"}, wantErr: "size 0 is outside 128..2048"},
		{name: "size too large", args: []string{"--config", cfgPath, "--site", "demo", "--source", "flyer", "--size", "5000"}, wantErr: "size 5000 is outside"},
		{name: "size not a number", args: []string{"--config", cfgPath, "--site", "demo", "--source", "flyer", "--size", "big"}, wantErr: "usage"},
		{name: "unknown level", args: []string{"--config", cfgPath, "--site", "demo", "--source", "flyer", "--level", "X"}, wantErr: `level "X" is not one of L, M, Q, H`},
		{name: "static on the embedded store", args: []string{"--config", cfgPath, "--site", "demo", "--source", "flyer", "--static"}, wantErr: "--static needs the collector's Redis"},
		{name: "stray argument", args: []string{"--config", cfgPath, "--site", "demo", "--source", "flyer", "extra"}, wantErr: `unexpected argument "extra"`},
		{name: "missing config", args: []string{"--config", filepath.Join(dir, "absent.yaml"), "--site", "demo", "--source", "flyer"}, wantErr: "absent.yaml"},
		{name: "unwritable output", args: []string{"--config", cfgPath, "--site", "demo", "--source", "flyer", "--out", filepath.Join(dir, "no", "such", "dir.png")}, wantErr: "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runQR(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if len(out) != 0 {
				t.Errorf("a failed run wrote %d bytes to stdout", len(out))
			}
		})
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("failed runs left files %v (%v)", entries, err)
	}
}
